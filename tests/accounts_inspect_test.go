package tests

import (
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// Accounts one can inspect (MySQL 8): the mysql schema's grant tables and
// information_schema's privilege tables, made from authplug's store.
// mysql.* needs SELECT on it; information_schema shows an account its own
// rows, and every account's to holders of SELECT on mysql. The mysql tables
// are read-only, for root too.

// inspectAccounts: app holds one grant of every kind; low holds SELECT on
// demo only; auditor holds SELECT on mysql.*. Every password is "pw".
var inspectAccounts = []string{
	"CREATE USER app IDENTIFIED WITH mysql_native_password BY 'pw' REQUIRE SSL FAILED_LOGIN_ATTEMPTS 3 PASSWORD_LOCK_TIME 2",
	"GRANT SELECT, INSERT ON demo.* TO app WITH GRANT OPTION",
	"GRANT UPDATE ON demo.t TO app",
	"GRANT SELECT (a), UPDATE (b) ON demo.t TO app",
	"GRANT PROCESS ON *.* TO app",
	"GRANT BACKUP_ADMIN ON *.* TO app WITH GRANT OPTION",
	"CREATE ROLE reader",
	"GRANT reader TO app",
	"SET DEFAULT ROLE reader TO app",
	"CREATE USER alice IDENTIFIED WITH mysql_native_password BY 'pw'",
	"GRANT PROXY ON 'alice'@'%' TO app",
	"CREATE USER low IDENTIFIED WITH mysql_native_password BY 'pw'",
	"GRANT SELECT ON demo.* TO low",
	"CREATE USER auditor IDENTIFIED WITH mysql_native_password BY 'pw'",
	"GRANT SELECT ON mysql.* TO auditor",
}

func startInspect(t *testing.T) *env {
	t.Helper()
	e := start(t, nil, "")
	e.seed()
	exec(t, e.root(), inspectAccounts...)
	return e
}

func mustQuery(t *testing.T, e *env, user, q string) [][]string {
	t.Helper()
	e = e.in(t)
	c := e.root()
	if user != "root" {
		c = e.conn(user, "pw", withTLS)
	}
	rows, err := query(c, q)
	require.NoError(t, err, "%s: %s", user, q)
	return rows
}

func TestInspectMySQLTables(t *testing.T) {
	e := startInspect(t)
	q := func(s string) [][]string { return mustQuery(t, e, "root", s) }

	u := q("SELECT Host, User, Select_priv, Process_priv, Grant_priv, ssl_type, plugin, authentication_string <> '', " +
		"account_locked, password_expired, Create_role_priv, max_connections, " +
		"JSON_EXTRACT(User_attributes, '$.Password_locking.failed_login_attempts') FROM mysql.user WHERE User = 'app'")
	assert.Equal(t, [][]string{{"%", "app", "N", "Y", "N", "ANY", "mysql_native_password", "1", "N", "N", "N", "0", "3"}}, u)
	assert.Equal(t, [][]string{{"Y"}}, q("SELECT account_locked FROM mysql.user WHERE User = 'reader'"),
		"a role is a locked account")
	root := q("SELECT Select_priv, Super_priv, Grant_priv, Create_role_priv, Drop_role_priv, plugin FROM mysql.user WHERE User = 'root'")
	assert.Equal(t, [][]string{{"Y", "Y", "Y", "Y", "Y", "caching_sha2_password"}}, root)

	assert.Equal(t, [][]string{{"%", "demo", "app", "Y", "Y", "N", "Y"}},
		q("SELECT Host, Db, User, Select_priv, Insert_priv, Update_priv, Grant_priv FROM mysql.db WHERE User = 'app'"))
	assert.Equal(t, [][]string{{"demo", "t", "Update", "Select,Update"}},
		q("SELECT Db, Table_name, Table_priv, Column_priv FROM mysql.tables_priv WHERE User = 'app'"))
	assert.Equal(t, [][]string{{"t", "a", "Select"}, {"t", "b", "Update"}},
		q("SELECT Table_name, Column_name, Column_priv FROM mysql.columns_priv WHERE User = 'app' ORDER BY Column_name"))
	assert.Equal(t, [][]string{{"%", "reader", "%", "app", "N"}},
		q("SELECT FROM_HOST, FROM_USER, TO_HOST, TO_USER, WITH_ADMIN_OPTION FROM mysql.role_edges"))
	assert.Equal(t, [][]string{{"%", "app", "%", "reader"}},
		q("SELECT HOST, USER, DEFAULT_ROLE_HOST, DEFAULT_ROLE_USER FROM mysql.default_roles"))
	assert.Equal(t, [][]string{{"%", "app", "%", "alice", "0"}},
		q("SELECT Host, User, Proxied_host, Proxied_user, With_grant FROM mysql.proxies_priv"))
	assert.Equal(t, [][]string{{"BACKUP_ADMIN", "Y"}},
		q("SELECT PRIV, WITH_GRANT_OPTION FROM mysql.global_grants WHERE USER = 'app'"))
	assert.NotEmpty(t, q("SELECT PRIV FROM mysql.global_grants WHERE USER = 'root' AND PRIV = 'SYSTEM_USER'"))

	t.Run("every column of every table reads", func(t *testing.T) {
		for _, tb := range []string{"user", "db", "tables_priv", "columns_priv", "role_edges", "default_roles", "proxies_priv", "global_grants"} {
			assert.NotEmpty(t, mustQuery(t, e, "root", "SELECT * FROM mysql."+tb), tb)
		}
	})

	t.Run("listed and described like MySQL's", func(t *testing.T) {
		e := e.in(t)
		assert.Contains(t, columnOf(t, e.root(), "SHOW DATABASES", 0), "mysql")
		assert.Equal(t, []string{"columns_priv", "db", "default_roles", "global_grants", "proxies_priv",
			"role_edges", "tables_priv", "user"}, columnOf(t, e.root(), "SHOW TABLES FROM mysql", 0))
		cols := columnOf(t, e.root(), "SHOW COLUMNS FROM mysql.user", 0)
		assert.Subset(t, cols, []string{"Host", "User", "authentication_string", "plugin", "password_lifetime",
			"Password_require_current", "account_locked", "User_attributes"})
	})

	t.Run("a GRANT shows at once, in the same session", func(t *testing.T) {
		e := e.in(t)
		c := e.root()
		assert.Empty(t, columnOf(t, c, "SELECT Db FROM mysql.db WHERE User = 'low' AND Db = 'scratch'", 0))
		exec(t, c, "GRANT DELETE ON scratch.* TO low")
		assert.Equal(t, []string{"scratch"}, columnOf(t, c, "SELECT Db FROM mysql.db WHERE User = 'low' AND Db = 'scratch'", 0))
		assert.Equal(t, []string{"DELETE"}, columnOf(t, c,
			"SELECT PRIVILEGE_TYPE FROM information_schema.SCHEMA_PRIVILEGES WHERE GRANTEE = '''low''@''%''' AND TABLE_SCHEMA = 'scratch'", 0))
		exec(t, c, "REVOKE DELETE ON scratch.* FROM low")
		assert.Empty(t, columnOf(t, c, "SELECT Db FROM mysql.db WHERE User = 'low' AND Db = 'scratch'", 0))
	})
}

func TestInspectWhoMayRead(t *testing.T) {
	e := startInspect(t)
	low := e.conn("low", "pw")

	for _, q := range []string{
		"SELECT * FROM mysql.user",
		"SELECT User FROM mysql.user",
		"SELECT COUNT(*) FROM mysql.user",
		"SELECT * FROM mysql.global_grants",
		"SELECT t.id FROM demo.t JOIN mysql.user u ON u.User = 'root'",
		"SELECT (SELECT COUNT(*) FROM mysql.user)",
		"SELECT id FROM demo.t WHERE EXISTS (SELECT 1 FROM mysql.user WHERE User = 'root')",
		"SELECT * FROM (SELECT authentication_string FROM mysql.user) AS x",
		"WITH u AS (SELECT User FROM mysql.user) SELECT * FROM u",
		"SELECT id FROM demo.t UNION SELECT 1 FROM mysql.db",
		"SHOW COLUMNS FROM mysql.user",
	} {
		assert.Equal(t, uint16(1142), codeOf(low, q), q)
	}
	assert.Equal(t, uint16(1044), codeOf(low, "USE mysql"))
	exec(t, e.root(), "CREATE SQL SECURITY INVOKER VIEW demo.accounts AS SELECT User, Host FROM mysql.user",
		"GRANT SELECT ON demo.accounts TO low")

	t.Run("a view over mysql.user reads with the reader's rights (INVOKER)", func(t *testing.T) {
		e := e.in(t)
		// The engine reads a view only with a current database.
		assert.Equal(t, uint16(1142), codeOf(e.conn("low", "pw", withDB("demo")), "SELECT * FROM demo.accounts"))
		assert.NotEmpty(t, columnOf(t, e.conn("root", rootPassword, withTLS, withDB("demo")), "SELECT User FROM demo.accounts", 0))
	})

	t.Run("its own rows of information_schema", func(t *testing.T) {
		assert.Equal(t, [][]string{{"'low'@'%'", "def", "USAGE", "NO"}},
			mustQuery(t, e, "low", "SELECT * FROM information_schema.USER_PRIVILEGES"))
		assert.Equal(t, [][]string{{"'low'@'%'", "def", "demo", "SELECT", "NO"}},
			mustQuery(t, e, "low", "SELECT * FROM information_schema.SCHEMA_PRIVILEGES"))
		assert.Equal(t, [][]string{{"'low'@'%'", "def", "demo", "accounts", "SELECT", "NO"}},
			mustQuery(t, e, "low", "SELECT * FROM information_schema.TABLE_PRIVILEGES"), "the view's grant")
		assert.Empty(t, mustQuery(t, e, "low", "SELECT * FROM information_schema.COLUMN_PRIVILEGES"))
	})

	t.Run("SELECT on mysql.* reads the tables and every row", func(t *testing.T) {
		e := e.in(t)
		all := columnOf(t, e.conn("auditor", "pw"), "SELECT User FROM mysql.user ORDER BY User", 0)
		assert.Equal(t, []string{"alice", "app", "auditor", "low", "reader", "root"}, all)
		grantees := columnOf(t, e.conn("auditor", "pw"),
			"SELECT DISTINCT GRANTEE FROM information_schema.USER_PRIVILEGES ORDER BY 1", 0)
		assert.Equal(t, []string{"'alice'@'%'", "'app'@'%'", "'auditor'@'%'", "'low'@'%'", "'reader'@'%'", "'root'@'localhost'"}, grantees)
	})

	t.Run("MySQL's rows for app", func(t *testing.T) {
		up := mustQuery(t, e, "auditor", "SELECT PRIVILEGE_TYPE, IS_GRANTABLE FROM information_schema.USER_PRIVILEGES WHERE GRANTEE = '''app''@''%'''")
		assert.Equal(t, [][]string{{"PROCESS", "NO"}, {"BACKUP_ADMIN", "YES"}}, up)
		sp := mustQuery(t, e, "auditor", "SELECT TABLE_SCHEMA, PRIVILEGE_TYPE, IS_GRANTABLE FROM information_schema.SCHEMA_PRIVILEGES WHERE GRANTEE = '''app''@''%'''")
		assert.Equal(t, [][]string{{"demo", "SELECT", "YES"}, {"demo", "INSERT", "YES"}}, sp)
		tp := mustQuery(t, e, "auditor", "SELECT TABLE_SCHEMA, TABLE_NAME, PRIVILEGE_TYPE, IS_GRANTABLE FROM information_schema.TABLE_PRIVILEGES WHERE GRANTEE = '''app''@''%'''")
		assert.Equal(t, [][]string{{"demo", "t", "UPDATE", "NO"}}, tp)
		cp := mustQuery(t, e, "auditor", "SELECT TABLE_NAME, COLUMN_NAME, PRIVILEGE_TYPE, IS_GRANTABLE FROM information_schema.COLUMN_PRIVILEGES WHERE GRANTEE = '''app''@''%''' ORDER BY 2")
		assert.Equal(t, [][]string{{"t", "a", "SELECT", "NO"}, {"t", "b", "UPDATE", "NO"}}, cp)
	})

	t.Run("a session limit on mysql hides the other accounts", func(t *testing.T) {
		e := e.in(t)
		// A role's grant only counts while it is active: app's default
		// role reader holds nothing on mysql, so app sees its own rows.
		got := columnOf(t, e.conn("app", "pw", withTLS), "SELECT DISTINCT GRANTEE FROM information_schema.USER_PRIVILEGES", 0)
		assert.Equal(t, []string{"'app'@'%'"}, got)
	})
}

func TestInspectReadOnly(t *testing.T) {
	e := startInspect(t)
	root := e.root()
	count := func(t *testing.T, table string) string {
		t.Helper()
		return columnOf(t, root, "SELECT COUNT(*) FROM mysql."+table, 0)[0]
	}
	before := map[string]string{}
	tables := []string{"user", "db", "tables_priv", "columns_priv", "role_edges", "default_roles", "proxies_priv", "global_grants"}
	for _, tb := range tables {
		before[tb] = count(t, tb)
	}
	cases := map[string]uint16{
		"INSERT INTO mysql.user (Host, User) VALUES ('%', 'intruder')":                1036,
		"REPLACE INTO mysql.db (Host, Db, User) VALUES ('%', 'demo', 'low')":          1036,
		"UPDATE mysql.user SET account_locked = 'Y' WHERE User = 'app'":               1036,
		"DELETE FROM mysql.user WHERE User = 'low'":                                   1036,
		"DELETE u FROM mysql.user u JOIN demo.t ON t.id = 1":                          1036,
		"TRUNCATE TABLE mysql.global_grants":                                          1036,
		"INSERT INTO mysql.global_grants SELECT 'low', '%', 'SUPER', 'Y' FROM demo.t": 1036,
		"ALTER TABLE mysql.user ADD COLUMN z INT":                                     1036,
		"DROP TABLE mysql.role_edges":                                                 1036,
		"DROP TABLE IF EXISTS mysql.role_edges":                                       1036,
		"CREATE INDEX u ON mysql.user (User)":                                         1036,
		"CREATE TABLE mysql.extra (a INT)":                                            3552,
		"CREATE VIEW mysql.v AS SELECT 1":                                             3552,
		"DROP DATABASE mysql":                                                         3552,
	}
	for q, want := range cases {
		assert.Equal(t, want, codeOf(root, q), q)
	}
	for _, tb := range tables {
		assert.Equal(t, before[tb], count(t, tb), "mysql.%s unchanged", tb)
	}
	assert.Equal(t, []string{"2"}, columnOf(t, root, "SELECT COUNT(*) FROM demo.t", 0), "no part of a refused statement ran")
	assert.Contains(t, columnOf(t, root, "SHOW DATABASES", 0), "mysql")

	t.Run("a trigger that would write mysql.user is refused when it fires", func(t *testing.T) {
		exec(t, root, "CREATE TABLE demo.log (id INT PRIMARY KEY)",
			"CREATE TRIGGER demo.sneak AFTER INSERT ON demo.log FOR EACH ROW DELETE FROM mysql.user WHERE User = 'low'")
		assert.Equal(t, uint16(1036), codeOf(root, "INSERT INTO demo.log VALUES (1)"))
		assert.Equal(t, before["user"], count(t, "user"))
		assert.Empty(t, columnOf(t, root, "SELECT id FROM demo.log", 0))
	})

	t.Run("without the privilege the refusal is MySQL's 1142", func(t *testing.T) {
		e := e.in(t)
		low := e.conn("low", "pw")
		assert.Equal(t, uint16(1142), codeOf(low, "INSERT INTO mysql.user (Host, User) VALUES ('%', 'x')"))
		assert.Equal(t, uint16(1142), codeOf(low, "UPDATE mysql.user SET account_locked = 'Y'"))
		assert.Equal(t, uint16(1142), codeOf(low, "DELETE FROM mysql.user"))
	})
}
