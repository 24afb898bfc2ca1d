package oauth

import (
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/rsa"
	"crypto/tls"
	"crypto/x509"
	"encoding/base64"
	"flag"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/golang-jwt/jwt/v5"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/authplug/authplug/mysqlerr"
	"github.com/authplug/authplug/plugintest"
	"github.com/authplug/authplug/priv"
)

// ecSigner makes an ES256 key published under kid.
func ecSigner(t *testing.T, kid string) signer {
	t.Helper()
	k, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	require.NoError(t, err)
	return signer{kid, jwt.SigningMethodES256, k}
}

func signWith(t *testing.T, s signer, c jwt.MapClaims) string {
	t.Helper()
	tok := jwt.NewWithClaims(s.method, c)
	tok.Header["kid"] = s.kid
	out, err := tok.SignedString(s.key)
	require.NoError(t, err)
	return out
}

func claimsOfIssuer(iss, sub string) jwt.MapClaims {
	now := time.Now()
	return jwt.MapClaims{"iss": iss, "aud": audience, "sub": sub, "iat": now.Unix(), "exp": now.Add(10 * time.Minute).Unix()}
}

func jwksFile(t *testing.T, signers ...signer) string {
	t.Helper()
	path := filepath.Join(t.TempDir(), "jwks.json")
	writeJWKS(t, path, signers...)
	return path
}

// tlsIdP is an identity provider over TLS: its discovery document (doc,
// given the server's base URL; by default one naming the server as issuer)
// and its JWKS at /jwks.
func tlsIdP(t *testing.T, jwks http.Handler, doc func(base string) string) *httptest.Server {
	t.Helper()
	if doc == nil {
		doc = func(base string) string { return fmt.Sprintf(`{"issuer":%q,"jwks_uri":%q}`, base, base+"/jwks") }
	}
	mux := http.NewServeMux()
	mux.HandleFunc("/.well-known/openid-configuration", func(w http.ResponseWriter, r *http.Request) {
		io.WriteString(w, doc("https://"+r.Host))
	})
	mux.Handle("/jwks", jwks)
	ts := httptest.NewTLSServer(mux)
	t.Cleanup(ts.Close)
	return ts
}

// refreshes collects what OnRefresh hears, without ever blocking it.
type refreshes chan error

func newRefreshes() refreshes { return make(refreshes, 1000) }

func (r refreshes) onRefresh(_ string, err error) {
	select {
	case r <- err:
	default:
	}
}

// next waits, boundedly, for the next refresh that match accepts.
func (r refreshes) next(t *testing.T, match func(error) bool) error {
	t.Helper()
	deadline := time.After(10 * time.Second)
	for {
		select {
		case err := <-r:
			if match(err) {
				return err
			}
		case <-deadline:
			t.Fatal("no such key refresh within 10s")
			return nil
		}
	}
}

func failed(err error) bool    { return err != nil }
func succeeded(err error) bool { return err == nil }

