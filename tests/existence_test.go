package tests

import (
	"context"
	"testing"

	"github.com/stretchr/testify/require"
)

// The statements whose named table the engine looks up before asking for
// a privilege on it (server/existence.go): an account that may not use the
// table gets the refusal whether it exists or not, and whatever columns it
// names; an account that may keeps MySQL's 1146 and 1054.
func TestNamedTablesRefusedBeforeExistence(t *testing.T) {
	e, root := attackEnv(t)
	exec(t, root,
		"CREATE USER owner IDENTIFIED BY 'pw'", "GRANT ALL ON demo.* TO owner", "GRANT ALL ON demo2.* TO owner",
		"CREATE USER colins IDENTIFIED BY 'pw'", "GRANT INSERT (a) ON demo.t TO colins",
		"CREATE USER filer IDENTIFIED BY 'pw'", "GRANT FILE ON *.* TO filer", "GRANT SELECT ON demo.u TO filer",
		"CREATE USER alterer IDENTIFIED BY 'pw'", "GRANT CREATE, ALTER, INSERT ON demo2.* TO alterer",
		"GRANT SELECT ON demo.u TO alterer",
		"CREATE TABLE demo2.own (x INT)")
	const (
		ok, denied, colDenied, fileDenied = 0, 1142, 1143, 1227
		noTable, noColumn                 = 1146, 1054
	)
	cases := []attackCase{
		{"nothing", "ANALYZE TABLE demo.t", denied},
		{"nothing", "ANALYZE TABLE demo.nosuch", denied},
		{"nothing", "ANALYZE TABLE nosuchdb.t", denied},
		{"nothing", "ANALYZE TABLE demo.u, demo.nosuch", denied},
		{"nothing", "ANALYZE TABLE demo.t DROP HISTOGRAM ON nosuch", denied},
		{"nothing", "ANALYZE TABLE demo.nosuch UPDATE HISTOGRAM ON a USING DATA 'not json'", denied},
		{"nothing", "LOAD DATA LOCAL INFILE '/dev/null' INTO TABLE demo.t (a)", denied},
		{"nothing", "LOAD DATA LOCAL INFILE '/dev/null' INTO TABLE t (nosuch)", denied},
		{"nothing", "LOAD DATA INFILE '/nonexistent' INTO TABLE demo.t", denied},
		{"nothing", "LOAD DATA INFILE '/nonexistent' INTO TABLE demo.nosuch", denied},
		{"nothing", "CREATE TABLE demo2.c LIKE demo.t", denied},
		{"nothing", "CREATE TABLE demo2.c LIKE demo2.nosuch", denied},
		{"nothing", "CREATE TABLE demo2.f (x INT, FOREIGN KEY (x) REFERENCES demo.s(id))", denied},
		{"nothing", "PREPARE p FROM 'ANALYZE TABLE demo.nosuch'", denied},
		{"alterer", "ALTER TABLE demo2.own ADD FOREIGN KEY (x) REFERENCES demo.s(id)", denied},
		{"alterer", "ALTER TABLE demo2.own ADD FOREIGN KEY (x) REFERENCES demo.nosuch(id)", denied},
		// The table, then FILE, before the file's path is looked at.
		{"filer", "LOAD DATA INFILE '/nonexistent' INTO TABLE demo.t", denied},
		{"filer", "LOAD DATA INFILE '/nonexistent' INTO TABLE demo.nosuch", denied},
		// Column grants: no INSERT at all is a table refusal; INSERT on a
		// column refuses unknown columns as ungranted ones.
		{"columns", "ANALYZE TABLE demo.t", denied},
		{"columns", "ANALYZE TABLE demo.t DROP HISTOGRAM ON nosuch", denied},
		{"columns", "LOAD DATA LOCAL INFILE '/dev/null' INTO TABLE demo.t (nosuch)", denied},
		{"columns", "LOAD DATA LOCAL INFILE '/dev/null' INTO TABLE demo.nosuch", denied},
		{"colins", "LOAD DATA LOCAL INFILE '/dev/null' INTO TABLE demo.t (b)", colDenied},
		{"colins", "LOAD DATA LOCAL INFILE '/dev/null' INTO TABLE demo.t (nosuch)", colDenied},
		{"colins", "LOAD DATA LOCAL INFILE '/dev/null' INTO TABLE demo.nosuch", denied},
		{"colins", "ANALYZE TABLE demo.t", denied},
		// The privilege held: MySQL's own errors.
		{"owner", "ANALYZE TABLE demo.t", ok},
		{"owner", "ANALYZE TABLE demo.nosuch", noTable},
		{"owner", "ANALYZE TABLE demo.t DROP HISTOGRAM ON a", ok},
		{"owner", "ANALYZE TABLE demo.t DROP HISTOGRAM ON nosuch", noColumn},
		{"owner", "ANALYZE TABLE demo.t UPDATE HISTOGRAM ON nosuch USING DATA '{}'", noColumn},
		{"owner", "LOAD DATA LOCAL INFILE '/dev/null' INTO TABLE demo.nosuch", noTable},
		{"owner", "LOAD DATA LOCAL INFILE '/dev/null' INTO TABLE demo.t (nosuch)", noColumn},
		{"owner", "CREATE TABLE demo2.c LIKE demo.nosuch", noTable},
		{"owner", "LOAD DATA INFILE '/nonexistent' INTO TABLE demo.t", fileDenied},
		{"owner", "LOAD DATA INFILE '/nonexistent' INTO TABLE demo.nosuch", fileDenied},
		{"owner", "PREPARE p FROM 'ANALYZE TABLE demo.nosuch'", noTable},
	}
	runAttackCases(t, e, cases)

	// Nodes that name their table in fields are checked, not refused as
	// unclassified (or passed with nothing asked).
	exec(t, root, "USE demo")
	for _, q := range []string{"ALTER TABLE demo.t DROP FOREIGN KEY nosuch", "ANALYZE TABLE demo.t DROP HISTOGRAM ON a"} {
		t.Run("root/"+q, func(t *testing.T) {
			_, err := root.ExecContext(context.Background(), q)
			require.NotEqual(t, uint16(1235), code(err), "%v", err)
		})
	}
	runAttackCases(t, e, []attackCase{{"nothing", "ALTER TABLE demo.t DROP FOREIGN KEY nosuch", denied}})

	// root, on the statements an owner gets MySQL's own errors for.
	for _, c := range cases {
		if c.user != "owner" || c.want != noTable && c.want != noColumn {
			continue
		}
		t.Run("root/"+c.query, func(t *testing.T) {
			_, err := root.ExecContext(context.Background(), c.query)
			require.Equal(t, c.want, code(err), "%v", err)
		})
	}
}

// The same refusals through the binary protocol's prepare and through a
// multi-statement query.
func TestNamedTablesRefusedBeforeExistenceEveryPath(t *testing.T) {
	e, _ := attackEnv(t)
	const denied = 1142
	c := e.conn("nothing", "pw", withDB("demo"))
	for _, q := range []string{"ANALYZE TABLE demo.nosuch", "CREATE TABLE demo2.c LIKE demo.nosuch"} {
		t.Run("prepare/"+q, func(t *testing.T) {
			st, err := c.PrepareContext(context.Background(), q)
			if err == nil {
				_, err = st.ExecContext(context.Background())
				require.NoError(t, st.Close())
			}
			require.Equal(t, uint16(denied), code(err), "%v", err)
		})
	}
	for _, q := range []string{"ANALYZE TABLE demo.nosuch; SELECT 1", "ANALYZE TABLE demo.t DROP HISTOGRAM ON nosuch; SELECT 1"} {
		t.Run("multi/"+q, func(t *testing.T) {
			multi := e.conn("nothing", "pw", withDB("demo"), withMultiStatements)
			_, err := multi.ExecContext(context.Background(), q)
			require.Equal(t, uint16(denied), code(err), "%v", err)
		})
	}
}
