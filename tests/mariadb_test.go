package tests

import (
	"context"
	"database/sql"
	"testing"
	"time"

	"github.com/go-sql-driver/mysql"
	"github.com/stretchr/testify/require"

	"github.com/authplug/authplug/internal/mariadbtest"
)

// mariaDBServer is Debian's mariadb-server (mariadbd) running for one test,
// on a loopback port with a temporary data directory: the reference the
// differential test compares authplug with.
type mariaDBServer struct {
	addr string
	dir  string
	log  string // the server's error log
}

// startMariaDB initializes a data directory and starts mariadbd on a free
// loopback port; root@127.0.0.1 has no password. The server is killed when
// the test ends. When mariadb-server is missing the test is skipped, or
// fails under CI (which installs it, see .ci/run).
func startMariaDB(t *testing.T) *mariaDBServer {
	t.Helper()
	if _, _, err := mariadbtest.Binaries(); err != nil {
		if clientsRequired() {
			t.Fatal("CI must install mariadb-server (see .ci/run): " + err.Error())
		}
		t.Skip(err.Error())
	}
	s, err := mariadbtest.Start(t.TempDir())
	require.NoError(t, err)
	t.Cleanup(func() { s.Close() })
	return &mariaDBServer{addr: s.Addr, dir: s.Dir, log: s.Log}
}

func (m *mariaDBServer) dsn(user, pw string) string {
	c := mysql.NewConfig()
	c.User, c.Passwd, c.Net, c.Addr = user, pw, "tcp", m.addr
	c.AllowNativePasswords = true
	c.Timeout = 5 * time.Second
	return c.FormatDSN()
}

// conn opens one session; the test fails if the login fails.
func (m *mariaDBServer) conn(t *testing.T, user, pw string) *sql.Conn {
	t.Helper()
	c, err := m.tryConn(t, user, pw)
	require.NoError(t, err, "mariadb login as %s", user)
	return c
}

func (m *mariaDBServer) tryConn(t *testing.T, user, pw string) (*sql.Conn, error) {
	t.Helper()
	db, err := sql.Open("mysql", m.dsn(user, pw))
	if err != nil {
		return nil, err
	}
	t.Cleanup(func() { db.Close() })
	c, err := db.Conn(context.Background())
	if err != nil {
		return nil, err
	}
	t.Cleanup(func() { c.Close() })
	return c, nil
}
