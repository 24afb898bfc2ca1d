package main

import (
	"context"
	"strings"
	"sync"
	"testing"
)

// signalWriter collects the log and closes ready when the server says it
// is listening.
type signalWriter struct {
	mu    sync.Mutex
	b     strings.Builder
	once  sync.Once
	ready chan struct{}
}

func (w *signalWriter) Write(p []byte) (int, error) {
	w.mu.Lock()
	defer w.mu.Unlock()
	w.b.Write(p)
	if strings.Contains(w.b.String(), "authplug server listening") {
		w.once.Do(func() { close(w.ready) })
	}
	return len(p), nil
}

func (w *signalWriter) String() string {
	w.mu.Lock()
	defer w.mu.Unlock()
	return w.b.String()
}

func TestRunStartsAndStopsCleanly(t *testing.T) {
	dir := t.TempDir()
	for i, wantPassword := range []bool{true, false} {
		ctx, cancel := context.WithCancel(context.Background())
		log := &signalWriter{ready: make(chan struct{})}
		done := make(chan error, 1)
		go func() { done <- run(ctx, []string{"--addr", "127.0.0.1:0", "--data-dir", dir}, log) }()
		select {
		case <-log.ready:
		case err := <-done:
			t.Fatalf("start %d: run returned early: %v\n%s", i, err, log)
		}
		cancel()
		if err := <-done; err != nil {
			t.Fatalf("start %d: shutdown: %v", i, err)
		}
		out := log.String()
		if got := strings.Contains(out, "generated a password for root@localhost"); got != wantPassword {
			t.Errorf("start %d: generated password printed = %v, want %v (only on first start)\n%s", i, got, wantPassword, out)
		}
		if !strings.Contains(out, "table data lives in memory") {
			t.Errorf("start %d: the log must say table data is in memory\n%s", i, out)
		}
	}
}
