package tests

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"sort"
	"strings"
	"testing"
	"time"

	"github.com/go-sql-driver/mysql"
	"github.com/stretchr/testify/require"
)

// authplug's deliberate differences from MySQL 8 (and MariaDB) are
// recorded, each with its reason, in authplugDifferences below.
//
// The differential test (TestDifferentialMariaDB): the same schema,
// accounts, roles and grants on authplug's server and on Debian's MariaDB
// (mariadb_test.go), then every (account, statement) pair of the tables
// below on both, comparing allowed / denied and, for metadata, the rows the
// account can see. MySQL 8 is the reference; where MariaDB differs from
// MySQL 8, knownDifferences says so, and where authplug differs on purpose,
// authplugDifferences does. A failure is one line per disagreement, grouped
// by class.
//
//	go test -race ./tests/ -run Differential

// diffSetup is run as root on both servers, in order. A statement whose
// grammar differs has a MariaDB spelling.
var diffSetup = []struct{ authplug, mariadb string }{
	{"", "CREATE DATABASE demo"},
	{"CREATE DATABASE shop", ""},
	{"CREATE DATABASE hr", ""},
	{"CREATE DATABASE secret", ""},
	{"CREATE DATABASE scratch", ""},
	{"CREATE TABLE shop.items (id INT PRIMARY KEY, name VARCHAR(20), price INT)", ""},
	{"CREATE TABLE shop.orders (id INT PRIMARY KEY, item_id INT, qty INT)", ""},
	{"CREATE TABLE shop.audit (id INT AUTO_INCREMENT PRIMARY KEY, note VARCHAR(64))", ""},
	{"CREATE TABLE hr.staff (id INT PRIMARY KEY, name VARCHAR(20), salary INT)", ""},
	{"CREATE TABLE secret.vault (id INT PRIMARY KEY, k VARCHAR(20))", ""},
	{"INSERT INTO shop.items VALUES (1, 'apple', 3), (2, 'pear', 4), (3, 'plum', 5)", ""},
	{"INSERT INTO shop.orders VALUES (1, 1, 10), (2, 3, 20)", ""},
	{"INSERT INTO hr.staff VALUES (1, 'ann', 100), (2, 'bob', 200)", ""},
	{"INSERT INTO secret.vault VALUES (1, 'k1')", ""},
	{"CREATE VIEW shop.v_items AS SELECT id, name FROM shop.items", ""},
	{"CREATE VIEW shop.v_staff AS SELECT name FROM hr.staff", ""},
	{"CREATE TRIGGER shop.orders_ai AFTER INSERT ON shop.orders FOR EACH ROW INSERT INTO shop.audit (note) VALUES ('order')", ""},
	{"CREATE TRIGGER shop.items_au AFTER UPDATE ON shop.items FOR EACH ROW INSERT INTO shop.audit (note) VALUES ('item')", ""},
	{"CREATE TRIGGER hr.staff_ad AFTER DELETE ON hr.staff FOR EACH ROW INSERT INTO secret.vault VALUES (OLD.id + 1000, OLD.name)", ""},
	{"CREATE PROCEDURE shop.p_count() SELECT COUNT(*) FROM shop.items", ""},
	{"CREATE PROCEDURE shop.p_note(IN n VARCHAR(64)) INSERT INTO shop.audit (note) VALUES (n)", ""},
	{"CREATE PROCEDURE hr.p_secret() SELECT COUNT(*) FROM secret.vault", ""},
	{"CREATE ROLE hr_reader", ""},
	{"GRANT SELECT, EXECUTE ON hr.* TO hr_reader", ""},
	{"CREATE ROLE shop_writer", ""},
	{"GRANT INSERT, UPDATE, DELETE ON shop.* TO shop_writer", ""},
	{"GRANT SELECT ON shop.items TO shop_writer", ""},
}

// diffAccount is a low-privilege account: its grants (run as root on both
// servers, with %s for the account) and what its session runs at login.
type diffAccount struct {
	name    string
	grants  []string
	mariadb []string // MariaDB spellings of account-specific grammar, run after grants
	session []string
}

var diffAccounts = []diffAccount{
	{name: "nopriv"},
	{name: "sel_items", grants: []string{"GRANT SELECT ON shop.items TO %s"}},
	{name: "ins_items", grants: []string{"GRANT INSERT ON shop.items TO %s"}},
	{name: "colpriv", grants: []string{"GRANT SELECT (id, name), INSERT (id, name), UPDATE (price) ON shop.items TO %s"}},
	{name: "shop_read", grants: []string{"GRANT SELECT ON shop.* TO %s"}},
	{name: "shop_write", grants: []string{"GRANT SELECT, INSERT, UPDATE, DELETE ON shop.* TO %s"}},
	{name: "role_default", grants: []string{"GRANT hr_reader TO %s", "authplug:SET DEFAULT ROLE hr_reader TO %s"},
		mariadb: []string{"SET DEFAULT ROLE hr_reader FOR %s"}},
	{name: "role_set", grants: []string{"GRANT shop_writer TO %s"}, session: []string{"SET ROLE shop_writer"}},
	{name: "role_inactive", grants: []string{"GRANT hr_reader TO %s"}},
	{name: "executor", grants: []string{"GRANT EXECUTE ON shop.* TO %s"}},
	{name: "viewer", grants: []string{"GRANT SELECT ON shop.v_items TO %s", "GRANT SELECT ON shop.v_staff TO %s"}},
	{name: "trig_user", grants: []string{"GRANT INSERT ON shop.orders TO %s", "GRANT SELECT, DELETE ON hr.staff TO %s"}},
	{name: "ddl_user", grants: []string{"GRANT CREATE, DROP, ALTER, INDEX, CREATE VIEW, SHOW VIEW, LOCK TABLES, TRIGGER ON shop.* TO %s",
		"GRANT CREATE ON scratch.* TO %s"}},
	{name: "ops", grants: []string{"GRANT RELOAD, PROCESS, SUPER ON *.* TO %s"}},
	{name: "filer", grants: []string{"GRANT FILE ON *.* TO %s", "GRANT SELECT ON shop.items TO %s"}},
	{name: "global_sel", grants: []string{"GRANT SELECT ON *.* TO %s"}},
}

