package tests

import (
	"context"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/authplug/authplug/priv"
)

// Hostile tests of the plan authorizer (server/AUTHZ.md): each class of
// path that once ran unchecked, tried by a low-privilege account.

func TestTriggerBodiesRunAsTheirDefinerInTheirDatabase(t *testing.T) {
	e := start(t, nil, "")
	root := e.root()
	exec(t, root,
		"CREATE DATABASE owned", "CREATE DATABASE victim",
		"CREATE TABLE victim.secret (s VARCHAR(20))", "INSERT INTO victim.secret VALUES ('crown jewels')",
		"CREATE TABLE victim.notes (n INT)",
		"CREATE TABLE owned.t (id INT)", "CREATE TABLE owned.loot (s VARCHAR(20))", "CREATE TABLE owned.log (id INT)",
		"CREATE USER own IDENTIFIED WITH mysql_native_password BY 'pw'",
		"GRANT ALL ON owned.* TO own", "GRANT SELECT ON victim.notes TO own",
		"CREATE USER inserter IDENTIFIED WITH mysql_native_password BY 'pw'",
		"GRANT INSERT ON owned.t TO inserter",
	)
	own := e.conn("own", "pw", withDB("owned"))
	exec(t, own,
		// An unqualified name in a body binds to the trigger's database,
		// never the firing session's.
		"CREATE TRIGGER steal AFTER INSERT ON t FOR EACH ROW INSERT INTO loot SELECT s FROM secret",
	)
	fromVictim := e.conn("own", "pw", withDB("victim"))
	_, err := fromVictim.ExecContext(context.Background(), "INSERT INTO owned.t VALUES (1)")
	require.Error(t, err, "the trigger's secret is owned.secret, which does not exist")
	rows, err := query(root, "SELECT COUNT(*) FROM owned.loot")
	require.NoError(t, err)
	assert.Equal(t, [][]string{{"0"}}, rows, "nothing was copied out of victim.secret")

	// Qualified names are checked as the definer, who holds nothing on
	// victim.secret: refused when the trigger is made (stricter than
	// MySQL, which checks only when it fires) or when it fires.
	exec(t, own, "DROP TRIGGER steal")
	if c := codeOf(own, "CREATE TRIGGER steal AFTER INSERT ON t FOR EACH ROW INSERT INTO loot SELECT s FROM victim.secret"); c == 0 {
		assert.Equal(t, uint16(1142), codeOf(own, "INSERT INTO t VALUES (2)"))
		exec(t, own, "DROP TRIGGER steal")
	} else {
		assert.Equal(t, uint16(1142), c)
	}
	rows, err = query(root, "SELECT COUNT(*) FROM owned.loot")
	require.NoError(t, err)
	assert.Equal(t, [][]string{{"0"}}, rows)

	// A definer's rights serve whoever fires the trigger: inserter may not
	// write owned.log, the trigger's definer may.
	exec(t, own, "CREATE TRIGGER logit AFTER INSERT ON t FOR EACH ROW INSERT INTO log VALUES (NEW.id)")
	ins := e.conn("inserter", "pw")
	exec(t, ins, "INSERT INTO owned.t VALUES (7)")
	assert.Equal(t, uint16(1142), codeOf(ins, "INSERT INTO owned.log VALUES (8)"))
	rows, err = query(root, "SELECT id FROM owned.log")
	require.NoError(t, err)
	assert.Equal(t, [][]string{{"7"}}, rows)
	// ... checked at every execution: revoking the definer's right stops it.
	exec(t, root, "REVOKE INSERT ON owned.* FROM own", "GRANT SELECT, TRIGGER ON owned.* TO own")
	assert.Equal(t, uint16(1142), codeOf(ins, "INSERT INTO owned.t VALUES (9)"))
}

