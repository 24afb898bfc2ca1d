package tests

import (
	"context"
	"database/sql"
	"path/filepath"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/go-sql-driver/mysql"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/authplug/authplug/authplugin"
	"github.com/authplug/authplug/extension"
	"github.com/authplug/authplug/priv"
)

// tokenPlugin is a test extension plugin: the "token" is the password, sent
// in clear (so only over TLS), stored as "token:<value>". Its
// VerifyPrivilege refuses whatever deny holds, and counts its calls.
type tokenPlugin struct {
	auth, verify, dynVerify atomic.Int32
	deny                    atomic.Uint64 // priv.Mask refused by VerifyPrivilege
	denyDynamic             atomic.Bool
}

const tokenPluginName = "authentication_test_token"

func (p *tokenPlugin) plugin() *authplugin.AuthPlugin {
	return &authplugin.AuthPlugin{
		Name:                     tokenPluginName,
		RequiredClientSidePlugin: authplugin.ClearPasswordName,
		AuthenticateUser: func(_ context.Context, req authplugin.AuthenticateRequest) (any, error) {
			p.auth.Add(1)
			if "token:"+string(req.InputAuthString) != req.StoredAuthString {
				return nil, authplugin.ErrWrongPassword
			}
			return "session-of-" + req.User, nil
		},
		GenerateAuthString: func(pw string) (string, bool) { return "token:" + pw, pw != "" },
		ValidateAuthString: func(s string) bool { return strings.HasPrefix(s, "token:") },
		VerifyPrivilege: func(req authplugin.AuthorizeRequest) bool {
			p.verify.Add(1)
			return priv.Mask(p.deny.Load())&req.Priv == 0
		},
		VerifyDynamicPrivilege: func(req authplugin.AuthorizeRequest) bool {
			p.dynVerify.Add(1)
			return !p.denyDynamic.Load()
		},
	}
}

func withTokenPlugin(t *testing.T) (*env, *tokenPlugin) {
	p := &tokenPlugin{}
	reg := extension.NewRegistry()
	require.NoError(t, reg.Register("test_token", extension.WithCustomAuthPlugins(p.plugin())))
	es, err := reg.GetExtensions()
	require.NoError(t, err)
	e := start(t, es, "")
	e.seed()
	return e, p
}

func TestPasswordLogins(t *testing.T) {
	e := start(t, nil, "")
	root := e.root()
	exec(t, root,
		"CREATE USER nat IDENTIFIED WITH mysql_native_password BY 'npw'",
		"CREATE USER sha IDENTIFIED WITH caching_sha2_password BY 'spw'",
		"CREATE USER locked IDENTIFIED BY 'lpw' ACCOUNT LOCK",
	)
	cases := []struct {
		name, user, pw string
		opts           []dsnOpt
		want           uint16
	}{
		{"native right", "nat", "npw", nil, 0},
		{"native wrong", "nat", "x", nil, 1045},
		{"caching_sha2 right, full auth over TLS", "sha", "spw", []dsnOpt{withTLS}, 0},
		{"caching_sha2 right, fast path now cached", "sha", "spw", nil, 0},
		{"caching_sha2 wrong", "sha", "x", []dsnOpt{withTLS}, 1045},
		{"unknown user", "ghost", "x", nil, 1045},
		{"unknown user over TLS", "ghost", "x", []dsnOpt{withTLS}, 1045},
		{"locked account, right password", "locked", "lpw", []dsnOpt{withTLS}, 1045},
	}
	for _, c := range cases {
		_, err := e.tryConn(c.user, c.pw, c.opts...)
		assert.Equal(t, c.want, code(err), "%s: %v", c.name, err)
	}
	_, wrong := e.tryConn("nat", "x")
	_, unknown := e.tryConn("ghost", "x")
	assert.Equal(t, strings.Replace(wrong.Error(), "nat", "ghost", 1), unknown.Error(),
		"an unknown user reads exactly like a wrong password")
	assert.Contains(t, e.logs.String(), "account is locked", "the reason is in the server log")

	exec(t, root, "ALTER USER locked ACCOUNT UNLOCK")
	_, err := e.tryConn("locked", "lpw", withTLS)
	assert.NoError(t, err)
}

