package tests

import (
	"context"
	"database/sql"
	"strings"
	"testing"
	"time"

	"github.com/go-sql-driver/mysql"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/authplug/authplug/authplugin"
	"github.com/authplug/authplug/extension"
)

// Metadata visibility (MySQL 8): an account sees a database, table or column
// only if it holds some privilege on it; other sessions' process list rows
// only with PROCESS; and CREATE TABLE ... LIKE needs SELECT on the original.

// metadataObjects are the objects every metadata test looks at: hr and ops
// hold tables no ordinary account was given; scratch is for copies.
var metadataObjects = []string{
	"CREATE DATABASE hr",
	"CREATE DATABASE ops",
	"CREATE DATABASE scratch",
	"CREATE TABLE hr.salaries (id INT PRIMARY KEY, emp VARCHAR(20), amount INT, KEY amt (amount), CONSTRAINT positive_pay CHECK (amount >= 0))",
	"CREATE TABLE hr.public (id INT PRIMARY KEY, note VARCHAR(20))",
	"CREATE VIEW hr.payroll AS SELECT emp, amount FROM hr.salaries",
	"CREATE TRIGGER hr.audit BEFORE INSERT ON hr.salaries FOR EACH ROW SET NEW.amount = NEW.amount",
	"CREATE PROCEDURE hr.raise_all() SELECT 1",
	"CREATE TABLE ops.secrets (id INT PRIMARY KEY, token VARCHAR(40))",
}

// metadataAccounts: one account per way of holding (or not holding) a
// privilege. Every password is "pw".
var metadataAccounts = []string{
	"CREATE USER reader IDENTIFIED WITH mysql_native_password BY 'pw'",
	"GRANT SELECT ON demo.* TO reader",
	"CREATE USER colonly IDENTIFIED WITH mysql_native_password BY 'pw'",
	"GRANT SELECT (emp) ON hr.salaries TO colonly",
	"CREATE ROLE auditor",
	"GRANT SELECT ON hr.public TO auditor",
	"CREATE USER roleuser IDENTIFIED WITH mysql_native_password BY 'pw'",
	"GRANT auditor TO roleuser",
	"CREATE USER nobody IDENTIFIED WITH mysql_native_password BY 'pw'",
	"CREATE USER watcher IDENTIFIED WITH mysql_native_password BY 'pw'",
	"GRANT PROCESS ON *.* TO watcher",
	"CREATE USER viewer IDENTIFIED WITH mysql_native_password BY 'pw'",
	"GRANT SELECT ON hr.payroll TO viewer",
	"CREATE USER trig IDENTIFIED WITH mysql_native_password BY 'pw'",
	"GRANT TRIGGER ON hr.salaries TO trig",
	"CREATE USER runner IDENTIFIED WITH mysql_native_password BY 'pw'",
	"GRANT EXECUTE ON hr.* TO runner",
	"CREATE USER copier IDENTIFIED WITH mysql_native_password BY 'pw'",
	"GRANT CREATE ON scratch.* TO copier",
	"GRANT SELECT ON hr.public TO copier",
	"CREATE USER gw IDENTIFIED WITH mysql_native_password BY 'pw'",
	"GRANT SELECT ON *.* TO gw",
	"GRANT PROXY ON 'reader'@'%' TO 'gw'@'%'",
}

// startMetadata runs a server with the metadata objects and accounts; exts
// may add plugins.
func startMetadata(t *testing.T, exts *extension.Extensions) *env {
	t.Helper()
	e := start(t, exts, "")
	e.seed()
	for _, q := range metadataObjects {
		require.NoError(t, e.srv.ExecuteSQL(context.Background(), q), q)
	}
	exec(t, e.root(), metadataAccounts...)
	return e
}

// columnOf reads one column of a query's rows, failing the calling test on
// an error.
func columnOf(t *testing.T, c *sql.Conn, q string, i int) []string {
	t.Helper()
	rows, err := query(c, q)
	require.NoError(t, err, q)
	out := []string{}
	for _, r := range rows {
		out = append(out, r[i])
	}
	return out
}