func TestRoutinesRunAsTheirDefiner(t *testing.T) {
	e := start(t, nil, "")
	e.seed()
	root := e.root()
	exec(t, root,
		"CREATE USER exe IDENTIFIED WITH mysql_native_password BY 'pw'",
		"GRANT EXECUTE ON demo.* TO exe",
		"CREATE PROCEDURE demo.count_t() SELECT COUNT(*) FROM demo.t",
		"CREATE PROCEDURE demo.count_invoker() SQL SECURITY INVOKER SELECT COUNT(*) FROM demo.t",
	)
	exe := e.conn("exe", "pw")
	rows, err := query(exe, "CALL demo.count_t()")
	require.NoError(t, err, "EXECUTE is enough: the body runs with root's rights")
	assert.Equal(t, [][]string{{"2"}}, rows)
	assert.Equal(t, uint16(1142), codeOf(exe, "CALL demo.count_invoker()"), "SQL SECURITY INVOKER: the caller's rights")
	assert.Equal(t, uint16(1142), codeOf(exe, "SELECT COUNT(*) FROM demo.t"))

	// Naming another definer needs SET_USER_ID.
	exec(t, root, "GRANT CREATE ROUTINE ON demo.* TO exe")
	assert.Equal(t, uint16(1227), codeOf(exe, "CREATE DEFINER = 'root'@'localhost' PROCEDURE demo.mine() SELECT * FROM demo.t"))

	nobody := e.conn("exe", "pw")
	exec(t, root, "REVOKE EXECUTE ON demo.* FROM exe")
	assert.Equal(t, uint16(1370), codeOf(nobody, "CALL demo.count_t()"))
}

func TestFileAccessNeedsFILEAndTheSecureDirectory(t *testing.T) {
	e := start(t, nil, "")
	e.seed()
	root := e.root()
	exec(t, root,
		"CREATE USER low IDENTIFIED WITH mysql_native_password BY 'pw'", "GRANT SELECT, INSERT ON demo.* TO low",
		"CREATE USER filer IDENTIFIED WITH mysql_native_password BY 'pw'", "GRANT SELECT ON demo.* TO filer", "GRANT FILE ON *.* TO filer",
	)
	low, filer := e.conn("low", "pw"), e.conn("filer", "pw")
	secretPath := filepath.Join(e.dir, "grants.db")
	require.FileExists(t, secretPath, "the secret the reads below must not reach")
	secure := filepath.Join(e.dir, "secure-files")
	require.DirExists(t, secure, "secure_file_priv is created on start")

	assert.Equal(t, uint16(1227), codeOf(low, "SELECT LOAD_FILE('"+secretPath+"')"))
	rows, err := query(filer, "SELECT LOAD_FILE('"+secretPath+"')")
	if err == nil {
		assert.Equal(t, [][]string{{""}}, rows, "a file outside secure_file_priv reads as NULL")
	}
	traversal := filepath.Join(secure, "..", "grants.db")
	rows, err = query(filer, "SELECT LOAD_FILE('"+traversal+"')")
	if err == nil {
		assert.Equal(t, [][]string{{""}}, rows, "no way out of the secure directory")
	}

	out := filepath.Join(t.TempDir(), "dump")
	assert.Equal(t, uint16(1227), codeOf(low, "SELECT a FROM demo.t INTO DUMPFILE '"+out+"'"))
	assert.Equal(t, uint16(1290), codeOf(filer, "SELECT a FROM demo.t LIMIT 1 INTO DUMPFILE '"+out+"'"))
	assert.Equal(t, uint16(1290), codeOf(filer, "SELECT a FROM demo.t LIMIT 1 INTO DUMPFILE '"+filepath.Join(secure, "..", "x")+"'"))
	assert.NoFileExists(t, out)
	inside := filepath.Join(secure, "dump")
	_, err = query(filer, "SELECT a FROM demo.t LIMIT 1 INTO DUMPFILE '"+inside+"'")
	require.NoError(t, err)
	b, err := os.ReadFile(inside)
	require.NoError(t, err)
	assert.Equal(t, "10", strings.TrimSpace(string(b)))
	assert.Equal(t, uint16(1227), codeOf(low, "LOAD DATA INFILE '"+inside+"' INTO TABLE demo.t"))
}

