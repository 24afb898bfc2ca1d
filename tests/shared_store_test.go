package tests

import (
	"context"
	"database/sql"
	"fmt"
	"io"
	"net"
	"sync"
	"testing"
	"time"

	"github.com/go-sql-driver/mysql"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/authplug/authplug/mysqlerr"
	"github.com/authplug/authplug/server"
)

// testLease is the front ends' lease in these tests: short, so that the
// fencing test waits little, and long enough for a loaded CI machine to
// renew it (about twenty polls).
const testLease = time.Second

// TestSharedStore runs several front ends (in-process servers with their
// own ports and data directories) on one MariaDB grant store, one
// database per subtest.
func TestSharedStore(t *testing.T) {
	m := startMariaDB(t)
	admin := m.conn(t, "root", "")
	n := 0
	// store makes a new database and returns its DSN, and that DSN
	// through another address (a proxy).
	store := func(t *testing.T) (string, func(addr string) string) {
		n++
		name := fmt.Sprintf("grants%d", n)
		exec(t, admin, "CREATE DATABASE "+name)
		via := func(addr string) string {
			c := mysql.NewConfig()
			c.User, c.Net, c.Addr, c.DBName = "root", "tcp", addr, name
			c.Timeout = 2 * time.Second
			return c.FormatDSN()
		}
		return via(m.addr), via
	}

	t.Run("RevokeBindsOtherFrontEnds", func(t *testing.T) {
		dsn, _ := store(t)
		a, b, c := frontEnd(t, dsn), frontEnd(t, dsn), frontEnd(t, dsn)
		root := a.root()
		exec(t, root, "CREATE USER u IDENTIFIED BY 'pw'")
		var sessions []*sql.Conn
		for _, e := range []*env{b, c} {
			e.seed()
			sessions = append(sessions, e.conn("u", "pw"))
		}
		stale := 0
		for round := range 200 {
			exec(t, root, "GRANT SELECT ON demo.t TO u")
			for i, s := range sessions {
				_, err := query(s, "SELECT a FROM demo.t")
				require.NoError(t, err, "round %d: front end %d does not see the GRANT that returned", round, i+1)
			}
			exec(t, root, "REVOKE SELECT ON demo.t FROM u")
			for _, s := range sessions {
				if codeOf(s, "SELECT a FROM demo.t") != mysqlerr.ErTableAccessDenied {
					stale++
				}
			}
		}
		assert.Zero(t, stale, "statements allowed on revoked grants")

		// ACCOUNT LOCK, REVOKE PROXY and DROP USER bind the same way:
		// DROP USER ends the other front ends' open sessions.
		exec(t, root, "GRANT SELECT ON demo.t TO u")
		exec(t, root, "DROP USER u")
		for i, s := range sessions {
			_, err := query(s, "SELECT a FROM demo.t")
			assert.Error(t, err, "front end %d: a dropped account's session ran a statement", i+1)
		}
	})

	// ACCOUNT LOCK and REVOKE PROXY bind the other front ends when they
	// return: the next login there is refused, and an open gateway
	// session there can no longer act as the account.
	t.Run("LockAndRevokeProxyBindOtherFrontEnds", func(t *testing.T) {
		dsn, _ := store(t)
		a, b := frontEnd(t, dsn), frontEnd(t, dsn)
		b.seed()
		root := a.root()
		exec(t, root,
			"CREATE USER l IDENTIFIED BY 'pw'",
			"CREATE USER target IDENTIFIED BY 'tpw' ACCOUNT LOCK", "GRANT SELECT ON demo.t TO target",
			"CREATE USER gw IDENTIFIED BY 'gpw'")
		gw := b.conn("gw", "gpw")
		for round := range 20 {
			exec(t, root, "ALTER USER l ACCOUNT UNLOCK", "GRANT PROXY ON target TO gw")
			b.conn("l", "pw")
			_, err := query(gw, "EXECUTE AS 'target' SELECT a FROM demo.t")
			require.NoError(t, err, "round %d: front end B does not see the GRANT PROXY that returned", round)

			exec(t, root, "ALTER USER l ACCOUNT LOCK", "REVOKE PROXY ON target FROM gw")
			_, err = b.tryConn("l", "pw")
			require.Error(t, err, "round %d: front end B let a locked account in", round)
			assert.Equal(t, uint16(mysqlerr.ErSpecificAccess), codeOf(gw, "EXECUTE AS 'target' SELECT a FROM demo.t"),
				"round %d: front end B let the gateway act as an account after REVOKE PROXY returned", round)
		}
	})

	// A session on B of an account dropped on A is not one of the account
	// A creates later under the same name: account IDs are in the store.
	t.Run("DroppedAccountsSessionInheritsNothing", func(t *testing.T) {
		dsn, _ := store(t)
		a, b := frontEnd(t, dsn), frontEnd(t, dsn)
		b.seed()
		root := a.root()
		exec(t, root, "CREATE USER u IDENTIFIED BY 'pw'", "CREATE USER l IDENTIFIED BY 'lpw'")
		old, kept := b.conn("u", "pw"), b.conn("l", "lpw")
		exec(t, root, "DROP USER u")
		assert.Equal(t, uint16(mysqlerr.ErAccessDenied), codeOf(old, "GRANT PROXY ON u TO l"))
		exec(t, root, "CREATE USER u IDENTIFIED BY 'newpw'", "GRANT SELECT ON demo.t TO u", "GRANT SELECT ON demo.t TO l")
		assert.Equal(t, uint16(mysqlerr.ErAccessDenied), codeOf(old, "SELECT a FROM demo.t"))
		assert.Equal(t, uint16(mysqlerr.ErSpecificAccess), codeOf(kept, "EXECUTE AS 'u' SELECT a FROM demo.t"))
		// Changes to an account caught up from the store keep its
		// sessions: the ID comes with the rows.
		_, err := query(kept, "SELECT a FROM demo.t")
		assert.NoError(t, err, "B ended a session of an account A changed")
	})

	// An operator trims the change log: a front end started after that
	// must not take the store for new and make root again with its own
	// password.
	t.Run("EmptiedChangeLogKeepsRoot", func(t *testing.T) {
		dsn, _ := store(t)
		a := frontEnd(t, dsn)
		exec(t, a.root(), "CREATE USER keep IDENTIFIED BY 'pw'")
		exec(t, admin, "DELETE FROM "+dbOf(t, dsn)+".change_log_accounts", "DELETE FROM "+dbOf(t, dsn)+".change_log")
		b := startConfig(t, nil, "", 5*time.Second, "", func(c *server.Config) {
			c.GrantsDSN, c.GrantsLease, c.RootPassword = dsn, testLease, "chosen-by-b"
		})
		_, err := b.tryConn("root", "chosen-by-b", withTLS)
		assert.Error(t, err, "a front end started after the log was emptied reset root's password")
		// Asked of b, which loaded the store after the log was emptied: a
		// fences itself a lease after the rewind (ErrLogRewound), so under
		// load its answer would be 1047 whatever root's password is.
		_, err = b.tryConn("root", rootPassword, withTLS)
		assert.NoError(t, err, "root's password was replaced")
	})

	// MariaDB's _bin collations ignore trailing spaces: the store's name
	// columns must not, or 'adm ' is adm (CREATE USER 'adm ' once replaced
	// adm's rows).
	t.Run("TrailingSpacesAreOtherNames", func(t *testing.T) {
		dsn, _ := store(t)
		a := frontEnd(t, dsn)
		exec(t, a.root(),
			"CREATE USER adm IDENTIFIED BY 'pw'", "GRANT SELECT ON demo.* TO adm",
			"CREATE USER 'adm ' IDENTIFIED BY 'pw2'", "GRANT INSERT ON shop.* TO 'adm '",
			"CREATE USER h@'10.0.0.1'", "GRANT UPDATE ON demo.* TO h@'10.0.0.1'",
			"CREATE USER h@'10.0.0.1 '", "GRANT DELETE ON demo.* TO h@'10.0.0.1 '")
		want := map[string]string{
			"adm":           "GRANT SELECT ON `demo`.* TO `adm`@`%`",
			"'adm '":        "GRANT INSERT ON `shop`.* TO `adm `@`%`",
			"h@'10.0.0.1'":  "GRANT UPDATE ON `demo`.* TO `h`@`10.0.0.1`",
			"h@'10.0.0.1 '": "GRANT DELETE ON `demo`.* TO `h`@`10.0.0.1 `",
		}
		check := func(e *env, when string) {
			for acct, grant := range want {
				rows, err := query(e.root(), "SHOW GRANTS FOR "+acct)
				require.NoError(t, err, "%s: %s", when, acct)
				var got []string
				for _, r := range rows {
					got = append(got, r[0])
				}
				assert.Contains(t, got, grant, "%s: %s", when, acct)
			}
		}
		check(a, "on the front end that made them")
		// A restart loads them from the store, each with its own grants.
		a.stop()
		check(frontEnd(t, dsn), "after a restart")
	})

	t.Run("ConcurrentGrantsAllLand", func(t *testing.T) {
		dsn, _ := store(t)
		a, b := frontEnd(t, dsn), frontEnd(t, dsn)
		exec(t, a.root(), "CREATE USER g IDENTIFIED BY 'pw'")
		const each = 25
		ctx, cancel := context.WithTimeout(context.Background(), waitLimit)
		defer cancel()
		var wg sync.WaitGroup
		errs := make(chan error, 2*each)
		for i, e := range []*env{a, b} {
			root := e.root()
			wg.Go(func() {
				for j := range each {
					if _, err := root.ExecContext(ctx, fmt.Sprintf("GRANT SELECT ON fe%d_db%d.* TO g", i, j)); err != nil {
						errs <- err
					}
				}
			})
		}
		wg.Wait()
		close(errs)
		for err := range errs {
			t.Error(err)
		}
		for _, e := range []*env{a, b} {
			rows, err := query(e.root(), "SHOW GRANTS FOR g")
			require.NoError(t, err)
			assert.Len(t, rows, 1+2*each, "every GRANT, from both front ends, is held")
		}
	})

	t.Run("FailedLoginsAddUp", func(t *testing.T) {
		dsn, _ := store(t)
		fes := []*env{frontEnd(t, dsn), frontEnd(t, dsn), frontEnd(t, dsn)}
		exec(t, fes[0].root(), "CREATE USER f IDENTIFIED BY 'pw' FAILED_LOGIN_ATTEMPTS 3 PASSWORD_LOCK_TIME 1")
		// Two failures, on two front ends, then a login: below the limit,
		// and the login clears them.
		for _, e := range fes[:2] {
			_, err := e.tryConn("f", "wrong")
			require.Error(t, err)
		}
		fes[2].conn("f", "pw")
		// Three failures, one on each: the account is blocked everywhere,
		// right password or not.
		for _, e := range fes {
			_, err := e.tryConn("f", "wrong")
			require.Error(t, err)
		}
		for i, e := range fes {
			_, err := e.tryConn("f", "pw")
			assert.Error(t, err, "front end %d let a blocked account in", i)
		}
	})

	t.Run("UnreachableStoreFences", func(t *testing.T) {
		p := newCutProxy(t, m.addr)
		dsn, via := store(t)
		a, b := frontEnd(t, dsn), frontEnd(t, via(p.addr()))
		b.seed()
		exec(t, a.root(), "CREATE USER v IDENTIFIED BY 'pw'", "GRANT SELECT ON demo.t TO v")
		s := b.conn("v", "pw")
		_, err := query(s, "SELECT a FROM demo.t")
		require.NoError(t, err)

		p.cut()
		// B cannot renew its lease: it fences itself within the lease.
		waitFor(t, 3*testLease, "front end B to fence", func() bool {
			return codeOf(s, "SELECT a FROM demo.t") == mysqlerr.ErUnknownComError
		})
		_, err = query(s, "SELECT a FROM demo.t")
		assert.ErrorContains(t, err, "grant store is unreachable")
		// A's account statements go on: B's lease ran out, A need not
		// wait for it.
		exec(t, a.root(), "REVOKE SELECT ON demo.t FROM v")

		p.restore()
		// B renews, catches up (the REVOKE), and allows statements again.
		waitFor(t, 5*testLease, "front end B to resume", func() bool {
			return codeOf(s, "SELECT a FROM demo.t") != mysqlerr.ErUnknownComError
		})
		assert.Equal(t, uint16(mysqlerr.ErTableAccessDenied), codeOf(s, "SELECT a FROM demo.t"), "B resumed on the old grants")
		exec(t, a.root(), "GRANT SELECT ON demo.t TO v")
		_, err = query(s, "SELECT a FROM demo.t")
		assert.NoError(t, err)
	})
}