func TestMetadataDatabases(t *testing.T) {
	e := startMetadata(t, nil)
	is := "information_schema"
	cases := []struct {
		user string
		want []string
		why  string
	}{
		{"reader", []string{"demo", is}, "SELECT on demo.* shows demo only"},
		{"colonly", []string{"hr", is}, "a column grant shows the database"},
		{"roleuser", []string{is}, "a role that is granted but not active counts for nothing"},
		{"nobody", []string{is}, "USAGE shows information_schema only"},
		{"watcher", []string{is}, "a global privilege that is not a database privilege (PROCESS) shows no database"},
		{"runner", []string{"hr", is}, "EXECUTE on hr.* is a privilege on hr"},
		{"viewer", []string{"hr", is}, "a grant on a view shows its database"},
	}
	for _, c := range cases {
		conn := e.conn(c.user, "pw")
		assert.Equal(t, c.want, columnOf(t, conn, "SHOW DATABASES", 0), "%s: SHOW DATABASES: %s", c.user, c.why)
		assert.Equal(t, c.want, columnOf(t, conn, "SELECT SCHEMA_NAME FROM information_schema.SCHEMATA ORDER BY 1", 0),
			"%s: SCHEMATA: %s", c.user, c.why)
	}
	root := columnOf(t, e.root(), "SHOW DATABASES", 0)
	assert.Subset(t, root, []string{"demo", "hr", "ops", "scratch", is}, "root sees every database")

	t.Run("filters under a LIKE see only the visible rows", func(t *testing.T) {
		e := e.in(t)
		assert.Empty(t, columnOf(t, e.conn("reader", "pw"), "SHOW DATABASES LIKE 'h%'", 0))
		assert.Equal(t, []string{"hr"}, columnOf(t, e.conn("colonly", "pw"), "SHOW DATABASES LIKE 'h%'", 0))
		assert.Equal(t, []string{"0"}, columnOf(t, e.conn("reader", "pw"),
			"SELECT COUNT(*) FROM information_schema.SCHEMATA WHERE SCHEMA_NAME IN ('hr', 'ops', 'scratch')", 0))
	})

	t.Run("a role counts once it is active, and stops when it is not", func(t *testing.T) {
		e := e.in(t)
		c := e.conn("roleuser", "pw")
		exec(t, c, "SET ROLE auditor")
		assert.Equal(t, []string{"hr", is}, columnOf(t, c, "SHOW DATABASES", 0))
		exec(t, c, "SET ROLE NONE")
		assert.Equal(t, []string{is}, columnOf(t, c, "SHOW DATABASES", 0))
	})

	t.Run("a grant or revoke changes the listing of an open session", func(t *testing.T) {
		e := e.in(t)
		c := e.conn("nobody", "pw")
		exec(t, e.root(), "GRANT SELECT ON ops.secrets TO nobody")
		assert.Equal(t, []string{is, "ops"}, columnOf(t, c, "SHOW DATABASES", 0))
		exec(t, e.root(), "REVOKE SELECT ON ops.secrets FROM nobody")
		assert.Equal(t, []string{is}, columnOf(t, c, "SHOW DATABASES", 0))
	})

	t.Run("while impersonating, the account acted as decides", func(t *testing.T) {
		e := e.in(t)
		gw := e.conn("gw", "pw")
		assert.Subset(t, columnOf(t, gw, "SHOW DATABASES", 0), []string{"hr", "ops"})
		assert.Equal(t, []string{"demo", is}, columnOf(t, gw, "EXECUTE AS 'reader' SHOW DATABASES", 0))
		assert.Empty(t, columnOf(t, gw, "EXECUTE AS 'reader' SELECT TABLE_NAME FROM information_schema.TABLES WHERE TABLE_SCHEMA = 'hr'", 0))
	})
}