// diffStmt is one statement template. Placeholders, filled per server:
// {victim} another session's connection id, {self} the account's own,
// {outfile} a new file name, {infile} a readable file.
type diffStmt struct {
	sql     string
	write   bool     // run inside a transaction that is rolled back
	rows    int      // compare the first rows columns of the visible rows (0: allowed/denied only)
	cleanup []string // run as root on a server where the statement succeeded
	after   []string // run on the account's own session afterwards (errors ignored)
	reopen  bool     // the statement changes the session (USE): new sessions afterwards
}

func rd(q string) diffStmt             { return diffStmt{sql: q} }
func wr(q string) diffStmt             { return diffStmt{sql: q, write: true} }
func meta(cols int, q string) diffStmt { return diffStmt{sql: q, rows: cols} }
func ddl(q string, cleanup ...string) diffStmt {
	return diffStmt{sql: q, cleanup: cleanup}
}

// inDiffDBs are the databases the test creates on both servers (demo is
// the harness's own on authplug, created empty on MariaDB).
const inDiffDBs = "('demo', 'shop', 'hr', 'secret', 'scratch')"

var diffStmts = []diffStmt{
	// SELECT, with every way of reading a table.
	rd("SELECT 1"),
	rd("SELECT CONNECTION_ID() > 0"),
	rd("SELECT * FROM shop.items"),
	rd("SELECT id, name FROM shop.items"),
	rd("SELECT price FROM shop.items"),
	rd("SELECT id FROM shop.items WHERE price > 3"),
	rd("SELECT name FROM shop.items ORDER BY price"),
	rd("SELECT COUNT(*) FROM shop.items"),
	rd("SELECT * FROM shop.orders"),
	rd("SELECT * FROM shop.audit"),
	rd("SELECT * FROM hr.staff"),
	rd("SELECT name FROM hr.staff"),
	rd("SELECT * FROM secret.vault"),
	rd("SELECT * FROM shop.nosuch"),
	rd("SELECT * FROM nosuchdb.t"),
	// Unknown columns: the table's refusal where it may not be read
	// (columnerr_test.go).
	rd("SELECT nosuch FROM shop.items"),
	rd("SELECT id FROM shop.items WHERE nosuch = 1"),
	rd("SELECT nosuch FROM hr.staff"),
	wr("UPDATE shop.items SET nosuch = 1 WHERE id = 1"),
	rd("SELECT i.name, o.qty FROM shop.items i JOIN shop.orders o ON o.item_id = i.id"),
	rd("SELECT s.name FROM hr.staff s JOIN shop.items i ON i.id = s.id"),
	rd("SELECT i.id FROM shop.items i LEFT JOIN secret.vault v ON v.id = i.id"),
	rd("SELECT name FROM shop.items WHERE id IN (SELECT item_id FROM shop.orders)"),
	rd("SELECT id FROM shop.items WHERE EXISTS (SELECT 1 FROM secret.vault)"),
	rd("SELECT id, (SELECT COUNT(*) FROM hr.staff) FROM shop.items"),
	rd("SELECT d.name FROM (SELECT id, name FROM shop.items) d"),
	rd("WITH c AS (SELECT id, name FROM shop.items) SELECT name FROM c"),
	rd("WITH c AS (SELECT salary FROM hr.staff) SELECT MAX(salary) FROM c"),
	rd("WITH RECURSIVE r (n) AS (SELECT 1 UNION ALL SELECT n + 1 FROM r WHERE n < 3) SELECT n FROM r"),
	rd("SELECT id FROM shop.items UNION SELECT id FROM hr.staff"),
	rd("SELECT * FROM shop.v_items"),
	rd("SELECT name FROM shop.v_items WHERE id = 1"),
	rd("SELECT * FROM shop.v_staff"),
	wr("SELECT id FROM shop.items WHERE id = 1 FOR UPDATE"),
	rd("SELECT CURRENT_USER()"),
	// The grant tables: SELECT on mysql (authplug's are views of its store).
	rd("SELECT COUNT(*) FROM mysql.user"),
	rd("SELECT User, Host FROM mysql.db"),
	rd("SELECT * FROM mysql.tables_priv"),
	rd("SELECT i.id FROM shop.items i JOIN mysql.user u ON u.User = 'root'"),
	rd("SELECT id FROM shop.items WHERE EXISTS (SELECT 1 FROM mysql.proxies_priv)"),
	wr("DELETE FROM mysql.db WHERE User = 'nosuch'"),

	// Writes.
	wr("INSERT INTO shop.items VALUES (10, 'fig', 1)"),
	wr("INSERT INTO shop.items (id, name) VALUES (11, 'kiwi')"),
	wr("INSERT INTO shop.items (id, price) VALUES (12, 7)"),
	wr("INSERT INTO shop.orders VALUES (10, 1, 5)"),
	wr("INSERT INTO shop.audit (note) VALUES ('by hand')"),
	wr("INSERT INTO hr.staff VALUES (10, 'cat', 1)"),
	wr("INSERT INTO secret.vault VALUES (10, 'k10')"),
	wr("UPDATE shop.items SET price = 7"),
	wr("UPDATE shop.items SET price = 7 WHERE id = 1"),
	wr("UPDATE shop.items SET price = price + 1 WHERE id = 1"),
	wr("UPDATE shop.items SET name = 'quince' WHERE id = 1"),
	wr("UPDATE hr.staff SET salary = 0"),
	wr("UPDATE shop.items i JOIN shop.orders o ON o.item_id = i.id SET i.price = o.qty"),
	wr("UPDATE shop.orders SET qty = (SELECT MAX(salary) FROM hr.staff) WHERE id = 1"),
	wr("DELETE FROM shop.items WHERE id = 3"),
	wr("DELETE FROM shop.items"),
	wr("DELETE FROM shop.orders WHERE id = 1"),
	wr("DELETE FROM hr.staff WHERE id = 2"),
	wr("DELETE FROM secret.vault"),
	wr("DELETE shop.orders FROM shop.orders JOIN shop.items ON shop.items.id = shop.orders.item_id WHERE shop.items.price > 4"),
	wr("REPLACE INTO shop.items VALUES (1, 'apple', 9)"),
	wr("REPLACE INTO shop.items (id, name) VALUES (20, 'lime')"),
	wr("INSERT INTO shop.items VALUES (1, 'apple', 3) ON DUPLICATE KEY UPDATE price = 9"),
	wr("INSERT INTO shop.items (id, name) VALUES (1, 'apple') ON DUPLICATE KEY UPDATE name = VALUES(name)"),
	wr("INSERT INTO shop.items (id, name) SELECT id + 100, name FROM hr.staff"),
	wr("INSERT INTO shop.orders SELECT id + 100, id, 1 FROM shop.items"),
	wr("INSERT INTO shop.audit (note) SELECT k FROM secret.vault"),

	// Routines: bodies run as their definer (root) in MySQL.
	rd("CALL shop.p_count()"),
	wr("CALL shop.p_note('called')"),
	rd("CALL hr.p_secret()"),
	rd("CALL shop.nosuch_proc()"),

	// DDL.
	ddl("CREATE TABLE shop.items_copy LIKE shop.items", "DROP TABLE IF EXISTS shop.items_copy"),
	ddl("CREATE TABLE scratch.items_copy LIKE shop.items", "DROP TABLE IF EXISTS scratch.items_copy"),
	ddl("CREATE TABLE scratch.hr_copy LIKE hr.staff", "DROP TABLE IF EXISTS scratch.hr_copy"),
	ddl("CREATE TABLE scratch.fresh (id INT PRIMARY KEY)", "DROP TABLE IF EXISTS scratch.fresh"),
	// A missing table is refused as an existing forbidden one is.
	ddl("CREATE TABLE scratch.nosuch_copy LIKE secret.nosuch", "DROP TABLE IF EXISTS scratch.nosuch_copy"),
	ddl("CREATE TABLE scratch.fk_vault (id INT, FOREIGN KEY (id) REFERENCES secret.vault(id))", "DROP TABLE IF EXISTS scratch.fk_vault"),
	ddl("CREATE TABLE scratch.fk_nosuch (id INT, FOREIGN KEY (id) REFERENCES secret.nosuch(id))", "DROP TABLE IF EXISTS scratch.fk_nosuch"),
	ddl("CREATE VIEW shop.v_new AS SELECT id FROM shop.items", "DROP VIEW IF EXISTS shop.v_new"),
	ddl("CREATE DATABASE made_by_test", "DROP DATABASE IF EXISTS made_by_test"),
	ddl("DROP TABLE IF EXISTS shop.nosuch"),
	ddl("TRUNCATE TABLE shop.audit"),
	{sql: "LOCK TABLES shop.items READ", after: []string{"UNLOCK TABLES"}},

	// SHOW.
	meta(1, "SHOW DATABASES"),
	meta(1, "SHOW TABLES FROM shop"),
	meta(1, "SHOW TABLES FROM hr"),
	meta(1, "SHOW TABLES FROM secret"),
	meta(2, "SHOW FULL TABLES FROM shop"),
	rd("SHOW CREATE TABLE shop.items"),
	rd("SHOW CREATE TABLE hr.staff"),
	rd("SHOW CREATE TABLE secret.vault"),
	rd("SHOW CREATE VIEW shop.v_items"),
	meta(1, "SHOW COLUMNS FROM shop.items"),
	meta(1, "SHOW COLUMNS FROM hr.staff"),
	meta(1, "SHOW COLUMNS FROM secret.vault"),
	rd("SHOW INDEX FROM shop.items"),
	// go-mysql-server lists no views in SHOW TABLE STATUS.
	meta(1, "SHOW TABLE STATUS FROM shop WHERE Name NOT LIKE 'v%'"),
	meta(1, "SHOW TRIGGERS FROM shop"),
	meta(2, "SHOW PROCEDURE STATUS WHERE Db IN "+inDiffDBs),
	rd("SHOW CREATE PROCEDURE shop.p_count"),
	rd("SHOW GRANTS"),
	rd("SHOW GRANTS FOR root@localhost"),
	rd("SHOW PROCESSLIST"),
	{sql: "USE shop", reopen: true},
	{sql: "USE secret", reopen: true},

	// information_schema: the rows each account may see.
	meta(1, "SELECT schema_name FROM information_schema.schemata"),
	meta(3, "SELECT table_schema, table_name, table_type FROM information_schema.tables WHERE table_schema IN "+inDiffDBs),
	meta(3, "SELECT table_schema, table_name, column_name FROM information_schema.columns WHERE table_schema IN "+inDiffDBs),
	meta(2, "SELECT table_schema, table_name FROM information_schema.views WHERE table_schema IN "+inDiffDBs),
	meta(2, "SELECT routine_schema, routine_name FROM information_schema.routines WHERE routine_schema IN "+inDiffDBs),
	meta(2, "SELECT trigger_schema, trigger_name FROM information_schema.triggers WHERE trigger_schema IN "+inDiffDBs),
	meta(3, "SELECT table_schema, table_name, index_name FROM information_schema.statistics WHERE table_schema IN "+inDiffDBs),
	meta(3, "SELECT grantee, table_schema, privilege_type FROM information_schema.schema_privileges WHERE table_schema IN "+inDiffDBs),
	meta(4, "SELECT grantee, table_schema, table_name, privilege_type FROM information_schema.table_privileges WHERE table_schema IN "+inDiffDBs),
	meta(1, "SELECT DISTINCT user FROM information_schema.processlist"),
	meta(1, "SELECT COUNT(*) > 0 FROM information_schema.processlist WHERE user <> SUBSTRING_INDEX(USER(), '@', 1)"),

	// Server administration and files.
	rd("SET GLOBAL net_read_timeout = 30"),
	rd("SET SESSION net_read_timeout = 30"),
	meta(1, "SELECT LOAD_FILE('{infile}')"),
	rd("SELECT id FROM shop.items INTO OUTFILE '{outfile}'"),
	rd("SELECT 1 INTO OUTFILE '{outfile}'"),
	rd("ANALYZE TABLE shop.items"),
	rd("OPTIMIZE TABLE shop.items"),
	rd("CHECK TABLE shop.items"),
	rd("CHECKSUM TABLE shop.items"),
	rd("ANALYZE TABLE secret.vault"),
	rd("ANALYZE TABLE secret.nosuch"),
	rd("ANALYZE TABLE shop.nosuch"),
	wr("LOAD DATA INFILE '{infile}' INTO TABLE secret.vault"),
	wr("LOAD DATA INFILE '{infile}' INTO TABLE secret.nosuch"),
	rd("FLUSH TABLES"),
	rd("FLUSH PRIVILEGES"),
	rd("KILL QUERY {victim}"),
	rd("KILL {victim}"),
	rd("KILL QUERY {self}"),
	ddl("CREATE USER made_by_test", "DROP USER IF EXISTS made_by_test"),
	ddl("GRANT SELECT ON shop.items TO nopriv", "REVOKE SELECT ON shop.items FROM nopriv"),
}

