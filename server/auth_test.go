package server

import (
	"context"
	"errors"
	"testing"
	"time"
)

// loginContext must behave as context.WithDeadline's, timer or not.
func TestLoginContextEndsAtItsDeadline(t *testing.T) {
	ctx := &loginContext{deadline: time.Now().Add(50 * time.Millisecond)}
	defer ctx.cancel()
	if d, ok := ctx.Deadline(); !ok || !d.Equal(ctx.deadline) {
		t.Fatalf("Deadline() = %v, %v", d, ok)
	}
	if err := ctx.Err(); err != nil {
		t.Fatalf("Err() = %v before the deadline", err)
	}
	select {
	case <-ctx.Done():
	case <-time.After(10 * time.Second):
		t.Fatal("Done not closed at the deadline")
	}
	if err := ctx.Err(); !errors.Is(err, context.DeadlineExceeded) {
		t.Fatalf("Err() = %v after the deadline", err)
	}
	// A derived context ends with it.
	child, cancel := context.WithCancel(ctx)
	defer cancel()
	if !errors.Is(child.Err(), context.DeadlineExceeded) {
		t.Fatalf("child Err() = %v", child.Err())
	}
}

// Err notices the deadline without Done's timer, and Done asked for
// afterwards is closed at once.
func TestLoginContextWithoutTimer(t *testing.T) {
	ctx := &loginContext{deadline: time.Now().Add(-time.Millisecond)}
	if err := ctx.Err(); !errors.Is(err, context.DeadlineExceeded) {
		t.Fatalf("Err() = %v past the deadline", err)
	}
	select {
	case <-ctx.Done():
	default:
		t.Fatal("Done open after Err reported the deadline")
	}
	ctx.cancel()
	if err := ctx.Err(); !errors.Is(err, context.DeadlineExceeded) {
		t.Fatalf("cancel changed Err to %v", err)
	}
}

func TestLoginContextCancel(t *testing.T) {
	ctx := &loginContext{deadline: time.Now().Add(time.Hour)}
	done := ctx.Done()
	ctx.cancel()
	select {
	case <-done:
	default:
		t.Fatal("Done open after cancel")
	}
	if err := ctx.Err(); !errors.Is(err, context.Canceled) {
		t.Fatalf("Err() = %v after cancel", err)
	}
	if ctx.timer.Stop() {
		t.Fatal("cancel left the timer armed")
	}
}
