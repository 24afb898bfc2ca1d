package tests

import (
	"context"
	"database/sql"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/go-sql-driver/mysql"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"golang.org/x/oauth2"

	"github.com/authplug/authplug/examples/oauth"
	"github.com/authplug/authplug/extension"
	"github.com/authplug/authplug/oauthclient"
)

// strictOAuthServer runs the server with the oauth plugin and a 1 s leeway
// on exp (30 s by default): a session whose token has expired fails its
// statements a second later, so a pool that hands out such a connection
// shows it as errors.
func strictOAuthServer(t *testing.T, extra ...extension.Option) (*env, *oauth.DevIdP) {
	t.Helper()
	dev, err := oauth.LoadDevIdP(t.TempDir())
	require.NoError(t, err)
	fk, err := oauth.NewFileKeys(dev.JWKSPath(), 0, nil)
	require.NoError(t, err)
	t.Cleanup(fk.Close)
	plug, err := oauth.NewPlugin(oauth.Config{Keys: fk, Audience: oauth.DefaultAudience, Issuer: oauth.DevIssuer, Leeway: time.Second})
	require.NoError(t, err)
	reg := extension.NewRegistry()
	require.NoError(t, reg.Register("oauth", append([]extension.Option{extension.WithCustomAuthPlugins(plug)}, extra...)...))
	es, err := reg.GetExtensions()
	require.NoError(t, err)
	e := start(t, es, "")
	e.seed()
	return e, dev
}

// devSource mints a new dev IdP token for sub, valid for ttl, each time it
// is asked, as an IdP's token endpoint does.
type devSource struct {
	dev   *oauth.DevIdP
	sub   string
	ttl   time.Duration
	mints atomic.Int64
}

func (s *devSource) Token() (*oauth2.Token, error) {
	now := time.Now()
	tok, err := s.dev.Mint(oauth.TokenRequest{Issuer: oauth.DevIssuer, Audience: oauth.DefaultAudience, Subject: s.sub, TTL: s.ttl, Now: now})
	if err != nil {
		return nil, err
	}
	s.mints.Add(1)
	// The token's exp is in whole seconds, rounded down: the expiry the
	// client keeps must not be later than the server's.
	return &oauth2.Token{AccessToken: tok, Expiry: time.Unix(now.Add(s.ttl).Unix(), 0)}, nil
}

func tokenAccount(t *testing.T, e *env, user string) *mysql.Config {
	t.Helper()
	exec(t, e.root(),
		"CREATE USER '"+user+"' IDENTIFIED WITH authentication_oauth AS '{\"issuer\":\"authplug-dev\",\"scopes\":\"optional\"}'",
		"GRANT SELECT ON demo.* TO '"+user+"'",
	)
	cfg := mysql.NewConfig()
	cfg.User, cfg.Net, cfg.Addr, cfg.TLSConfig = user, "tcp", e.addr, "skip-verify"
	cfg.Timeout = 5 * time.Second
	return cfg
}

// hammer runs workers that query db until the deadline and returns how
// many queries ran, the errors, and the connections that served them.
func hammer(t *testing.T, db *sql.DB, workers int, until time.Time) (queries int64, errs []error, conns map[int64]bool) {
	t.Helper()
	var mu sync.Mutex
	conns = map[int64]bool{}
	var wg sync.WaitGroup
	for range workers {
		wg.Go(func() {
			for time.Now().Before(until) {
				ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
				var id, a int64
				err := db.QueryRowContext(ctx, "SELECT CONNECTION_ID(), a FROM demo.t WHERE id = 1").Scan(&id, &a)
				cancel()
				mu.Lock()
				queries++
				if err == nil && a != 10 {
					err = assert.AnError
				}
				if err != nil {
					errs = append(errs, err)
				} else {
					conns[id] = true
				}
				mu.Unlock()
			}
		})
	}
	wg.Wait()
	return queries, errs, conns
}

func firstErr(errs []error) error {
	if len(errs) == 0 {
		return nil
	}
	return errs[0]
}

// A pool opened with oauthclient runs for several lifetimes of short tokens
// with concurrent queries, and not one fails: every connection logs in
// with a fresh token and is retired before that token expires.
func TestOAuthClientPoolOutlivesItsTokens(t *testing.T) {
	t.Parallel()
	e, dev := strictOAuthServer(t)
	cfg := tokenAccount(t, e, "svc-reports")
	// Three lifetimes of 3 s tokens; each connection lives 2 s at most.
	const ttl, lifetimes = 3 * time.Second, 3
	src := &devSource{dev: dev, sub: "svc-reports", ttl: ttl}
	db, err := oauthclient.Open(cfg, src, oauthclient.WithMargin(time.Second))
	require.NoError(t, err)
	defer db.Close()
	db.SetMaxOpenConns(4)

	start := time.Now()
	queries, errs, conns := hammer(t, db, 4, start.Add(lifetimes*ttl))
	assert.Zero(t, len(errs), "no query fails across token lifetimes; the first: %v", firstErr(errs))
	assert.Greater(t, queries, int64(100))
	assert.GreaterOrEqual(t, src.mints.Load(), int64(3), "tokens were renewed")
	assert.Greater(t, len(conns), 4, "connections were replaced as their tokens aged")
}

// Without a pool lifetime at all, the connector alone never hands out a
// connection whose token is within the margin of expiring: the server
// would fail the query with 1045 if it did.
func TestOAuthClientNeverHandsOutAnExpiredConnection(t *testing.T) {
	t.Parallel()
	e, dev := strictOAuthServer(t)
	cfg := tokenAccount(t, e, "svc-batch")
	src := &devSource{dev: dev, sub: "svc-batch", ttl: 4 * time.Second}
	ctr, err := oauthclient.NewConnector(cfg, src, oauthclient.WithMargin(time.Second))
	require.NoError(t, err)
	db := sql.OpenDB(ctr)
	defer db.Close()
	db.SetMaxOpenConns(2)

	_, errs, conns := hammer(t, db, 2, time.Now().Add(6*time.Second))
	assert.Zero(t, len(errs), "the first: %v", firstErr(errs))
	assert.Greater(t, len(conns), 2, "the first connections were retired with their tokens")

	// The same pool without the connector: its connections outlive their
	// tokens, and the server refuses them (what the connector prevents).
	tok, err := src.Token()
	require.NoError(t, err)
	plain := cfg.Clone()
	plain.Passwd, plain.AllowCleartextPasswords = tok.AccessToken, true
	raw, err := sql.Open("mysql", plain.FormatDSN())
	require.NoError(t, err)
	defer raw.Close()
	raw.SetMaxOpenConns(1)
	_, err = raw.ExecContext(context.Background(), "SELECT 1")
	require.NoError(t, err)
	var last error
	for time.Now().Before(tok.Expiry.Add(3 * time.Second)) {
		if _, last = raw.ExecContext(context.Background(), "SELECT 1"); last != nil {
			break
		}
	}
	assert.Equal(t, uint16(1045), code(last), "a plain pool keeps a connection past its token: %v", last)
}