func TestCleartextPluginNeedsTLS(t *testing.T) {
	e, p := withTokenPlugin(t)
	exec(t, e.root(), "CREATE USER tok IDENTIFIED WITH authentication_test_token AS 'token:abc'")

	_, err := e.tryConn("tok", "abc", withCleartext, withTLS)
	assert.NoError(t, err, "over TLS")
	assert.Equal(t, int32(1), p.auth.Load())

	_, err = e.tryConn("tok", "abc", withCleartext)
	assert.Equal(t, uint16(1045), code(err), "plain TCP: %v", err)
	assert.Equal(t, int32(1), p.auth.Load(), "the token never reached the plugin, nor crossed the wire")

	_, err = e.tryConn("tok", "wrong", withCleartext, withTLS)
	assert.Equal(t, uint16(1045), code(err))
}

// The TiDB auth-plugin scenarios, over the wire.
func TestPluginScenariosOverTheWire(t *testing.T) {
	e, p := withTokenPlugin(t)
	root := e.root()

	assert.Equal(t, uint16(1524), codeOf(root, "CREATE USER x IDENTIFIED WITH no_such_plugin BY 'x'"), "bad plugin name")
	assert.Equal(t, uint16(1827), codeOf(root, "CREATE USER x IDENTIFIED WITH authentication_test_token AS 'not-a-token'"),
		"AS goes through ValidateAuthString")

	exec(t, root,
		"CREATE USER tok IDENTIFIED WITH authentication_test_token BY 'abc'",
		"GRANT SELECT, INSERT, DELETE ON demo.* TO tok",
		"CREATE USER admin IDENTIFIED WITH authentication_test_token BY 'adm'",
		"GRANT CREATE USER ON *.* TO admin",
		"CREATE USER nat IDENTIFIED WITH mysql_native_password BY 'npw'",
		"GRANT SELECT ON demo.* TO nat",
	)
	tok := e.conn("tok", "abc", withCleartext, withTLS)

	t.Run("stored allows, plugin allows", func(t *testing.T) {
		_, err := query(tok, "SELECT a FROM demo.t")
		assert.NoError(t, err)
		assert.NotZero(t, p.verify.Load())
	})
	t.Run("stored allows, plugin denies: 1142", func(t *testing.T) {
		p.deny.Store(uint64(priv.Delete))
		defer p.deny.Store(0)
		_, err := tok.ExecContext(context.Background(), "DELETE FROM demo.t WHERE id = 99")
		assert.Equal(t, uint16(1142), code(err), "%v", err)
	})
	t.Run("never granted: denied without asking the plugin", func(t *testing.T) {
		before := p.verify.Load()
		_, err := tok.ExecContext(context.Background(), "UPDATE demo.t SET a = 1")
		assert.Equal(t, uint16(1142), code(err), "%v", err)
		assert.Equal(t, before, p.verify.Load())
	})
	t.Run("non-plugin user never reaches VerifyPrivilege", func(t *testing.T) {
		e := e.in(t)
		before := p.verify.Load()
		nat := e.conn("nat", "npw")
		_, err := query(nat, "SELECT a FROM demo.t")
		assert.NoError(t, err)
		assert.Equal(t, before, p.verify.Load())
	})
	t.Run("dynamic privilege: 1227 without the plugin, then asked after the grant", func(t *testing.T) {
		before := p.dynVerify.Load()
		assert.Equal(t, uint16(1227), codeOf(tok, "GRANT SYSTEM_VARIABLES_ADMIN ON *.* TO nat"))
		exec(t, root, "GRANT SYSTEM_VARIABLES_ADMIN ON *.* TO tok WITH GRANT OPTION", "GRANT GRANT OPTION ON *.* TO tok")
		_, err := tok.ExecContext(context.Background(), "GRANT SYSTEM_VARIABLES_ADMIN ON *.* TO nat")
		assert.NoError(t, err)
		assert.Greater(t, p.dynVerify.Load(), before, "granted: now the plugin is asked")
	})
	t.Run("password change goes through GenerateAuthString; next login sees it", func(t *testing.T) {
		e := e.in(t)
		exec(t, root, "ALTER USER tok IDENTIFIED BY 'new-token'")
		_, err := e.tryConn("tok", "abc", withCleartext, withTLS)
		assert.Equal(t, uint16(1045), code(err))
		e.conn("tok", "new-token", withCleartext, withTLS)
	})
	t.Run("an open session keeps its plugin after the account switches plugin", func(t *testing.T) {
		e := e.in(t)
		exec(t, root, "ALTER USER tok IDENTIFIED WITH mysql_native_password BY 'npw2'")
		p.deny.Store(uint64(priv.Select))
		defer p.deny.Store(0)
		assert.Equal(t, uint16(1142), codeOf(tok, "SELECT a FROM demo.t"), "the old session is still judged by its plugin")
		fresh := e.conn("tok", "npw2")
		_, err := query(fresh, "SELECT a FROM demo.t")
		assert.NoError(t, err, "a new session uses the new plugin")
	})
	t.Run("ALTER USER on another account: the admin's plugin is asked, the target's grants stored-only", func(t *testing.T) {
		e := e.in(t)
		admin := e.conn("admin", "adm", withCleartext, withTLS)
		p.deny.Store(uint64(priv.CreateUser))
		assert.Equal(t, uint16(1227), codeOf(admin, "ALTER USER nat ACCOUNT LOCK"), "the admin's own plugin refuses")
		p.deny.Store(0)
		// An account of its own: SYSTEM_USER on nat would guard it from
		// the other subtests' grants.
		exec(t, root, "CREATE USER sys IDENTIFIED WITH mysql_native_password BY 'spw'", "GRANT SYSTEM_USER ON *.* TO sys")
		before := p.verify.Load() + p.dynVerify.Load()
		assert.Equal(t, uint16(1227), codeOf(admin, "ALTER USER sys ACCOUNT LOCK"),
			"sys holds SYSTEM_USER, the admin does not")
		assert.Equal(t, before+1, p.verify.Load()+p.dynVerify.Load(),
			"only the admin's CREATE USER check reached a plugin")
	})
}

