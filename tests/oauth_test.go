package tests

import (
	"context"
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/golang-jwt/jwt/v5"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/authplug/authplug/examples/oauth"
	"github.com/authplug/authplug/extension"
)

// oauthServer runs the server with the oauth plugin over keys (default: a
// dev IdP's JWKS file), plus any extra extension options (an auditor).
func oauthServer(t *testing.T, keys oauth.KeySource, now func() time.Time, extra ...extension.Option) (*env, *oauth.DevIdP) {
	t.Helper()
	dev, err := oauth.LoadDevIdP(t.TempDir())
	require.NoError(t, err)
	if keys == nil {
		fk, err := oauth.NewFileKeys(dev.JWKSPath(), 0, nil)
		require.NoError(t, err)
		t.Cleanup(fk.Close)
		keys = fk
	}
	plug, err := oauth.NewPlugin(oauth.Config{Keys: keys, Audience: oauth.DefaultAudience, Issuer: oauth.DevIssuer, Now: now})
	require.NoError(t, err)
	reg := extension.NewRegistry()
	require.NoError(t, reg.Register("oauth", append([]extension.Option{extension.WithCustomAuthPlugins(plug)}, extra...)...))
	es, err := reg.GetExtensions()
	require.NoError(t, err)
	e := start(t, es, "")
	e.seed()
	return e, dev
}

// Token login through the server, with a real client: the token is the
// password, over TLS only; scopes narrow what the grants allow.
func TestOAuthTokenLogin(t *testing.T) {
	e, dev := oauthServer(t, nil, nil)
	exec(t, e.root(),
		"CREATE USER 'alice@example.com' IDENTIFIED WITH authentication_oauth AS '{\"issuer\":\"authplug-dev\"}'",
		"GRANT SELECT, INSERT ON demo.* TO 'alice@example.com'",
	)
	mint := func(sub, scope string, ttl time.Duration) string {
		tok, err := dev.Mint(oauth.TokenRequest{Issuer: oauth.DevIssuer, Audience: oauth.DefaultAudience, Subject: sub, Scope: scope, TTL: ttl})
		require.NoError(t, err)
		return tok
	}
	tok := mint("alice@example.com", "select:demo", 15*time.Minute)

	alice := e.conn("alice@example.com", tok, withCleartext, withTLS)
	rows, err := query(alice, "SELECT a FROM demo.t WHERE id = 1")
	require.NoError(t, err)
	assert.Equal(t, [][]string{{"10"}}, rows)
	_, err = alice.ExecContext(context.Background(), "INSERT INTO demo.t VALUES (3, 30, 300)")
	assert.Equal(t, uint16(1142), code(err), "granted, but no scope covers INSERT: %v", err)
	// A narrowed token does not change its account, though MySQL needs no
	// privilege for that: the plugin is asked.
	_, err = alice.ExecContext(context.Background(), "SET DEFAULT ROLE ALL TO CURRENT_USER()")
	assert.Equal(t, uint16(1227), code(err), "%v", err)

	// Without TLS the token account is never offered its cleartext plugin:
	// the client is sent through caching_sha2's RSA exchange, like a
	// password account, and a token too long for RSA-OAEP fails in the
	// client itself. Either way, no login and no token in clear.
	_, err = e.tryConn("alice@example.com", tok, withCleartext)
	assert.Error(t, err, "never without TLS")
	_, err = e.tryConn("alice@example.com", mint("bob@example.com", "select:demo", time.Minute), withCleartext, withTLS)
	assert.Equal(t, uint16(1045), code(err), "a valid token for bob never logs in as alice")
	_, err = e.tryConn("alice@example.com", mint("alice@example.com", "select:demo", -time.Minute), withCleartext, withTLS)
	assert.Equal(t, uint16(1045), code(err), "expired")
	assert.Contains(t, e.logs.String(), "token is for another user")
	assert.NotContains(t, e.logs.String(), tok, "tokens never reach the log")
}

