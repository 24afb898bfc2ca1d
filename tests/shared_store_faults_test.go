package tests

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/go-sql-driver/mysql"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/authplug/authplug/mysqlerr"
)

var sequenceNames = []string{"r", "r2", "r3", "tmp", "u", "u2", "u3", "g"}

// grantsPicture is SHOW GRANTS for each name (or its error number).
func grantsPicture(t *testing.T, c *sql.Conn) string {
	t.Helper()
	var out []string
	for _, n := range sequenceNames {
		rows, err := query(c, "SHOW GRANTS FOR "+n)
		if err != nil {
			out = append(out, fmt.Sprintf("%s: error %d", n, code(err)))
			continue
		}
		var lines []string
		for _, r := range rows {
			lines = append(lines, r[0])
		}
		slices.Sort(lines)
		out = append(out, n+": "+strings.Join(lines, " | "))
	}
	return strings.Join(out, "\n")
}

// TestSharedStoreFaults runs two front ends on one MariaDB store through
// what goes wrong: rename, drop and re-create sequences of roles and proxy
// targets (both front ends, and a restart, agree), rows written by hand that
// a front end cannot apply (it fences itself), and store errors (clients
// learn nothing of the store).
func TestSharedStoreFaults(t *testing.T) {
	m := startMariaDB(t)
	admin := m.conn(t, "root", "")
	n := 0
	store := func(t *testing.T) (string, *sql.Conn) {
		n++
		name := fmt.Sprintf("faults%d", n)
		exec(t, admin, "CREATE DATABASE "+name)
		c := mysql.NewConfig()
		c.User, c.Net, c.Addr, c.DBName = "root", "tcp", m.addr, name
		c.Timeout = 2 * time.Second
		db, err := sql.Open("mysql", c.FormatDSN())
		require.NoError(t, err)
		t.Cleanup(func() { db.Close() })
		sc, err := db.Conn(context.Background())
		require.NoError(t, err)
		t.Cleanup(func() { sc.Close() })
		return c.FormatDSN(), sc
	}

	t.Run("RoleAndProxySequences", func(t *testing.T) {
		dsn, _ := store(t)
		a, b := frontEnd(t, dsn), frontEnd(t, dsn)
		b.seed()
		ra, rb := a.root(), b.root()
		same := func(step string) {
			t.Helper()
			pa, pb := grantsPicture(t, ra), grantsPicture(t, rb)
			require.Equal(t, pa, pb, "after %s: front ends disagree", step)
		}
		exec(t, ra, "CREATE ROLE r, r3", "GRANT SELECT ON demo.* TO r", "GRANT UPDATE ON demo.* TO r3", "GRANT r3 TO r",
			"CREATE USER u IDENTIFIED BY 'pw'", "GRANT r TO u WITH ADMIN OPTION", "SET DEFAULT ROLE r TO u",
			"CREATE USER g IDENTIFIED BY 'gpw'", "GRANT PROXY ON u TO g")
		same("setup")
		us, gs := b.conn("u", "pw"), b.conn("g", "gpw")
		_, err := query(us, "SELECT a FROM demo.t")
		require.NoError(t, err)
		_, err = query(gs, "EXECUTE AS 'u' SELECT a FROM demo.t")
		require.NoError(t, err)

		exec(t, ra, "RENAME USER r TO r2")
		same("RENAME r TO r2")
		exec(t, rb, "CREATE ROLE r", "GRANT INSERT ON demo.* TO r")
		same("CREATE ROLE r")
		assert.NotZero(t, codeOf(us, "INSERT INTO demo.t VALUES (9, 9, 9)"), "u's session inherits the new role r's INSERT")
		assert.Equal(t, uint16(mysqlerr.ErRoleNotGranted), codeOf(us, "SET ROLE r"), "SET ROLE of the new r")
		_, err = query(gs, "EXECUTE AS 'u' SELECT a FROM demo.t")
		assert.NoError(t, err, "u's default role followed the rename")
		assert.NotZero(t, codeOf(gs, "EXECUTE AS 'u' INSERT INTO demo.t VALUES (9, 9, 9)"), "acting as u inherits new r")

		// swap in one statement
		exec(t, ra, "RENAME USER r2 TO tmp, r TO r2, tmp TO r")
		same("swap")
		exec(t, rb, "RENAME USER r TO tmp, r2 TO r, tmp TO r2")
		same("swap back")

		exec(t, ra, "DROP ROLE r2")
		same("DROP ROLE r2")
		assert.NotZero(t, codeOf(gs, "EXECUTE AS 'u' SELECT a FROM demo.t"), "acting as u keeps the dropped role")
		exec(t, rb, "CREATE ROLE r2", "GRANT DELETE ON demo.* TO r2")
		same("CREATE ROLE r2 again")
		assert.Equal(t, uint16(mysqlerr.ErRoleNotGranted), codeOf(us, "SET ROLE r2"))
		assert.NotZero(t, codeOf(gs, "EXECUTE AS 'u' DELETE FROM demo.t WHERE id = 99"), "acting as u inherits the re-created r2")

		exec(t, ra, "GRANT r3 TO u", "SET DEFAULT ROLE r3 TO u", "RENAME USER u TO u2")
		same("RENAME u TO u2")
		_, err = query(gs, "EXECUTE AS 'u2' SELECT a FROM demo.t")
		assert.Error(t, err, "r3 has no SELECT")
		_, err = query(gs, "EXECUTE AS 'u2' UPDATE demo.t SET b = 1")
		assert.NoError(t, err, "proxy and default role followed the rename")
		exec(t, rb, "CREATE USER u IDENTIFIED BY 'x'")
		same("CREATE USER u again")
		assert.NotZero(t, codeOf(gs, "EXECUTE AS 'u' SELECT 1"), "proxy on the new u")

		exec(t, rb, "DROP USER u2")
		same("DROP USER u2")
		exec(t, ra, "CREATE USER u2 IDENTIFIED BY 'x'")
		same("CREATE USER u2 again")
		assert.NotZero(t, codeOf(gs, "EXECUTE AS 'u2' SELECT 1"), "proxy on the re-created u2")

		// GRANT PROXY on an account that does not exist yet, then made,
		// renamed onto by another, dropped.
		exec(t, ra, "GRANT PROXY ON tmp TO g", "CREATE USER tmp", "GRANT SELECT ON demo.t TO tmp", "RENAME USER tmp TO u3", "CREATE USER tmp", "DROP USER u3")
		same("proxy to a future account")

		before := grantsPicture(t, ra)
		c := frontEnd(t, dsn)
		assert.Equal(t, before, grantsPicture(t, c.root()), "a restart loads other grants")
		t.Log("\n" + before)
	})

	// A store admin writes rows a front end cannot apply: every front end
	// refuses (fenced, 1047) within a lease rather than go on allowing
	// what the store revoked; an account statement meanwhile is refused
	// as the fence refuses, without naming other accounts; the server log
	// names the change; and the front ends resume once the rows are
	// repaired.
	t.Run("MalformedRows", func(t *testing.T) {
		dsn, sc := store(t)
		a, b := frontEnd(t, dsn), frontEnd(t, dsn)
		b.seed()
		ra := a.root()
		exec(t, ra, "CREATE USER v IDENTIFIED BY 'pw'", "GRANT SELECT ON demo.t TO v", "CREATE USER m IDENTIFIED BY 'pw'")
		vs := b.conn("v", "pw")
		_, err := query(vs, "SELECT a FROM demo.t")
		require.NoError(t, err)
		ctx := context.Background()
		// inject commits stmts as one change of accounts, as an
		// administrator would by hand, and returns its id.
		inject := func(accounts [][2]string, stmts ...string) int64 {
			t.Helper()
			tx, err := sc.BeginTx(ctx, nil)
			require.NoError(t, err)
			defer func() { _ = tx.Rollback() }()
			var one int
			require.NoError(t, tx.QueryRowContext(ctx, "SELECT id FROM store_lock WHERE id = 1 FOR UPDATE").Scan(&one))
			for _, q := range stmts {
				_, err := tx.ExecContext(ctx, q)
				require.NoError(t, err, q)
			}
			res, err := tx.ExecContext(ctx, "INSERT INTO change_log (changed_at, definers) VALUES (0, 1)")
			require.NoError(t, err)
			id, err := res.LastInsertId()
			require.NoError(t, err)
			for _, acc := range accounts {
				_, err := tx.ExecContext(ctx, "INSERT INTO change_log_accounts (change_id, user_name, host) VALUES (?, ?, ?)", id, acc[0], acc[1])
				require.NoError(t, err)
			}
			require.NoError(t, tx.Commit())
			return id
		}
		fenced := func(err error) bool {
			var me *mysql.MySQLError
			return errors.As(err, &me) && me.Number == mysqlerr.ErUnknownComError && !strings.Contains(me.Message, "ghost")
		}

		// One change: v's grants revoked, and m given a role that does
		// not exist.
		bad := inject([][2]string{{"v", "%"}, {"m", "%"}},
			"DELETE FROM grants WHERE user_name = 'v'",
			"INSERT INTO role_grants VALUES ('m', '%', 'ghost', '%', 0)")
		// Every change now starts by applying the bad one: refused as
		// fenced, whichever front end, whoever asks.
		_, err = vs.ExecContext(ctx, "SET PASSWORD = 'other'")
		assert.True(t, fenced(err), "SET PASSWORD of v on B: %v", err)
		_, err = ra.ExecContext(ctx, "CREATE USER z")
		assert.True(t, fenced(err), "CREATE USER on A: %v", err)
		// B cannot apply the store's state: within a lease it refuses
		// what it would judge on its older grants.
		waitFor(t, 3*testLease, "B to refuse v's SELECT, which the store revoked", func() bool {
			return codeOf(vs, "SELECT a FROM demo.t") == mysqlerr.ErUnknownComError
		})
		for _, e := range []*env{a, b} {
			assert.Contains(t, e.logs.String(), fmt.Sprintf("cannot apply change %d of the grant store", bad), "the server log names the change")
		}

		inject([][2]string{{"m", "%"}}, "DELETE FROM role_grants WHERE user_name = 'm'")
		waitFor(t, 5*testLease, "B to apply the repaired store", func() bool {
			return codeOf(vs, "SELECT a FROM demo.t") == mysqlerr.ErTableAccessDenied
		})
		waitFor(t, 5*testLease, "A to apply the repaired store", func() bool {
			return codeOf(ra, "SELECT 1") != mysqlerr.ErUnknownComError
		})
		exec(t, ra, "CREATE USER z")

		// Values a front end may not expect: whatever it makes of them,
		// it keeps running, and catches up once they are gone.
		const accountRow = "INSERT INTO accounts (user_name, host, plugin, auth_string, account_locked, require_ssl, failed_login_attempts, " +
			"password_lock_days, password_expired, password_lifetime_days, password_changed, password_require_current, max_user_connections) VALUES "
		for name, stmts := range map[string][]string{
			"unknown plugin":   {accountRow + "('p', '%', 'nope', 'x', 0, 0, 0, 0, 0, 0, NULL, 0, 0)"},
			"negative numbers": {accountRow + "('p', '%', 'mysql_native_password', '', 0, 0, -5, -2147483647, 0, -2147483647, -9223372036854775807, 99, -7)"},
			"huge numbers":     {accountRow + "('p', '%', 'mysql_native_password', '', 0, 0, 2147483647, 2147483647, 0, 2147483647, 9223372036854775807, 2, 2147483647)"},
			"bad auth string":  {accountRow + "('p', '%', 'caching_sha2_password', '$A$005$short', 0, 0, 0, 0, 0, 0, NULL, 0, 0)"},
			"bad sha256":       {accountRow + "('p', '%', 'sha256_password', '$5$$', 0, 0, 0, 0, 0, 0, NULL, 0, 0)"},
			"weird host":       {accountRow + "('p', '1.2.3.4/255.255.255.255/0', 'mysql_native_password', '', 0, 0, 0, 0, 0, 0, NULL, 0, 0)"},
		} {
			ps := [][2]string{{"p", "%"}, {"p", "1.2.3.4/255.255.255.255/0"}}
			inject(ps, stmts...)
			_, err := b.tryConn("p", "")
			t.Logf("%s: login: %v", name, err)
			fixed := inject(ps, "DELETE FROM accounts WHERE user_name = 'p'")
			waitFor(t, 5*testLease, name+": both front ends to catch up once it is removed", func() bool {
				var behind int
				require.NoError(t, sc.QueryRowContext(ctx, "SELECT COUNT(*) FROM frontends WHERE applied_change_id < ?", fixed).Scan(&behind))
				return behind == 0
			})
			for _, e := range []*env{a, b} {
				require.NoError(t, e.srv.ExecuteSQL(ctx, "SELECT 1"), name)
			}
		}
		// restart on the store
		d := frontEnd(t, dsn)
		require.NoError(t, d.srv.ExecuteSQL(ctx, "SELECT 1"))
	})

	// A low-privilege account's own change while the store is down: the
	// error tells it nothing of the store (address, database), and the
	// server's log has the whole of it.
	t.Run("StoreErrorsToLowPriv", func(t *testing.T) {
		p := newCutProxy(t, m.addr)
		_, _ = store(t)
		c := mysql.NewConfig()
		c.User, c.Net, c.Addr, c.DBName = "root", "tcp", p.addr(), fmt.Sprintf("faults%d", n)
		c.Timeout = 2 * time.Second
		a := frontEnd(t, c.FormatDSN())
		exec(t, a.root(), "CREATE USER v IDENTIFIED BY 'pw'")
		vs := a.conn("v", "pw")
		p.cut()
		p.l.Close()
		_, err := vs.ExecContext(context.Background(), "SET PASSWORD = 'other'")
		require.Error(t, err)
		var me *mysql.MySQLError
		require.ErrorAs(t, err, &me)
		assert.Contains(t, []uint16{mysqlerr.ErUnknownError, mysqlerr.ErUnknownComError}, me.Number, "%v", err)
		assert.NotContains(t, err.Error(), p.addr(), "the store's address reaches a low-privilege client")
		assert.NotContains(t, err.Error(), c.DBName, "the store's database name reaches a low-privilege client")
		assert.Contains(t, a.logs.String(), p.addr(), "the server log has the store's error")
	})
	// The change log emptied (TRUNCATE starts its ids at 1 again), as an
	// operator trimming it, or the store restored from an older backup:
	// the front ends' applied changes are ahead of the store's ids, and
	// new changes could reuse them. Both refuse rather than serve grants
	// they can no longer follow.
	t.Run("RewoundLogIsRefused", func(t *testing.T) {
		dsn, sc := store(t)
		a, b := frontEnd(t, dsn), frontEnd(t, dsn)
		b.seed()
		root := a.root()
		exec(t, root, "CREATE USER u IDENTIFIED BY 'pw'", "GRANT SELECT ON demo.t TO u", "GRANT INSERT ON demo.t TO u")
		s := b.conn("u", "pw")
		_, err := query(s, "SELECT a FROM demo.t")
		require.NoError(t, err)
		exec(t, sc, "TRUNCATE change_log_accounts", "TRUNCATE change_log")
		assert.NotZero(t, codeOf(root, "REVOKE SELECT ON demo.t FROM u"), "A changed grants on a log it cannot follow")
		waitFor(t, 5*testLease, "front end B to fence", func() bool {
			return codeOf(s, "SELECT a FROM demo.t") == mysqlerr.ErUnknownComError
		})
		assert.Contains(t, b.logs.String(), "change log went back")
	})
}
