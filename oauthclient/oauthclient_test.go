package oauthclient

import (
	"context"
	"database/sql"
	"database/sql/driver"
	"errors"
	"fmt"
	"io"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/go-sql-driver/mysql"
	"golang.org/x/oauth2"
)

// fakeClock is the time the connector and the token source agree on.
type fakeClock struct {
	mu sync.Mutex
	t  time.Time
}

func (c *fakeClock) now() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.t
}

func (c *fakeClock) advance(d time.Duration) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.t = c.t.Add(d)
}

// fakeDriver numbers its connections; a query answers the connection's
// number and the token it logged in with.
type fakeDriver struct {
	opened atomic.Int64
	closed atomic.Int64
}

func (d *fakeDriver) Open(string) (driver.Conn, error) { return nil, errors.New("unused") }

func (d *fakeDriver) Connect(ctx context.Context) (driver.Conn, error) {
	tok, _ := ctx.Value(tokenKey{}).(string)
	return &fakeConn{d: d, id: d.opened.Add(1), token: tok}, nil
}

func (d *fakeDriver) Driver() driver.Driver { return d }

type fakeConn struct {
	d     *fakeDriver
	id    int64
	token string
}

func (c *fakeConn) Prepare(string) (driver.Stmt, error) { return nil, errors.New("unused") }
func (c *fakeConn) Begin() (driver.Tx, error)           { return nil, errors.New("unused") }
func (c *fakeConn) Close() error                        { c.d.closed.Add(1); return nil }

func (c *fakeConn) QueryContext(context.Context, string, []driver.NamedValue) (driver.Rows, error) {
	return &fakeRows{vals: []driver.Value{c.id, c.token}}, nil
}

type fakeRows struct {
	vals []driver.Value
	done bool
}

func (r *fakeRows) Columns() []string { return []string{"id", "token"} }
func (r *fakeRows) Close() error      { return nil }
func (r *fakeRows) Next(dest []driver.Value) error {
	if r.done {
		return io.EOF
	}
	r.done = true
	copy(dest, r.vals)
	return nil
}

// mintingSource gives a new token, valid for ttl from the fake now, each
// time it is asked.
type mintingSource struct {
	clock *fakeClock
	ttl   time.Duration
	n     atomic.Int64
}

func (s *mintingSource) Token() (*oauth2.Token, error) {
	n := s.n.Add(1)
	return &oauth2.Token{AccessToken: fmt.Sprintf("tok%d", n), Expiry: s.clock.now().Add(s.ttl)}, nil
}

func who(t *testing.T, db *sql.DB) (int64, string) {
	t.Helper()
	var id int64
	var tok string
	if err := db.QueryRowContext(t.Context(), "SELECT").Scan(&id, &tok); err != nil {
		t.Fatal(err)
	}
	return id, tok
}

// A pooled connection is reused while its token has more than the margin
// left, and never after: the pool closes it and logs in again with a new
// token.
func TestConnectionRetiredBeforeItsTokenExpires(t *testing.T) {
	clock := &fakeClock{t: time.Unix(1_700_000_000, 0)}
	d := &fakeDriver{}
	src := &mintingSource{clock: clock, ttl: 10 * time.Second}
	c := &connector{inner: d, ts: src, opts: options{margin: 2 * time.Second, now: clock.now}}
	db := sql.OpenDB(c)
	defer db.Close()
	db.SetMaxOpenConns(1)

	id, tok := who(t, db)
	if id != 1 || tok != "tok1" {
		t.Fatalf("first connection: %d %q", id, tok)
	}
	clock.advance(7 * time.Second) // 3 s left: more than the margin
	if id, _ := who(t, db); id != 1 {
		t.Fatalf("a connection with 3s left was replaced by %d", id)
	}
	clock.advance(time.Second + time.Millisecond) // just under 2 s left
	id, tok = who(t, db)
	if id != 2 || tok != "tok2" {
		t.Fatalf("a connection within the margin was handed out: got connection %d with %q", id, tok)
	}
	if d.closed.Load() != 1 {
		t.Fatalf("closed %d connections, want the retired one", d.closed.Load())
	}
}

func TestTokenWithinTheMarginIsRefused(t *testing.T) {
	clock := &fakeClock{t: time.Unix(1_700_000_000, 0)}
	d := &fakeDriver{}
	c := &connector{inner: d, ts: &mintingSource{clock: clock, ttl: time.Second}, opts: options{margin: 2 * time.Second, now: clock.now}}
	db := sql.OpenDB(c)
	defer db.Close()
	if err := db.PingContext(t.Context()); err == nil {
		t.Fatal("a token with less than the margin left logged in")
	}
	if d.opened.Load() != 0 {
		t.Fatal("the driver was asked to connect")
	}
}

func TestNewConnectorNeedsTLS(t *testing.T) {
	src := oauth2.StaticTokenSource(&oauth2.Token{AccessToken: "x"})
	for _, dsn := range []string{
		"u@tcp(127.0.0.1:4000)/",
		"u@tcp(127.0.0.1:4000)/?tls=false",
		"u@tcp(127.0.0.1:4000)/?tls=preferred",
		"u@tcp(127.0.0.1:4000)/?tls=true&allowFallbackToPlaintext=true",
	} {
		cfg, err := mysql.ParseDSN(dsn)
		if err != nil {
			t.Fatal(err)
		}
		if _, err := NewConnector(cfg, src); !errors.Is(err, ErrNoTLS) {
			t.Errorf("%s: %v, want ErrNoTLS", dsn, err)
		}
	}
	for _, dsn := range []string{
		"u@tcp(127.0.0.1:4000)/?tls=true",
		"u@tcp(127.0.0.1:4000)/?tls=skip-verify",
		"u@unix(/run/authplug.sock)/",
	} {
		cfg, err := mysql.ParseDSN(dsn)
		if err != nil {
			t.Fatal(err)
		}
		if _, err := NewConnector(cfg, src); err != nil {
			t.Errorf("%s: %v", dsn, err)
		}
	}
	cfg, _ := mysql.ParseDSN("u@tcp(127.0.0.1:4000)/?tls=true")
	if _, err := NewConnector(cfg, src, WithMargin(0)); err == nil {
		t.Error("a zero margin was accepted")
	}
}