func TestMetadataTables(t *testing.T) {
	e := startMetadata(t, nil)
	cases := []struct {
		user  string
		setup []string
		want  []string
		why   string
	}{
		{"colonly", nil, []string{"salaries"}, "a column grant shows its table, and only it"},
		{"roleuser", []string{"SET ROLE auditor"}, []string{"public"}, "an active role's table grant"},
		{"viewer", nil, []string{"payroll"}, "a grant on a view shows the view, not the table under it"},
		{"trig", nil, []string{"salaries"}, "TRIGGER on a table is a privilege on it"},
		{"runner", nil, []string{}, "a database privilege that is not a table privilege shows the database, no table"},
	}
	for _, c := range cases {
		conn := e.conn(c.user, "pw")
		exec(t, conn, c.setup...)
		for _, q := range []string{
			"SHOW TABLES FROM hr",
			"SHOW FULL TABLES FROM hr",
			"SELECT TABLE_NAME FROM information_schema.TABLES WHERE TABLE_SCHEMA = 'hr' ORDER BY 1",
		} {
			assert.Equal(t, c.want, columnOf(t, conn, q, 0), "%s: %s: %s", c.user, q, c.why)
		}
		// The engine's SHOW TABLE STATUS lists base tables only.
		status := []string{}
		for _, n := range c.want {
			if n != "payroll" {
				status = append(status, n)
			}
		}
		assert.Equal(t, status, columnOf(t, conn, "SHOW TABLE STATUS FROM hr", 0), "%s: SHOW TABLE STATUS: %s", c.user, c.why)
	}

	t.Run("an invisible database is refused by name and absent from listings", func(t *testing.T) {
		e := e.in(t)
		reader := e.conn("reader", "pw")
		assert.Equal(t, uint16(1044), codeOf(reader, "SHOW TABLES FROM hr"), "MySQL answers 1044, as for USE")
		assert.Empty(t, columnOf(t, reader,
			"SELECT TABLE_NAME FROM information_schema.TABLES WHERE TABLE_SCHEMA IN ('hr', 'ops', 'scratch')", 0))
		assert.Equal(t, []string{"t"}, columnOf(t, reader, "SHOW TABLES FROM demo", 0), "its own tables stay listed")
	})

	t.Run("information_schema is readable by all", func(t *testing.T) {
		e := e.in(t)
		nobody := e.conn("nobody", "pw")
		assert.Contains(t, columnOf(t, nobody, "SHOW TABLES FROM information_schema", 0), "tables")
		assert.Contains(t, columnOf(t, nobody,
			"SELECT TABLE_NAME FROM information_schema.TABLES WHERE TABLE_SCHEMA = 'information_schema'", 0), "columns")
		assert.Contains(t, columnOf(t, nobody,
			"SELECT COLUMN_NAME FROM information_schema.COLUMNS WHERE TABLE_SCHEMA = 'information_schema' AND TABLE_NAME = 'schemata'", 0),
			"SCHEMA_NAME")
	})

	t.Run("related information_schema tables follow the table's visibility", func(t *testing.T) {
		e := e.in(t)
		colonly, reader := e.conn("colonly", "pw"), e.conn("reader", "pw")
		for _, q := range []string{
			"SELECT DISTINCT INDEX_NAME FROM information_schema.STATISTICS WHERE TABLE_SCHEMA = 'hr' ORDER BY 1",
			"SELECT DISTINCT CONSTRAINT_NAME FROM information_schema.TABLE_CONSTRAINTS WHERE TABLE_SCHEMA = 'hr' ORDER BY 1",
			"SELECT CONSTRAINT_NAME FROM information_schema.CHECK_CONSTRAINTS WHERE CONSTRAINT_SCHEMA = 'hr'",
		} {
			assert.NotEmpty(t, columnOf(t, colonly, q, 0), "colonly sees hr.salaries: %s", q)
			assert.Empty(t, columnOf(t, reader, q, 0), "reader does not: %s", q)
		}
		roleuser := e.conn("roleuser", "pw")
		exec(t, roleuser, "SET ROLE auditor")
		assert.Empty(t, columnOf(t, roleuser,
			"SELECT CONSTRAINT_NAME FROM information_schema.CHECK_CONSTRAINTS WHERE CONSTRAINT_SCHEMA = 'hr'", 0),
			"a check names no table, yet shows only with its table (hr.salaries, not hr.public)")
	})
}