// knownDifferences are the pairs where MySQL 8 and MariaDB disagree. MySQL
// 8 wins: authplug must give MySQL 8's answer, and is never allowed where
// MySQL 8 denies. An entry is about allowed/denied, or, with rows set, about
// the rows a metadata statement shows (MySQL 8's rows, in visible's form).
type knownDiff struct {
	reason   string
	stricter string   // "mysql8" or "mariadb"
	rows     []string // MySQL 8's visible rows; nil for an allowed/denied entry
}

type diffKey struct{ account, stmt string }

var knownDifferences = map[diffKey]knownDiff{}

func init() {
	// https://dev.mysql.com/doc/refman/8.0/en/innodb-locking-reads.html
	for _, a := range []string{"sel_items", "shop_read", "filer", "global_sel"} {
		knownDifferences[diffKey{a, "SELECT id FROM shop.items WHERE id = 1 FOR UPDATE"}] = knownDiff{
			reason:   "MySQL 8: SELECT ... FOR UPDATE needs SELECT and one of UPDATE, DELETE, LOCK TABLES; MariaDB needs SELECT only",
			stricter: "mysql8",
		}
	}
	// https://dev.mysql.com/doc/refman/8.0/en/information-schema-triggers-table.html
	// and SHOW TRIGGERS: MySQL 8 lists a table's triggers only to holders
	// of TRIGGER on the table; MariaDB lists them to holders of any
	// privilege on it other than SELECT.
	const why = "MySQL 8 shows a table's triggers only with the TRIGGER privilege on it; MariaDB with any privilege but SELECT"
	for _, a := range []string{"ins_items", "colpriv", "shop_write", "role_set", "trig_user"} {
		for _, q := range []string{"SHOW TRIGGERS FROM shop",
			"SELECT trigger_schema, trigger_name FROM information_schema.triggers WHERE trigger_schema IN " + inDiffDBs} {
			knownDifferences[diffKey{a, q}] = knownDiff{reason: why, stricter: "mysql8", rows: []string{}}
		}
	}
}

