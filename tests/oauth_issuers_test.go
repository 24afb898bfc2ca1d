package tests

import (
	"context"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"flag"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/MicahParks/jwkset"
	"github.com/golang-jwt/jwt/v5"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/authplug/authplug/examples/oauth"
	"github.com/authplug/authplug/extension"
)

// tlsIssuer is an identity provider over TLS with OpenID Connect
// discovery, whose one key has the dev IdP's kid: a kid clash with any dev
// IdP the test also trusts.
type tlsIssuer struct {
	*httptest.Server
	key *ecdsa.PrivateKey

	mu   sync.Mutex
	down bool
}

const devKID = "authplug-dev-1"

func newTLSIssuer(t *testing.T) *tlsIssuer {
	t.Helper()
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	require.NoError(t, err)
	jwk, err := jwkset.NewJWKFromKey(&key.PublicKey, jwkset.JWKOptions{Metadata: jwkset.JWKMetadataOptions{KID: devKID, ALG: jwkset.AlgES256, USE: jwkset.UseSig}})
	require.NoError(t, err)
	store := jwkset.NewMemoryStorage()
	require.NoError(t, store.KeyWrite(context.Background(), jwk))
	jwks, err := store.JSONPublic(context.Background())
	require.NoError(t, err)

	idp := &tlsIssuer{key: key}
	mux := http.NewServeMux()
	mux.HandleFunc("/.well-known/openid-configuration", func(w http.ResponseWriter, r *http.Request) {
		base := "https://" + r.Host
		fmt.Fprintf(w, `{"issuer":%q,"jwks_uri":%q}`, base, base+"/jwks")
	})
	mux.HandleFunc("/jwks", func(w http.ResponseWriter, _ *http.Request) {
		idp.mu.Lock()
		defer idp.mu.Unlock()
		if idp.down {
			http.Error(w, "maintenance", http.StatusServiceUnavailable)
			return
		}
		w.Write(jwks)
	})
	idp.Server = httptest.NewTLSServer(mux)
	t.Cleanup(idp.Close)
	return idp
}

func (idp *tlsIssuer) setDown() {
	idp.mu.Lock()
	defer idp.mu.Unlock()
	idp.down = true
}

// mint signs claims (iss, aud, times filled in when missing) with key
// under the dev kid.
func mintES256(t *testing.T, key *ecdsa.PrivateKey, c jwt.MapClaims) string {
	t.Helper()
	now := time.Now()
	for k, v := range map[string]any{"aud": oauth.DefaultAudience, "iat": now.Unix(), "exp": now.Add(10 * time.Minute).Unix()} {
		if _, ok := c[k]; !ok {
			c[k] = v
		}
	}
	tok := jwt.NewWithClaims(jwt.SigningMethodES256, c)
	tok.Header["kid"] = devKID
	s, err := tok.SignedString(key)
	require.NoError(t, err)
	return s
}

// A server trusting two issuers whose key sets share a kid: a dev IdP's
// JWKS file ("https://a.example") and an IdP found by discovery over TLS.
// Each account logs in only with its own issuer's tokens, signed by that
// issuer's key; an account cannot be bound to an issuer the server does
// not trust; the discovered IdP going down leaves its cached keys working.
func TestOAuthSeveralIssuersOverTheWire(t *testing.T) {
	const issA = "https://a.example"
	devA, err := oauth.LoadDevIdP(t.TempDir())
	require.NoError(t, err)
	b := newTLSIssuer(t)
	issB := b.URL

	refreshes := make(chan error, 1000)
	v, err := oauth.NewVerifier(t.Context(), oauth.Config{
		Audience: oauth.DefaultAudience,
		Issuers: []oauth.IssuerConfig{
			{Issuer: issA, JWKSFile: devA.JWKSPath()},
			{Issuer: issB, Discovery: true},
		},
		HTTPClient:      b.Client(),
		RefreshInterval: 10 * time.Millisecond,
		OnRefresh: func(iss string, err error) {
			if iss == issB {
				select {
				case refreshes <- err:
				default:
				}
			}
		},
	})
	require.NoError(t, err)
	t.Cleanup(v.Close)
	reg := extension.NewRegistry()
	require.NoError(t, reg.Register("oauth", extension.WithCustomAuthPlugins(v.Plugin())))
	es, err := reg.GetExtensions()
	require.NoError(t, err)
	e := start(t, es, "")
	e.seed()
	exec(t, e.root(),
		`CREATE USER alice IDENTIFIED WITH authentication_oauth AS '{"issuer":"https://a.example"}'`,
		`CREATE USER bob IDENTIFIED WITH authentication_oauth AS '{"issuer":"`+issB+`"}'`,
		"GRANT SELECT, INSERT ON demo.* TO alice, bob",
	)
	mintA := func(iss, sub string) string {
		tok, err := devA.Mint(oauth.TokenRequest{Issuer: iss, Audience: oauth.DefaultAudience, Subject: sub, Scope: "select:demo", TTL: 10 * time.Minute})
		require.NoError(t, err)
		return tok
	}
	login := func(user, tok string) error {
		_, err := e.tryConn(user, tok, withCleartext, withTLS)
		return err
	}

	alice := e.conn("alice", mintA(issA, "alice"), withCleartext, withTLS)
	_, err = query(alice, "SELECT a FROM demo.t WHERE id = 1")
	assert.NoError(t, err)

	// bob's IdP sends scopes as Okta does: an scp list.
	bob := e.conn("bob", mintES256(t, b.key, jwt.MapClaims{"iss": issB, "sub": "bob", "scp": []string{"select:demo", "openid"}}), withCleartext, withTLS)
	_, err = query(bob, "SELECT a FROM demo.t WHERE id = 1")
	assert.NoError(t, err)
	_, err = bob.ExecContext(context.Background(), "INSERT INTO demo.t VALUES (3, 30, 300)")
	assert.Equal(t, uint16(1142), code(err), "granted, but no scp entry covers INSERT: %v", err)

	for name, c := range map[string]struct{ user, tok string }{
		"A's key, B's iss (same kid)":      {"bob", mintA(issB, "bob")},
		"B's key, A's iss (same kid)":      {"alice", mintES256(t, b.key, jwt.MapClaims{"iss": issA, "sub": "alice"})},
		"B's valid token, account of A":    {"alice", mintES256(t, b.key, jwt.MapClaims{"iss": issB, "sub": "alice"})},
		"A's valid token, account of B":    {"bob", mintA(issA, "bob")},
		"scp and scope that disagree":      {"bob", mintES256(t, b.key, jwt.MapClaims{"iss": issB, "sub": "bob", "scp": []string{"select:demo"}, "scope": "select:demo insert:demo"})},
		"an untrusted issuer's iss":        {"bob", mintES256(t, b.key, jwt.MapClaims{"iss": "https://c.example", "sub": "bob"})},
		"B's token without the audience":   {"bob", mintES256(t, b.key, jwt.MapClaims{"iss": issB, "sub": "bob", "aud": "other"})},
		"groups that are neither (object)": {"bob", mintES256(t, b.key, jwt.MapClaims{"iss": issB, "sub": "bob", "groups": map[string]any{"a": 1}})},
	} {
		assert.Equal(t, uint16(1045), code(login(c.user, c.tok)), name)
	}

	_, err = e.root().ExecContext(context.Background(), `CREATE USER carol IDENTIFIED WITH authentication_oauth AS '{"issuer":"https://c.example"}'`)
	assert.Equal(t, uint16(1827), code(err))
	assert.ErrorContains(t, err, "issuer must be one the server trusts: "+strings.Join(v.Issuers(), ", "))
	assert.ErrorContains(t, err, issA)
	assert.ErrorContains(t, err, issB)

	b.setDown()
	deadline := time.After(10 * time.Second)
	for failed := false; !failed; {
		select {
		case err := <-refreshes:
			failed = err != nil
		case <-deadline:
			t.Fatal("no failed refresh of B's keys within 10s")
		}
	}
	assert.NoError(t, login("bob", mintES256(t, b.key, jwt.MapClaims{"iss": issB, "sub": "bob", "scp": "select:demo"})),
		"B's IdP is down: its cached keys keep working")
	assert.NotContains(t, e.logs.String(), mintA(issA, "alice")[:40], "no token in the log")
}