func TestMetadataColumns(t *testing.T) {
	e := startMetadata(t, nil)
	colonly := e.conn("colonly", "pw")
	for _, q := range []string{
		"SHOW COLUMNS FROM hr.salaries",
		"SHOW FULL COLUMNS FROM salaries FROM hr",
		"DESCRIBE hr.salaries",
		"SELECT COLUMN_NAME FROM information_schema.COLUMNS WHERE TABLE_SCHEMA = 'hr' ORDER BY 1",
	} {
		assert.Equal(t, []string{"emp"}, columnOf(t, colonly, q, 0), "a column grant shows that column only: %s", q)
	}

	roleuser := e.conn("roleuser", "pw")
	exec(t, roleuser, "SET ROLE auditor")
	assert.Equal(t, []string{"id", "note"}, columnOf(t, roleuser,
		"SELECT COLUMN_NAME FROM information_schema.COLUMNS WHERE TABLE_SCHEMA = 'hr' ORDER BY 1", 0),
		"a table grant shows every column of the table")
	assert.Equal(t, []string{"id", "note"}, columnOf(t, roleuser, "DESCRIBE hr.public", 0))

	trig := e.conn("trig", "pw")
	assert.Equal(t, []string{"salaries"}, columnOf(t, trig, "SHOW TABLES FROM hr", 0))
	// TRIGGER shows the table but is no privilege on its columns (MySQL's
	// COL_ACLS): MySQL lists none of them; refusing the statement, as the
	// statement authorization may, shows none either.
	assert.Empty(t, columnOf(t, trig,
		"SELECT COLUMN_NAME FROM information_schema.COLUMNS WHERE TABLE_SCHEMA = 'hr'", 0))
	if rows, err := query(trig, "SHOW COLUMNS FROM hr.salaries"); err != nil {
		assert.Equal(t, uint16(1142), code(err), "%v", err)
	} else {
		assert.Empty(t, rows)
	}

	reader := e.conn("reader", "pw")
	assert.Empty(t, columnOf(t, reader,
		"SELECT COLUMN_NAME FROM information_schema.COLUMNS WHERE TABLE_SCHEMA IN ('hr', 'ops')", 0))

	// A view's columns: the engine reads them by parsing the view's
	// definition, which the account may not have been able to write.
	viewer := e.conn("viewer", "pw")
	payroll := "SELECT COLUMN_NAME FROM information_schema.COLUMNS WHERE TABLE_SCHEMA = 'hr' AND TABLE_NAME = 'payroll' ORDER BY 1"
	assert.Equal(t, []string{"amount", "emp"}, columnOf(t, viewer, payroll, 0), "a grant on a view shows its columns")
	assert.Empty(t, columnOf(t, viewer, "SELECT COLUMN_NAME FROM information_schema.COLUMNS WHERE TABLE_NAME = 'salaries'", 0),
		"but not those of the table under it")
	assert.Empty(t, columnOf(t, colonly, payroll, 0), "the view was not granted to colonly")
}

// Statements that name a table the account holds nothing on are refused
// with 1142, never answered with "doesn't exist".
func TestMetadataNamedTablesRefused(t *testing.T) {
	e := startMetadata(t, nil)
	reader := e.conn("reader", "pw")
	for _, q := range []string{
		"SHOW CREATE TABLE hr.salaries",
		"SHOW COLUMNS FROM hr.salaries",
		"SHOW COLUMNS FROM salaries FROM hr",
		"DESCRIBE hr.salaries",
		"SHOW INDEX FROM hr.salaries",
		"SELECT * FROM hr.salaries",
	} {
		assert.Equal(t, uint16(1142), codeOf(reader, q), q)
	}
	colonly := e.conn("colonly", "pw")
	assert.Equal(t, uint16(1142), codeOf(colonly, "SHOW CREATE TABLE hr.public"), "a grant on one table shows no other")
	assert.Equal(t, uint16(1142), codeOf(colonly, "SHOW CREATE TABLE hr.salaries"),
		"a table's definition needs a privilege on the whole table, not on a column")
	assert.Equal(t, []string{"emp"}, columnOf(t, colonly, "SHOW COLUMNS FROM hr.salaries", 0), "its columns do not")

	// ALTER and INDEX on the database: its tables are visible and their
	// definitions too, but SHOW COLUMNS and SHOW INDEX need SELECT, a grant
	// on the table itself or a column privilege (MySQL's rule).
	exec(t, e.root(), "CREATE USER ddl IDENTIFIED WITH mysql_native_password BY 'pw'", "GRANT ALTER, INDEX ON hr.* TO ddl")
	ddl := e.conn("ddl", "pw")
	assert.Equal(t, []string{"payroll", "public", "salaries"}, columnOf(t, ddl, "SHOW TABLES FROM hr", 0))
	rows, err := query(ddl, "SHOW CREATE TABLE hr.salaries")
	require.NoError(t, err)
	require.Len(t, rows, 1)
	assert.Contains(t, rows[0][1], "CREATE TABLE")
	for _, q := range []string{"SHOW COLUMNS FROM hr.salaries", "DESCRIBE hr.salaries", "SHOW INDEX FROM hr.salaries"} {
		assert.Equal(t, uint16(1142), codeOf(ddl, q), q)
	}
	assert.Empty(t, columnOf(t, ddl, "SELECT COLUMN_NAME FROM information_schema.COLUMNS WHERE TABLE_SCHEMA = 'hr'", 0),
		"ALTER is no privilege on columns")
}