// frontEnd starts one front end on the shared store dsn.
func frontEnd(t *testing.T, dsn string) *env {
	t.Helper()
	return startConfig(t, nil, "", 5*time.Second, "", func(c *server.Config) {
		c.GrantsDSN, c.GrantsLease = dsn, testLease
	})
}

// waitFor polls cond until it holds, failing the test after d.
func waitFor(t *testing.T, d time.Duration, what string, cond func() bool) {
	t.Helper()
	deadline := time.After(d)
	tick := time.NewTicker(20 * time.Millisecond)
	defer tick.Stop()
	for !cond() {
		select {
		case <-deadline:
			t.Fatalf("timed out after %s waiting for %s", d, what)
		case <-tick.C:
		}
	}
}

// cutProxy forwards TCP connections to a server until cut: then it closes
// every open one and refuses new ones (closes them at once), as a network
// partition would, until restore.
type cutProxy struct {
	l      net.Listener
	target string
	mu     sync.Mutex
	down   bool
	conns  map[net.Conn]bool
}

func newCutProxy(t *testing.T, target string) *cutProxy {
	l, err := net.Listen("tcp", "127.0.0.1:0")
	require.NoError(t, err)
	p := &cutProxy{l: l, target: target, conns: map[net.Conn]bool{}}
	done := make(chan struct{})
	go func() {
		defer close(done)
		for {
			c, err := l.Accept()
			if err != nil {
				return
			}
			go p.serve(c)
		}
	}()
	t.Cleanup(func() {
		l.Close()
		<-done
		p.cut()
	})
	return p
}

