package main

import (
	"context"
	"crypto"
	"crypto/ecdsa"
	"crypto/ed25519"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/rsa"
	"database/sql"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"os"
	"sync/atomic"
	"time"

	"github.com/MicahParks/jwkset"
	"github.com/dolthub/go-mysql-server/memory"
	gmssql "github.com/dolthub/go-mysql-server/sql"
	"github.com/go-sql-driver/mysql"
	"github.com/golang-jwt/jwt/v5"

	"github.com/authplug/authplug/examples/oauth"
	"github.com/authplug/authplug/extension"
	"github.com/authplug/authplug/server"
)

type tokenKey struct {
	alg jwt.SigningMethod
	kid string
	key crypto.Signer
}

// tokenLogins measures token logins (ES256, RS256, EdDSA) against
// mysql_native_password logins on the same server, all over TLS (a token
// never travels without it, so the password logins pay the same TLS
// handshake), and counts the JWKS fetches made during the measured rounds.
func tokenLogins(ctx context.Context, logins, rounds int) error {
	rk, err := rsa.GenerateKey(rand.Reader, 2048)
	if err != nil {
		return err
	}
	ek, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		return err
	}
	_, dk, err := ed25519.GenerateKey(rand.Reader)
	if err != nil {
		return err
	}
	keys := []tokenKey{{jwt.SigningMethodES256, "es", ek}, {jwt.SigningMethodRS256, "rs", rk}, {jwt.SigningMethodEdDSA, "ed", dk}}

	store := jwkset.NewMemoryStorage()
	for _, k := range keys {
		jwk, err := jwkset.NewJWKFromKey(k.key.Public(), jwkset.JWKOptions{Metadata: jwkset.JWKMetadataOptions{KID: k.kid, ALG: jwkset.ALG(k.alg.Alg())}})
		if err != nil {
			return err
		}
		if err := store.KeyWrite(ctx, jwk); err != nil {
			return err
		}
	}
	body, err := store.JSONPublic(ctx)
	if err != nil {
		return err
	}
	var fetches atomic.Int64
	idp := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, _ *http.Request) {
		fetches.Add(1)
		w.Write(body)
	}))
	defer idp.Close()

	quiet := slog.New(slog.NewTextHandler(io.Discard, nil))
	urlKeys, err := oauth.NewURLKeys(idp.URL, time.Hour, time.Minute, quiet)
	if err != nil {
		return err
	}
	defer urlKeys.Close()
	plug, err := oauth.NewPlugin(oauth.Config{Keys: urlKeys, Audience: "bench", Issuer: "bench-idp", Logger: quiet})
	if err != nil {
		return err
	}
	reg := extension.NewRegistry()
	if err := reg.Register("oauth", extension.WithCustomAuthPlugins(plug)); err != nil {
		return err
	}
	es, err := reg.GetExtensions()
	if err != nil {
		return err
	}
	dir, err := os.MkdirTemp("", "authplug-token-bench-")
	if err != nil {
		return err
	}
	defer os.RemoveAll(dir)
	s, err := server.New(server.Config{
		Addr: "127.0.0.1:0", DataDir: dir, RootPassword: "root", Extensions: es,
		Databases: []gmssql.Database{memory.NewDatabase("bench")}, Logger: quiet,
		// As the peer: no connection limit (the concurrency check opens
		// more than the default 151) and no login throttle.
		MaxConnections: -1, LoginFailureThreshold: -1,
	})
	if err != nil {
		return err
	}
	defer s.Close()
	go s.Serve()
	addr := s.Addr().String()
	cfg := func(user, pw string) *mysql.Config {
		c := cfgFor(addr)(user, pw)
		c.DBName, c.TLSConfig, c.AllowCleartextPasswords = "", "skip-verify", true
		return c
	}
	root, err := sql.Open("mysql", cfg("root", "root").FormatDSN())
	if err != nil {
		return err
	}
	defer root.Close()
	for _, q := range []string{
		`CREATE USER tok IDENTIFIED WITH authentication_oauth AS '{"issuer":"bench-idp","scopes":"optional"}'`,
		"CREATE USER nat IDENTIFIED WITH mysql_native_password BY 'pw'",
	} {
		if _, err := root.ExecContext(ctx, q); err != nil {
			return err
		}
	}
	tokens := map[string]string{}
	now := time.Now()
	for _, k := range keys {
		t := jwt.NewWithClaims(k.alg, jwt.MapClaims{"iss": "bench-idp", "aud": "bench", "sub": "tok",
			"iat": now.Unix(), "exp": now.Add(time.Hour).Unix()})
		t.Header["kid"] = k.kid
		if tokens[k.alg.Alg()], err = t.SignedString(k.key); err != nil {
			return err
		}
	}
	// Warm up: the keys are fetched once, before measuring.
	if _, err := loginRound(ctx, target{dsn: cfg, user: "tok", pw: tokens["ES256"]}, 1); err != nil {
		return fmt.Errorf("token warm-up: %w", err)
	}
	before := fetches.Load()
	elapsed := map[string]time.Duration{}
	order := []string{"mysql_native_password", "ES256", "RS256", "EdDSA"}
	for r := 0; r < rounds; r++ {
		for _, name := range order {
			t := target{dsn: cfg, user: "tok", pw: tokens[name]}
			if name == "mysql_native_password" {
				t = target{dsn: cfg, user: "nat", pw: "pw"}
			}
			d, err := loginRound(ctx, t, logins)
			if err != nil {
				return fmt.Errorf("%s logins: %w", name, err)
			}
			elapsed[name] += d
		}
	}
	rate := func(name string) float64 { return float64(logins*rounds) / elapsed[name].Seconds() }
	fmt.Printf("logins/s over TLS: mysql_native_password %.0f", rate("mysql_native_password"))
	for _, n := range order[1:] {
		fmt.Printf(", %s token %.0f", n, rate(n))
	}
	fmt.Println()
	for _, n := range order[1:] {
		fmt.Printf("ratio %s token logins / mysql_native_password logins: %.2f (target >= 0.8)\n", n, rate(n)/rate("mysql_native_password"))
	}
	fmt.Printf("JWKS fetches during the measured token logins: %d\n", fetches.Load()-before)
	if fetches.Load() != before {
		return fmt.Errorf("%d JWKS fetches on the login path", fetches.Load()-before)
	}
	return nil
}