func TestGlobalVariablesNeedSystemVariablesAdmin(t *testing.T) {
	e := start(t, nil, "")
	root := e.root()
	exec(t, root, "CREATE USER low IDENTIFIED WITH mysql_native_password BY 'pw'")
	low := e.conn("low", "pw")
	for _, q := range []string{
		"SET GLOBAL autocommit = 0",
		"SET @@global.sql_select_limit = 1",
		"SET @@GLOBAL.max_connections = 1",
		"SET PERSIST autocommit = 0",
		"SET PERSIST_ONLY autocommit = 0",
		"SET @@persist.autocommit = 0",
		"SET SESSION sql_log_bin = 0",
		"SET @a = 1, GLOBAL autocommit = 0",
	} {
		assert.Equal(t, uint16(1227), codeOf(low, q), q)
	}
	exec(t, low, "SET autocommit = 1", "SET @@session.sql_select_limit = 5", "SET @a = 1")
	exec(t, root, "GRANT SYSTEM_VARIABLES_ADMIN ON *.* TO low")
	exec(t, low, "SET GLOBAL sql_select_limit = 1000")
	exec(t, root, "SET GLOBAL sql_select_limit = DEFAULT")
}

func TestWritesNeedSelectOnWhatTheyRead(t *testing.T) {
	e := start(t, nil, "")
	e.seed()
	root := e.root()
	exec(t, root,
		"CREATE USER ins IDENTIFIED WITH mysql_native_password BY 'pw'", "GRANT INSERT ON demo.t TO ins",
		"CREATE USER upd IDENTIFIED WITH mysql_native_password BY 'pw'",
		"GRANT SELECT (id, a), UPDATE (a) ON demo.t TO upd",
		"CREATE USER del IDENTIFIED WITH mysql_native_password BY 'pw'", "GRANT DELETE ON demo.t TO del",
	)
	ins, upd, del := e.conn("ins", "pw"), e.conn("upd", "pw"), e.conn("del", "pw")
	assert.Equal(t, uint16(1142), codeOf(ins, "INSERT INTO demo.t VALUES (1, 0, 0) ON DUPLICATE KEY UPDATE a = 0"),
		"ON DUPLICATE KEY UPDATE needs UPDATE")
	assert.Equal(t, uint16(1143), codeOf(upd, "UPDATE demo.t SET a = b"), "copying an unreadable column")
	assert.Equal(t, uint16(1143), codeOf(upd, "UPDATE demo.t SET a = 1 WHERE b = 100"))
	exec(t, upd, "UPDATE demo.t SET a = 11 WHERE id = 1", "UPDATE demo.t SET a = a + 1")
	assert.Equal(t, uint16(1143), codeOf(del, "DELETE FROM demo.t WHERE b = 100"), "DELETE reads b")
	exec(t, del, "DELETE FROM demo.t WHERE 1 = 0")
	rows, err := query(root, "SELECT id, a, b FROM demo.t ORDER BY id")
	require.NoError(t, err)
	assert.Equal(t, [][]string{{"1", "12", "100"}, {"2", "21", "200"}}, rows, "only the allowed writes happened")
}

func TestEverythingElseFailsClosed(t *testing.T) {
	e := start(t, nil, "")
	e.seed()
	root := e.root()
	exec(t, root, "CREATE USER low IDENTIFIED WITH mysql_native_password BY 'pw'",
		"GRANT SELECT (a) ON demo.t TO low", "GRANT EVENT ON demo.* TO low")
	low := e.conn("low", "pw")
	assert.NotZero(t, codeOf(low, "CREATE EVENT demo.ev ON SCHEDULE EVERY 1 SECOND DO DELETE FROM demo.t"))
	assert.Equal(t, uint16(1235), codeOf(root, "CREATE EVENT demo.ev ON SCHEDULE EVERY 1 SECOND DO DELETE FROM demo.t"),
		"events would run with no session to check")
	rows, err := query(root, "SELECT COUNT(*) FROM information_schema.events")
	require.NoError(t, err)
	assert.Equal(t, [][]string{{"0"}}, rows)
	rows, err = query(low, "WITH c AS (SELECT 1 AS n) SELECT n FROM c")
	require.NoError(t, err, "a common table expression needs no privilege")
	assert.Equal(t, [][]string{{"1"}}, rows)
	assert.Equal(t, uint16(1142), codeOf(low, "SELECT * FROM demo.nosuch"), "missing and forbidden look alike")
	assert.Equal(t, uint16(1142), codeOf(low, "SELECT * FROM nosuchdb.t"))
	rows, err = query(low, "SELECT COUNT(*), MAX(a) FROM demo.t")
	require.NoError(t, err)
	assert.Equal(t, [][]string{{"2", "20"}}, rows)

	// KILL: one's own connections only, without CONNECTION_ADMIN.
	var rootID string
	r, err := query(root, "SELECT CONNECTION_ID()")
	require.NoError(t, err)
	rootID = r[0][0]
	assert.Equal(t, uint16(1095), codeOf(low, "KILL "+rootID))
	_, err = query(root, "SELECT 1")
	assert.NoError(t, err, "root's connection survived")
}