// authplugDifferences are the pairs where authplug deliberately answers
// otherwise than MySQL 8 and MariaDB, for now or for good. An entry excuses
// its pair only while the pair is still in class, and only when authplug
// ran nothing the reference refused and showed nothing the reference hid:
// STRICTER, a denial with a MySQL privilege error number; LOOSER-ERROR or
// NOT-COMPARED, an error meaning the statement did not run (notRun); ROWS
// or ROOT-ROWS, a strict subset of the reference's rows. An entry whose
// pair now agrees is STALE, and fails the test until it is removed.
type authplugDiff struct {
	reason string
	class  string // the pair's class without the entry: classStricter, classLooserErr, classGap, classRows or classRoot
}

var authplugDifferences = map[diffKey]authplugDiff{}

// differ records one reason for a statement and the accounts ("root" for
// a ROOT-ROWS entry) where it applies.
func differ(class, reason, stmt string, accounts ...string) {
	for _, a := range accounts {
		key := diffKey{a, stmt}
		if _, dup := authplugDifferences[key]; dup {
			panic(fmt.Sprintf("authplugDifferences: %s | %s twice", a, stmt))
		}
		authplugDifferences[key] = authplugDiff{reason: reason, class: class}
	}
}

func init() {
	// The accounts that hold no privilege on shop.items.
	noItems := []string{"nopriv", "role_default", "role_inactive", "executor", "viewer", "trig_user", "ops"}

	const unparsed = "go-mysql-server cannot parse CHECK TABLE, OPTIMIZE TABLE or CHECKSUM TABLE " +
		"(error 1105, syntax error, for every account, root included): nothing runs"
	differ(classLooserErr, unparsed, "CHECK TABLE shop.items", noItems...)
	differ(classGap, unparsed, "CHECK TABLE shop.items",
		"sel_items", "ins_items", "colpriv", "shop_read", "shop_write", "role_set", "ddl_user", "filer", "global_sel")
	differ(classLooserErr, unparsed, "CHECKSUM TABLE shop.items", append([]string{"ins_items", "ddl_user"}, noItems...)...)
	differ(classGap, unparsed, "CHECKSUM TABLE shop.items",
		"sel_items", "colpriv", "shop_read", "shop_write", "role_set", "filer", "global_sel")
	differ(classLooserErr, unparsed, "OPTIMIZE TABLE shop.items", append([]string{"sel_items", "ins_items", "shop_read",
		"ddl_user", "filer", "global_sel"}, noItems...)...)
	differ(classGap, unparsed, "OPTIMIZE TABLE shop.items", "colpriv", "shop_write", "role_set")

	differ(classStricter, "SELECT ... FOR UPDATE needs table-level UPDATE or DELETE, or LOCK TABLES, in authplug: "+
		"column-level UPDATE does not count", "SELECT id FROM shop.items WHERE id = 1 FOR UPDATE", "colpriv")

	differ(classStricter, "SHOW CREATE PROCEDURE without global SELECT, SHOW_ROUTINE, or CREATE or ALTER ROUTINE on the "+
		"routine's database: authplug refuses with 1044; MySQL 8 answers with no body (NULL), MariaDB with 1305 "+
		"(no such procedure) unless the account may execute it",
		"SHOW CREATE PROCEDURE shop.p_count", "nopriv", "role_default", "role_inactive", "ops", "sel_items", "ins_items",
		"colpriv", "shop_read", "shop_write", "role_set", "executor", "viewer", "trig_user", "ddl_user", "filer")

	differ(classStricter, "ANALYZE TABLE needs table-level SELECT and INSERT in authplug: column-level grants do not count",
		"ANALYZE TABLE shop.items", "colpriv")

	differ(classStricter, "LOAD_FILE without FILE is refused in authplug (1227); MySQL 8 and MariaDB return NULL",
		"SELECT LOAD_FILE('{infile}')", "nopriv", "sel_items", "ins_items", "colpriv", "shop_read", "shop_write",
		"role_default", "role_set", "role_inactive", "executor", "viewer", "trig_user", "ddl_user", "ops", "global_sel")
	differ(classRoot, "LOAD_FILE reads only inside authplug's secure_file_priv directory (<data-dir>/secure-files): "+
		"the test's file is outside it, so root gets NULL", "SELECT LOAD_FILE('{infile}')", "root")

	const globalOnly = "an account whose only privileges are global non-database ones (RELOAD, PROCESS, SUPER, FILE) " +
		"is refused the database's listing with 1044 in authplug, as it is refused USE; MariaDB lists it"
	differ(classStricter, globalOnly, "SHOW TABLES FROM shop", "ops")
	differ(classStricter, globalOnly, "SHOW TABLES FROM hr", "ops", "filer")
	differ(classStricter, globalOnly, "SHOW TABLES FROM secret", "ops", "filer")
	differ(classStricter, globalOnly, "SHOW FULL TABLES FROM shop", "ops")
	differ(classStricter, globalOnly, "SHOW TABLE STATUS FROM shop WHERE Name NOT LIKE 'v%'", "ops")
	differ(classStricter, globalOnly, "SHOW TRIGGERS FROM shop", "ops")

	differ(classRoot, "go-mysql-server filters SHOW TRIGGERS by its own privilege set, which authplug does not use, "+
		"so it is empty even for root (information_schema.triggers lists the triggers)", "SHOW TRIGGERS FROM shop", "root")
	differ(classRoot, "go-mysql-server's information_schema.statistics has no PRIMARY indexes",
		"SELECT table_schema, table_name, index_name FROM information_schema.statistics WHERE table_schema IN "+inDiffDBs, "root")
}

