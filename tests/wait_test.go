package tests

import (
	"testing"
	"time"
)

// waitLimit bounds a test's wait for something it started (a server to
// stop, a goroutine's result): a bug that stops it then fails that test
// instead of hanging the suite until go test's timeout.
const waitLimit = 30 * time.Second

// recv returns the next value from ch, and fails t if none comes within
// waitLimit.
func recv[T any](t *testing.T, ch <-chan T, what string) T {
	t.Helper()
	select {
	case v := <-ch:
		return v
	case <-time.After(waitLimit):
		t.Fatalf("timed out after %s waiting for %s", waitLimit, what)
		var zero T
		return zero
	}
}
