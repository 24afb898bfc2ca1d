package tests

import (
	"context"
	"database/sql"
	"errors"
	"net"
	"strings"
	"testing"
	"time"

	"github.com/go-sql-driver/mysql"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/authplug/authplug/server"
)

// session opens one connection that close really ends (no pool keeps it).
func (e *env) session(user, pw string, opts ...dsnOpt) (c *sql.Conn, close func(), err error) {
	db, err := sql.Open("mysql", e.dsn(user, pw, opts...))
	if err != nil {
		return nil, nil, err
	}
	db.SetMaxIdleConns(0)
	c, err = db.Conn(context.Background())
	if err != nil {
		db.Close()
		return nil, nil, err
	}
	closed := false
	close = func() {
		if !closed {
			closed = true
			c.Close()
			db.Close()
		}
	}
	e.t.Cleanup(close)
	return c, close, nil
}

func (e *env) mustSession(user, pw string, opts ...dsnOpt) (*sql.Conn, func()) {
	e.t.Helper()
	c, close, err := e.session(user, pw, opts...)
	require.NoError(e.t, err, "login as %s", user)
	return c, close
}

// settled waits until the server counts connections open and sessions
// counted against accounts, as it does once every close has reached it.
func (e *env) settled(connections, sessions int) {
	e.t.Helper()
	require.Eventually(e.t, func() bool {
		c, s := e.srv.ConnectionCounts()
		return c == connections && s == sessions
	}, 5*time.Second, 5*time.Millisecond, "connections and account sessions should settle at %d and %d", connections, sessions)
}

func mysqlError(t *testing.T, err error) *mysql.MySQLError {
	t.Helper()
	var me *mysql.MySQLError
	require.True(t, errors.As(err, &me), "a MySQL error, got %v", err)
	return me
}

func TestMaxConnections(t *testing.T) {
	e := startConfig(t, nil, "", 2*time.Second, "", func(c *server.Config) { c.MaxConnections = 2 })
	root, closeRoot := e.mustSession("root", rootPassword, withTLS)
	exec(t, root, "CREATE USER app IDENTIFIED WITH mysql_native_password BY 'pw'")
	_, closeApp := e.mustSession("app", "pw")
	e.settled(2, 2)

	// max_connections are open: the one more is for administrators only.
	_, _, err := e.session("app", "pw")
	me := mysqlError(t, err)
	assert.Equal(t, uint16(1040), me.Number)
	assert.Equal(t, "Too many connections", me.Message)
	assert.Equal(t, [5]byte{'0', '8', '0', '0', '4'}, me.SQLState, "refused after the login, with MySQL's state")
	e.settled(2, 2)

	admin, closeAdmin := e.mustSession("root", rootPassword, withTLS)
	e.settled(3, 3)

	// max+1 are open: refused in place of the greeting, whoever it is.
	for _, user := range []string{"app", "root"} {
		_, _, err = e.session(user, map[string]string{"app": "pw", "root": rootPassword}[user])
		me = mysqlError(t, err)
		assert.Equal(t, uint16(1040), me.Number, user)
		assert.Equal(t, "Too many connections", me.Message)
	}

	rows, err := query(admin, "SHOW VARIABLES LIKE 'max_connections'")
	require.NoError(t, err)
	assert.Equal(t, [][]string{{"max_connections", "2"}}, rows)
	rows, err = query(admin, "SHOW STATUS LIKE 'Threads_connected'")
	require.NoError(t, err)
	assert.Equal(t, [][]string{{"Threads_connected", "3"}}, rows)
	rows, err = query(admin, "SHOW STATUS LIKE 'Connection_errors_max_connections'")
	require.NoError(t, err)
	assert.Equal(t, [][]string{{"Connection_errors_max_connections", "3"}}, rows)

	// Clients leaving make room again; as in mysqld, the count of open
	// connections decides, so while the administrator stays the one room
	// left is still theirs.
	closeApp()
	e.settled(2, 2)
	_, _, err = e.session("app", "pw")
	assert.Equal(t, uint16(1040), code(err))
	closeAdmin()
	e.settled(1, 1)
	_, closeApp = e.mustSession("app", "pw")

	closeApp()
	closeAdmin()
	closeRoot()
	e.settled(0, 0)
}