// The seed's scenario: a view runs with its definer's stored grants, never
// asking the definer's plugin, and stops when the definer loses the right.
func TestViewsRunAsTheirDefiner(t *testing.T) {
	e, p := withTokenPlugin(t)
	root := e.root()
	exec(t, root,
		"CREATE USER u2 IDENTIFIED WITH "+tokenPluginName+" BY 'tok2'",
		"GRANT SELECT ON demo.t TO u2", "GRANT CREATE VIEW ON demo.* TO u2",
		"CREATE USER u1 IDENTIFIED WITH mysql_native_password BY 'pw'",
	)
	u2 := e.conn("u2", "tok2", withTLS, withCleartext, withDB("demo"))
	exec(t, u2,
		"CREATE VIEW v AS SELECT id, a FROM demo.t",
		"CREATE SQL SECURITY INVOKER VIEW vi AS SELECT id, a FROM demo.t",
	)
	exec(t, root, "GRANT SELECT ON demo.v TO u1", "GRANT SELECT ON demo.vi TO u1")
	u1 := e.conn("u1", "pw", withDB("demo"))

	// u2's plugin would refuse SELECT now: it is not asked for u1's statement.
	p.deny.Store(uint64(priv.Select))
	before := p.verify.Load()
	rows, err := query(u1, "SELECT id, a FROM v ORDER BY id")
	require.NoError(t, err)
	assert.Equal(t, [][]string{{"1", "10"}, {"2", "20"}}, rows)
	rows, err = query(u1, "SELECT x.a FROM demo.v AS x WHERE x.id = 2")
	require.NoError(t, err)
	assert.Equal(t, [][]string{{"20"}}, rows)
	assert.Equal(t, before, p.verify.Load(), "the definer's plugin was consulted")

	assert.Equal(t, uint16(1142), codeOf(u1, "SELECT * FROM demo.t"), "the view is the only way in")
	assert.Equal(t, uint16(1142), codeOf(u1, "SELECT * FROM vi"), "SQL SECURITY INVOKER: u1's own rights")
	// A derived table written like the view is not the view.
	assert.Equal(t, uint16(1142), codeOf(u1, "SELECT * FROM (SELECT id, a FROM demo.t) AS v"))

	// A CTE shadowing the view's table, around the view's very text, does
	// not borrow the definer's rights; nor does it name the view it mimics.
	// A view over a view, or with derived tables or CTEs of its own, is read
	// with the reader's rights (a client's CTE could pose as any of them).
	exec(t, root, "CREATE DATABASE secretdb", "CREATE TABLE secretdb.s (id INT, a INT)", "INSERT INTO secretdb.s VALUES (7, 77)",
		"USE demo",
		"CREATE VIEW vstar AS select * from t",
		"CREATE VIEW vpub AS select id, a from t where id = 1",
		"CREATE VIEW vw AS select * from vpub",
		"CREATE VIEW vcte AS with c as (select * from t where id = 1) select id, a from c",
		"GRANT SELECT ON demo.vstar TO u1", "GRANT SELECT ON demo.vw TO u1", "GRANT SELECT ON demo.vcte TO u1",
	)
	rows, err = query(u1, "SELECT COUNT(*) FROM vstar")
	require.NoError(t, err)
	assert.Equal(t, [][]string{{"2"}}, rows)
	assert.Equal(t, uint16(1142), codeOf(u1, "SELECT * FROM vw"), "a view over a view: the reader's rights")
	assert.Equal(t, uint16(1142), codeOf(u1, "SELECT * FROM vcte"), "a view with a CTE: the reader's rights")
	for _, q := range []string{
		"WITH t AS (SELECT * FROM secretdb.s) SELECT * FROM (select * from t) AS vstar",
		"WITH t AS (SELECT * FROM secretdb.s) SELECT * FROM (select * from t) AS q",
		// Posing as the view a view reads, with its very text.
		"WITH t (id, a) AS (SELECT id, a FROM secretdb.s), vpub AS (select id, a from t where id = 1) SELECT * FROM (select * from vpub) AS zz",
		// Renaming columns in a CTE the view's text also writes.
		"WITH c (a, id, b) AS (select * from t) SELECT * FROM (with c as (select * from t where id = 1) select id, a from c) AS vcte",
	} {
		_, err := query(u1, q)
		assert.Equal(t, uint16(1142), code(err), q)
		if err != nil {
			assert.NotContains(t, err.Error(), "vstar", q)
		}
	}
	assert.Equal(t, uint16(1142), codeOf(u1, "SHOW CREATE TABLE demo.vstar"), "a view's text needs SHOW VIEW")
	// A view's reader must not choose what its definer's rights return.
	for _, q := range []string{
		"CREATE VIEW vvar AS select id, a from t where a = @f",
		"CREATE VIEW vsys AS select id, a from t where a = @@sql_select_limit",
		"CREATE VIEW vsub AS select id from t where a in (select @f)",
	} {
		_, err := root.ExecContext(context.Background(), q)
		assert.Equal(t, uint16(1351), code(err), "%s: %v", q, err)
	}

	exec(t, root, "REVOKE SELECT ON demo.t FROM u2")
	assert.Equal(t, uint16(1142), codeOf(u1, "SELECT * FROM v"), "revoking the definer's right stops the view")
}