func TestGrantAndRevokeApplyToTheOpenSession(t *testing.T) {
	e := start(t, nil, "")
	e.seed()
	root := e.root()
	exec(t, root, "CREATE USER u IDENTIFIED WITH mysql_native_password BY 'pw'")
	u := e.conn("u", "pw")

	assert.Equal(t, uint16(1142), codeOf(u, "SELECT a FROM demo.t"))
	exec(t, root, "GRANT SELECT ON demo.t TO u")
	rows, err := query(u, "SELECT a FROM demo.t ORDER BY id")
	require.NoError(t, err)
	assert.Equal(t, [][]string{{"10"}, {"20"}}, rows)
	exec(t, root, "REVOKE SELECT ON demo.t FROM u")
	assert.Equal(t, uint16(1142), codeOf(u, "SELECT a FROM demo.t"))

	_, err = u.ExecContext(context.Background(), "USE demo")
	assert.Equal(t, uint16(1044), code(err), "no privilege on demo at all: %v", err)
}

func TestRolesNeedActivation(t *testing.T) {
	e := start(t, nil, "")
	e.seed()
	root := e.root()
	exec(t, root,
		"CREATE ROLE reader",
		"GRANT SELECT ON demo.* TO reader",
		"CREATE USER u IDENTIFIED WITH mysql_native_password BY 'pw'",
		"GRANT reader TO u",
	)
	u := e.conn("u", "pw")
	assert.Equal(t, uint16(1142), codeOf(u, "SELECT a FROM demo.t"), "granted, not active")
	assert.Equal(t, uint16(3530), codeOf(u, "SET ROLE 'writer'"))
	exec(t, u, "SET ROLE 'reader'")
	_, err := query(u, "SELECT a FROM demo.t")
	assert.NoError(t, err)
	exec(t, u, "SET ROLE NONE")
	assert.Equal(t, uint16(1142), codeOf(u, "SELECT a FROM demo.t"))

	exec(t, root, "SET DEFAULT ROLE reader TO u")
	u2 := e.conn("u", "pw")
	_, err = query(u2, "SELECT a FROM demo.t")
	assert.NoError(t, err, "default roles are active at login")
}

