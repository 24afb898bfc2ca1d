// Package tests runs authplug's server in-process and talks to it with real
// clients: go-sql-driver/mysql here, the mariadb command-line client in
// cli_test.go.
package tests

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"os"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/dolthub/go-mysql-server/memory"
	gmssql "github.com/dolthub/go-mysql-server/sql"
	"github.com/go-sql-driver/mysql"
	"github.com/sirupsen/logrus"
	"github.com/stretchr/testify/require"

	"github.com/authplug/authplug/extension"
	"github.com/authplug/authplug/server"
)

func TestMain(m *testing.M) {
	logrus.SetOutput(io.Discard) // the engine's own log
	os.Exit(m.Run())
}

const rootPassword = "root-secret"

type env struct {
	t       *testing.T
	dir     string
	srv     *server.Server
	addr    string
	logs    *syncBuffer
	exts    *extension.Extensions
	timeout time.Duration
}

type syncBuffer struct {
	mu sync.Mutex
	b  strings.Builder
}

func (s *syncBuffer) Write(p []byte) (int, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.Write(p)
}

func (s *syncBuffer) String() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.String()
}

// start runs a server on a free port with a fresh data directory (or dir,
// to restart on an existing one).
func start(t *testing.T, exts *extension.Extensions, dir string) *env {
	t.Helper()
	return startWith(t, exts, dir, 2*time.Second)
}

func startWith(t *testing.T, exts *extension.Extensions, dir string, timeout time.Duration) *env {
	t.Helper()
	return startSocket(t, exts, dir, timeout, "")
}

func startSocket(t *testing.T, exts *extension.Extensions, dir string, timeout time.Duration, socket string) *env {
	t.Helper()
	return startConfig(t, exts, dir, timeout, socket, nil)
}

// startConfig is startSocket with the server's Config changed by tweak
// (nil for none) before the server starts. The login throttle is off
// unless tweak turns it on: the tests fail many logins from 127.0.0.1.
func startConfig(t *testing.T, exts *extension.Extensions, dir string, timeout time.Duration, socket string, tweak func(*server.Config)) *env {
	t.Helper()
	if dir == "" {
		dir = t.TempDir()
	}
	if exts == nil {
		var err error
		exts, err = extension.NewRegistry().GetExtensions()
		require.NoError(t, err)
	}
	e := &env{t: t, dir: dir, logs: &syncBuffer{}, exts: exts, timeout: timeout}
	db := memory.NewDatabase("demo")
	cfg := server.Config{
		Addr:                  "127.0.0.1:0",
		Socket:                socket,
		DataDir:               dir,
		RootPassword:          rootPassword,
		Extensions:            exts,
		Databases:             []gmssql.Database{db},
		HandshakeTimeout:      e.timeout,
		Logger:                slog.New(slog.NewTextHandler(e.logs, nil)),
		LoginFailureThreshold: -1,
	}
	if tweak != nil {
		tweak(&cfg)
	}
	srv, err := server.New(cfg)
	require.NoError(t, err)
	e.srv, e.addr = srv, srv.Addr().String()
	served := make(chan error, 1)
	go func() { served <- srv.Serve() }()
	t.Cleanup(func() {
		srv.Close()
		recv(t, served, "Serve to return after Close")
	})
	return e
}

// in returns e for t, a subtest of the test that started the server: its
// logins then fail t and close when t ends. A subtest that used its
// parent's e would fail the parent from the subtest's goroutine (testing
// then reports a FailNow on a parent test) and keep its connections open
// until the parent ends.
func (e *env) in(t *testing.T) *env {
	c := *e
	c.t = t
	return &c
}

// stop closes the server now (to restart it on the same directory).
func (e *env) stop() { e.srv.Close() }

// seed creates demo tables once, as the server itself.
func (e *env) seed() {
	e.t.Helper()
	for _, q := range []string{
		"CREATE TABLE IF NOT EXISTS demo.t (id INT PRIMARY KEY, a INT, b INT)",
		"INSERT INTO demo.t VALUES (1, 10, 100), (2, 20, 200)",
	} {
		require.NoError(e.t, e.srv.ExecuteSQL(context.Background(), q))
	}
}

type dsnOpt func(*mysql.Config)

func withTLS(c *mysql.Config)       { c.TLSConfig = "skip-verify" }
func withCleartext(c *mysql.Config) { c.AllowCleartextPasswords = true }
func withDB(db string) dsnOpt       { return func(c *mysql.Config) { c.DBName = db } }

func (e *env) dsn(user, pw string, opts ...dsnOpt) string {
	c := mysql.NewConfig()
	c.User, c.Passwd, c.Net, c.Addr = user, pw, "tcp", e.addr
	c.AllowNativePasswords = true
	c.Timeout = 5 * time.Second
	// A server that stops answering fails the statement, not the suite.
	c.ReadTimeout, c.WriteTimeout = waitLimit, waitLimit
	for _, o := range opts {
		o(c)
	}
	return c.FormatDSN()
}

// conn opens one connection (a session) and fails the test if the login
// fails.
func (e *env) conn(user, pw string, opts ...dsnOpt) *sql.Conn {
	e.t.Helper()
	c, err := e.tryConn(user, pw, opts...)
	require.NoError(e.t, err, "login as %s", user)
	return c
}

func (e *env) tryConn(user, pw string, opts ...dsnOpt) (*sql.Conn, error) {
	db, err := sql.Open("mysql", e.dsn(user, pw, opts...))
	if err != nil {
		return nil, err
	}
	e.t.Cleanup(func() { db.Close() })
	c, err := db.Conn(context.Background())
	if err != nil {
		return nil, err
	}
	e.t.Cleanup(func() { c.Close() })
	return c, nil
}

// root is a TLS session as root@localhost.
func (e *env) root() *sql.Conn { return e.conn("root", rootPassword, withTLS) }

func exec(t *testing.T, c *sql.Conn, queries ...string) {
	t.Helper()
	for _, q := range queries {
		_, err := c.ExecContext(context.Background(), q)
		require.NoError(t, err, q)
	}
}

func query(c *sql.Conn, q string) ([][]string, error) {
	rows, err := c.QueryContext(context.Background(), q)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	cols, _ := rows.Columns()
	var out [][]string
	for rows.Next() {
		vals := make([]sql.NullString, len(cols))
		ptrs := make([]any, len(cols))
		for i := range vals {
			ptrs[i] = &vals[i]
		}
		if err := rows.Scan(ptrs...); err != nil {
			return nil, err
		}
		row := make([]string, len(cols))
		for i, v := range vals {
			row[i] = v.String
		}
		out = append(out, row)
	}
	return out, rows.Err()
}

// code is the MySQL error number a client got, 0 for none.
func code(err error) uint16 {
	var me *mysql.MySQLError
	if errors.As(err, &me) {
		return me.Number
	}
	return 0
}

func codeOf(c *sql.Conn, q string) uint16 {
	_, err := query(c, q)
	return code(err)
}

func must(t *testing.T, err error, what string, args ...any) {
	t.Helper()
	require.NoError(t, err, fmt.Sprintf(what, args...))
}