// Found by attacking the authorizer: each was a way to get more.
func TestAttacksOnTheAuthorizer(t *testing.T) {
	e := start(t, nil, "")
	root := e.conn("root", rootPassword, withTLS)
	exec(t, root,
		"CREATE DATABASE ex", "CREATE DATABASE ins",
		"CREATE TABLE ex.t (id INT PRIMARY KEY, v TEXT)", "INSERT INTO ex.t VALUES (1, 'ex')",
		"CREATE TABLE ins.t (id INT PRIMARY KEY, v TEXT, hidden TEXT)", "INSERT INTO ins.t VALUES (1, 'a', 'hiddenval')",
		"USE ex", "CREATE PROCEDURE showt() SELECT * FROM t",
		"CREATE TRIGGER ins.trg BEFORE INSERT ON ins.t FOR EACH ROW SET NEW.hidden = 'token=s3cr3t'",
		"CREATE USER mix IDENTIFIED WITH mysql_native_password BY 'pw'",
		"GRANT INSERT ON ins.t TO mix", "GRANT EXECUTE ON ex.* TO mix",
		"CREATE USER own IDENTIFIED WITH mysql_native_password BY 'pw'", "GRANT ALL ON atk.* TO own",
	)
	mix := e.conn("mix", "pw", withDB("ins"))

	// A routine's unqualified names are the routine's database's, whoever
	// calls it from wherever.
	rows, err := query(mix, "CALL ex.showt()")
	require.NoError(t, err)
	assert.Equal(t, [][]string{{"1", "ex"}}, rows, "ex.t, not the caller's ins.t")

	// EXPLAIN needs what the statement needs, and TRIGGER to show a
	// trigger's body.
	assert.Equal(t, uint16(1142), codeOf(mix, "EXPLAIN PLAN INSERT INTO ins.t VALUES (10, 'a', 'b')"))
	assert.Equal(t, uint16(1142), codeOf(mix, "EXPLAIN SELECT hidden FROM ins.t"))
	assert.Equal(t, uint16(1142), codeOf(mix, "EXPLAIN PLAN UPDATE ins.t SET v = 'x'"))

	// LOAD_FILE is checked when it runs, even where the engine evaluates it
	// while planning; and a link out of secure_file_priv reads as NULL.
	secure := filepath.Join(e.dir, "secure-files")
	require.NoError(t, os.WriteFile(filepath.Join(secure, "s.txt"), []byte("SECRETDATA"), 0o600))
	require.FileExists(t, filepath.Join(e.dir, "grants.db"))
	require.NoError(t, os.Symlink(filepath.Join(e.dir, "grants.db"), filepath.Join(secure, "lnk")))
	own := e.conn("own", "pw")
	assert.Equal(t, uint16(1227), codeOf(own, "SELECT 1 WHERE LOAD_FILE('"+filepath.Join(secure, "s.txt")+"') LIKE 'SECRET%'"))
	rows, err = query(root, "SELECT LOAD_FILE('"+filepath.Join(secure, "lnk")+"') IS NULL, LOAD_FILE('"+filepath.Join(secure, "s.txt")+"')")
	require.NoError(t, err)
	assert.Equal(t, [][]string{{"1", "SECRETDATA"}}, rows)

	// A database-level grant covers creating and dropping that database.
	exec(t, own, "CREATE DATABASE IF NOT EXISTS atk", "CREATE TABLE atk.x (a INT)", "DROP DATABASE atk")
	assert.Equal(t, uint16(1044), codeOf(own, "CREATE DATABASE other"))

	// Locking reads need more than SELECT; KILL of nothing says so.
	exec(t, root, "GRANT SELECT ON ex.* TO own")
	for _, q := range []string{"SELECT * FROM ex.t FOR UPDATE", "SELECT * FROM ex.t LOCK IN SHARE MODE"} {
		assert.Equal(t, uint16(1142), codeOf(own, q), q)
	}
	assert.Equal(t, uint16(1094), codeOf(own, "KILL 987654"))
}

