package oauth

import (
	"context"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"sync"
	"testing"
	"time"

	"github.com/MicahParks/jwkset"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/authplug/authplug/mysqlerr"
	"github.com/authplug/authplug/plugintest"
)

func writeJWKS(t *testing.T, path string, signers ...signer) {
	t.Helper()
	require.NoError(t, os.WriteFile(path, jwksJSON(t, signers...), 0o644))
}

// jwksJSON is the public JWKS of signers.
func jwksJSON(t *testing.T, signers ...signer) []byte {
	t.Helper()
	store := jwkset.NewMemoryStorage()
	for _, s := range signers {
		jwk, err := jwkset.NewJWKFromKey(s.key.Public(), jwkset.JWKOptions{Metadata: jwkset.JWKMetadataOptions{KID: s.kid, ALG: jwkset.ALG(s.method.Alg())}})
		require.NoError(t, err)
		require.NoError(t, store.KeyWrite(context.Background(), jwk))
	}
	raw, err := store.JSONPublic(context.Background())
	require.NoError(t, err)
	return raw
}

func TestFileKeysPickUpRotation(t *testing.T) {
	p, _ := newIDP(t)
	path := filepath.Join(t.TempDir(), "jwks.json")
	writeJWKS(t, path, p.rsa)
	keys, err := NewFileKeys(path, 0, nil)
	require.NoError(t, err)
	defer keys.Close()
	k := kit(t, p, keys)
	login := loginAs(t, k, p)
	require.NoError(t, login(p.rsa))
	assert.Equal(t, uint16(1045), mysqlerr.Code(login(p.ec)), "not published yet")

	writeJWKS(t, path, p.ec) // rotate: new key in, old key retired
	require.NoError(t, keys.Reload())
	assert.NoError(t, login(p.ec), "the new kid is picked up")
	assert.Equal(t, uint16(1045), mysqlerr.Code(login(p.rsa)), "the retired key no longer verifies")

	require.NoError(t, os.WriteFile(path, []byte("{not json"), 0o644))
	assert.Error(t, keys.Reload())
	assert.NoError(t, login(p.ec), "a broken file keeps the keys already loaded")

	_, err = NewFileKeys(filepath.Join(t.TempDir(), "missing.json"), 0, nil)
	assert.Error(t, err)
}

func TestDevIdP(t *testing.T) {
	dir := t.TempDir()
	dev, err := LoadDevIdP(dir)
	require.NoError(t, err)
	again, err := LoadDevIdP(dir)
	require.NoError(t, err)
	assert.True(t, dev.key.Equal(again.key), "the key is kept across starts")

	keys, err := NewFileKeys(dev.JWKSPath(), 0, nil)
	require.NoError(t, err)
	plug, err := NewPlugin(Config{Keys: keys, Audience: DefaultAudience, Issuer: DevIssuer})
	require.NoError(t, err)
	k := plugintest.New(t, plug)
	k.Must(createTokenUser("alice@example.com", `{"issuer":"authplug-dev"}`))
	tok, err := dev.Mint(TokenRequest{Issuer: DevIssuer, Audience: DefaultAudience, Subject: "alice@example.com", Scope: "select:demo", TTL: 15 * time.Minute})
	require.NoError(t, err)
	s, err := k.Login("alice@example.com", plugintest.Password(tok), plugintest.OverTLS())
	require.NoError(t, err)
	assert.Equal(t, DevIssuer, s.State().(*Session).Issuer)

	err = k.Exec(createTokenUser("bob", `{"issuer":"https://elsewhere"}`))
	assert.Equal(t, uint16(1827), mysqlerr.Code(err), "bindings may only name the configured issuer")
}

// jwksServer serves whatever JWKS it holds and counts fetches; down makes it
// answer 503, as an IdP in trouble.
type jwksServer struct {
	mu      sync.Mutex
	body    []byte
	fetches int
	down    bool
}

func (s *jwksServer) ServeHTTP(w http.ResponseWriter, _ *http.Request) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.fetches++
	if s.down {
		http.Error(w, "maintenance", http.StatusServiceUnavailable)
		return
	}
	w.Header().Set("Content-Type", "application/json")
	w.Write(s.body)
}

func (s *jwksServer) set(t *testing.T, signers ...signer) {
	b := jwksJSON(t, signers...)
	s.mu.Lock()
	defer s.mu.Unlock()
	s.body = b
}

func (s *jwksServer) count() int {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.fetches
}

func TestURLKeys(t *testing.T) {
	p, _ := newIDP(t)
	idpSrv := &jwksServer{}
	idpSrv.set(t, p.rsa)
	hs := httptest.NewServer(idpSrv)
	defer hs.Close()

	keys, err := NewURLKeys(hs.URL, time.Hour, time.Hour, nil)
	require.NoError(t, err)
	defer keys.Close()
	k := kit(t, p, keys)
	login := loginAs(t, k, p)
	require.NoError(t, login(p.rsa))
	assert.Equal(t, 1, idpSrv.count(), "fetched once at start, not per login")
	require.NoError(t, login(p.rsa))
	assert.Equal(t, 1, idpSrv.count())

	idpSrv.set(t, p.rsa, p.ec) // the IdP publishes a new key
	assert.NoError(t, login(p.ec), "an unknown kid triggers a refresh")
	assert.Equal(t, 2, idpSrv.count())

	idpSrv.set(t, p.rsa, p.ec, p.ed)
	assert.Equal(t, uint16(1045), mysqlerr.Code(login(p.ed)), "a second unknown kid within the limit: no new fetch")
	assert.Equal(t, 2, idpSrv.count(), "refreshes on unknown kids are rate limited")

	idpSrv.mu.Lock()
	idpSrv.down = true
	idpSrv.mu.Unlock()
	assert.NoError(t, login(p.ec), "the IdP is down: cached keys keep working")
}

// loginAs logs alice in with a token signed by s, as the client would.
func loginAs(t *testing.T, k *plugintest.Kit, p *idp) func(s signer) error {
	return func(s signer) error {
		_, err := k.Login("alice@example.com", plugintest.Password(p.sign(t, s, p.claims("alice@example.com"))), plugintest.OverTLS())
		return err
	}
}
