// Package oauthclient opens database/sql pools of go-sql-driver/mysql
// connections that log in with OAuth access tokens (authplug's
// authentication_oauth): every new connection logs in with a token from an
// oauth2.TokenSource, and no connection is handed out once its token is
// about to expire.
//
// A token authenticates a connection's login, and the server refuses every
// statement of a session whose token has expired; the wire protocol has no
// way to give an open connection a new token (COM_CHANGE_USER). So a pool
// must retire each connection before its token expires and log the next one
// in with a fresh token, which is what this package does:
//
//	ts := ccfg.TokenSource(ctx) // e.g. golang.org/x/oauth2/clientcredentials
//	cfg := mysql.NewConfig()
//	cfg.User, cfg.Net, cfg.Addr, cfg.TLSConfig = "svc-reports", "tcp", "db:4000", "true"
//	db, err := oauthclient.Open(cfg, ts)
package oauthclient

import (
	"context"
	"database/sql"
	"database/sql/driver"
	"errors"
	"fmt"
	"time"

	"github.com/go-sql-driver/mysql"
	"golang.org/x/oauth2"
)

// DefaultMargin is how long before its token expires a connection is
// retired, unless WithMargin says otherwise.
const DefaultMargin = 30 * time.Second

// Option configures NewConnector and Open.
type Option func(*options)

type options struct {
	margin time.Duration
	now    func() time.Time
}

// WithMargin sets how long before its token expires a connection is
// retired: the longest a statement may run on a connection taken just
// before that (the server's leeway on exp adds to it). Tokens are renewed
// when less than twice the margin is left, so each connection is usable
// for at least the margin.
func WithMargin(d time.Duration) Option { return func(o *options) { o.margin = d } }

// ErrNoTLS is returned for a configuration that could send a token in
// clear: a token is a password, sent with the cleartext client plugin.
var ErrNoTLS = errors.New("oauthclient: a token is sent as a cleartext password: the configuration must require TLS (tls=true, skip-verify or a registered config; not preferred)")

// NewConnector returns a connector for sql.OpenDB whose connections log in
// as cfg.User with a token from ts as the password (cfg.Passwd is ignored),
// over TLS only. ts is wrapped so that it renews its token when less than
// twice the margin is left (an oauth2.ReuseTokenSource given here has its
// early expiry set to that). A connection whose token has less than the
// margin left is never handed out again: the pool closes it and opens
// another. Tokens without an expiry are used as they are.
func NewConnector(cfg *mysql.Config, ts oauth2.TokenSource, opts ...Option) (driver.Connector, error) {
	o := options{margin: DefaultMargin, now: time.Now}
	for _, opt := range opts {
		opt(&o)
	}
	if o.margin <= 0 {
		return nil, errors.New("oauthclient: the margin must be positive")
	}
	if ts == nil {
		return nil, errors.New("oauthclient: a token source is required")
	}
	if cfg.Net != "unix" && (cfg.TLS == nil && (cfg.TLSConfig == "" || cfg.TLSConfig == "false") ||
		cfg.TLSConfig == "preferred" || cfg.AllowFallbackToPlaintext) {
		return nil, ErrNoTLS
	}
	c := cfg.Clone()
	c.Passwd = ""
	c.AllowCleartextPasswords = true
	// The token travels in the connect context, from Connect (which reads
	// its expiry) to the driver's BeforeConnect, which logs in with it.
	if err := c.Apply(mysql.BeforeConnect(func(ctx context.Context, c *mysql.Config) error {
		tok, ok := ctx.Value(tokenKey{}).(string)
		if !ok {
			return errors.New("oauthclient: no token for this connection")
		}
		c.Passwd = tok
		return nil
	})); err != nil {
		return nil, err
	}
	inner, err := mysql.NewConnector(c)
	if err != nil {
		return nil, err
	}
	return &connector{inner: inner, ts: oauth2.ReuseTokenSourceWithExpiry(nil, ts, 2*o.margin), opts: o}, nil
}

// Open is sql.OpenDB over NewConnector, with the pool's connection lifetime
// set below the lifetime of a token (the one ts gives now, less the
// margin), so that idle connections are closed before their token expires
// too. It fetches that token now: an identity provider that cannot be
// reached, or tokens too short-lived for the margin, fail Open.
func Open(cfg *mysql.Config, ts oauth2.TokenSource, opts ...Option) (*sql.DB, error) {
	ctr, err := NewConnector(cfg, ts, opts...)
	if err != nil {
		return nil, err
	}
	c := ctr.(*connector)
	tok, err := c.token()
	if err != nil {
		return nil, err
	}
	db := sql.OpenDB(c)
	if !tok.Expiry.IsZero() {
		db.SetConnMaxLifetime(tok.Expiry.Sub(c.opts.now()) - c.opts.margin)
	}
	return db, nil
}