func TestLoadConfig(t *testing.T) {
	dir := t.TempDir()
	write := func(body string) string {
		path := filepath.Join(dir, "oauth.json")
		require.NoError(t, os.WriteFile(path, []byte(body), 0o600))
		return path
	}
	c, err := LoadConfig(write(`{"audience": "db", "issuers": [{"issuer": "https://a.example", "jwks_file": "a.json"},
		{"issuer": "https://b.example", "discovery": true, "audience": "db-b", "algorithms": ["ES256"]}]}`))
	require.NoError(t, err)
	assert.Equal(t, Config{Audience: "db", Issuers: []IssuerConfig{
		{Issuer: "https://a.example", JWKSFile: filepath.Join(dir, "a.json")},
		{Issuer: "https://b.example", Discovery: true, Audience: "db-b", Algorithms: []string{"ES256"}},
	}}, c, "a relative jwks_file is relative to the config file")

	for body, want := range map[string]string{
		`{"audience":"db","issuers":[{"issuer":"a","jwks_file":"/a","jwks_url":"https://a/jwks"}]}`:     "exactly one of jwks_file, jwks_url and discovery (2 given)",
		`{"audience":"db","issuers":[{"issuer":"a"}]}`:                                                  "(0 given)",
		`{"audience":"db","issuers":[{"issuer":"a","discovery":false}]}`:                                "(0 given)",
		`{"audience":"db","issuers":[{"jwks_file":"/a"}]}`:                                              "issuer is required",
		`{"audience":"db","issuers":[{"issuer":"a","jwks_file":"/a"},{"issuer":"a","discovery":true}]}`: "listed twice",
		`{"audience":"db","issuers":[{"issuer":"a","jwks_file":"/a","algorithms":["HS256"]}]}`:          `algorithm "HS256" is not accepted`,
		`{"audience":"db","issuers":[{"issuer":"a","jwks_file":"/a","algorithms":["none"]}]}`:           `algorithm "none" is not accepted`,
		`{"issuers":[{"issuer":"a","jwks_file":"/a"}]}`:                                                 "audience is required",
		`{"audience":"db","issuers":[]}`:                                                                "no issuers",
		`{"audience":"db","issuers":[{"issuer":"a","jwks_file":"/a","Keys":{}}]}`:                       `unknown field "Keys"`,
		`{"audience":"db","leeway":"1h","issuers":[{"issuer":"a","jwks_file":"/a"}]}`:                   `unknown field "leeway"`,
		`{"audience":"db","issuers":[{"issuer":"a","jwks_file":"/a"}]} {}`:                              "trailing data",
		`{"audience":"db","issuers":{"issuer":"a"}}`:                                                    "cannot unmarshal",
	} {
		_, err := LoadConfig(write(body))
		assert.ErrorContains(t, err, want, body)
	}
	_, err = LoadConfig(filepath.Join(dir, "missing.json"))
	assert.ErrorIs(t, err, os.ErrNotExist)
}

func TestBindFlags(t *testing.T) {
	file := filepath.Join(t.TempDir(), "oauth.json")
	require.NoError(t, os.WriteFile(file, []byte(`{"audience":"db","issuers":[{"issuer":"https://a.example","discovery":true}]}`), 0o600))
	parse := func(args ...string) (Config, error) {
		fs := flag.NewFlagSet("t", flag.ContinueOnError)
		config := BindFlags(fs)
		require.NoError(t, fs.Parse(args))
		return config()
	}

	c, err := parse()
	require.NoError(t, err)
	assert.Equal(t, []IssuerConfig{{Issuer: DevIssuer}}, c.Issuers, "no key source: the server's dev IdP")
	assert.Equal(t, DefaultAudience, c.Audience)
	assert.Equal(t, time.Hour, c.MaxAge)

	c, err = parse("--oauth-issuer", "https://x.example", "--oauth-jwks-url", "https://x.example/jwks", "--oauth-audience", "db", "--oauth-leeway", "1m")
	require.NoError(t, err)
	assert.Equal(t, []IssuerConfig{{Issuer: "https://x.example", JWKSURL: "https://x.example/jwks"}}, c.Issuers)
	assert.Equal(t, "db", c.Audience)
	assert.Equal(t, time.Minute, c.Leeway)

	c, err = parse("--oauth-config", file, "--oauth-allow-http-loopback", "--oauth-max-age", "5m")
	require.NoError(t, err)
	assert.Equal(t, []IssuerConfig{{Issuer: "https://a.example", Discovery: true}}, c.Issuers)
	assert.Equal(t, "db", c.Audience)
	assert.True(t, c.AllowHTTPLoopback)
	assert.Equal(t, 5*time.Minute, c.MaxAge)

	_, err = parse("--oauth-config", file, "--oauth-issuer", DevIssuer, "--oauth-jwks-file", "x.json")
	assert.ErrorContains(t, err, "--oauth-config excludes --oauth-issuer, --oauth-jwks-file", "even a flag given its default value")
	_, err = parse("--oauth-jwks-file", "x.json", "--oauth-jwks-url", "https://x.example/jwks")
	assert.ErrorContains(t, err, "not both")
	_, err = parse("--oauth-config", filepath.Join(t.TempDir(), "missing.json"))
	assert.Error(t, err)
}

