package tests

import (
	"context"
	"database/sql"
	"testing"

	"github.com/stretchr/testify/require"
)

// A session that may not read a table learns nothing of its columns, nor
// whether it exists: every statement naming it is 1142, whatever columns
// it names, as in MySQL, which checks a statement's tables before its
// columns. Before, an unknown column was the engine's "column not found"
// (1105) and a known one 1142, so any account could list any table's
// columns, nor how many. A session that may read the table gets MySQL's
// 1054 and 1052.
// (The same statements on MariaDB: TestDifferentialMariaDB.)
func TestColumnErrorsTellNothingOfTablesOneMayNotRead(t *testing.T) {
	e := start(t, nil, "")
	e.seed()
	root := e.root()
	exec(t, root,
		"CREATE TABLE demo.u (id INT, a INT)",
		"CREATE USER nothing IDENTIFIED BY 'pw'",
		"CREATE USER reader IDENTIFIED BY 'pw'", "GRANT SELECT, UPDATE ON demo.* TO reader",
		"CREATE USER columns IDENTIFIED BY 'pw'", "GRANT SELECT (a) ON demo.t TO columns",
		"CREATE USER updater IDENTIFIED BY 'pw'", "GRANT UPDATE (a) ON demo.t TO updater")

	const denied, columnDenied, unknown, ambiguous = 1142, 1143, 1054, 1052
	cases := []struct {
		user, query string
		want        uint16
	}{
		// Existing and missing columns of an existing table, and a missing
		// table, look alike to a session with no privilege on them.
		{"nothing", "SELECT nosuch FROM demo.t", denied},
		{"nothing", "SELECT a FROM demo.t", denied},
		{"nothing", "SELECT a FROM demo.nosuch", denied},
		{"nothing", "SELECT * FROM demo.t WHERE nosuch = 1", denied},
		{"nothing", "SELECT * FROM demo.t ORDER BY nosuch", denied},
		{"nothing", "SELECT a FROM demo.t GROUP BY nosuch", denied},
		{"nothing", "SELECT t.nosuch FROM demo.t", denied},
		{"nothing", "SELECT id FROM demo.t, demo.u", denied},
		{"nothing", "SELECT (SELECT nosuch FROM demo.u)", denied},
		{"nothing", "UPDATE demo.t SET nosuch = 1", denied},
		// Nor how many columns it has: the engine checks a UNION's and a
		// row comparison's widths before any privilege.
		{"nothing", "SELECT * FROM demo.t UNION SELECT 1", denied},
		{"nothing", "SELECT * FROM demo.t UNION SELECT 1, 2, 3", denied},
		{"nothing", "SELECT (SELECT * FROM demo.t)", denied},
		{"nothing", "SELECT (1, 2) = (SELECT * FROM demo.t)", denied},
		{"nothing", "SELECT * FROM demo.t NATURAL JOIN demo.u", denied},
		{"nothing", "DELETE FROM demo.t WHERE nosuch = 1", denied},
		// Column grants on another column: the table is no secret, and a
		// missing column is refused as an existing one that is not
		// granted (1143), as MySQL and MariaDB do.
		{"columns", "SELECT b FROM demo.t", columnDenied},
		{"columns", "SELECT nosuch FROM demo.t", columnDenied},
		{"columns", "SELECT a FROM demo.t ORDER BY nosuch", columnDenied},
		{"columns", "SELECT a FROM demo.t WHERE t.nosuch = 1", columnDenied},
		{"columns", "SELECT nosuch FROM demo.u", denied},
		{"columns", "SELECT nosuch FROM demo.t, demo.u", denied},
		{"columns", "UPDATE demo.t SET nosuch = 1", denied},
		// The same for a column privilege other than SELECT.
		{"updater", "UPDATE demo.t SET b = 1", columnDenied},
		{"updater", "UPDATE demo.t SET nosuch = 1", columnDenied},
		{"updater", "SELECT nosuch FROM demo.t", denied},
		// A session that may read the table: MySQL's errors.
		{"reader", "SELECT nosuch FROM demo.t", unknown},
		{"reader", "SELECT t.nosuch FROM demo.t", unknown},
		{"reader", "SELECT * FROM demo.t WHERE nosuch = 1", unknown},
		{"reader", "UPDATE demo.t SET nosuch = 1", unknown},
		{"reader", "SELECT id FROM demo.t, demo.u", ambiguous},
		{"reader", "SELECT * FROM demo.t UNION SELECT 1", 1105},
		{"root", "SELECT nosuch FROM demo.t", unknown},
	}
	conns := map[string]*sql.Conn{"root": root}
	for _, c := range cases {
		t.Run(c.user+"/"+c.query, func(t *testing.T) {
			conn, ok := conns[c.user]
			if !ok {
				conn = e.conn(c.user, "pw")
				conns[c.user] = conn
			}
			_, err := conn.ExecContext(context.Background(), c.query)
			require.Equal(t, c.want, code(err), "%v", err)
		})
	}
	// Through a prepared statement too.
	c := e.conn("nothing", "pw")
	_, err := c.PrepareContext(context.Background(), "SELECT nosuch FROM demo.t WHERE id = ?")
	require.Equal(t, uint16(denied), code(err), "%v", err)
}