func TestMetadataRoutinesTriggersViews(t *testing.T) {
	e := startMetadata(t, nil)
	routines := "SELECT ROUTINE_NAME FROM information_schema.ROUTINES WHERE ROUTINE_SCHEMA = 'hr'"
	assert.Equal(t, []string{"raise_all"}, columnOf(t, e.conn("runner", "pw"), routines, 0), "EXECUTE on the database shows its routines")
	assert.Empty(t, columnOf(t, e.conn("colonly", "pw"), routines, 0), "SELECT on a column is no routine privilege")
	assert.Empty(t, columnOf(t, e.conn("reader", "pw"), routines, 0))

	triggers := "SELECT TRIGGER_NAME FROM information_schema.TRIGGERS WHERE TRIGGER_SCHEMA = 'hr'"
	trig, colonly := e.conn("trig", "pw"), e.conn("colonly", "pw")
	assert.Equal(t, []string{"audit"}, columnOf(t, trig, triggers, 0), "TRIGGER on the table shows its triggers")
	assert.Equal(t, []string{"audit"}, columnOf(t, trig, "SHOW TRIGGERS FROM hr", 0))
	assert.Empty(t, columnOf(t, colonly, triggers, 0), "a trigger's body shows only with TRIGGER")
	// MySQL lists no trigger here; the engine refuses the whole statement
	// while planning it (it reads every trigger of the database), which
	// shows no trigger either.
	rows, err := query(colonly, "SHOW TRIGGERS FROM hr")
	if err != nil {
		assert.Equal(t, uint16(1142), code(err), "%v", err)
	} else {
		assert.Empty(t, rows)
	}

	views := "SELECT TABLE_NAME, VIEW_DEFINITION FROM information_schema.VIEWS WHERE TABLE_SCHEMA = 'hr'"
	rows, err = query(e.conn("viewer", "pw"), views)
	require.NoError(t, err)
	assert.Equal(t, [][]string{{"payroll", ""}}, rows,
		"SELECT on a view shows it, but its definition needs SHOW VIEW too, as SHOW CREATE VIEW does")
	rows, err = query(e.root(), views)
	require.NoError(t, err)
	require.Len(t, rows, 1)
	assert.Contains(t, rows[0][1], "salaries", "root sees the definition")
	assert.Empty(t, columnOf(t, colonly, views, 0), "hr.payroll was not granted to colonly")
}

