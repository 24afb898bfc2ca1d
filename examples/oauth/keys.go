package oauth

import (
	"bytes"
	"context"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/x509"
	"encoding/pem"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"log/slog"
	"net/http"
	"os"
	"path/filepath"
	"sync"
	"sync/atomic"
	"time"

	"github.com/MicahParks/jwkset"
	"github.com/MicahParks/keyfunc/v3"
	"github.com/golang-jwt/jwt/v5"
	"golang.org/x/time/rate"
)

// FileKeys serves the keys of a JWKS file and re-reads the file when it
// changes, in the background: a login never reads the disk. When a new file
// does not parse, the keys already loaded stay in use.
type FileKeys struct {
	path string
	// onRefresh hears of every reload: nil when new keys were loaded.
	onRefresh func(error)
	cur       atomic.Pointer[loadedKeys]
	stop      chan struct{}
	once      sync.Once
}

type loadedKeys struct {
	raw []byte
	kf  keyfunc.Keyfunc
}

// NewFileKeys loads path (an error if it cannot be read or parsed) and
// checks it for changes every interval (none if interval <= 0).
func NewFileKeys(path string, interval time.Duration, log *slog.Logger) (*FileKeys, error) {
	if log == nil {
		log = slog.Default()
	}
	return newFileKeys(path, interval, func(err error) {
		if err != nil {
			log.Warn("oauth: keeping the keys already loaded", "error", err)
		}
	})
}

func newFileKeys(path string, interval time.Duration, onRefresh func(error)) (*FileKeys, error) {
	f := &FileKeys{path: path, onRefresh: onRefresh, stop: make(chan struct{})}
	if _, err := f.reload(); err != nil {
		return nil, err
	}
	onRefresh(nil)
	if interval > 0 {
		go f.watch(interval)
	}
	return f, nil
}

// KeyfuncCtx implements KeySource.
func (f *FileKeys) KeyfuncCtx(ctx context.Context) jwt.Keyfunc {
	return f.cur.Load().kf.KeyfuncCtx(ctx)
}

// Reload reads the file now; unchanged content is a no-op.
func (f *FileKeys) Reload() error {
	changed, err := f.reload()
	if changed || err != nil {
		f.onRefresh(err)
	}
	return err
}

func (f *FileKeys) reload() (changed bool, err error) {
	raw, err := readCapped(f.path, maxDocumentSize)
	if err != nil {
		return false, fmt.Errorf("oauth: JWKS file: %w", err)
	}
	if old := f.cur.Load(); old != nil && bytes.Equal(old.raw, raw) {
		return false, nil
	}
	kf, err := keyfunc.NewJWKSetJSON(raw)
	if err != nil {
		return false, fmt.Errorf("oauth: JWKS file %s: %w", f.path, err)
	}
	f.cur.Store(&loadedKeys{raw: raw, kf: kf})
	return true, nil
}

// readCapped reads a file of at most max bytes.
func readCapped(path string, max int64) ([]byte, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	raw, err := io.ReadAll(io.LimitReader(f, max+1))
	if err == nil && int64(len(raw)) > max {
		err = fmt.Errorf("%s: %w of %d bytes", path, ErrDocumentTooLarge, max)
	}
	return raw, err
}

func (f *FileKeys) watch(every time.Duration) {
	t := time.NewTicker(every)
	defer t.Stop()
	for {
		select {
		case <-f.stop:
			return
		case <-t.C:
			f.Reload() // its error goes to onRefresh
		}
	}
}

// Close stops watching the file.
func (f *FileKeys) Close() { f.once.Do(func() { close(f.stop) }) }

// DevIdP is a signing key kept in a directory, so that token login can be
// tried without an identity provider. Its public key is published as a JWKS
// file beside it.
type DevIdP struct {
	key *ecdsa.PrivateKey
	kid string
	dir string
}

const (
	devKeyFile  = "oauth-dev-key.pem"
	devJWKSFile = "oauth-dev-jwks.json"
)