func TestAuditTrail(t *testing.T) {
	audit := &syncBuffer{}
	e, dev := oauthServer(t, nil, nil, extension.WithSessionHandlerFactory(oauth.NewAuditor(audit).Handler))
	exec(t, e.root(),
		"CREATE USER gateway IDENTIFIED WITH authentication_oauth AS '{\"issuer\":\"authplug-dev\"}'",
		"CREATE USER alice IDENTIFIED WITH mysql_native_password BY 'x' ACCOUNT LOCK",
		"GRANT SELECT ON demo.* TO alice",
		"GRANT PROXY ON 'alice'@'%' TO 'gateway'@'%'",
	)
	tok, err := dev.Mint(oauth.TokenRequest{Issuer: oauth.DevIssuer, Audience: oauth.DefaultAudience, Subject: "gateway", Scope: "select", TTL: time.Minute})
	require.NoError(t, err)
	gw := e.conn("gateway", tok, withCleartext, withTLS)
	_, err = query(gw, "EXECUTE AS 'alice' SELECT a FROM demo.t WHERE id = 1")
	require.NoError(t, err)
	_, err = e.tryConn("gateway", tok+"x", withCleartext, withTLS)
	require.Error(t, err)

	var records []oauth.Record
	for _, line := range strings.Split(strings.TrimSpace(audit.String()), "\n") {
		var r oauth.Record
		require.NoError(t, json.Unmarshal([]byte(line), &r), line)
		records = append(records, r)
		assert.NotContains(t, line, tok[len(tok)-30:], "the token never reaches the audit")
		assert.NotContains(t, line, "'x'", "nor a password")
	}
	find := func(match func(oauth.Record) bool) oauth.Record {
		for _, r := range records {
			if match(r) {
				return r
			}
		}
		t.Fatalf("no such audit record in %v", records)
		return oauth.Record{}
	}
	login := find(func(r oauth.Record) bool { return r.Event == "login" && r.Outcome == "accepted" && r.User == "gateway" })
	assert.Equal(t, oauth.DevIssuer, login.Issuer)
	assert.NotEmpty(t, login.JTI)
	rejected := find(func(r oauth.Record) bool { return r.Event == "login" && r.Outcome == "rejected" })
	assert.Contains(t, rejected.Reason, "signature")
	stmt := find(func(r oauth.Record) bool { return r.Event == "statement" && r.User == "gateway" })
	assert.Equal(t, "'gateway'@'%'", stmt.Account)
	assert.Equal(t, "'alice'@'%'", stmt.EffectiveAccount)
	assert.Equal(t, "SELECT a FROM demo.t WHERE id = 1", stmt.Statement)
	assert.Equal(t, login.JTI, stmt.JTI)
	assert.Equal(t, "success", stmt.Outcome)
}

// A JWKS served over HTTP, end to end: keys are served from the cache (a
// known kid is never refetched per login), an IdP that goes down leaves the
// cached keys working, and hostile tokens are refused on the wire with 1045.
// A new kid being picked up is TestURLKeys' (examples/oauth); the full table
// of hostile tokens is TestHostileTokens'.
func TestOAuthWithJWKSURL(t *testing.T) {
	idpDir := t.TempDir()
	first, err := oauth.LoadDevIdP(filepath.Join(idpDir, "first"))
	require.NoError(t, err)
	second, err := oauth.LoadDevIdP(filepath.Join(idpDir, "second"))
	require.NoError(t, err)
	var mu sync.Mutex
	jwks := mustRead(t, first.JWKSPath())
	down := false
	hs := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, _ *http.Request) {
		mu.Lock()
		defer mu.Unlock()
		if down {
			http.Error(w, "down", http.StatusBadGateway)
			return
		}
		w.Write(jwks)
	}))
	defer hs.Close()

	keys, err := oauth.NewURLKeys(hs.URL, time.Hour, time.Nanosecond, nil)
	require.NoError(t, err)
	t.Cleanup(keys.Close)
	e, _ := oauthServer(t, keys, nil)
	exec(t, e.root(), "CREATE USER 'alice@example.com' IDENTIFIED WITH authentication_oauth AS '{\"issuer\":\"authplug-dev\",\"scopes\":\"optional\"}'")
	mint := func(d *oauth.DevIdP, r oauth.TokenRequest) string {
		r.Issuer, r.Audience = cmpOr(r.Issuer, oauth.DevIssuer), cmpOr(r.Audience, oauth.DefaultAudience)
		r.Subject = cmpOr(r.Subject, "alice@example.com")
		if r.TTL == 0 {
			r.TTL = time.Minute
		}
		tok, err := d.Mint(r)
		require.NoError(t, err)
		return tok
	}
	login := func(tok string) error {
		_, err := e.tryConn("alice@example.com", tok, withCleartext, withTLS)
		return err
	}
	require.NoError(t, login(mint(first, oauth.TokenRequest{})))

	// Both dev IdPs use the same kid; publish the second key under it.
	mu.Lock()
	jwks = mustRead(t, second.JWKSPath())
	mu.Unlock()
	assert.Equal(t, uint16(1045), code(login(mint(second, oauth.TokenRequest{}))),
		"a known kid is served from the cache, not refetched per login")

	mu.Lock()
	down = true
	mu.Unlock()
	assert.NoError(t, login(mint(first, oauth.TokenRequest{})), "the IdP is down: cached keys keep working")

	good := mint(first, oauth.TokenRequest{})
	hostile := map[string]string{
		"expired":        mint(first, oauth.TokenRequest{TTL: -time.Minute}),
		"wrong audience": mint(first, oauth.TokenRequest{Audience: "other"}),
		"wrong issuer":   mint(first, oauth.TokenRequest{Issuer: "https://evil"}),
		"another user":   mint(first, oauth.TokenRequest{Subject: "bob@example.com"}),
		"truncated":      good[:len(good)-5],
		"alg none":       noneToken(t),
		"huge":           good + strings.Repeat("A", 20<<10),
		"empty":          "",
	}
	for name, tok := range hostile {
		assert.Equal(t, uint16(1045), code(login(tok)), name)
	}
}