// excuses says why entry ad does not excuse a pair of class cls ("" when
// it does): apl is authplug's outcome, ref and got the reference's rows
// and the rows authplug shows (for ROWS and ROOT-ROWS).
func (ad authplugDiff) excuses(cls string, mdb, apl diffOutcome, ref, got []string) string {
	if cls != ad.class {
		return "recorded as " + classLabel(ad.class)
	}
	switch cls {
	case classStricter:
		if apl.err != nil && privilegeErrors[apl.code] {
			return ""
		}
		return "not a privilege error"
	case classLooserErr, classGap:
		if notRun(apl) {
			return ""
		}
		return "not an error meaning the statement did not run"
	case classRows, classRoot:
		if mdb.err != nil || apl.err != nil {
			return "an error"
		}
		if len(got) >= len(ref) || len(within(got, ref)) != len(got) {
			return "not fewer rows than MariaDB, or rows MariaDB hides"
		}
		return ""
	}
	return "never excused"
}

// notRun is an error meaning the statement did not run at all: it could
// not be parsed, or is not supported.
func notRun(o diffOutcome) bool {
	switch o.code {
	case 1064, 1235: // ER_PARSE_ERROR, ER_NOT_SUPPORTED_YET
		return true
	case 1105: // ER_UNKNOWN_ERROR: go-mysql-server's parse errors
		return strings.HasPrefix(mysqlMessage(o.err), "syntax error")
	}
	return false
}

// shown is visible without the rows that are NULL in every compared
// column, which show nothing (LOAD_FILE of a file it may not read).
func shown(st diffStmt, rows [][]string) []string {
	return visible(st, slices.DeleteFunc(slices.Clone(rows), func(r []string) bool {
		for _, v := range r[:min(st.rows, len(r))] {
			if v != "NULL" {
				return false
			}
		}
		return true
	}))
}

func classLabel(class string) string { return strings.Fields(class)[0] }

// privilegeErrors are the MySQL error numbers that mean "denied".
var privilegeErrors = map[uint16]bool{
	1044: true, // ER_DBACCESS_DENIED_ERROR
	1045: true, // ER_ACCESS_DENIED_ERROR
	1095: true, // ER_KILL_DENIED_ERROR
	1142: true, // ER_TABLEACCESS_DENIED_ERROR
	1143: true, // ER_COLUMNACCESS_DENIED_ERROR
	1211: true, // ER_NO_PERMISSION_TO_CREATE_USER
	1227: true, // ER_SPECIFIC_ACCESS_DENIED_ERROR
	1356: true, // ER_VIEW_INVALID (also: the view's definer or invoker lacks rights)
	1370: true, // ER_PROCACCESS_DENIED_ERROR
	1410: true, // ER_CANT_CREATE_USER_WITH_GRANT
	1419: true, // ER_BINLOG_CREATE_ROUTINE_NEED_SUPER
	1698: true, // ER_ACCESS_DENIED_NO_PASSWORD_ERROR
}

// diffOutcome is what one server answered.
type diffOutcome struct {
	err    error
	code   uint16
	rows   [][]string
	denied bool   // a privilege error, or an admin statement's "denied" result row
	note   string // a denial given as a result row
}

func (o diffOutcome) String() string {
	switch {
	case o.note != "":
		return "denied in a result row: " + clip(o.note, 70)
	case o.err == nil:
		return "ok"
	case o.denied:
		return fmt.Sprintf("deny %d", o.code)
	case o.code != 0:
		return fmt.Sprintf("error %d: %s", o.code, clip(mysqlMessage(o.err), 70))
	}
	return "error: " + clip(o.err.Error(), 70)
}

func mysqlMessage(err error) string {
	var me *mysql.MySQLError
	if errors.As(err, &me) {
		return me.Message
	}
	return err.Error()
}

func clip(s string, n int) string {
	s = strings.Join(strings.Fields(s), " ")
	if len(s) > n {
		return s[:n] + "..."
	}
	return s
}

// diffSide is one server under comparison. Each account has two sessions:
// one with no current database, where every statement runs first, and one
// whose current database is information_schema, for the statements that
// go-mysql-server cannot run without a current database even as root
// (views, DELETE on a table with triggers, ANALYZE TABLE).
type diffSide struct {
	name     string
	root     *sql.Conn // no current database
	rootDB   *sql.Conn // current database information_schema
	login    func(t *testing.T, user, pw string) (*sql.Conn, error)
	sessions map[string]*[2]*diffSession
	victim   *diffSession
	dir      string // for {outfile}
	files    int
}

type diffSession struct {
	acct diffAccount
	inDB bool
	c    *sql.Conn
	id   string
}

func accountPassword(name string) string { return name + "-pw" }