// Two issuers publish the same kid: each issuer's tokens are checked with
// its own key set only.
func TestClashingKIDsNeverCrossIssuers(t *testing.T) {
	const issA, issB = "https://a.example", "https://b.example"
	a, b := ecSigner(t, "k1"), ecSigner(t, "k1")
	v, err := NewVerifier(t.Context(), Config{Audience: audience, Issuers: []IssuerConfig{
		{Issuer: issA, JWKSFile: jwksFile(t, a)},
		{Issuer: issB, JWKSFile: jwksFile(t, b)},
	}})
	require.NoError(t, err)
	t.Cleanup(v.Close)
	assert.Equal(t, []string{issA, issB}, v.Issuers())

	c, err := v.Verify(t.Context(), signWith(t, a, claimsOfIssuer(issA, "alice")))
	require.NoError(t, err)
	assert.Equal(t, issA, c.Issuer)
	c, err = v.Verify(t.Context(), signWith(t, b, claimsOfIssuer(issB, "bob")))
	require.NoError(t, err)
	assert.Equal(t, issB, c.Issuer)

	_, err = v.Verify(t.Context(), signWith(t, a, claimsOfIssuer(issB, "bob")))
	assert.ErrorIs(t, err, jwt.ErrTokenSignatureInvalid, "A's key, B's iss: checked with B's k1, which is not A's")
	_, err = v.Verify(t.Context(), signWith(t, b, claimsOfIssuer(issA, "alice")))
	assert.ErrorIs(t, err, jwt.ErrTokenSignatureInvalid, "B's key, A's iss")
	_, err = v.Verify(t.Context(), signWith(t, a, claimsOfIssuer("https://c.example", "carol")))
	assert.ErrorIs(t, err, ErrUntrustedIssuer)

	// The plugin: the account's binding chooses the issuer.
	k := plugintest.New(t, v.Plugin())
	k.Must(createTokenUser("alice", `{"issuer":"https://a.example","scopes":"optional"}`))
	login := func(tok string) error {
		_, err := k.Login("alice", plugintest.Password(tok), plugintest.OverTLS())
		return err
	}
	assert.NoError(t, login(signWith(t, a, claimsOfIssuer(issA, "alice"))))
	assert.Equal(t, uint16(1045), mysqlerr.Code(login(signWith(t, b, claimsOfIssuer(issB, "alice")))), "B's valid token for an account bound to A")
	assert.Equal(t, uint16(1045), mysqlerr.Code(login(signWith(t, b, claimsOfIssuer(issA, "alice")))), "B's key signing A's iss")
	assert.Equal(t, uint16(1045), mysqlerr.Code(login(signWith(t, a, claimsOfIssuer(issB, "alice")))), "A's key signing B's iss")
	assert.Contains(t, k.Logs(), "verification error")
	assert.Contains(t, k.Logs(), "token has invalid issuer")

	_, err = v.verifyFor(t.Context(), []byte(signWith(t, a, claimsOfIssuer(issA, "dave"))), "dave", Binding{Issuer: "https://gone.example", Claim: "sub"})
	assert.ErrorIs(t, err, ErrUntrustedIssuer, "an account bound to an issuer trusted no longer")

	err = k.Exec(createTokenUser("carol", `{"issuer":"https://c.example"}`))
	assert.Equal(t, uint16(1827), mysqlerr.Code(err))
	assert.ErrorContains(t, err, "issuer must be one the server trusts: https://a.example, https://b.example")
}