func (p *cutProxy) addr() string { return p.l.Addr().String() }

func (p *cutProxy) track(cs ...net.Conn) bool {
	p.mu.Lock()
	defer p.mu.Unlock()
	if p.down {
		return false
	}
	for _, c := range cs {
		p.conns[c] = true
	}
	return true
}

func (p *cutProxy) serve(c net.Conn) {
	up, err := net.Dial("tcp", p.target)
	if err != nil {
		c.Close()
		return
	}
	if !p.track(c, up) {
		c.Close()
		up.Close()
		return
	}
	go func() {
		_, _ = io.Copy(up, c)
		up.Close()
	}()
	_, _ = io.Copy(c, up)
	c.Close()
}

func (p *cutProxy) cut() {
	p.mu.Lock()
	defer p.mu.Unlock()
	p.down = true
	for c := range p.conns {
		c.Close()
	}
	clear(p.conns)
}

func (p *cutProxy) restore() {
	p.mu.Lock()
	defer p.mu.Unlock()
	p.down = false
}

// A front end past its lease deadline refuses statements, COM_INIT_DB and
// logins with the fence's 1047 even when nothing has set the fence: a
// process paused (SIGSTOP) past its lease resumes its sessions before its
// watchdog. Here nothing follows a store (a local one), so only the
// deadline set by hand can fence.
func TestLeaseDeadlineFencesWithoutTheWatchdog(t *testing.T) {
	e := start(t, nil, "")
	e.seed()
	w := sha2Login(t, e, "root", rootPassword)
	s := e.root()
	_, err := query(s, "SELECT a FROM demo.t")
	require.NoError(t, err)

	mgr := e.srv.Manager()
	mgr.SetLeaseDeadline(time.Now().Add(-time.Millisecond), mysqlerr.GrantStoreUnreachable())
	assert.Equal(t, uint16(mysqlerr.ErUnknownComError), codeOf(s, "SELECT a FROM demo.t"), "statement")
	assert.Equal(t, uint16(mysqlerr.ErUnknownComError), codeOf(s, "USE demo"), "USE")
	assert.Equal(t, uint16(mysqlerr.ErUnknownComError), wireCode(w.initDB("demo")), "COM_INIT_DB")
	_, err = e.tryConn("root", rootPassword, withTLS)
	assert.Equal(t, uint16(mysqlerr.ErUnknownComError), code(err), "login: %v", err)
	// A wrong password gets the same refusal: a fenced front end judges
	// no credentials.
	_, err = e.tryConn("root", "wrong", withTLS)
	assert.Equal(t, uint16(mysqlerr.ErUnknownComError), code(err), "login with a wrong password: %v", err)

	// A renewed lease (a deadline ahead) allows them again.
	mgr.SetLeaseDeadline(time.Now().Add(time.Hour), mysqlerr.GrantStoreUnreachable())
	_, err = query(s, "SELECT a FROM demo.t")
	assert.NoError(t, err)
	assert.NoError(t, w.initDB("demo"))
	e.root()
}

// The fence set by the watchdog refuses COM_INIT_DB and logins too.
func TestFenceRefusesInitDBAndLogins(t *testing.T) {
	e := start(t, nil, "")
	e.seed()
	w := sha2Login(t, e, "root", rootPassword)
	mgr := e.srv.Manager()
	mgr.SetFence(mysqlerr.GrantStoreUnreachable())
	assert.Equal(t, uint16(mysqlerr.ErUnknownComError), wireCode(w.initDB("demo")), "COM_INIT_DB")
	_, err := e.tryConn("root", rootPassword, withTLS)
	assert.Equal(t, uint16(mysqlerr.ErUnknownComError), code(err), "login: %v", err)
	mgr.SetFence(nil)
	assert.NoError(t, w.initDB("demo"))
	e.root()
}

// dbOf is the database name of a go-sql-driver DSN.
func dbOf(t *testing.T, dsn string) string {
	t.Helper()
	c, err := mysql.ParseDSN(dsn)
	require.NoError(t, err)
	return c.DBName
}