func (s *diffSide) open(t *testing.T, a diffAccount, inDB bool) *diffSession {
	t.Helper()
	c, err := s.login(t, a.name, accountPassword(a.name))
	require.NoError(t, err, "%s: login as %s", s.name, a.name)
	setup := a.session
	if inDB {
		setup = append(slices.Clone(setup), "USE information_schema")
	}
	for _, q := range setup {
		if _, err := c.ExecContext(context.Background(), q); err != nil {
			t.Errorf("%s: session of %s: %s: %v", s.name, a.name, q, err)
		}
	}
	ss := &diffSession{acct: a, inDB: inDB, c: c}
	if err := c.QueryRowContext(context.Background(), "SELECT CONNECTION_ID()").Scan(&ss.id); err != nil {
		// Refused to the account (a disagreement of its own, in the
		// pairs): the newest connection root can see is this one.
		if err := s.rootDB.QueryRowContext(context.Background(),
			"SELECT MAX(id) FROM information_schema.processlist").Scan(&ss.id); err != nil {
			t.Errorf("%s: no connection id for %s: %v", s.name, a.name, err)
		}
	}
	return ss
}

// alive reopens a session that was killed (KILL {victim}) or dropped.
func (s *diffSide) alive(t *testing.T, ss *diffSession) *diffSession {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	if ss.c.PingContext(ctx) == nil {
		return ss
	}
	ss.c.Close()
	return s.open(t, ss.acct, ss.inDB)
}

func (s *diffSide) session(t *testing.T, account string, inDB bool) *diffSession {
	t.Helper()
	i := 0
	if inDB {
		i = 1
	}
	pair := s.sessions[account]
	pair[i] = s.alive(t, pair[i])
	return pair[i]
}

func (s *diffSide) reopen(t *testing.T, account string) {
	t.Helper()
	pair := s.sessions[account]
	for i, ss := range pair {
		ss.c.Close()
		pair[i] = s.open(t, ss.acct, ss.inDB)
	}
}

func (s *diffSide) fill(q, self, infile string) string {
	if strings.Contains(q, "{outfile}") {
		s.files++
		q = strings.ReplaceAll(q, "{outfile}", filepath.Join(s.dir, fmt.Sprintf("%s-%d.txt", s.name, s.files)))
	}
	return strings.NewReplacer("{victim}", s.victim.id, "{self}", self, "{infile}", infile).Replace(q)
}

// runPair runs one statement for an account on this server, and undoes
// what it changed.
func (s *diffSide) runPair(t *testing.T, st diffStmt, account string, inDB bool, infile string) diffOutcome {
	t.Helper()
	if strings.Contains(st.sql, "{victim}") {
		s.victim = s.alive(t, s.victim)
	}
	ss := s.session(t, account, inDB)
	if st.write {
		if _, err := ss.c.ExecContext(context.Background(), "BEGIN"); err != nil {
			t.Errorf("%s: %s: BEGIN: %v", s.name, account, err)
		}
	}
	res := run(ss.c, s.fill(st.sql, ss.id, infile))
	if st.write {
		// A session that broke is reopened by the next session call.
		_, _ = ss.c.ExecContext(context.Background(), "ROLLBACK")
	}
	for _, q := range st.after {
		_, _ = ss.c.ExecContext(context.Background(), q)
	}
	if res.err == nil {
		for _, q := range st.cleanup {
			exec(t, s.root, q)
		}
	}
	return res
}

// run executes q and reads every result set; rows are the first set's.
func run(c *sql.Conn, q string) diffOutcome {
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	rs, err := c.QueryContext(ctx, q)
	if err != nil {
		return classify(diffOutcome{err: err})
	}
	defer rs.Close()
	var out diffOutcome
	for set := 0; ; set++ {
		cols, _ := rs.Columns()
		typeCol, textCol := slices.Index(cols, "Msg_type"), slices.Index(cols, "Msg_text")
		for rs.Next() {
			vals := make([]sql.NullString, len(cols))
			ptrs := make([]any, len(cols))
			for i := range vals {
				ptrs[i] = &vals[i]
			}
			if err := rs.Scan(ptrs...); err != nil {
				return classify(diffOutcome{err: err})
			}
			row := make([]string, len(cols))
			for i, v := range vals {
				row[i] = v.String
				if !v.Valid {
					row[i] = "NULL"
				}
			}
			if typeCol >= 0 && textCol >= 0 && strings.EqualFold(row[typeCol], "error") &&
				strings.Contains(strings.ToLower(row[textCol]), "denied") {
				out.note = row[textCol]
			}
			if set == 0 {
				out.rows = append(out.rows, row)
			}
		}
		if !rs.NextResultSet() {
			break
		}
	}
	if err := rs.Err(); err != nil {
		return classify(diffOutcome{err: err})
	}
	out.denied = out.note != ""
	return out
}

func classify(o diffOutcome) diffOutcome {
	o.code = code(o.err)
	o.denied = privilegeErrors[o.code]
	return o
}

// visible is the row set compared for metadata statements: the first
// st.rows columns, lower case, sorted, without duplicates. MariaDB names a
// role with an empty host, MySQL 8 with the host '%'.
func visible(st diffStmt, rows [][]string) []string {
	out := []string{}
	for _, r := range rows {
		n := min(st.rows, len(r))
		v := strings.ToLower(strings.Join(r[:n], "."))
		out = append(out, strings.ReplaceAll(v, "@"+"''", "@'%'"))
	}
	sort.Strings(out)
	return slices.Compact(out)
}

// systemSchemas are MariaDB's own; authplug's mysql schema is a view of
// its grants with MySQL 8's tables, not MariaDB's, so it is not compared.
var systemSchemas = []string{"mysql", "performance_schema", "sys"}

func withoutSystemSchemas(v []string) []string {
	return slices.DeleteFunc(v, func(r string) bool {
		return slices.Contains(systemSchemas, strings.SplitN(r, ".", 2)[0])
	})
}

// within keeps the rows of v that are in universe.
func within(v, universe []string) []string {
	out := []string{}
	for _, r := range v {
		if slices.Contains(universe, r) {
			out = append(out, r)
		}
	}
	return out
}

type disagreement struct {
	class, account, stmt, mariadb, authplug string
}