func TestMetadataProcessList(t *testing.T) {
	e := startMetadata(t, nil)
	ctx := context.Background()
	reader, watcher, root, gw := e.conn("reader", "pw"), e.conn("watcher", "pw"), e.root(), e.conn("gw", "pw")

	// gw runs a statement that waits for a lock root holds, so that its
	// text is in the process list while the others look.
	require.Equal(t, []string{"1"}, columnOf(t, root, "SELECT GET_LOCK('metadata-test', 60)", 0))
	done := make(chan error, 1)
	go func() {
		_, err := gw.ExecContext(ctx, "SELECT GET_LOCK('metadata-test', 60) AS gw_secret_marker")
		done <- err
	}()
	gwRunning := "SELECT COUNT(*) FROM information_schema.PROCESSLIST WHERE USER = 'gw' AND INFO LIKE '%gw_secret_marker%'"
	require.Eventually(t, func() bool {
		rows, err := query(watcher, gwRunning)
		return err == nil && len(rows) == 1 && rows[0][0] == "1"
	}, 10*time.Second, 10*time.Millisecond, "gw's statement shows to PROCESS")

	// The engine names a connection "unauthenticated user" until it selects
	// a database; an account of that name must not pass for its owner.
	exec(t, root, "CREATE USER 'unauthenticated user' IDENTIFIED WITH mysql_native_password BY 'pw'")
	impostor := e.conn("unauthenticated user", "pw")
	for _, q := range []string{
		"SELECT USER, INFO FROM information_schema.PROCESSLIST",
		"SHOW PROCESSLIST",
		"SHOW FULL PROCESSLIST",
	} {
		userCol, infoCol := 1, 7
		if strings.HasPrefix(q, "SELECT") {
			userCol, infoCol = 0, 1
		}
		for c, name := range map[*sql.Conn]string{reader: "reader", impostor: "unauthenticated user"} {
			rows, err := query(c, q)
			if code(err) == 1227 && strings.HasPrefix(q, "SHOW") {
				// MySQL lets anyone run SHOW PROCESSLIST; the statement
				// authorization still asks PROCESS for it, which leaks
				// nothing either.
				continue
			}
			require.NoError(t, err, "the process list is readable without PROCESS: %s", q)
			require.Len(t, rows, 1, "%s sees its own session only: %s: %v", name, q, rows)
			assert.Equal(t, name, rows[0][userCol], q)
			assert.NotContains(t, rows[0][infoCol], "gw_secret_marker", q)
		}
		rows, err := query(watcher, q)
		require.NoError(t, err, q)
		users := map[string]bool{}
		for _, r := range rows {
			users[r[userCol]] = true
		}
		assert.True(t, users["root"] && users["gw"] && users["reader"], "PROCESS shows every session: %s: %v", q, rows)
	}

	require.Equal(t, []string{"1"}, columnOf(t, root, "SELECT RELEASE_LOCK('metadata-test')", 0))
	require.NoError(t, recv(t, done, "gw's GET_LOCK once root released the lock"))
}

func TestMetadataCreateTableLike(t *testing.T) {
	e := startMetadata(t, nil)
	ctx := context.Background()
	copier := e.conn("copier", "pw")
	created := func() []string { return columnOf(t, e.root(), "SHOW TABLES FROM scratch", 0) }

	_, err := copier.ExecContext(ctx, "CREATE TABLE scratch.c1 LIKE hr.salaries")
	assert.Equal(t, uint16(1142), code(err), "CREATE on the new table is not enough: %v", err)
	assert.ErrorContains(t, err, "SELECT command denied")
	assert.ErrorContains(t, err, "salaries")

	exec(t, copier, "CREATE TABLE scratch.c2 LIKE hr.public")

	_, err = copier.ExecContext(ctx, "CREATE TABLE hr.c3 LIKE hr.public")
	assert.Contains(t, []uint16{1044, 1142}, code(err), "SELECT on the original is not enough either: %v", err)
	assert.NotContains(t, err.Error(), "SELECT", "CREATE is checked first, as in MySQL")

	// The original is read from the statement as it runs, in each form a
	// statement can take.
	exec(t, copier, "USE hr")
	_, err = copier.ExecContext(ctx, "CREATE TABLE scratch.c4 LIKE salaries")
	assert.Equal(t, uint16(1142), code(err), "an unqualified original is in the current database: %v", err)
	stmt, err := copier.PrepareContext(ctx, "CREATE TABLE scratch.c5 LIKE hr.salaries")
	if err == nil {
		_, err = stmt.ExecContext(ctx)
		stmt.Close()
	}
	assert.Equal(t, uint16(1142), code(err), "a prepared statement: %v", err)
	exec(t, copier, "PREPARE copy_salaries FROM 'CREATE TABLE scratch.c6 LIKE hr.salaries'")
	_, err = copier.ExecContext(ctx, "EXECUTE copy_salaries")
	assert.Equal(t, uint16(1142), code(err), "EXECUTE of a prepared statement: %v", err)
	multi := e.conn("copier", "pw", func(c *mysql.Config) { c.MultiStatements = true })
	_, err = multi.ExecContext(ctx, "SELECT 1; CREATE TABLE scratch.c7 LIKE hr.salaries")
	assert.Equal(t, uint16(1142), code(err), "the second statement of several: %v", err)

	// A routine's statements run with no text of their own: the originals
	// in its body are checked when it is called, for its definer.
	exec(t, e.root(), "GRANT CREATE ROUTINE, EXECUTE ON scratch.* TO copier")
	exec(t, copier,
		"CREATE PROCEDURE scratch.copy_secret() BEGIN IF 1 = 1 THEN CREATE TABLE scratch.c8 LIKE hr.salaries; END IF; END",
		"CREATE PROCEDURE scratch.copy_public() CREATE TABLE scratch.c9 LIKE hr.public",
		"CREATE PROCEDURE scratch.make_plain() CREATE TABLE scratch.c10 (a INT PRIMARY KEY)",
	)
	_, err = copier.ExecContext(ctx, "CALL scratch.copy_secret()")
	assert.Equal(t, uint16(1142), code(err), "a LIKE in a routine body: %v", err)
	exec(t, copier, "CALL scratch.copy_public()", "CALL scratch.make_plain()")

	assert.Equal(t, []string{"c10", "c2", "c9"}, created(), "only the permitted tables exist")
}