type tokenKey struct{}

type connector struct {
	inner driver.Connector
	ts    oauth2.TokenSource
	opts  options
}

// token returns a token with more than the margin left.
func (c *connector) token() (*oauth2.Token, error) {
	tok, err := c.ts.Token()
	if err != nil {
		return nil, fmt.Errorf("oauthclient: token: %w", err)
	}
	if tok.AccessToken == "" {
		return nil, errors.New("oauthclient: the token source gave an empty token")
	}
	if left := tok.Expiry.Sub(c.opts.now()); !tok.Expiry.IsZero() && left <= c.opts.margin {
		return nil, fmt.Errorf("oauthclient: the token source gave a token with %s left, not more than the margin %s: tokens must live longer than the margin (WithMargin)", left.Round(time.Millisecond), c.opts.margin)
	}
	return tok, nil
}

func (c *connector) Connect(ctx context.Context) (driver.Conn, error) {
	tok, err := c.token()
	if err != nil {
		return nil, err
	}
	dc, err := c.inner.Connect(context.WithValue(ctx, tokenKey{}, tok.AccessToken))
	if err != nil {
		return nil, err
	}
	cn := &conn{Conn: dc, now: c.opts.now}
	if !tok.Expiry.IsZero() {
		cn.retire = tok.Expiry.Add(-c.opts.margin)
	}
	return cn, nil
}

func (c *connector) Driver() driver.Driver { return c.inner.Driver() }

// conn is a driver connection that reports itself bad once its token is
// within the margin of expiring: database/sql asks before handing a pooled
// connection out again (ResetSession) and when one comes back (IsValid),
// and closes it. The driver's other interfaces are passed through, so that
// queries keep the text protocol.
type conn struct {
	driver.Conn
	retire time.Time // zero: never
	now    func() time.Time
}

var (
	_ driver.SessionResetter    = (*conn)(nil)
	_ driver.Validator          = (*conn)(nil)
	_ driver.QueryerContext     = (*conn)(nil)
	_ driver.ExecerContext      = (*conn)(nil)
	_ driver.ConnPrepareContext = (*conn)(nil)
	_ driver.ConnBeginTx        = (*conn)(nil)
	_ driver.Pinger             = (*conn)(nil)
	_ driver.NamedValueChecker  = (*conn)(nil)
)

func (c *conn) fresh() bool { return c.retire.IsZero() || c.now().Before(c.retire) }

func (c *conn) ResetSession(ctx context.Context) error {
	if !c.fresh() {
		return driver.ErrBadConn
	}
	if r, ok := c.Conn.(driver.SessionResetter); ok {
		return r.ResetSession(ctx)
	}
	return nil
}

func (c *conn) IsValid() bool {
	if !c.fresh() {
		return false
	}
	if v, ok := c.Conn.(driver.Validator); ok {
		return v.IsValid()
	}
	return true
}

func (c *conn) QueryContext(ctx context.Context, query string, args []driver.NamedValue) (driver.Rows, error) {
	if q, ok := c.Conn.(driver.QueryerContext); ok {
		return q.QueryContext(ctx, query, args)
	}
	return nil, driver.ErrSkip
}

func (c *conn) ExecContext(ctx context.Context, query string, args []driver.NamedValue) (driver.Result, error) {
	if e, ok := c.Conn.(driver.ExecerContext); ok {
		return e.ExecContext(ctx, query, args)
	}
	return nil, driver.ErrSkip
}

func (c *conn) PrepareContext(ctx context.Context, query string) (driver.Stmt, error) {
	if p, ok := c.Conn.(driver.ConnPrepareContext); ok {
		return p.PrepareContext(ctx, query)
	}
	return c.Conn.Prepare(query)
}

func (c *conn) BeginTx(ctx context.Context, opts driver.TxOptions) (driver.Tx, error) {
	if b, ok := c.Conn.(driver.ConnBeginTx); ok {
		return b.BeginTx(ctx, opts)
	}
	if opts.Isolation != 0 || opts.ReadOnly {
		return nil, errors.New("oauthclient: the driver takes no transaction options")
	}
	return c.Conn.Begin() //nolint:staticcheck // the driver has nothing else

}

func (c *conn) Ping(ctx context.Context) error {
	if p, ok := c.Conn.(driver.Pinger); ok {
		return p.Ping(ctx)
	}
	return nil
}

func (c *conn) CheckNamedValue(nv *driver.NamedValue) error {
	if n, ok := c.Conn.(driver.NamedValueChecker); ok {
		return n.CheckNamedValue(nv)
	}
	return driver.ErrSkip
}