func TestIssuerEntryNarrowsAlgorithmsAndAudience(t *testing.T) {
	const iss = "https://a.example"
	ec := ecSigner(t, "ec")
	rk, err := rsa.GenerateKey(rand.Reader, 2048)
	require.NoError(t, err)
	rs := signer{"rs", jwt.SigningMethodRS256, rk}
	v, err := NewVerifier(t.Context(), Config{Audience: audience, Issuers: []IssuerConfig{
		{Issuer: iss, JWKSFile: jwksFile(t, ec, rs), Algorithms: []string{"ES256"}, Audience: "db-a"},
	}})
	require.NoError(t, err)
	t.Cleanup(v.Close)
	c := claimsOfIssuer(iss, "alice")
	c["aud"] = "db-a"
	_, err = v.Verify(t.Context(), signWith(t, ec, c))
	assert.NoError(t, err)
	_, err = v.Verify(t.Context(), signWith(t, rs, c))
	assert.ErrorIs(t, err, jwt.ErrTokenSignatureInvalid, "RS256 is not among the issuer's algorithms")
	_, err = v.Verify(t.Context(), signWith(t, ec, claimsOfIssuer(iss, "alice")))
	assert.ErrorIs(t, err, jwt.ErrTokenInvalidAudience, "the issuer's audience replaces the default")

	noSub := claimsOfIssuer(iss, "")
	noSub["aud"] = "db-a"
	delete(noSub, "sub")
	_, err = v.Verify(t.Context(), signWith(t, ec, noSub))
	assert.ErrorIs(t, err, ErrClaims, "Verify needs a subject")
	numIss := claimsOfIssuer(iss, "alice")
	numIss["iss"] = 42
	_, err = v.Verify(t.Context(), signWith(t, ec, numIss))
	assert.ErrorIs(t, err, ErrClaims)
	_, err = v.Verify(t.Context(), "")
	assert.ErrorIs(t, err, ErrTokenEmpty)
}

func TestDiscovery(t *testing.T) {
	s := ecSigner(t, "k1")
	jwks := &jwksServer{}
	jwks.set(t, s)
	ts := tlsIdP(t, jwks, nil)
	v, err := NewVerifier(t.Context(), Config{Audience: audience, Issuers: []IssuerConfig{{Issuer: ts.URL, Discovery: true}}, HTTPClient: ts.Client()})
	require.NoError(t, err)
	t.Cleanup(v.Close)
	_, err = v.Verify(t.Context(), signWith(t, s, claimsOfIssuer(ts.URL, "alice")))
	assert.NoError(t, err)

	_, err = NewVerifier(t.Context(), Config{Audience: audience, Issuers: []IssuerConfig{{Issuer: ts.URL, Discovery: true}}})
	assert.ErrorContains(t, err, "certificate", "the server's certificate is checked")

	plain := httptest.NewServer(jwks)
	t.Cleanup(plain.Close)
	big := strings.Repeat(" ", 2<<20)
	for name, c := range map[string]struct {
		doc  func(base string) string
		want string
	}{
		"another issuer": {func(base string) string {
			return fmt.Sprintf(`{"issuer":"https://evil.example","jwks_uri":%q}`, base+"/jwks")
		}, `names the issuer "https://evil.example"`},
		"a trailing slash": {func(base string) string {
			return fmt.Sprintf(`{"issuer":%q,"jwks_uri":%q}`, base+"/", base+"/jwks")
		}, "names the issuer"},
		"http jwks_uri": {func(base string) string {
			return fmt.Sprintf(`{"issuer":%q,"jwks_uri":%q}`, base, plain.URL)
		}, "must be https"},
		"no jwks_uri": {func(base string) string { return fmt.Sprintf(`{"issuer":%q}`, base) }, "no jwks_uri"},
		"not JSON":    {func(string) string { return "<html>" }, "invalid character"},
		"oversized":   {func(base string) string { return fmt.Sprintf(`{"issuer":%q,%s"jwks_uri":%q}`, base, big, base+"/jwks") }, "over the size cap"},
	} {
		t.Run(name, func(t *testing.T) {
			idp := tlsIdP(t, jwks, c.doc)
			_, err := NewVerifier(t.Context(), Config{Audience: audience, Issuers: []IssuerConfig{{Issuer: idp.URL, Discovery: true}}, HTTPClient: idp.Client()})
			assert.ErrorContains(t, err, c.want)
		})
	}
}