// LoadDevIdP loads the dev key from dir, creating it (and its JWKS) on
// first use.
func LoadDevIdP(dir string) (*DevIdP, error) {
	keyPath := filepath.Join(dir, devKeyFile)
	if _, err := os.Stat(keyPath); errors.Is(err, fs.ErrNotExist) {
		if err := os.MkdirAll(dir, 0o700); err != nil {
			return nil, err
		}
		k, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
		if err != nil {
			return nil, err
		}
		der, err := x509.MarshalPKCS8PrivateKey(k)
		if err != nil {
			return nil, err
		}
		b := pem.EncodeToMemory(&pem.Block{Type: "PRIVATE KEY", Bytes: der})
		// O_EXCL: two first starts must not each write a key, one of
		// them then signing with a key the JWKS no longer has.
		f, err := os.OpenFile(keyPath, os.O_WRONLY|os.O_CREATE|os.O_EXCL, 0o600)
		if err == nil {
			_, err = f.Write(b)
			err = errors.Join(err, f.Close())
		}
		if err != nil && !errors.Is(err, fs.ErrExist) {
			return nil, err
		}
	}
	d, err := OpenDevIdP(dir)
	if err != nil {
		return nil, err
	}
	return d, d.writeJWKS()
}

// OpenDevIdP loads the dev key from dir, which must hold one already (an
// error matching fs.ErrNotExist otherwise): unlike LoadDevIdP it never
// creates one.
func OpenDevIdP(dir string) (*DevIdP, error) {
	keyPath := filepath.Join(dir, devKeyFile)
	b, err := os.ReadFile(keyPath)
	if err != nil {
		return nil, err
	}
	blk, _ := pem.Decode(b)
	if blk == nil {
		return nil, fmt.Errorf("oauth: %s is not PEM", keyPath)
	}
	parsed, err := x509.ParsePKCS8PrivateKey(blk.Bytes)
	if err != nil {
		return nil, err
	}
	k, ok := parsed.(*ecdsa.PrivateKey)
	if !ok {
		return nil, fmt.Errorf("oauth: %s is not an ECDSA key", keyPath)
	}
	return &DevIdP{key: k, kid: "authplug-dev-1", dir: dir}, nil
}

func (d *DevIdP) writeJWKS() error {
	jwk, err := jwkset.NewJWKFromKey(&d.key.PublicKey, jwkset.JWKOptions{Metadata: jwkset.JWKMetadataOptions{KID: d.kid, ALG: jwkset.AlgES256, USE: jwkset.UseSig}})
	if err != nil {
		return err
	}
	store := jwkset.NewMemoryStorage()
	if err := store.KeyWrite(context.Background(), jwk); err != nil {
		return err
	}
	raw, err := store.JSONPublic(context.Background())
	if err != nil {
		return err
	}
	return os.WriteFile(d.JWKSPath(), raw, 0o644)
}

// JWKSPath is the dev IdP's public key set.
func (d *DevIdP) JWKSPath() string { return filepath.Join(d.dir, devJWKSFile) }

// TokenRequest is what a dev token says.
type TokenRequest struct {
	Issuer, Audience, Subject string
	Scope                     string
	Groups                    []string
	TTL                       time.Duration
	Now                       time.Time
}

// Mint signs a token with the dev key.
func (d *DevIdP) Mint(r TokenRequest) (string, error) {
	if r.Now.IsZero() {
		r.Now = time.Now()
	}
	jti := make([]byte, 12)
	rand.Read(jti)
	c := jwt.MapClaims{
		"iss": r.Issuer, "aud": r.Audience, "sub": r.Subject,
		"iat": r.Now.Unix(), "nbf": r.Now.Unix(), "exp": r.Now.Add(r.TTL).Unix(),
		"jti": fmt.Sprintf("%x", jti),
	}
	if r.Scope != "" {
		c["scope"] = r.Scope
	}
	if len(r.Groups) > 0 {
		c["groups"] = r.Groups
	}
	t := jwt.NewWithClaims(jwt.SigningMethodES256, c)
	t.Header["kid"] = d.kid
	return t.SignedString(d.key)
}