// The server's own flags: --oauth-config with an IdP found by discovery
// over plain http to a loopback address, which --oauth-allow-http-loopback
// admits and which is refused without it.
func TestOAuthConfigFlagOverTheWire(t *testing.T) {
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	require.NoError(t, err)
	jwk, err := jwkset.NewJWKFromKey(&key.PublicKey, jwkset.JWKOptions{Metadata: jwkset.JWKMetadataOptions{KID: devKID, ALG: jwkset.AlgES256}})
	require.NoError(t, err)
	store := jwkset.NewMemoryStorage()
	require.NoError(t, store.KeyWrite(context.Background(), jwk))
	jwks, err := store.JSONPublic(context.Background())
	require.NoError(t, err)
	mux := http.NewServeMux()
	mux.HandleFunc("/.well-known/openid-configuration", func(w http.ResponseWriter, r *http.Request) {
		base := "http://" + r.Host
		fmt.Fprintf(w, `{"issuer":%q,"jwks_uri":%q}`, base, base+"/jwks")
	})
	mux.HandleFunc("/jwks", func(w http.ResponseWriter, _ *http.Request) { w.Write(jwks) })
	idp := httptest.NewServer(mux)
	t.Cleanup(idp.Close)

	dir := t.TempDir()
	file := filepath.Join(dir, "oauth.json")
	require.NoError(t, writeFile(file, fmt.Sprintf(`{"audience":"db","issuers":[{"issuer":%q,"discovery":true}]}`, idp.URL)))
	setup := func(args ...string) (*extension.Extensions, error) {
		// The oauth extension as the server serves it: registered by
		// import, configured by its flags.
		fs := flag.NewFlagSet("server", flag.ContinueOnError)
		cfg, err := extension.Configure(fs)
		require.NoError(t, err)
		require.NoError(t, fs.Parse(args))
		return cfg.Setup(t.Context(), extension.Host{DataDir: dir, Audit: io.Discard})
	}
	_, err = setup("--oauth-config", file)
	assert.ErrorContains(t, err, "must be https")
	es, err := setup("--oauth-config", file, "--oauth-allow-http-loopback")
	require.NoError(t, err)
	t.Cleanup(es.Close)

	e := start(t, es, "")
	e.seed()
	exec(t, e.root(),
		`CREATE USER dora IDENTIFIED WITH authentication_oauth AS '{"issuer":"`+idp.URL+`"}'`,
		"GRANT SELECT ON demo.* TO dora",
	)
	tok := mintES256(t, key, jwt.MapClaims{"iss": idp.URL, "sub": "dora", "aud": "db", "scope": "select:demo"})
	dora := e.conn("dora", tok, withCleartext, withTLS)
	_, err = query(dora, "SELECT a FROM demo.t WHERE id = 1")
	assert.NoError(t, err)
	_, err = e.tryConn("dora", mintES256(t, key, jwt.MapClaims{"iss": idp.URL, "sub": "dora"}), withCleartext, withTLS)
	assert.Equal(t, uint16(1045), code(err), "the file's audience, not the default")
}