// Plain http is refused, but to a loopback address when allowed; the rule
// holds for every request, redirects included.
func TestHTTPSRule(t *testing.T) {
	s := ecSigner(t, "k1")
	jwks := &jwksServer{}
	jwks.set(t, s)
	plain := httptest.NewServer(jwks) // 127.0.0.1
	t.Cleanup(plain.Close)
	cfg := func(ic IssuerConfig, loopback bool) Config {
		return Config{Audience: audience, Issuers: []IssuerConfig{ic}, AllowHTTPLoopback: loopback}
	}
	for _, c := range []struct {
		ic       IssuerConfig
		loopback bool
		want     string
	}{
		{IssuerConfig{Issuer: "a", JWKSURL: plain.URL}, false, "must be https"},
		{IssuerConfig{Issuer: "a", JWKSURL: "http://idp.example/jwks"}, true, "plain http only to a loopback address"},
		{IssuerConfig{Issuer: "a", JWKSURL: "http://localhost.evil.example/jwks"}, true, "only to a loopback"},
		{IssuerConfig{Issuer: "a", JWKSURL: "http://127.0.0.1.nip.io/jwks"}, true, "only to a loopback"},
		{IssuerConfig{Issuer: "a", JWKSURL: "ftp://idp.example/jwks"}, true, "must be https"},
		{IssuerConfig{Issuer: "a", JWKSURL: "/jwks"}, true, "not an absolute URL"},
		{IssuerConfig{Issuer: "http://idp.example", Discovery: true}, true, "only to a loopback"},
		{IssuerConfig{Issuer: "authplug-dev", Discovery: true}, true, "not an absolute URL"},
	} {
		_, err := NewVerifier(t.Context(), cfg(c.ic, c.loopback))
		assert.ErrorContains(t, err, c.want, "%+v", c.ic)
	}

	v, err := NewVerifier(t.Context(), cfg(IssuerConfig{Issuer: "a", JWKSURL: plain.URL}, true))
	require.NoError(t, err)
	t.Cleanup(v.Close)
	_, err = v.Verify(t.Context(), signWith(t, s, claimsOfIssuer("a", "alice")))
	assert.NoError(t, err, "http to loopback, allowed")

	// An https JWKS URL that redirects to plain http.
	mux := http.NewServeMux()
	mux.Handle("/jwks", http.RedirectHandler(plain.URL, http.StatusFound))
	ts := httptest.NewTLSServer(mux)
	t.Cleanup(ts.Close)
	seen := newRefreshes()
	c := cfg(IssuerConfig{Issuer: "a", JWKSURL: ts.URL + "/jwks"}, false)
	c.HTTPClient, c.OnRefresh = ts.Client(), seen.onRefresh
	v, err = NewVerifier(t.Context(), c)
	require.NoError(t, err, "a JWKS URL that fails at start is retried later")
	t.Cleanup(v.Close)
	assert.ErrorContains(t, seen.next(t, failed), "must be https")
	_, err = v.Verify(t.Context(), signWith(t, s, claimsOfIssuer("a", "alice")))
	assert.Error(t, err, "no keys from a redirect to http")
}

// After the first fetch, an IdP that fails or is gone leaves the keys
// already fetched working.
func TestCachedKeysOutliveTheIdP(t *testing.T) {
	s := ecSigner(t, "k1")
	jwks := &jwksServer{}
	jwks.set(t, s)
	ts := tlsIdP(t, jwks, nil)
	seen := newRefreshes()
	v, err := NewVerifier(t.Context(), Config{Audience: audience, Issuers: []IssuerConfig{{Issuer: ts.URL, Discovery: true}},
		HTTPClient: ts.Client(), RefreshInterval: 10 * time.Millisecond, OnRefresh: seen.onRefresh})
	require.NoError(t, err)
	t.Cleanup(v.Close)
	seen.next(t, succeeded)
	tok := signWith(t, s, claimsOfIssuer(ts.URL, "alice"))
	_, err = v.Verify(t.Context(), tok)
	require.NoError(t, err)

	jwks.mu.Lock()
	jwks.down = true
	jwks.mu.Unlock()
	assert.ErrorContains(t, seen.next(t, failed), "503")
	_, err = v.Verify(t.Context(), tok)
	assert.NoError(t, err, "the IdP answers 503: cached keys")

	ts.Close()
	seen.next(t, func(err error) bool { return err != nil && !strings.Contains(err.Error(), "503") })
	_, err = v.Verify(t.Context(), tok)
	assert.NoError(t, err, "the IdP is gone: cached keys")
}