func TestDefaultMaxConnectionsIsMySQLs(t *testing.T) {
	e := start(t, nil, "")
	rows, err := query(e.root(), "SHOW VARIABLES LIKE 'max_connections'")
	require.NoError(t, err)
	assert.Equal(t, [][]string{{"max_connections", "151"}}, rows)
}

func TestMaxUserConnections(t *testing.T) {
	e := start(t, nil, "")
	root, closeRoot := e.mustSession("root", rootPassword, withTLS)
	exec(t, root,
		"CREATE USER lim IDENTIFIED WITH mysql_native_password BY 'pw' WITH MAX_USER_CONNECTIONS 2",
		"CREATE USER other IDENTIFIED WITH mysql_native_password BY 'pw'")
	_, close1 := e.mustSession("lim", "pw")
	_, close2 := e.mustSession("lim", "pw")

	_, _, err := e.session("lim", "pw")
	me := mysqlError(t, err)
	assert.Equal(t, uint16(1226), me.Number)
	assert.Equal(t, "User 'lim' has exceeded the 'max_user_connections' resource (current value: 2)", me.Message)
	assert.Equal(t, [5]byte{'4', '2', '0', '0', '0'}, me.SQLState)

	var closers []func()
	for range 3 {
		_, c := e.mustSession("other", "pw")
		closers = append(closers, c)
	}

	close1()
	e.settled(5, 5)
	_, close3 := e.mustSession("lim", "pw")

	for _, c := range append(closers, close2, close3, closeRoot) {
		c()
	}
	e.settled(0, 0)
}

func TestGlobalMaxUserConnections(t *testing.T) {
	e := startConfig(t, nil, "", 2*time.Second, "", func(c *server.Config) { c.MaxUserConnections = 1 })
	root := e.root()
	exec(t, root, "CREATE USER app IDENTIFIED WITH mysql_native_password BY 'pw'")
	_, closeApp := e.mustSession("app", "pw")
	_, _, err := e.session("app", "pw")
	me := mysqlError(t, err)
	assert.Equal(t, uint16(1203), me.Number)
	assert.Equal(t, "User app already has more than 'max_user_connections' active connections", me.Message)
	rows, err := query(root, "SHOW VARIABLES LIKE 'max_user_connections'")
	require.NoError(t, err)
	assert.Equal(t, [][]string{{"max_user_connections", "1"}}, rows)
	closeApp()
	e.settled(1, 1) // root's pooled session
	e.mustSession("app", "pw")
}

// Connections that never log in (refused passwords, handshakes abandoned
// or timed out) give their count back too.
func TestConnectionCountsAfterFailedAndAbandonedHandshakes(t *testing.T) {
	e := startConfig(t, nil, "", 300*time.Millisecond, "", func(c *server.Config) { c.MaxConnections = 3 })
	for range 5 {
		_, _, err := e.session("root", "wrong", withTLS)
		assert.Equal(t, uint16(1045), code(err))
	}
	var idle []net.Conn
	for range 3 {
		c, err := net.Dial("tcp", e.addr)
		require.NoError(t, err)
		idle = append(idle, c)
	}
	idle[0].Close() // one client gone; the others time out
	e.settled(0, 0)
	e.mustSession("root", rootPassword, withTLS)
	e.settled(1, 1)
}

// dialFrom registers a go-sql-driver network that connects from ip, a
// loopback address other than 127.0.0.1.
func dialFrom(t *testing.T, ip string) string {
	name := "tcp-from-" + ip
	mysql.RegisterDialContext(name, func(ctx context.Context, addr string) (net.Conn, error) {
		d := net.Dialer{LocalAddr: &net.TCPAddr{IP: net.ParseIP(ip)}}
		return d.DialContext(ctx, "tcp", addr)
	})
	return name
}