func TestColumnPrivileges(t *testing.T) {
	e := start(t, nil, "")
	e.seed()
	root := e.root()
	exec(t, root,
		"CREATE USER u IDENTIFIED WITH mysql_native_password BY 'pw'",
		"GRANT SELECT (id, a), INSERT (id, a), UPDATE (a) ON demo.t TO u",
	)
	u := e.conn("u", "pw")
	cases := []struct {
		q    string
		want uint16
	}{
		{"SELECT a FROM demo.t ORDER BY id", 0},
		{"SELECT id, a FROM demo.t WHERE a > 5", 0},
		{"SELECT x.a FROM demo.t AS x", 0},
		{"SELECT COUNT(*) FROM demo.t", 0},
		{"SELECT b FROM demo.t", 1143},
		{"SELECT * FROM demo.t", 1143},
		{"SELECT a FROM demo.t WHERE b > 0", 1143},
		{"SELECT x.b FROM demo.t AS x", 1143},
		{"SELECT a FROM demo.t ORDER BY b", 1143},
		{"SELECT 1 FROM dual WHERE EXISTS (SELECT b FROM demo.t)", 1143},
		{"SELECT (SELECT MAX(b) FROM demo.t)", 1143},
		{"INSERT INTO demo.t (id, a) VALUES (3, 30)", 0},
		{"INSERT INTO demo.t (id, a, b) VALUES (4, 40, 400)", 1143},
		{"INSERT INTO demo.t VALUES (5, 50, 500)", 1143},
		{"UPDATE demo.t SET a = 11 WHERE id = 1", 0},
		{"UPDATE demo.t SET b = 1 WHERE id = 1", 1143},
		{"DELETE FROM demo.t WHERE id = 1", 1142},
	}
	for _, c := range cases {
		_, err := u.ExecContext(context.Background(), c.q)
		if strings.HasPrefix(c.q, "SELECT") {
			_, err = query(u, c.q)
		}
		assert.Equal(t, c.want, code(err), "%s: %v", c.q, err)
	}
	rows, err := query(root, "SELECT id, a, b FROM demo.t ORDER BY id")
	require.NoError(t, err)
	assert.Equal(t, [][]string{{"1", "11", "100"}, {"2", "20", "200"}, {"3", "30", ""}}, rows,
		"only the allowed writes happened")
	grants, err := query(root, "SHOW GRANTS FOR u")
	require.NoError(t, err)
	assert.Contains(t, grants, []string{"GRANT SELECT (`a`, `id`), INSERT (`a`, `id`), UPDATE (`a`) ON `demo`.`t` TO `u`@`%`"})

	// Prepared statements (the binary protocol) are checked column by
	// column too.
	for _, c := range []struct {
		q    string
		want uint16
	}{
		{"SELECT a FROM demo.t WHERE id = ?", 0},
		{"SELECT b FROM demo.t WHERE id = ?", 1143},
		{"SELECT a FROM demo.t WHERE b = ?", 1143},
		{"SELECT COUNT(*) FROM demo.t WHERE id = ?", 0},
	} {
		stmt, err := u.PrepareContext(context.Background(), c.q)
		if err == nil {
			var rows *sql.Rows
			rows, err = stmt.QueryContext(context.Background(), 1)
			if err == nil {
				for rows.Next() {
				}
				err = rows.Err()
				rows.Close()
			}
			stmt.Close()
		}
		assert.Equal(t, c.want, code(err), "prepared %s: %v", c.q, err)
	}
}

