package tests

import (
	"context"
	"testing"

	"github.com/stretchr/testify/require"
)

// Refusals the engine's name checks defer are settled by the plan
// authorizer (server/settle.go): a table the analyzer drops from the plan
// is still refused, a common table expression or a view is not refused
// for the table whose name it bears or reads.

func TestDroppedTablesAreStillRefused(t *testing.T) {
	e, root := attackEnv(t)
	exec(t, root,
		"CREATE VIEW demo2.vt AS SELECT id, a FROM demo.t WHERE b > 0",
		"GRANT SELECT ON demo2.vt TO nothing")
	const denied = 1142
	runAttackCases(t, e, []attackCase{
		// Rewritten to empty tables by the analyzer.
		{"nothing", "SELECT * FROM demo.t LIMIT 0", denied},
		{"nothing", "SELECT * FROM demo.t WHERE 1=0 FOR UPDATE", denied},
		{"nothing", "SELECT * FROM demo.u JOIN demo.t ON 1=0", denied},
		{"nothing", "SELECT * FROM demo.u WHERE EXISTS (SELECT * FROM demo.t WHERE 1=0)", denied},
		{"nothing", "SELECT * FROM mysql.user WHERE 1=0", denied},
		{"nothing", "EXPLAIN SELECT * FROM demo.t WHERE 1=0", denied},
		{"nothing", "SELECT * FROM t WHERE 1=0", denied},
		{"nothing", "SELECT * FROM `demo`.`t` WHERE 1=0", denied},
		{"nothing", "SELECT * FROM demo.u WHERE 1=0", 0},
		// Other statements around the same empty read.
		{"nothing", "CREATE TABLE demo2.x (id INT, a INT, b INT)", 0},
		{"nothing", "INSERT INTO demo2.x SELECT * FROM demo.t WHERE 1=0", denied},
		{"nothing", "CREATE VIEW demo2.v2 AS SELECT * FROM demo.t WHERE 1=0", denied},
		{"nothing", "SELECT * FROM demo.t WHERE 1=0 INTO @a, @b, @c", denied},
		{"nothing", "SELECT (SELECT COUNT(*) FROM demo.t WHERE 1=0)", denied},
		// Common table expressions named like the table.
		{"nothing", "WITH t AS (SELECT 1 AS x) SELECT x FROM t", 0},
		{"nothing", "WITH t AS (SELECT 1 AS x) SELECT x FROM t WHERE 1=0", 0},
		{"nothing", "WITH RECURSIVE t (n) AS (SELECT 1 UNION ALL SELECT n + 1 FROM t WHERE n < 3) SELECT n FROM t WHERE 1=0", 0},
		{"nothing", "SELECT x FROM (SELECT 1 AS x) t WHERE 1=0", 0},
		{"nothing", "WITH t AS (SELECT 1 AS x) SELECT nosuch FROM t", 1054},
		// ... but a non-recursive one's own body, or another query block,
		// reads the table.
		{"nothing", "WITH t AS (SELECT * FROM t WHERE 1=0) SELECT * FROM t", denied},
		{"nothing", "SELECT * FROM (WITH t AS (SELECT 1 AS x, 2 AS y, 3 AS z) SELECT * FROM t) d UNION SELECT * FROM t WHERE 1=0", denied},
		// A view over the table.
		{"nothing", "SELECT * FROM demo2.vt WHERE 1=0", 0},
		{"nothing", "SELECT * FROM demo2.vt LIMIT 0", 0},
		{"nothing", "SELECT * FROM demo2.vt, demo.t WHERE 1=0", denied},
		// Column grants: what the statement names.
		{"columns", "SELECT a FROM demo.t WHERE 1=0", 0},
		{"columns", "SELECT COUNT(*) FROM demo.t WHERE 1=0", 0},
		{"columns", "SELECT id FROM demo.t WHERE 1=0", 1143},
		{"columns", "SELECT x.id FROM demo.t x WHERE 1=0", 1143},
	})
}

func TestPreparedStatementsSettleRefusals(t *testing.T) {
	e, root := attackEnv(t)
	exec(t, root,
		"CREATE VIEW demo2.vt AS SELECT id, a FROM demo.t WHERE b > 0",
		"GRANT SELECT ON demo2.vt TO nothing")
	runAttackCases(t, e, []attackCase{
		{"nothing", "PREPARE p1 FROM 'WITH t AS (SELECT 1 AS x) SELECT x FROM t'", 0},
		{"nothing", "PREPARE p2 FROM 'SELECT * FROM demo2.vt'", 0},
		{"nothing", "PREPARE p3 FROM 'SELECT * FROM demo.t WHERE 1=0'", 1142},
		{"columns", "PREPARE p4 FROM 'SELECT a FROM demo.t'", 0},
		// From a variable, the text the names were bound from is not the
		// statement's: nothing is settled by its absence there.
		{"nothing", "SET @q = 'SELECT * FROM demo.t WHERE 1=0'", 0},
		{"nothing", "PREPARE p5 FROM @q", 1142},
		{"nothing", "SET @q = 'SELECT * FROM t WHERE 1=0'", 0},
		{"nothing", "PREPARE p6 FROM @q", 1142},
		{"nothing", "SET @q = 'SELECT id FROM demo.u WHERE 1=0'", 0},
		{"nothing", "PREPARE p7 FROM @q", 0},
		{"nothing", "EXECUTE p7", 0},
	})
	ctx := context.Background()
	c := e.conn("nothing", "pw", withDB("demo"))
	for _, q := range []string{
		"WITH t AS (SELECT 1 AS x) SELECT x FROM t WHERE x = ?",
		"SELECT * FROM demo2.vt WHERE id = ?",
	} {
		s, err := c.PrepareContext(ctx, q)
		require.NoError(t, err, q)
		require.NoError(t, s.Close())
	}
	for _, q := range []string{
		"SELECT * FROM demo.t WHERE 1=0 AND id = ?",
		"SELECT * FROM t WHERE id = ? LIMIT 0",
		"SELECT nosuch FROM t WHERE id = ?",
	} {
		_, err := c.PrepareContext(ctx, q)
		require.Equal(t, uint16(1142), code(err), "%s: %v", q, err)
	}
	cc := e.conn("columns", "pw", withDB("demo"))
	s, err := cc.PrepareContext(ctx, "SELECT a FROM t WHERE a = ?")
	require.NoError(t, err)
	require.NoError(t, s.Close())
	_, err = cc.PrepareContext(ctx, "SELECT id FROM t WHERE a = ?")
	require.Equal(t, uint16(1143), code(err), "%v", err)
}