func noneToken(t *testing.T) string {
	tok, err := jwt.NewWithClaims(jwt.SigningMethodNone, jwt.MapClaims{
		"iss": oauth.DevIssuer, "aud": oauth.DefaultAudience, "sub": "alice@example.com",
		"iat": time.Now().Unix(), "exp": time.Now().Add(time.Minute).Unix(),
	}).SignedString(jwt.UnsafeAllowNoneSignatureType)
	require.NoError(t, err)
	return tok
}

func mustRead(t *testing.T, path string) []byte {
	b, err := os.ReadFile(path)
	require.NoError(t, err)
	return b
}

func cmpOr(a, b string) string {
	if a != "" {
		return a
	}
	return b
}

// Groups activate granted roles, and a session outliving its token is told
// to reconnect: over the wire, with the plugin's clock under the test's
// control.
func TestOAuthGroupsAndExpiryOverTheWire(t *testing.T) {
	var clock atomic.Int64
	clock.Store(time.Now().Unix())
	now := func() time.Time { return time.Unix(clock.Load(), 0) }
	e, dev := oauthServer(t, nil, now)
	exec(t, e.root(),
		"CREATE USER 'alice@example.com' IDENTIFIED WITH authentication_oauth AS '{\"issuer\":\"authplug-dev\"}'",
		"CREATE ROLE analyst",
		"GRANT SELECT ON demo.* TO analyst",
		"GRANT analyst TO 'alice@example.com'",
	)
	mint := func(groups ...string) string {
		tok, err := dev.Mint(oauth.TokenRequest{Issuer: oauth.DevIssuer, Audience: oauth.DefaultAudience,
			Subject: "alice@example.com", Scope: "select:demo", Groups: groups, TTL: 10 * time.Minute, Now: now()})
		require.NoError(t, err)
		return tok
	}
	plain := e.conn("alice@example.com", mint(), withCleartext, withTLS)
	assert.Equal(t, uint16(1142), codeOf(plain, "SELECT a FROM demo.t"), "no groups: the role stays inactive")

	withGroup := e.conn("alice@example.com", mint("analyst", "admin"), withCleartext, withTLS)
	_, err := query(withGroup, "SELECT a FROM demo.t")
	assert.NoError(t, err, "the analyst group activates the granted analyst role")

	clock.Add(11 * 60) // past exp and leeway
	_, err = query(withGroup, "SELECT a FROM demo.t")
	assert.Equal(t, uint16(1045), code(err))
	assert.ErrorContains(t, err, "reconnect with a new token")
}