func TestRestartKeepsAccountsGrantsRolesAndProxies(t *testing.T) {
	e := start(t, nil, "")
	exec(t, e.root(),
		"CREATE USER u IDENTIFIED WITH mysql_native_password BY 'pw'",
		"CREATE ROLE reader",
		"GRANT SELECT ON demo.* TO reader",
		"GRANT reader TO u",
		"SET DEFAULT ROLE reader TO u",
		"CREATE USER gw IDENTIFIED WITH mysql_native_password BY 'gpw'",
		"GRANT PROXY ON 'u'@'%' TO 'gw'@'%'",
		"GRANT INSERT ON demo.* TO u",
	)
	want, err := query(e.root(), "SHOW GRANTS FOR u")
	require.NoError(t, err)
	e.stop()

	again := start(t, nil, e.dir)
	root := again.root()
	got, err := query(root, "SHOW GRANTS FOR u")
	require.NoError(t, err)
	assert.Equal(t, want, got)
	gw, err := query(root, "SHOW GRANTS FOR gw")
	require.NoError(t, err)
	assert.Contains(t, gw, []string{"GRANT PROXY ON `u`@`%` TO `gw`@`%`"})
	again.conn("u", "pw")
}

func TestUnreadableGrantsFileStopsTheServer(t *testing.T) {
	e := start(t, nil, "")
	e.stop()
	require.NoError(t, writeFile(e.dir+"/grants.json", `{"version": 1, "accounts": [`))
	_, err := newServer(e.dir)
	assert.ErrorContains(t, err, "refusing to start without accounts")
}

func TestRolePrivilegesAreNotUserPrivileges(t *testing.T) {
	e := start(t, nil, "")
	exec(t, e.root(),
		"CREATE USER ra IDENTIFIED WITH mysql_native_password BY 'pw'",
		"GRANT CREATE ROLE, DROP ROLE ON *.* TO ra",
	)
	ra := e.conn("ra", "pw")
	exec(t, ra, "CREATE ROLE r1", "DROP ROLE r1")
	assert.Equal(t, uint16(1227), codeOf(ra, "CREATE USER x IDENTIFIED BY 'x'"))
	assert.Equal(t, uint16(1227), codeOf(ra, "DROP USER ra"))
	assert.Equal(t, uint16(1227), codeOf(ra, "GRANT SELECT ON *.* TO ra"), "no GRANT OPTION")
}

func TestGrantOptionAloneCannotHandOnColumns(t *testing.T) {
	e := start(t, nil, "")
	e.seed()
	exec(t, e.root(),
		"CREATE USER g IDENTIFIED WITH mysql_native_password BY 'pw'",
		"CREATE USER other IDENTIFIED WITH mysql_native_password BY 'pw'",
		"GRANT GRANT OPTION, SELECT (a) ON demo.t TO g",
	)
	g := e.conn("g", "pw")
	assert.Equal(t, uint16(1143), codeOf(g, "GRANT SELECT (b) ON demo.t TO other"), "g does not hold SELECT on b")
	assert.Equal(t, uint16(1142), codeOf(g, "GRANT SELECT ON demo.t TO other"))
	exec(t, g, "GRANT SELECT (a) ON demo.t TO other")
	rows, err := query(e.root(), "SHOW GRANTS FOR other")
	require.NoError(t, err)
	assert.Contains(t, rows, []string{"GRANT SELECT (`a`) ON `demo`.`t` TO `other`@`%`"})
}

func TestMultiStatementQueries(t *testing.T) {
	e := start(t, nil, "")
	e.seed()
	db, err := sql.Open("mysql", e.dsn("root", rootPassword, withTLS, func(c *mysql.Config) { c.MultiStatements = true }))
	require.NoError(t, err)
	defer db.Close()
	_, err = db.Exec("CREATE USER m1 IDENTIFIED BY 'x'; GRANT SELECT ON demo.* TO m1; CREATE ROLE m2")
	require.NoError(t, err, "account statements in one multi-statement query")
	rows, err := query(e.root(), "SHOW GRANTS FOR m1")
	require.NoError(t, err)
	assert.Contains(t, rows, []string{"GRANT SELECT ON `demo`.* TO `m1`@`%`"})

	out, err := mariadb(t, e, "root", rootPassword, "CREATE USER m3 IDENTIFIED WITH mysql_native_password BY 'y'; SELECT a FROM demo.t WHERE id = 1; SHOW GRANTS FOR m3")
	require.NoError(t, err, out)
	assert.Equal(t, "10\nGRANT USAGE ON *.* TO `m3`@`%`\n", out)
}

