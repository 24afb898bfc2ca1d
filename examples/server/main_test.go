package main

import (
	"context"
	"path/filepath"
	"regexp"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/golang-jwt/jwt/v5"

	"github.com/authplug/authplug/examples/oauth"
	"github.com/authplug/authplug/servercmd"
)

// These tests run the example as Main runs it: the global registry holds
// what this package's imports registered (the sample OAuth extension).

func run(t *testing.T, args ...string) (code int, stdout, stderr string) {
	t.Helper()
	var out, errOut strings.Builder
	code = servercmd.Run(t.Context(), args, &out, &errOut)
	return code, out.String(), errOut.String()
}

func TestHelpShowsTheOAuthExtension(t *testing.T) {
	code, out, errOut := run(t, "--help")
	if code != servercmd.ExitOK {
		t.Fatalf("exit %d; stderr:\n%s", code, errOut)
	}
	for _, want := range []string{"-oauth-issuer", "-oauth-jwks-file", "-oauth-jwks-url", "token"} {
		if !strings.Contains(out, want) {
			t.Errorf("--help does not show %q:\n%s", want, out)
		}
	}
}

func TestTokenNeedsTheServersDevKey(t *testing.T) {
	dir := t.TempDir()
	code, out, errOut := run(t, "token", "--data-dir", dir, "--sub", "alice")
	if code != servercmd.ExitFailure || out != "" {
		t.Fatalf("token on an empty data directory: exit %d, stdout %q; want 1 and no token", code, out)
	}
	for _, want := range []string{dir, "no dev IdP key", "start the server once"} {
		if !strings.Contains(errOut, want) {
			t.Errorf("the refusal does not say %q:\n%s", want, errOut)
		}
	}
	if m, _ := filepath.Glob(filepath.Join(dir, "*")); len(m) > 0 {
		t.Errorf("token created %v", m)
	}
}

// logWriter closes ready once the server says it listens.
type logWriter struct {
	mu    sync.Mutex
	b     strings.Builder
	once  sync.Once
	ready chan struct{}
}

func (w *logWriter) Write(p []byte) (int, error) {
	w.mu.Lock()
	defer w.mu.Unlock()
	w.b.Write(p)
	if strings.Contains(w.b.String(), "authplug server listening") {
		w.once.Do(func() { close(w.ready) })
	}
	return len(p), nil
}

func (w *logWriter) String() string {
	w.mu.Lock()
	defer w.mu.Unlock()
	return w.b.String()
}

// A server's first start makes the dev key; token then signs with it, for
// the issuer and audience the server's flags default to.
func TestTokenMintsWithTheKeyTheServerMade(t *testing.T) {
	dir := t.TempDir()
	ctx, cancel := context.WithCancel(t.Context())
	log := &logWriter{ready: make(chan struct{})}
	done := make(chan int, 1)
	go func() {
		done <- servercmd.Run(ctx, []string{"--addr", "127.0.0.1:0", "--data-dir", dir, "--root-password", "pw"}, &strings.Builder{}, log)
	}()
	select {
	case <-log.ready:
	case code := <-done:
		cancel()
		t.Fatalf("the server exited %d before listening:\n%s", code, log)
	case <-time.After(30 * time.Second):
		cancel()
		t.Fatalf("the server did not listen within 30s:\n%s", log)
	}
	cancel()
	select {
	case code := <-done:
		if code != servercmd.ExitOK {
			t.Fatalf("shutdown: exit %d\n%s", code, log)
		}
	case <-time.After(30 * time.Second):
		t.Fatalf("the server did not stop within 30s:\n%s", log)
	}

	code, out, errOut := run(t, "token", "--data-dir", dir, "--sub", "alice", "--scope", "select:demo")
	if code != servercmd.ExitOK {
		t.Fatalf("token: exit %d; stderr:\n%s", code, errOut)
	}
	tok := strings.TrimSpace(out)
	if !regexp.MustCompile(`^[\w-]+\.[\w-]+\.[\w-]+$`).MatchString(tok) {
		t.Fatalf("token printed %q, want a JWT", out)
	}
	// Verified with the JWKS the server reads, not merely decoded.
	keys, err := oauth.NewFileKeys(filepath.Join(dir, "oauth-dev-jwks.json"), time.Hour, nil)
	if err != nil {
		t.Fatal(err)
	}
	defer keys.Close()
	claims := jwt.MapClaims{}
	if _, err := jwt.ParseWithClaims(tok, claims, keys.KeyfuncCtx(t.Context())); err != nil {
		t.Fatalf("the token does not verify with the server's JWKS: %v", err)
	}
	if claims["sub"] != "alice" || claims["iss"] != "authplug-dev" || claims["aud"] != "authplug" || claims["scope"] != "select:demo" {
		t.Errorf("claims %v", claims)
	}
}