// URLKeys serves the keys of a JWKS URL: fetched at start and refreshed in
// the background; a token with an unknown kid may trigger one more fetch,
// at most once per unknownKIDEvery, bounded by the login's context. When
// the IdP is down, the keys already fetched keep working.
type URLKeys struct {
	keyfunc.Keyfunc
	cancel context.CancelFunc
}

// NewURLKeys starts fetching url, which must be https, or http to a
// loopback address (a test's IdP). Fetches are size-capped and time-bound.
func NewURLKeys(url string, refresh, unknownKIDEvery time.Duration, log *slog.Logger) (*URLKeys, error) {
	if log == nil {
		log = slog.Default()
	}
	c := Config{AllowHTTPLoopback: true}
	if err := checkFetchURL(url, c.AllowHTTPLoopback); err != nil {
		return nil, fmt.Errorf("oauth: JWKS URL: %w", err)
	}
	return newURLKeys(url, urlOptions{
		client: c.fetchClient(), refresh: refresh, unknownKIDEvery: unknownKIDEvery,
		onRefresh: func(err error) {
			if err != nil {
				log.Warn("oauth: JWKS refresh failed; keeping the keys already fetched", "url", url, "error", err)
			}
		},
	})
}

type urlOptions struct {
	client                   *http.Client
	refresh, unknownKIDEvery time.Duration
	// onRefresh hears of every fetch: nil when new keys were loaded.
	onRefresh func(error)
}

func newURLKeys(url string, o urlOptions) (*URLKeys, error) {
	ctx, cancel := context.WithCancel(context.Background())
	store, err := jwkset.NewStorageFromHTTP(url, jwkset.HTTPClientStorageOptions{
		Client: o.client,
		Ctx:    ctx,
		// Bounds the background refreshes; a refresh on an unknown kid is
		// bounded by the login's context too.
		HTTPTimeout: 5 * time.Second,
		// An IdP down when the server starts must not keep it down: its
		// logins fail until a refresh succeeds.
		NoErrorReturnFirstHTTPReq: true,
		RefreshErrorHandler:       func(_ context.Context, err error) { o.onRefresh(err) },
		RefreshInterval:           o.refresh,
		Storage:                   notifyingStore{Storage: jwkset.NewMemoryStorage(), loaded: func() { o.onRefresh(nil) }},
	})
	if err == nil {
		store, err = jwkset.NewHTTPClient(jwkset.HTTPClientOptions{
			HTTPURLs:          map[string]jwkset.Storage{url: store},
			RefreshUnknownKID: rate.NewLimiter(rate.Every(o.unknownKIDEvery), 1),
			// Never queue a login behind the limiter: refused now beats
			// late. The limiter refuses at once when its next token is
			// further off than this (a token comes once per
			// unknownKIDEvery); the bound is not 1 ms, which a busy
			// machine spends before the limiter is even asked, refusing a
			// login that had a token waiting.
			RateLimitWaitMax: 100 * time.Millisecond,
		})
	}
	var kf keyfunc.Keyfunc
	if err == nil {
		kf, err = keyfunc.New(keyfunc.Options{Ctx: ctx, Storage: store})
	}
	if err != nil {
		cancel()
		return nil, fmt.Errorf("oauth: JWKS URL: %w", err)
	}
	return &URLKeys{Keyfunc: kf, cancel: cancel}, nil
}

// notifyingStore tells of every key set a fetch stores: the one place a
// refresh is known to have succeeded.
type notifyingStore struct {
	jwkset.Storage
	loaded func()
}

func (s notifyingStore) KeyReplaceAll(ctx context.Context, keys []jwkset.JWK) error {
	err := s.Storage.KeyReplaceAll(ctx, keys)
	if err == nil {
		s.loaded()
	}
	return err
}

// Close stops the background refresh.
func (u *URLKeys) Close() { u.cancel() }