// A JWKS or discovery document without end is refused, not read whole.
func TestOversizedJWKSRefused(t *testing.T) {
	s := ecSigner(t, "k1")
	endless := http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		io.WriteString(w, `{"keys":[`)
		chunk := []byte(strings.Repeat(" ", 32<<10))
		for i := 0; i < 4096 && r.Context().Err() == nil; i++ { // 128 MiB at most
			if _, err := w.Write(chunk); err != nil {
				return
			}
		}
	})
	declared := http.HandlerFunc(func(w http.ResponseWriter, _ *http.Request) {
		w.Header().Set("Content-Length", fmt.Sprint(2<<20))
		io.WriteString(w, `{"keys":[]}`)
	})
	for name, h := range map[string]http.Handler{"streamed": endless, "declared": declared} {
		t.Run(name, func(t *testing.T) {
			ts := httptest.NewTLSServer(h)
			t.Cleanup(ts.Close)
			seen := newRefreshes()
			v, err := NewVerifier(t.Context(), Config{Audience: audience, Issuers: []IssuerConfig{{Issuer: "a", JWKSURL: ts.URL}},
				HTTPClient: ts.Client(), OnRefresh: seen.onRefresh})
			require.NoError(t, err)
			t.Cleanup(v.Close)
			assert.ErrorIs(t, seen.next(t, failed), ErrDocumentTooLarge)
			_, err = v.Verify(t.Context(), signWith(t, s, claimsOfIssuer("a", "alice")))
			assert.Error(t, err)

			// The same answer as a discovery document.
			_, err = NewVerifier(t.Context(), Config{Audience: audience, Issuers: []IssuerConfig{{Issuer: ts.URL, Discovery: true}}, HTTPClient: ts.Client()})
			assert.ErrorIs(t, err, ErrDocumentTooLarge)
		})
	}

	big := filepath.Join(t.TempDir(), "big.json")
	require.NoError(t, os.WriteFile(big, []byte(`{"keys":[`+strings.Repeat(" ", 2<<20)+`]}`), 0o600))
	_, err := NewVerifier(t.Context(), Config{Audience: audience, Issuers: []IssuerConfig{{Issuer: "a", JWKSFile: big}}})
	assert.ErrorIs(t, err, ErrDocumentTooLarge)
}

func TestClaimsAsDeploymentsSendThem(t *testing.T) {
	s := ecSigner(t, "k1")
	v, err := NewVerifier(t.Context(), Config{Audience: audience, Issuers: []IssuerConfig{{Issuer: issuer, JWKSFile: jwksFile(t, s)}}})
	require.NoError(t, err)
	t.Cleanup(v.Close)
	verify := func(extra map[string]any) (*Claims, error) {
		c := claimsOfIssuer(issuer, "alice")
		for k, x := range extra {
			c[k] = x
		}
		return v.Verify(t.Context(), signWith(t, s, c))
	}
	for _, c := range []struct {
		name       string
		claims     map[string]any
		scopes     []string
		scopeClaim string
		groups     []string
	}{
		{"none", nil, nil, "", nil},
		{"scp list (Okta)", map[string]any{"scp": []string{"select:sales", "openid"}}, []string{"select:sales", "openid"}, "scp", nil},
		{"scp string (Entra)", map[string]any{"scp": "select:sales openid"}, []string{"select:sales", "openid"}, "scp", nil},
		{"scope string", map[string]any{"scope": " select:sales  openid "}, []string{"select:sales", "openid"}, "scope", nil},
		{"empty scope", map[string]any{"scope": ""}, nil, "scope", nil},
		{"both, the same entries", map[string]any{"scp": []string{"openid", "select:sales"}, "scope": "select:sales openid openid"}, []string{"openid", "select:sales"}, "scp", nil},
		{"groups list", map[string]any{"groups": []string{"analyst", "auditor"}}, nil, "", []string{"analyst", "auditor"}},
		{"groups string", map[string]any{"groups": "analyst"}, nil, "", []string{"analyst"}},
		{"empty groups string", map[string]any{"groups": ""}, nil, "", nil},
	} {
		got, err := verify(c.claims)
		if !assert.NoError(t, err, c.name) {
			continue
		}
		assert.Equal(t, c.scopes, got.Scopes, c.name)
		assert.Equal(t, c.scopeClaim, got.ScopeClaim, c.name)
		assert.Equal(t, c.groups, got.Groups, c.name)
	}
	for name, claims := range map[string]map[string]any{
		"both, different entries": {"scp": []string{"select:sales"}, "scope": "select:sales delete:sales"},
		"scope as a list":         {"scope": []string{"select:sales"}},
		"scp as a number":         {"scp": 1},
		"scp with a number":       {"scp": []any{"select:sales", 1}},
		"scp null":                {"scp": nil},
		"groups as an object":     {"groups": map[string]any{"analyst": true}},
		"groups with a number":    {"groups": []any{"analyst", 2}},
	} {
		_, err := verify(claims)
		assert.ErrorIs(t, err, ErrClaims, name)
	}
}