const (
	classLooser    = "LOOSER       (MariaDB denies, authplug runs it)"
	classLooserErr = "LOOSER-ERROR (MariaDB denies, authplug fails with a non-privilege error)"
	classStricter  = "STRICTER     (MariaDB allows, authplug denies)"
	classRows      = "ROWS         (both allow, the visible rows differ)"
	classErrno     = "ERRNO        (authplug denies without a MySQL privilege error number)"
	classKnown     = "KNOWN        (a knownDifferences entry that authplug does not follow, or that no longer holds)"
	classBroken    = "BROKEN       (a session failed outside MySQL's protocol: dropped connection, timeout)"
	classRoot      = "ROOT-ROWS    (root sees different metadata rows; accounts are compared on the rows root sees on both)"
	classGap       = "NOT-COMPARED (MariaDB runs it, authplug fails on something else)"
	classStale     = "STALE        (an authplugDifferences entry whose pair now agrees: remove it)"
)

func TestDifferentialMariaDB(t *testing.T) {
	begin := time.Now()
	m := startMariaDB(t)
	e := start(t, nil, "")

	infile := filepath.Join(t.TempDir(), "infile.txt")
	require.NoError(t, os.WriteFile(infile, []byte("differential\n"), 0o644))

	ap := &diffSide{name: "authplug", root: e.root(), rootDB: e.root(), dir: t.TempDir(),
		sessions: map[string]*[2]*diffSession{},
		login:    func(t *testing.T, user, pw string) (*sql.Conn, error) { return e.tryConn(user, pw) }}
	md := &diffSide{name: "mariadb", root: m.conn(t, "root", ""), rootDB: m.conn(t, "root", ""), dir: t.TempDir(),
		sessions: map[string]*[2]*diffSession{}, login: m.tryConn}
	sides := []*diffSide{md, ap}

	// The same schema, accounts and grants on both.
	for _, st := range diffSetup {
		if st.authplug != "" {
			exec(t, ap.root, st.authplug)
		}
		q := st.mariadb
		if q == "" {
			q = st.authplug
		}
		exec(t, md.root, q)
	}
	for _, a := range append([]diffAccount{{name: "victim"}}, diffAccounts...) {
		exec(t, ap.root, fmt.Sprintf("CREATE USER '%s'@'%%' IDENTIFIED WITH mysql_native_password BY '%s'", a.name, accountPassword(a.name)))
		exec(t, md.root, fmt.Sprintf("CREATE USER '%s'@'%%' IDENTIFIED BY '%s'", a.name, accountPassword(a.name)))
		for _, g := range a.grants {
			if g, ok := strings.CutPrefix(g, "authplug:"); ok {
				exec(t, ap.root, fmt.Sprintf(g, a.name))
				continue
			}
			for _, s := range sides {
				exec(t, s.root, fmt.Sprintf(g, a.name))
			}
		}
		for _, g := range a.mariadb {
			exec(t, md.root, fmt.Sprintf(g, a.name))
		}
	}
	for _, s := range sides {
		exec(t, s.rootDB, "USE information_schema")
		s.victim = s.open(t, diffAccount{name: "victim"}, false)
		for _, a := range diffAccounts {
			s.sessions[a.name] = &[2]*diffSession{s.open(t, a, false), s.open(t, a, true)}
		}
	}
	setupDone := time.Since(begin)

	var (
		found   []disagreement
		gaps    = map[string][]string{} // statement -> authplug's error, then the accounts where only authplug failed, not on privileges
		needDB  = map[string][]string{} // statement -> accounts that were compared in the information_schema session
		pairs   int
		checked = map[diffKey]bool{}
	)
	for _, st := range diffStmts {
		// Metadata is compared on the rows root sees on both servers; where
		// root's rows differ, that is one disagreement, not one per account.
		var common []string
		if st.rows > 0 {
			mr := run(md.rootDB, md.fill(st.sql, "0", infile))
			ar := run(ap.rootDB, ap.fill(st.sql, "0", infile))
			mv, av := withoutSystemSchemas(visible(st, mr.rows)), withoutSystemSchemas(visible(st, ar.rows))
			common = within(mv, av)
			key := diffKey{"root", st.sql}
			checked[key] = true
			d := disagreement{account: "root", stmt: st.sql,
				mariadb:  fmt.Sprintf("%s, rows [%s]", mr, clip(strings.Join(mv, " "), 200)),
				authplug: fmt.Sprintf("%s, rows [%s]", ar, clip(strings.Join(av, " "), 200))}
			if mr.err != nil || ar.err != nil || !slices.Equal(mv, av) {
				d.class = classRoot
			}
			if d, report := excused(d, key, mr, ar, mv, shown(st, ar.rows)); report {
				found = append(found, d)
			}
		}
		for _, a := range diffAccounts {
			pairs++
			key := diffKey{a.name, st.sql}
			checked[key] = true
			var res [2]diffOutcome
			for i, s := range sides {
				res[i] = s.runPair(t, st, a.name, false, infile)
			}
			stmt := st.sql
			if res[1].err != nil && !res[1].denied && res[1].code != res[0].code {
				// Again where go-mysql-server has a current database.
				needDB[st.sql] = append(needDB[st.sql], a.name)
				stmt += "  [in information_schema]"
				for i, s := range sides {
					res[i] = s.runPair(t, st, a.name, true, infile)
				}
			}
			if st.reopen {
				for _, s := range sides {
					s.reopen(t, a.name)
				}
			}
			mdb, apl := res[0], res[1]
			d := disagreement{account: a.name, stmt: stmt, mariadb: mdb.String(), authplug: apl.String()}
			if mdb.err != nil && mdb.code == 0 || apl.err != nil && apl.code == 0 {
				d.class = classBroken
				found = append(found, d)
				continue
			}
			if apl.err != nil && !apl.denied && looksDenied(apl.err) || apl.note != "" {
				d.class = classErrno
				found = append(found, d)
			}
			mv, av := visible(st, mdb.rows), within(visible(st, apl.rows), common)
			if kd, ok := knownDifferences[key]; ok {
				if kd.rows != nil {
					// MySQL 8 shows kd.rows; MariaDB must still differ,
					// and authplug, where it answers, must show them.
					want := within(kd.rows, common)
					stale := mdb.err == nil && slices.Equal(mv, kd.rows)
					if stale || mdb.err == nil && apl.err == nil && !slices.Equal(av, want) {
						d.class = classKnown
						d.mariadb = "rows [" + clip(strings.Join(mv, " "), 200) + "]"
						d.authplug = fmt.Sprintf("rows [%s], MySQL 8 [%s]", clip(strings.Join(av, " "), 200), strings.Join(want, " "))
						found = append(found, d)
						continue
					}
				} else {
					// MySQL 8 denies if it is the stricter.
					mysql8Denies := kd.stricter == "mysql8"
					if mdb.denied == mysql8Denies || apl.denied != mysql8Denies {
						d.class = classKnown
						d.authplug += fmt.Sprintf(" (MySQL 8: denied=%v)", mysql8Denies)
						found = append(found, d)
						continue
					}
				}
				if kd.rows == nil || apl.err == nil {
					continue
				}
			}
			d.class = ""
			mv = within(mv, common)
			switch {
			case mdb.denied && !apl.denied && apl.err == nil:
				d.class = classLooser
			case mdb.denied && !apl.denied:
				d.class = classLooserErr
			case !mdb.denied && apl.denied:
				d.class = classStricter
			case mdb.err == nil && apl.err == nil && st.rows > 0:
				if !slices.Equal(mv, av) {
					d.class = classRows
					d.mariadb = "rows [" + clip(strings.Join(mv, " "), 200) + "]"
					d.authplug = "rows [" + clip(strings.Join(av, " "), 200) + "]"
				}
			case mdb.err == nil && apl.err != nil && !apl.denied:
				d.class = classGap
			}
			_, recorded := authplugDifferences[key]
			d, report := excused(d, key, mdb, apl, mv, within(shown(st, apl.rows), common))
			switch {
			case !report:
			case d.class == classGap && !recorded:
				// Not a disagreement on privileges: listed, not failed.
				if len(gaps[st.sql]) == 0 {
					gaps[st.sql] = []string{"authplug: " + apl.String()}
				}
				gaps[st.sql] = append(gaps[st.sql], a.name)
			default:
				found = append(found, d)
			}
		}
	}
	for key := range knownDifferences {
		if !checked[key] {
			t.Errorf("knownDifferences names a pair the test does not run: %s | %s", key.account, key.stmt)
		}
		if _, ok := authplugDifferences[key]; ok {
			t.Errorf("a pair in both knownDifferences and authplugDifferences: %s | %s", key.account, key.stmt)
		}
	}
	for key := range authplugDifferences {
		if !checked[key] {
			t.Errorf("authplugDifferences names a pair the test does not run: %s | %s", key.account, key.stmt)
		}
	}
	require.GreaterOrEqual(t, pairs, 400, "pairs compared")

	// The servers must still hold the same data: every write was rolled
	// back or cleaned up on both.
	for _, q := range []string{
		"SELECT * FROM shop.items ORDER BY id", "SELECT * FROM shop.orders ORDER BY id",
		"SELECT COUNT(*) FROM shop.audit", "SELECT * FROM hr.staff ORDER BY id", "SELECT * FROM secret.vault ORDER BY id",
	} {
		mr, ar := run(md.rootDB, q), run(ap.rootDB, q)
		if mr.err != nil || ar.err != nil || fmt.Sprint(mr.rows) != fmt.Sprint(ar.rows) {
			t.Errorf("state differs after the run: %s: mariadb %v %v, authplug %v %v", q, mr.rows, mr.err, ar.rows, ar.err)
		}
	}

	logGroups(t, "compared in a session whose current database is information_schema (authplug failed, not on privileges, without one)", needDB)
	logGroups(t, "not compared on privileges: MariaDB ran these, authplug failed on something else", gaps)
	t.Logf("%d pairs (%d accounts x %d statements) in %s (setup %s)",
		pairs, len(diffAccounts), len(diffStmts), time.Since(begin).Round(time.Millisecond), setupDone.Round(time.Millisecond))
	if len(found) > 0 {
		t.Error(summarize(found))
	}
}