func TestShowCannotTellMissingFromForbidden(t *testing.T) {
	e := start(t, nil, "")
	e.seed()
	root := e.root()
	exec(t, root, "CREATE DATABASE victim", "CREATE TABLE victim.secret (s INT)",
		"CREATE USER low IDENTIFIED WITH mysql_native_password BY 'pw'", "GRANT SELECT ON demo.* TO low")
	low := e.conn("low", "pw")
	for _, pair := range [][2]string{
		{"SHOW TABLES FROM victim", "SHOW TABLES FROM nosuchdb"},
		{"SHOW TABLE STATUS FROM victim", "SHOW TABLE STATUS FROM nosuchdb"},
		{"SHOW CREATE DATABASE victim", "SHOW CREATE DATABASE nosuchdb"},
		{"SHOW COLUMNS FROM victim.secret", "SHOW COLUMNS FROM victim.nosuch"},
		{"SHOW CREATE TABLE victim.secret", "SHOW CREATE TABLE victim.nosuch"},
		{"SHOW INDEX FROM victim.secret", "SHOW INDEX FROM victim.nosuch"},
		{"SHOW COLUMNS FROM victim.secret", "SHOW COLUMNS FROM nosuchdb.t"},
		{"DESCRIBE victim.secret", "DESCRIBE victim.nope"},
		{"DESCRIBE victim.secret", "DESCRIBE nodb.zz"},
	} {
		forbidden, missing := codeOf(low, pair[0]), codeOf(low, pair[1])
		assert.NotZero(t, forbidden, pair[0])
		assert.Equal(t, forbidden, missing, "%s / %s", pair[0], pair[1])
	}
}

// information_schema.TRIGGERS reads each trigger in its own database: the
// caller's current database neither breaks it nor tells which tables
// elsewhere have triggers.
func TestTriggersListingBindsInTheTriggersDatabase(t *testing.T) {
	e := start(t, nil, "")
	root := e.conn("root", rootPassword, withTLS)
	exec(t, root,
		"CREATE DATABASE victim", "CREATE TABLE victim.payroll_2026 (id INT)", "CREATE TABLE victim.log (id INT)",
		"USE victim", "CREATE TRIGGER pay AFTER INSERT ON payroll_2026 FOR EACH ROW INSERT INTO log VALUES (NEW.id)",
		"CREATE DATABASE own", "CREATE USER low IDENTIFIED WITH mysql_native_password BY 'pw'", "GRANT ALL ON own.* TO low",
		"USE demo",
	)
	rows, err := query(root, "SELECT trigger_schema, trigger_name, event_object_table FROM information_schema.triggers WHERE trigger_schema = 'victim'")
	require.NoError(t, err, "read from another current database")
	assert.Equal(t, [][]string{{"victim", "pay", "payroll_2026"}}, rows)

	low := e.conn("low", "pw", withDB("own"))
	probe := "SELECT COUNT(*) FROM information_schema.triggers"
	rows, err = query(low, probe)
	require.NoError(t, err)
	assert.Equal(t, [][]string{{"0"}}, rows)
	exec(t, low, "CREATE TABLE payroll_2026 (id INT)")
	rows2, err := query(low, probe)
	require.NoError(t, err)
	assert.Equal(t, rows, rows2, "creating a table of the same name changes nothing")
}