// Scopes narrow the session whichever claim carries them.
func TestScpNarrowsTheSession(t *testing.T) {
	p, keys := newIDP(t)
	k := kit(t, p, keys)
	c := p.claims("alice@example.com")
	delete(c, "scope")
	c["scp"] = []string{"select:sales", "select:sales dropped:entry", "system_variables_admin"}
	s, err := k.Login("alice@example.com", plugintest.Password(p.sign(t, p.ec, c)), plugintest.OverTLS())
	require.NoError(t, err)
	assert.NoError(t, s.RequestVerification("sales", "orders", "", priv.Select))
	assert.Equal(t, uint16(1142), mysqlerr.Code(s.RequestVerification("sales", "orders", "", priv.Insert)), "granted, but no scope")
	assert.Equal(t, []Scope{{Priv: priv.Select, DB: "sales"}, {Dynamic: "SYSTEM_VARIABLES_ADMIN"}}, s.State().(*Session).Scopes,
		"an entry with a space grants nothing")

	c["scp"], c["scope"] = []string{"select:sales"}, "select:sales insert:sales.orders"
	_, err = k.Login("alice@example.com", plugintest.Password(p.sign(t, p.ec, c)), plugintest.OverTLS())
	assert.Equal(t, uint16(1045), mysqlerr.Code(err), "scp and scope disagree")
	assert.Contains(t, k.Logs(), "scp and scope name different scopes")
}

func TestNewPluginTakesOnlyKeysItNeedNotClose(t *testing.T) {
	_, err := NewPlugin(Config{Audience: audience, Issuers: []IssuerConfig{{Issuer: "a", JWKSFile: jwksFile(t, ecSigner(t, "k"))}}})
	assert.ErrorContains(t, err, "use NewVerifier")
	_, keys := newIDP(t)
	_, err = NewPlugin(Config{Audience: audience, Keys: keys})
	assert.ErrorContains(t, err, "Keys with Issuer", "keys for no issuer in particular")
	_, err = NewPlugin(Config{Audience: audience, Keys: keys, Issuer: issuer, Issuers: []IssuerConfig{{Issuer: "b", Keys: keys}}})
	assert.Error(t, err)
}