func logGroups(t *testing.T, title string, groups map[string][]string) {
	t.Helper()
	if len(groups) == 0 {
		return
	}
	var lines []string
	for q, accts := range groups {
		lines = append(lines, fmt.Sprintf("  %s  [%s]", q, clip(strings.Join(accts, ", "), 200)))
	}
	sort.Strings(lines)
	t.Logf("%s (%d statements):\n%s", title, len(lines), strings.Join(lines, "\n"))
}

// excused applies authplugDifferences to a pair whose class is d.class
// ("" when the servers agree). report is whether d is still to be
// reported: a disagreement with no entry, as it is; a pair whose entry no
// longer holds, as STALE (the pair agrees now) or in its own class with why
// the entry does not excuse it. ref and got are the rows compared for ROWS
// and ROOT-ROWS.
func excused(d disagreement, key diffKey, mdb, apl diffOutcome, ref, got []string) (_ disagreement, report bool) {
	ad, ok := authplugDifferences[key]
	switch {
	case !ok:
		return d, d.class != ""
	case d.class == "":
		d.class = classStale
		d.authplug += " (recorded as " + classLabel(ad.class) + ")"
		return d, true
	}
	if why := ad.excuses(d.class, mdb, apl, ref, got); why != "" {
		d.authplug += " (authplugDifferences does not excuse it: " + why + ")"
		return d, true
	}
	return d, false
}

// looksDenied is an authplug error that reads like a refusal but does not
// carry a privilege error number.
func looksDenied(err error) bool {
	s := strings.ToLower(mysqlMessage(err))
	return strings.Contains(s, "denied") || strings.Contains(s, "privilege") || strings.Contains(s, "not allowed")
}

// summarize is one line per disagreement, grouped by class.
func summarize(found []disagreement) string {
	sort.SliceStable(found, func(i, j int) bool { return found[i].class < found[j].class })
	var b strings.Builder
	counts := map[string]int{}
	for _, d := range found {
		counts[d.class]++
	}
	fmt.Fprintf(&b, "%d disagreements with MariaDB (MySQL 8 reference):", len(found))
	class := ""
	for _, d := range found {
		if d.class != class {
			class = d.class
			fmt.Fprintf(&b, "\n%s: %d", class, counts[class])
		}
		fmt.Fprintf(&b, "\n  %-13s | %s | mariadb: %s | authplug: %s", d.account, d.stmt, d.mariadb, d.authplug)
	}
	return b.String()
}
