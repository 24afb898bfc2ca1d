package tests

import (
	"context"
	"database/sql"
	"encoding/hex"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// EWKB (a SRID, then WKB) that go-mysql-server's readers turn into a fatal
// allocation: a collection of 2^31-1 geometries in 13 bytes, the same
// inside three collections; and collections nested deeper than the host
// reads (the engine recurses once per level).
var hostileEWKB = map[string]string{
	"count":  "000000000107000000FFFFFF7F",
	"nested": "00000000" + strings.Repeat("010700000001000000", 3) + "0107000000FFFFFF7F",
	"deep":   "00000000" + strings.Repeat("010700000001000000", 100) + "0101000000" + strings.Repeat("00", 16),
}

// geometryState is what the attacks below must leave as it was.
func geometryState(t *testing.T, root *sql.Conn) [][]string {
	t.Helper()
	var out [][]string
	for _, q := range []string{
		"SELECT id, HEX(g) FROM demo.g ORDER BY id",
		"SELECT HEX(g) FROM demo.sp",
		"SELECT COUNT(*) FROM demo.tr",
		"SELECT id, HEX(b) FROM demo.m ORDER BY id",
		"SHOW CREATE TABLE demo.m",
	} {
		out = append(out, rowsOf(t, root, q)...)
	}
	return out
}

// TestGeometryColumnsRefuseWhatIsNoGeometry: each way an account with no
// more than the privilege it needs could hand the engine bytes to read as
// a geometry gets MySQL's 1416, writes nothing, and the server goes on.
func TestGeometryColumnsRefuseWhatIsNoGeometry(t *testing.T) {
	e := start(t, nil, "")
	root := e.root()
	exec(t, root,
		"CREATE TABLE demo.g (id INT PRIMARY KEY, g GEOMETRY)",
		"INSERT INTO demo.g VALUES (1, POINT(1, 2))",
		"CREATE TABLE demo.b (id INT PRIMARY KEY, v BLOB)",
		"CREATE TABLE demo.sp (g GEOMETRY NOT NULL SRID 0, SPATIAL INDEX (g))",
		"INSERT INTO demo.sp VALUES (POINT(1, 1))",
		"CREATE TABLE demo.tr (b BLOB, g GEOMETRY)",
		"CREATE TRIGGER demo.tr_g BEFORE INSERT ON demo.tr FOR EACH ROW SET NEW.g = NEW.b",
		"CREATE TABLE demo.m (id INT PRIMARY KEY, b BLOB)",
		"INSERT INTO demo.m VALUES (1, UNHEX('000000000101000000000000000000F03F0000000000000040'))",
		"CREATE PROCEDURE demo.takes(g GEOMETRY) BEGIN SELECT 1; END",
		"CREATE PROCEDURE demo.gives(IN b BLOB, OUT g GEOMETRY) BEGIN SET g = b; END",
		"CREATE PROCEDURE demo.keeps(b BLOB) BEGIN DECLARE v GEOMETRY; SET v = b; INSERT INTO demo.g VALUES (2, v); END",
		"CREATE VIEW demo.v AS SELECT ST_GEOMFROMTEXT('POINT(1 1)') AS x",
	)
	for user, grants := range map[string][]string{
		"ins":     {"GRANT INSERT ON demo.g TO ins", "GRANT INSERT ON demo.tr TO ins"},
		"insel":   {"GRANT INSERT ON demo.g TO insel", "GRANT SELECT ON demo.b TO insel"},
		"upd":     {"GRANT UPDATE ON demo.g TO upd"},
		"ondup":   {"GRANT INSERT, UPDATE ON demo.g TO ondup"},
		"repl":    {"GRANT INSERT, DELETE ON demo.g TO repl"},
		"filer":   {"GRANT FILE ON *.* TO filer", "GRANT INSERT ON demo.g TO filer"},
		"alterer": {"GRANT ALTER, CREATE, INSERT ON demo.m TO alterer"},
		"exe":     {"GRANT EXECUTE ON demo.* TO exe"},
		"sel":     {"GRANT SELECT ON demo.sp TO sel", "GRANT SELECT ON demo.g TO sel", "GRANT SELECT ON demo.b TO sel", "GRANT SELECT ON demo.v TO sel"},
		"nobody":  nil,
	} {
		exec(t, root, "CREATE USER "+user+" IDENTIFIED WITH mysql_native_password BY 'pw'")
		exec(t, root, grants...)
	}
	secure := filepath.Join(e.dir, "secure-files")

	type attack struct {
		name, user string
		// stmts run in one session; the last must fail with 1416. {X} is
		// the payload as an expression, {F} a file holding it.
		stmts []string
		// args binds the payload's bytes to the last statement's ? through
		// the binary protocol.
		args bool
	}
	attacks := []attack{
		{"INSERT", "ins", []string{"INSERT INTO demo.g VALUES (2, {X})"}, false},
		{"INSERT of two rows, the bad one last", "ins", []string{"INSERT INTO demo.g VALUES (3, POINT(3, 4)), (2, {X})"}, false},
		{"INSERT, a bound parameter", "ins", []string{"INSERT INTO demo.g VALUES (2, ?)"}, true},
		{"INSERT ... SELECT from a BLOB", "insel", []string{"INSERT INTO demo.g SELECT id, v FROM demo.b"}, false},
		{"UPDATE", "upd", []string{"UPDATE demo.g SET g = {X}"}, false},
		{"UPDATE, a bound parameter", "upd", []string{"UPDATE demo.g SET g = ?"}, true},
		{"ON DUPLICATE KEY UPDATE", "ondup", []string{"INSERT INTO demo.g VALUES (1, POINT(5, 6)) ON DUPLICATE KEY UPDATE g = {X}"}, false},
		{"REPLACE", "repl", []string{"REPLACE INTO demo.g VALUES (1, {X})"}, false},
		{"a trigger's SET NEW.g", "ins", []string{"INSERT INTO demo.tr (b) VALUES ({X})"}, false},
		{"LOAD DATA", "filer", []string{"LOAD DATA INFILE '{F}' INTO TABLE demo.g"}, false},
		{"ALTER TABLE MODIFY to GEOMETRY", "alterer", []string{"ALTER TABLE demo.m MODIFY b GEOMETRY"}, false},
		{"a CALL's argument", "exe", []string{"CALL demo.takes({X})"}, false},
		{"a routine's INSERT of its variable", "exe", []string{"CALL demo.keeps({X})"}, false},
		{"a CALL's OUT parameter read", "exe", []string{"CALL demo.gives({X}, @v)", "SELECT @v"}, false},
		{"a CALL's OUT parameter bound", "exe", []string{"CALL demo.gives({X}, @v)", "PREPARE s FROM 'SELECT ?'", "EXECUTE s USING @v"}, false},
		{"a prepared statement's variable", "ins", []string{"PREPARE s FROM 'INSERT INTO demo.g VALUES (2, ?)'", "SET @v = {X}", "EXECUTE s USING @v"}, false},
		{"IN, no privilege", "nobody", []string{"SELECT ST_GEOMFROMTEXT('POINT(1 1)') IN ({X})"}, false},
		{"IN, a bound parameter", "nobody", []string{"SELECT GEOMETRYCOLLECTION(POINT(1, 1)) IN (?)"}, true},
		{"IN on a column", "sel", []string{"SELECT COUNT(*) FROM demo.g WHERE g IN ({X})"}, false},
		{"IN through a view", "sel", []string{"USE demo", "SELECT x IN ({X}) FROM v"}, false},
		{"a spatial index lookup", "sel", []string{"SELECT COUNT(*) FROM demo.sp WHERE g = {X}"}, false},
		{"a result written to the wire", "nobody", []string{"SELECT IFNULL(ST_GEOMFROMTEXT(NULL), {X})"}, false},
		// The analyzer's own batches for a single-table UPDATE or DELETE,
		// which fold IN lists into hash sets while analyzing.
		{"a single-table UPDATE's IN", "upd", []string{"UPDATE demo.g SET g = POINT(7, 8) WHERE ST_GEOMFROMTEXT('POINT(1 1)') IN ({X}, {X})"}, false},
		{"a single-table DELETE's IN", "repl", []string{"DELETE FROM demo.g WHERE ST_GEOMFROMTEXT('POINT(1 1)') IN ({X}, {X})"}, false},
		{"a single-table DELETE's IN, bound", "repl", []string{"DELETE FROM demo.g WHERE ST_GEOMFROMTEXT('POINT(1 1)') IN (?)"}, true},
		{"a spatial index lookup, bound", "sel", []string{"SELECT COUNT(*) FROM demo.sp WHERE g = ?"}, true},
	}
	for pname, payload := range hostileEWKB {
		raw, err := hex.DecodeString(payload)
		require.NoError(t, err)
		// Bytes already in BLOB columns, for INSERT ... SELECT and ALTER.
		exec(t, root, "DELETE FROM demo.b WHERE id = 2", "DELETE FROM demo.m WHERE id = 2",
			"INSERT INTO demo.b VALUES (2, UNHEX('"+payload+"'))", "INSERT INTO demo.m VALUES (2, UNHEX('"+payload+"'))")
		before := geometryState(t, root)
		file := filepath.Join(secure, pname)
		require.NoError(t, os.WriteFile(file, append([]byte("2\t"), append(raw, '\n')...), 0o600))
		for _, a := range attacks {
			t.Run(pname+"/"+a.name, func(t *testing.T) {
				c := e.in(t).conn(a.user, "pw")
				last := len(a.stmts) - 1
				for i, s := range a.stmts {
					s = strings.NewReplacer("{X}", "UNHEX('"+payload+"')", "{F}", file).Replace(s)
					var err error
					switch {
					case i < last:
						_, err = c.ExecContext(context.Background(), s)
						require.NoError(t, err, s)
						continue
					case a.args:
						_, err = c.ExecContext(context.Background(), s, raw)
					default:
						_, err = query(c, s)
					}
					assert.Equal(t, uint16(1416), code(err), "%s: %v", s, err)
				}
				assert.Equal(t, [][]string{{"1"}}, rowsOf(t, e.in(t).conn("nobody", "pw"), "SELECT 1"), "the server still serves")
				assert.Equal(t, before, geometryState(t, e.in(t).root()), "nothing written")
			})
		}
	}
}

// TestValidGeometriesStillWork: the check lets real geometries through,
// from a client's bytes as from the constructors, and they read back as
// they were written.
func TestValidGeometriesStillWork(t *testing.T) {
	e := start(t, nil, "")
	root := e.root()
	exec(t, root,
		"CREATE TABLE demo.g (id INT PRIMARY KEY, g GEOMETRY)",
		"CREATE TABLE demo.s (id INT PRIMARY KEY, g POINT NOT NULL SRID 4326, SPATIAL INDEX (g))",
		"CREATE USER ins IDENTIFIED WITH mysql_native_password BY 'pw'",
		"GRANT INSERT, SELECT ON demo.* TO ins",
	)
	ins := e.conn("ins", "pw")
	nested := strings.Repeat("GEOMETRYCOLLECTION(", 10) + "POINT(1 2)" + strings.Repeat(")", 10)
	wkts := []string{
		"POINT(1 2)",
		"POLYGON((0 0,4 0,4 4,0 0),(1 1,2 1,2 2,1 1))",
		"MULTIPOLYGON(((0 0,1 0,1 1,0 0)),((0 0,2 0,2 2,0 0)))",
		"GEOMETRYCOLLECTION(POINT(1 2),LINESTRING(0 0,1 1),MULTIPOINT(1 1,2 2))",
		nested,
	}
	for i, wkt := range wkts {
		exec(t, ins, "INSERT INTO demo.g VALUES ("+strconv.Itoa(i)+", ST_GEOMFROMTEXT('"+wkt+"'))")
		// What the server sends for it is EWKB; sent back, bound as bytes,
		// it is the same geometry.
		var ewkb []byte
		require.NoError(t, ins.QueryRowContext(context.Background(), "SELECT g FROM demo.g WHERE id = ?", i).Scan(&ewkb))
		_, err := ins.ExecContext(context.Background(), "INSERT INTO demo.g VALUES (?, ?)", 100+i, ewkb)
		require.NoError(t, err, wkt)
		var back []byte
		var text string
		require.NoError(t, ins.QueryRowContext(context.Background(), "SELECT g, ST_ASTEXT(g) FROM demo.g WHERE id = ?", 100+i).Scan(&back, &text))
		assert.Equal(t, ewkb, back, wkt)
		assert.Equal(t, wkt, text)
	}
	// SRIDs: a column's SRID, EWKB carrying it, the spatial index.
	const ewkb4326 = "E6100000010100000000000000000008400000000000001040"
	exec(t, ins,
		"INSERT INTO demo.s VALUES (1, ST_GEOMFROMTEXT('POINT(1 2)', 4326))",
		"INSERT INTO demo.s VALUES (2, UNHEX('"+ewkb4326+"'))",
	)
	assert.Equal(t, [][]string{{"1", "4326"}, {"2", "4326"}}, rowsOf(t, ins, "SELECT id, ST_SRID(g) FROM demo.s ORDER BY id"))
	assert.Equal(t, [][]string{{ewkb4326}}, rowsOf(t, ins, "SELECT HEX(g) FROM demo.s WHERE id = 2"))
	assert.Equal(t, [][]string{{"1"}}, rowsOf(t, ins, "SELECT id FROM demo.s WHERE ST_INTERSECTS(g, ST_GEOMFROMTEXT('POINT(1 2)', 4326))"))
	assert.NotZero(t, codeOf(ins, "INSERT INTO demo.s VALUES (3, UNHEX('000000000101000000000000000000F03F000000000000F03F'))"), "SRID 0 in a SRID 4326 column")
	rows := rowsOf(t, root, "SHOW CREATE TABLE demo.s")
	assert.Contains(t, rows[0][1], "`g` point NOT NULL /*!80003 SRID 4326 */")
}
