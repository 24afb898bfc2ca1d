package server

import (
	"strings"
	"testing"

	"github.com/dolthub/go-mysql-server/sql"

	"github.com/authplug/authplug/mysqlerr"
)

// errNum is the MySQL error number a client would get for err, 0 for none.
func errNum(err error) uint16 {
	if err == nil {
		return 0
	}
	return uint16(sql.CastSQLError(err).Num)
}

func TestWKBCountsMustFitTheData(t *testing.T) {
	e, ctx := bigEngine(t)
	for _, q := range []string{
		// A count of 2^31-1 with no elements after it: the engine would
		// allocate tens of GiB before reading any.
		"SELECT ST_GEOMFROMWKB(UNHEX('0107000000FFFFFF7F'))",
		"SELECT ST_GEOMFROMWKB(UNHEX('0007000000007FFFFFFF'))",
		"SELECT ST_GEOMCOLLFROMWKB(UNHEX('0107000000FFFFFF7F'))",
		"SELECT ST_LINEFROMWKB(UNHEX(CONCAT('0102000000FFFFFF7F', REPEAT('00', 32))))",
		"SELECT ST_POLYFROMWKB(UNHEX(CONCAT('0103000000FFFFFF7F', REPEAT('00', 68))))",
		"SELECT ST_POLYFROMWKB(UNHEX(CONCAT('010300000001000000FFFFFF7F', REPEAT('00', 64))))",
		"SELECT ST_MPOINTFROMWKB(UNHEX(CONCAT('0104000000FFFFFF7F', '0101000000', REPEAT('00', 16))))",
		"SELECT ST_MLINEFROMWKB(UNHEX(CONCAT('0105000000FFFFFF7F', '010200000002000000', REPEAT('00', 32))))",
		"SELECT ST_MPOLYFROMWKB(UNHEX(CONCAT('0106000000FFFFFF7F', '01030000000100000004000000', REPEAT('00', 64))))",
		// Collections nested 200 deep.
		"SELECT ST_GEOMFROMWKB(UNHEX(CONCAT(REPEAT('010700000001000000', 200), '0101000000', REPEAT('00', 16))))",
	} {
		t.Run(q, func(t *testing.T) {
			before := allocated()
			_, iter, _, err := e.Query(ctx, q)
			if err == nil {
				_, err = sql.RowIterToRows(ctx, iter)
			}
			if errNum(err) != mysqlerr.ErGISInvalidData {
				t.Errorf("err %v, want 3037", err)
			}
			if grew := allocated() - before; grew > 16<<20 {
				t.Errorf("allocated %d MiB", grew>>20)
			}
		})
	}
	for q, want := range map[string]string{
		"SELECT ST_ASWKT(ST_GEOMFROMWKB(UNHEX(CONCAT('010700000002000000', '0101000000', REPEAT('00', 16), '010200000002000000', REPEAT('00', 32)))))": "GEOMETRYCOLLECTION(POINT(0 0),LINESTRING(0 0,0 0))",
		"SELECT ST_ASWKT(ST_POLYFROMWKB(UNHEX(CONCAT('01030000000100000004000000', REPEAT('00', 64)))))":                                               "POLYGON((0 0,0 0,0 0,0 0))",
		"SELECT ST_ASWKT(ST_GEOMFROMWKB(ST_ASWKB(ST_GEOMFROMTEXT('MULTIPOLYGON(((0 0,1 0,1 1,0 0)),((0 0,2 0,2 2,0 0)))'))))":                          "MULTIPOLYGON(((0 0,1 0,1 1,0 0)),((0 0,2 0,2 2,0 0)))",
	} {
		if v, _ := one(t, e, ctx, q); v != want {
			t.Errorf("%s = %v, want %s", q, v, want)
		}
	}
}

