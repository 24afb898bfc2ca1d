// Command mcpgateway is an MCP server (streamable HTTP at /mcp) whose every
// tool call runs on an authplug server as the OAuth user who made it; see
// package gateway and the README.
//
//	go run ./examples/mcpgateway --db 'mcp_gateway:secret@tcp(127.0.0.1:4000)/?tls=skip-verify' \
//	    --oauth-jwks-file authplug-data/oauth-dev-jwks.json
package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http"
	"os"
	"os/signal"
	"slices"
	"syscall"
	"time"

	"github.com/go-sql-driver/mysql"

	"github.com/authplug/authplug/examples/mcpgateway/gateway"
	"github.com/authplug/authplug/examples/oauth"
)

func main() {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	os.Exit(run(ctx, os.Args[1:], os.Stderr, nil))
}

// run serves until ctx ends; ready, if set, is told the address it
// listens on.
func run(ctx context.Context, args []string, stderr io.Writer, ready func(net.Addr)) int {
	fs := flag.NewFlagSet("mcpgateway", flag.ContinueOnError)
	fs.SetOutput(stderr)
	listen := fs.String("listen", "127.0.0.1:8808", "address to serve MCP on (streamable HTTP at /mcp)")
	dsn := fs.String("db", "", "go-sql-driver/mysql DSN: the gateway account (impersonate), or the server's address and TLS settings (passthrough)")
	mode := fs.String("mode", string(gateway.Impersonate), "impersonate: run each call as EXECUTE AS the user on the gateway's connections; passthrough: log in as the user with their token")
	issuer := fs.String("impersonate-issuer", "", "impersonate mode: the issuer whose subjects are account names (default: the one trusted issuer)")
	oauthConfig := oauth.BindFlags(fs)
	if err := fs.Parse(args); err != nil {
		if errors.Is(err, flag.ErrHelp) {
			return 0
		}
		return 2
	}
	log := slog.New(slog.NewTextHandler(stderr, nil))
	fail := func(err error) int {
		log.Error("mcpgateway", "error", err)
		return 1
	}
	if *dsn == "" {
		return fail(errors.New("--db is required"))
	}
	db, err := mysql.ParseDSN(*dsn)
	if err != nil {
		// The DSN may hold a password: the parser's error is not shown.
		return fail(errors.New("--db is not a go-sql-driver/mysql DSN"))
	}
	cfg, err := oauthConfig()
	if err != nil {
		return fail(err)
	}
	cfg.Logger = log
	v, err := oauth.NewVerifier(ctx, cfg)
	if err != nil {
		return fail(fmt.Errorf("%w (the gateway has no dev IdP: give the server's JWKS, e.g. --oauth-jwks-file <data-dir>/oauth-dev-jwks.json)", err))
	}
	defer v.Close()
	if *issuer == "" && len(v.Issuers()) == 1 {
		*issuer = v.Issuers()[0]
	}
	if *mode != string(gateway.Passthrough) && !slices.Contains(v.Issuers(), *issuer) {
		return fail(fmt.Errorf("--impersonate-issuer must name one of the trusted issuers %v", v.Issuers()))
	}
	g, err := gateway.New(gateway.Config{Mode: gateway.Mode(*mode), DB: db, Verifier: v, Issuer: *issuer, Logger: log})
	if err != nil {
		return fail(err)
	}
	defer g.Close()
	ln, err := net.Listen("tcp", *listen)
	if err != nil {
		return fail(err)
	}
	srv := &http.Server{Handler: g.Handler(), ReadHeaderTimeout: 10 * time.Second}
	served := make(chan error, 1)
	go func() { served <- srv.Serve(ln) }()
	log.Info("mcpgateway: serving", "addr", ln.Addr().String(), "mode", *mode, "issuers", v.Issuers())
	if ready != nil {
		ready(ln.Addr())
	}
	select {
	case err := <-served:
		return fail(err)
	case <-ctx.Done():
	}
	shutdown, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	if err := srv.Shutdown(shutdown); err != nil {
		return fail(err)
	}
	return 0
}