func TestLoginThrottle(t *testing.T) {
	const minDelay = 50 * time.Millisecond
	e := startConfig(t, nil, "", 2*time.Second, "", func(c *server.Config) {
		c.LoginFailureThreshold, c.LoginDelayMin, c.LoginDelayMax = 2, minDelay, time.Second
	})
	root, closeRoot := e.mustSession("root", rootPassword, withTLS)
	exec(t, root, "CREATE USER 'app'@'%' IDENTIFIED WITH mysql_native_password BY 'pw'",
		"CREATE USER 'mine'@'%' IDENTIFIED WITH mysql_native_password BY 'pw'")
	closeRoot()
	attempt := func(user, pw string, opts ...dsnOpt) (time.Duration, error) {
		start := time.Now()
		_, closeConn, err := e.session(user, pw, opts...)
		if err == nil {
			closeConn()
		}
		return time.Since(start), err
	}
	delays := func() int { return strings.Count(e.logs.String(), "login delayed") }

	// Two failures at app are free.
	for range 2 {
		_, err := attempt("app", "wrong")
		require.Equal(t, uint16(1045), code(err))
	}
	took, err := attempt("app", "wrong")
	require.Equal(t, uint16(1045), code(err))
	assert.GreaterOrEqual(t, took, minDelay, "the attempt after the threshold is delayed")
	took, err = attempt("app", "wrong")
	require.Equal(t, uint16(1045), code(err))
	assert.GreaterOrEqual(t, took, 2*minDelay, "and the delay grows")
	assert.Contains(t, e.logs.String(), "login delayed after consecutive failed logins")

	// Failures are counted per user name: another name from the address
	// is not delayed, and a login as another account clears nothing of
	// app's.
	before := delays()
	_, err = attempt("nobody", "wrong")
	require.Equal(t, uint16(1045), code(err))
	_, err = attempt("mine", "pw")
	require.NoError(t, err)
	assert.Equal(t, before, delays(), "nobody and mine have no failures")
	_, err = attempt("app", "wrong")
	require.Equal(t, uint16(1045), code(err))
	assert.Equal(t, before+1, delays(), "mine's login did not clear app's failures")

	// Another address is not delayed (if this host can dial from it).
	other := dialFrom(t, "127.0.0.2")
	before = delays()
	if _, err := attempt("app", "pw", func(c *mysql.Config) { c.Net = other }); err == nil {
		assert.Equal(t, before, delays(), "127.0.0.2 has no failures")
	} else {
		t.Logf("no login from 127.0.0.2: %v", err)
	}

	// A successful login is delayed too, and ends app's delays.
	took, err = attempt("app", "pw")
	require.NoError(t, err)
	assert.GreaterOrEqual(t, took, 4*minDelay)
	before = delays()
	_, err = attempt("app", "wrong")
	require.Equal(t, uint16(1045), code(err))
	assert.Equal(t, before, delays(), "counting starts afresh")
	e.settled(0, 0)
}

// A delay longer than the handshake is cut to leave the login time to
// finish: a wrong password gets the usual 1045, and the right one still
// logs in from the throttled address, which ends its delays.
func TestLoginThrottleEndsBeforeTheHandshakeDeadline(t *testing.T) {
	e := startConfig(t, nil, "", time.Second, "", func(c *server.Config) {
		c.LoginFailureThreshold, c.LoginDelayMin = 1, time.Hour
	})
	root, closeRoot := e.mustSession("root", rootPassword, withTLS)
	exec(t, root, "CREATE USER 'app'@'%' IDENTIFIED WITH mysql_native_password BY 'pw'")
	closeRoot()
	_, err := attempt1(e, "app", "wrong")
	require.Equal(t, uint16(1045), code(err))
	_, err = attempt1(e, "app", "wrong")
	require.Equal(t, uint16(1045), code(err), "delayed, and refused as a wrong password")
	assert.Contains(t, e.logs.String(), "login delayed")

	c, err := attempt1(e, "app", "pw")
	require.NoError(t, err, "the right password from the throttled address logs in")
	require.NoError(t, c.Close())
	before := strings.Count(e.logs.String(), "login delayed")
	_, err = attempt1(e, "app", "wrong")
	require.Equal(t, uint16(1045), code(err))
	assert.Equal(t, before, strings.Count(e.logs.String(), "login delayed"), "the login cleared app's failures")
	e.settled(0, 0)
}

func attempt1(e *env, user, pw string) (*sql.Conn, error) {
	c, _, err := e.session(user, pw)
	return c, err
}