func TestJSONTableGeometryCountsMustFitTheData(t *testing.T) {
	e, ctx := bigEngine(t)
	// EWKB of a GEOMETRYCOLLECTION, big-endian, whose count 0x7F7F7F7F
	// (2 GiB elements) is all that follows: JSON can carry every byte.
	const ewkb = `\\u0000\\u0000\\u0000\\u0000\\u0000\\u0000\\u0000\\u0000\\u0007\\u007f\\u007f\\u007f\\u007f`
	for _, q := range []string{
		`SELECT ST_ASWKT(g) FROM JSON_TABLE('[{"a":"` + ewkb + `"}]', '$[*]' COLUMNS (g GEOMETRY PATH '$.a' ERROR ON ERROR)) t`,
		`SELECT ST_ASWKT(g) FROM JSON_TABLE('[{"a":"` + ewkb + `"}]', '$[*]' COLUMNS (g GEOMETRYCOLLECTION PATH '$.a' ERROR ON ERROR)) t`,
		`SELECT ST_ASWKT(g) FROM JSON_TABLE('[{"a":["` + ewkb + `"]}]', '$[*]' COLUMNS (NESTED PATH '$.a[*]' COLUMNS (g GEOMETRY PATH '$' ERROR ON ERROR))) t`,
	} {
		t.Run(q, func(t *testing.T) {
			before := allocated()
			_, iter, _, err := e.Query(ctx, q)
			if err == nil {
				_, err = sql.RowIterToRows(ctx, iter)
			}
			if errNum(err) != mysqlerr.ErCantCreateGeometryObject {
				t.Errorf("err %v, want 1416", err)
			}
			if grew := allocated() - before; grew > 16<<20 {
				t.Errorf("allocated %d MiB", grew>>20)
			}
		})
	}
	// A prepared statement is analyzed with the same rule.
	runSQL(t, e, ctx, `PREPARE jt FROM 'SELECT ST_ASWKT(g) FROM JSON_TABLE(?, ''$[*]'' COLUMNS (g GEOMETRY PATH ''$.a'' ERROR ON ERROR)) t'`)
	runSQL(t, e, ctx, `SET @j = '[{"a":"`+ewkb+`"}]'`)
	_, iter, _, err := e.Query(ctx, "EXECUTE jt USING @j")
	if err == nil {
		_, err = sql.RowIterToRows(ctx, iter)
	}
	if errNum(err) != mysqlerr.ErCantCreateGeometryObject {
		t.Errorf("EXECUTE: err %v, want 1416", err)
	}
	// A point, little-endian, SRID 0: still read.
	q := `SELECT ST_ASWKT(g) FROM JSON_TABLE('[{"a":"\\u0000\\u0000\\u0000\\u0000\\u0001\\u0001\\u0000\\u0000\\u0000` +
		strings.Repeat(`\\u0000`, 16) + `"}]', '$[*]' COLUMNS (g GEOMETRY PATH '$.a' ERROR ON ERROR)) t`
	if v, _ := one(t, e, ctx, q); v != "POINT(0 0)" {
		t.Errorf("%s = %v, want POINT(0 0)", q, v)
	}
}

func TestWKTNestingIsBounded(t *testing.T) {
	e, ctx := bigEngine(t)
	// Deep enough that the engine's quadratic reading takes seconds.
	const n = 20000
	q := "SELECT ST_ASWKT(ST_GEOMFROMTEXT('" + strings.Repeat("GEOMETRYCOLLECTION(", n) + strings.Repeat(")", n) + "'))"
	before := allocated()
	_, iter, _, err := e.Query(ctx, q)
	if err == nil {
		_, err = sql.RowIterToRows(ctx, iter)
	}
	if errNum(err) != mysqlerr.ErGISInvalidData {
		t.Errorf("err %v, want 3037", err)
	}
	if grew := allocated() - before; grew > 64<<20 {
		t.Errorf("allocated %d MiB", grew>>20)
	}
	// What real geometries nest to is still read.
	const poly = "MULTIPOLYGON(((0 0,1 0,1 1,0 0)),((0 0,2 0,2 2,0 0)))"
	coll := strings.Repeat("GEOMETRYCOLLECTION(", 10) + poly + strings.Repeat(")", 10)
	if v, _ := one(t, e, ctx, "SELECT ST_ASWKT(ST_GEOMFROMTEXT('"+coll+"'))"); v != coll {
		t.Errorf("= %v, want %s", v, coll)
	}
}

func TestGeometryCollectionDoublingStopsAtMaxAllowedPacket(t *testing.T) {
	e, ctx := bigEngine(t)
	// Each step doubles the points: 2^30 at the end, 16 GiB of WKB.
	q := "WITH RECURSIVE c(n, g) AS (SELECT 1, POINT(1, 1) UNION ALL SELECT n+1, GEOMETRYCOLLECTION(g, g) FROM c WHERE n < 31) " +
		"SELECT LENGTH(ST_ASWKB(g)) FROM c WHERE n = 31"
	before := allocated()
	_, iter, _, err := e.Query(ctx, q)
	var rows []sql.Row
	if err == nil {
		rows, err = sql.RowIterToRows(ctx, iter)
	}
	if grew := allocated() - before; grew > 16<<20 {
		t.Errorf("allocated %d MiB", grew>>20)
	}
	// The step over the limit is NULL with warning 1301; the engine's
	// GEOMETRYCOLLECTION refuses a NULL in the step after.
	if err == nil || len(rows) != 0 || errNum(err) == mysqlerr.ErNotSupportedYet {
		t.Errorf("rows %v, err %v; want the engine's error for a NULL geometry", rows, err)
	}
	v, warns := one(t, e, ctx, "SELECT GEOMETRYCOLLECTION(POINT(1, 1), "+strings.TrimSuffix(strings.Repeat("POINT(1, 1), ", 200), ", ")+")")
	if v != nil || len(warns) != 1 || warns[0].Code != mysqlerr.ErWarnAllowMaxPacketResult {
		t.Errorf("201 points (4 KiB of WKB) = %v, %+v; want NULL and 1301", v, warns)
	}
	// Under the limit, collections are built as before.
	if v, warns := one(t, e, ctx, "SELECT ST_ASWKT(GEOMETRYCOLLECTION(POINT(1, 2), GEOMETRYCOLLECTION(POINT(3, 4))))"); v != "GEOMETRYCOLLECTION(POINT(1 2),GEOMETRYCOLLECTION(POINT(3 4)))" || len(warns) != 0 {
		t.Errorf("= %v %+v", v, warns)
	}
}