// The issuer read before the signature only chooses the keys: a payload
// whose members spell iss twice (encoding/json matches "ISS" to the iss
// field too, and the last one wins), or as a list, never has one issuer's
// key accepted for another's token.
func TestPeekedIssuerIsTheVerifiedOne(t *testing.T) {
	const issA, issB = "https://a.example", "https://b.example"
	a, b := ecSigner(t, "k1"), ecSigner(t, "k1")
	v, err := NewVerifier(t.Context(), Config{Audience: audience, Issuers: []IssuerConfig{
		{Issuer: issA, JWKSFile: jwksFile(t, a)},
		{Issuer: issB, JWKSFile: jwksFile(t, b)},
	}})
	require.NoError(t, err)
	t.Cleanup(v.Close)
	now := time.Now().Unix()
	sign := func(s signer, payload string) string {
		enc := base64.RawURLEncoding.EncodeToString
		in := enc([]byte(`{"alg":"ES256","kid":"k1","typ":"JWT"}`)) + "." + enc([]byte(payload))
		sig, err := s.method.Sign(in, s.key)
		require.NoError(t, err)
		return in + "." + enc(sig)
	}
	rest := fmt.Sprintf(`"aud":%q,"sub":"alice","iat":%d,"exp":%d`, audience, now, now+600)
	for name, c := range map[string]struct {
		s       signer
		payload string
	}{
		"ISS after iss, A's key":  {a, fmt.Sprintf(`{"iss":%q,"ISS":%q,%s}`, issB, issA, rest)},
		"ISS after iss, B's key":  {b, fmt.Sprintf(`{"iss":%q,"ISS":%q,%s}`, issB, issA, rest)},
		"Iss before iss, A's key": {a, fmt.Sprintf(`{"Iss":%q,"iss":%q,%s}`, issA, issB, rest)},
		"iss as a list":           {a, fmt.Sprintf(`{"iss":[%q],%s}`, issA, rest)},
		"iss with a space":        {a, fmt.Sprintf(`{"iss":%q,%s}`, issA+" ", rest)},
		"iss in another case":     {a, fmt.Sprintf(`{"iss":%q,%s}`, "https://A.example", rest)},
	} {
		c, err := v.Verify(t.Context(), sign(c.s, c.payload))
		if err == nil {
			t.Errorf("%s: verified as %s", name, c.Issuer)
		}
	}
	c, err := v.Verify(t.Context(), sign(a, fmt.Sprintf(`{"iss":%q,%s}`, issA, rest)))
	require.NoError(t, err, "the same token, spelt plainly, verifies")
	assert.Equal(t, issA, c.Issuer)
}

// A flood of tokens with random kids (each a valid signature of a key the
// IdP never published) makes at most one refetch of their issuer's JWKS,
// and none of another issuer's.
func TestUnknownKIDFloodIsRateLimitedPerIssuer(t *testing.T) {
	a, b := ecSigner(t, "k1"), ecSigner(t, "k1")
	jwksA, jwksB := &jwksServer{}, &jwksServer{}
	jwksA.set(t, a)
	jwksB.set(t, b)
	tsA, tsB := httptest.NewTLSServer(jwksA), httptest.NewTLSServer(jwksB)
	t.Cleanup(tsA.Close)
	t.Cleanup(tsB.Close)
	pool := x509.NewCertPool()
	pool.AddCert(tsA.Certificate())
	pool.AddCert(tsB.Certificate())
	seen := newRefreshes()
	v, err := NewVerifier(t.Context(), Config{Audience: audience, OnRefresh: seen.onRefresh,
		HTTPClient: &http.Client{Transport: &http.Transport{TLSClientConfig: &tls.Config{RootCAs: pool}}},
		Issuers:    []IssuerConfig{{Issuer: "https://a.example", JWKSURL: tsA.URL}, {Issuer: "https://b.example", JWKSURL: tsB.URL}}})
	require.NoError(t, err)
	t.Cleanup(v.Close)
	seen.next(t, succeeded)
	seen.next(t, succeeded)
	_, err = v.Verify(t.Context(), signWith(t, a, claimsOfIssuer("https://a.example", "alice")))
	require.NoError(t, err)
	beforeA, beforeB := jwksA.count(), jwksB.count()

	flood := make([]string, 100)
	for i := range flood {
		flood[i] = signWith(t, ecSigner(t, fmt.Sprintf("random-%d", i)), claimsOfIssuer("https://a.example", "alice"))
	}
	var wg sync.WaitGroup
	for _, tok := range flood {
		wg.Go(func() {
			_, err := v.Verify(t.Context(), tok)
			assert.Error(t, err)
		})
	}
	wg.Wait()
	assert.LessOrEqual(t, jwksA.count()-beforeA, 1, "at most one refetch of A's keys")
	assert.Equal(t, beforeB, jwksB.count(), "B's keys are not fetched for A's tokens")
	_, err = v.Verify(t.Context(), signWith(t, a, claimsOfIssuer("https://a.example", "alice")))
	assert.NoError(t, err, "A's own tokens still verify")
}