func TestUnixSocketIsASecureTransport(t *testing.T) {
	p := &tokenPlugin{}
	reg := extension.NewRegistry()
	require.NoError(t, reg.Register("test_token", extension.WithCustomAuthPlugins(p.plugin())))
	es, err := reg.GetExtensions()
	require.NoError(t, err)
	sock := filepath.Join(t.TempDir(), "authplug.sock")
	e := startSocket(t, es, "", 2*time.Second, sock)
	exec(t, e.root(),
		"CREATE USER tok IDENTIFIED WITH authentication_test_token AS 'token:abc'",
		"CREATE USER sha IDENTIFIED WITH caching_sha2_password BY 'spw'",
	)
	unix := func(c *mysql.Config) { c.Net, c.Addr = "unix", sock }
	_, err = e.tryConn("tok", "abc", withCleartext, unix)
	assert.NoError(t, err, "cleartext over the socket")
	_, err = e.tryConn("sha", "spw", unix)
	assert.NoError(t, err, "caching_sha2 full authentication over the socket")
	_, err = e.tryConn("tok", "abc", withCleartext)
	assert.Equal(t, uint16(1045), code(err), "still refused on plain TCP")
}

// go-mysql-server's views have no definer: they run with the invoker's
// privileges, so a grant on a view alone never reads its base tables
// (stricter than MySQL's SQL SECURITY DEFINER default; see the README).
// A view gives its readers what its definer may read, and no more: the
// definer's rights are checked when it is made and each time it is read.
func TestViewsNeverWidenAccess(t *testing.T) {
	e := start(t, nil, "")
	e.seed()
	root := e.conn("root", rootPassword, withTLS, withDB("demo"))
	exec(t, root,
		"CREATE VIEW v AS SELECT a FROM t",
		"CREATE USER u IDENTIFIED WITH mysql_native_password BY 'pw'",
		"GRANT SELECT ON demo.v TO u", "GRANT CREATE VIEW ON demo.* TO u",
	)
	u := e.conn("u", "pw", withDB("demo"))
	rows, err := query(u, "SELECT * FROM demo.v ORDER BY a")
	require.NoError(t, err, "root defined the view")
	assert.Equal(t, [][]string{{"10"}, {"20"}}, rows)
	assert.Equal(t, uint16(1142), codeOf(u, "SELECT b FROM demo.t"))
	// u cannot make a view over what it cannot read itself.
	_, err = u.ExecContext(context.Background(), "CREATE VIEW mine AS SELECT b FROM demo.t")
	assert.Equal(t, uint16(1142), code(err), "%v", err)
}

func TestCallNeedsExecuteAndReplicationClientIsGlobal(t *testing.T) {
	e := start(t, nil, "")
	e.seed()
	require.NoError(t, e.srv.ExecuteSQL(context.Background(), "CREATE PROCEDURE demo.p() SELECT 42"))
	root := e.root()
	exec(t, root,
		"CREATE USER u IDENTIFIED WITH mysql_native_password BY 'pw'",
		"GRANT SELECT ON demo.* TO u",
	)
	u := e.conn("u", "pw", withDB("demo"))
	_, err := u.ExecContext(context.Background(), "CALL demo.p()")
	assert.Equal(t, uint16(1370), code(err), "%v", err)
	assert.ErrorContains(t, err, "for routine 'demo.p'")
	exec(t, root, "GRANT EXECUTE ON demo.* TO u")
	rows, err := query(u, "CALL demo.p()")
	require.NoError(t, err)
	assert.Equal(t, [][]string{{"42"}}, rows)

	assert.Equal(t, uint16(1227), codeOf(u, "SHOW REPLICA STATUS"), "REPLICATION CLIENT is a global privilege")
}