// scopePlugin narrows a session to one table: its stored string is
// "scope:<db>.<table>:<password>", and it allows a request only on that
// table or its columns, never on a database or globally.
type scopePlugin struct{}

const scopePluginName = "authentication_test_scope"

func (scopePlugin) plugin() *authplugin.AuthPlugin {
	return &authplugin.AuthPlugin{
		Name:                     scopePluginName,
		RequiredClientSidePlugin: authplugin.ClearPasswordName,
		AuthenticateUser: func(_ context.Context, req authplugin.AuthenticateRequest) (any, error) {
			target, pw, ok := strings.Cut(strings.TrimPrefix(req.StoredAuthString, "scope:"), ":")
			if !ok || pw != string(req.InputAuthString) {
				return nil, authplugin.ErrWrongPassword
			}
			return target, nil
		},
		GenerateAuthString: func(string) (string, bool) { return "", false },
		ValidateAuthString: func(s string) bool { return strings.HasPrefix(s, "scope:") },
		VerifyPrivilege: func(req authplugin.AuthorizeRequest) bool {
			return req.Table != "" && req.DB+"."+req.Table == req.SessionState.(string)
		},
	}
}

// A plugin narrows what a session sees as it narrows what it may do: the
// grants say all of hr and demo, the session's scope one table.
func TestMetadataPluginNarrows(t *testing.T) {
	reg := extension.NewRegistry()
	require.NoError(t, reg.Register("test_scope", extension.WithCustomAuthPlugins(scopePlugin{}.plugin())))
	es, err := reg.GetExtensions()
	require.NoError(t, err)
	e := startMetadata(t, es)
	exec(t, e.root(),
		"CREATE USER scoped IDENTIFIED WITH "+scopePluginName+" AS 'scope:hr.public:pw'",
		"GRANT SELECT ON hr.* TO scoped",
		"GRANT SELECT ON demo.* TO scoped",
	)
	c := e.conn("scoped", "pw", withCleartext, withTLS)
	assert.Equal(t, []string{"hr", "information_schema"}, columnOf(t, c, "SHOW DATABASES", 0),
		"demo is granted, but the session may touch nothing in it")
	assert.Equal(t, []string{"public"}, columnOf(t, c, "SHOW TABLES FROM hr", 0))
	assert.Equal(t, []string{"public"}, columnOf(t, c,
		"SELECT TABLE_NAME FROM information_schema.TABLES WHERE TABLE_SCHEMA = 'hr' ORDER BY 1", 0))
	assert.Equal(t, []string{"id", "note"}, columnOf(t, c,
		"SELECT COLUMN_NAME FROM information_schema.COLUMNS WHERE TABLE_SCHEMA IN ('hr', 'demo') ORDER BY 1", 0))
	assert.Equal(t, uint16(1142), codeOf(c, "SHOW CREATE TABLE hr.salaries"), "granted, outside the scope")
}
