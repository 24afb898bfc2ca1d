package main

import (
	"context"
	"net"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/authplug/authplug/examples/oauth"
)

func TestFlagsRefused(t *testing.T) {
	dev, err := oauth.LoadDevIdP(t.TempDir())
	if err != nil {
		t.Fatal(err)
	}
	jwks := "--oauth-jwks-file=" + dev.JWKSPath()
	two := filepath.Join(t.TempDir(), "issuers.json")
	if err := os.WriteFile(two, []byte(`{"audience":"db","issuers":[{"issuer":"https://a.example","jwks_file":"`+dev.JWKSPath()+
		`"},{"issuer":"https://b.example","jwks_file":"`+dev.JWKSPath()+`"}]}`), 0o600); err != nil {
		t.Fatal(err)
	}
	for _, c := range []struct {
		args []string
		want string
	}{
		{[]string{jwks}, "--db is required"},
		{[]string{jwks, "--db", "not a dsn"}, "not a go-sql-driver/mysql DSN"},
		{[]string{jwks, "--db", "gw:pw@tcp(127.0.0.1:1)/", "--mode", "proxy"}, "give impersonate or passthrough"},
		{[]string{jwks, "--db", "@tcp(127.0.0.1:1)/", "--mode", "passthrough"}, "TLS"},
		{[]string{"--db", "gw:pw@tcp(127.0.0.1:1)/"}, "--oauth-jwks-file"},
		{[]string{jwks, "--db", "gw:pw@tcp(127.0.0.1:1)/", "--oauth-config", "x.json"}, "excludes"},
		// Two issuers may both have an alice: say whose subjects are accounts.
		{[]string{"--oauth-config", two, "--db", "gw:pw@tcp(127.0.0.1:1)/"}, "--impersonate-issuer"},
		{[]string{"--oauth-config", two, "--db", "gw:pw@tcp(127.0.0.1:1)/", "--impersonate-issuer", "https://c.example"}, "--impersonate-issuer"},
	} {
		var stderr strings.Builder
		if code := run(t.Context(), c.args, &stderr, nil); code != 1 {
			t.Errorf("%v: exit %d, want 1", c.args, code)
		}
		if !strings.Contains(stderr.String(), c.want) {
			t.Errorf("%v: stderr does not say %q:\n%s", c.args, c.want, stderr.String())
		}
		if strings.Contains(stderr.String(), ":pw@") {
			t.Errorf("%v: the DSN's password reached the log", c.args)
		}
	}
}

// The command serves /mcp behind the bearer check and stops with its
// context; no database connection is made before a tool call.
func TestServes(t *testing.T) {
	dev, err := oauth.LoadDevIdP(t.TempDir())
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(t.Context())
	defer cancel()
	addr := make(chan net.Addr, 1)
	done := make(chan int, 1)
	var stderr strings.Builder
	go func() {
		done <- run(ctx, []string{"--listen", "127.0.0.1:0", "--db", "gw:pw@tcp(127.0.0.1:1)/?tls=skip-verify", "--oauth-jwks-file", dev.JWKSPath()},
			&stderr, func(a net.Addr) { addr <- a })
	}()
	var a net.Addr
	select {
	case a = <-addr:
	case code := <-done:
		t.Fatalf("exit %d before serving:\n%s", code, stderr.String())
	case <-time.After(30 * time.Second):
		t.Fatal("not serving after 30s")
	}
	resp, err := http.Post("http://"+a.String()+"/mcp", "application/json", strings.NewReader("{}"))
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusUnauthorized {
		t.Errorf("no bearer: %d, want 401", resp.StatusCode)
	}
	cancel()
	select {
	case code := <-done:
		if code != 0 {
			t.Errorf("exit %d after the context ended", code)
		}
	case <-time.After(30 * time.Second):
		t.Fatal("still running 30s after the context ended")
	}
}
