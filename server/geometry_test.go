package server

import (
	"encoding/hex"
	"go/ast"
	"go/parser"
	"go/token"
	"path/filepath"
	"strconv"
	"strings"
	"testing"

	sqle "github.com/dolthub/go-mysql-server"
	"github.com/dolthub/go-mysql-server/memory"
	"github.com/dolthub/go-mysql-server/sql"
	"github.com/dolthub/go-mysql-server/sql/expression"
	"github.com/dolthub/go-mysql-server/sql/expression/function/spatial"
	"github.com/dolthub/go-mysql-server/sql/plan"
	"github.com/dolthub/go-mysql-server/sql/types"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/authplug/authplug/mysqlerr"
)

// EWKB (a SRID, then WKB) that the engine's readers would turn into a
// fatal allocation or recursion: a collection of 2^31-1 geometries in 13
// bytes; the same inside three collections; collections nested 100 deep
// (the engine recurses once per level, and 63 MB of them exhausts the
// stack).
var badEWKB = map[string]string{
	"count":  "000000000107000000FFFFFF7F",
	"nested": "00000000" + strings.Repeat("010700000001000000", 3) + "0107000000FFFFFF7F",
	"deep":   "00000000" + strings.Repeat("010700000001000000", 100) + "0101000000" + strings.Repeat("00", 16),
}

// wire runs q and writes its rows as the server would, with each column's
// type (the handler's SQL): the conversion a result goes through.
func wire(e *sqle.Engine, ctx *sql.Context, q string) ([]sql.Row, error) {
	sch, iter, _, err := e.Query(ctx, q)
	if err != nil {
		return nil, err
	}
	rows, err := sql.RowIterToRows(ctx, iter)
	if err != nil {
		return nil, err
	}
	for _, r := range rows {
		for i, v := range r {
			if _, err := sch[i].Type.SQL(ctx, nil, v); err != nil {
				return nil, err
			}
		}
	}
	return rows, nil
}

// TestGeometryConversionsCheckTheBytes: every way a value becomes a
// geometry reads it only after the walk; invalid EWKB is MySQL's 1416 and
// nothing is written.
func TestGeometryConversionsCheckTheBytes(t *testing.T) {
	type attack struct {
		name  string
		setup []string
		// q uses {X} for the payload, as an expression.
		q string
		// table is a query whose result must be the same before and after.
		table string
		// want is the error number, 1416 when 0.
		want uint16
	}
	attacks := []attack{
		{name: "INSERT", setup: []string{"CREATE TABLE t (id INT PRIMARY KEY, g GEOMETRY)"},
			q: "INSERT INTO t VALUES (1, {X})", table: "SELECT COUNT(*) FROM t"},
		{name: "INSERT of several rows, the bad one last",
			setup: []string{"CREATE TABLE t (id INT PRIMARY KEY, g GEOMETRY)"},
			q:     "INSERT INTO t VALUES (1, POINT(1, 2)), (2, {X})", table: "SELECT COUNT(*) FROM t"},
		{name: "INSERT into POINT", setup: []string{"CREATE TABLE t (g POINT)"},
			q: "INSERT INTO t VALUES ({X})", table: "SELECT COUNT(*) FROM t"},
		{name: "INSERT into GEOMETRYCOLLECTION", setup: []string{"CREATE TABLE t (g GEOMETRYCOLLECTION)"},
			q: "INSERT INTO t VALUES ({X})", table: "SELECT COUNT(*) FROM t"},
		{name: "INSERT into MULTIPOLYGON", setup: []string{"CREATE TABLE t (g MULTIPOLYGON)"},
			q: "INSERT INTO t VALUES ({X})", table: "SELECT COUNT(*) FROM t"},
		{name: "INSERT ... SELECT from a BLOB",
			setup: []string{"CREATE TABLE t (g GEOMETRY)", "CREATE TABLE b (v BLOB)", "INSERT INTO b VALUES ({X})"},
			q:     "INSERT INTO t SELECT v FROM b", table: "SELECT COUNT(*) FROM t"},
		{name: "REPLACE", setup: []string{"CREATE TABLE t (id INT PRIMARY KEY, g GEOMETRY)", "INSERT INTO t VALUES (1, POINT(1, 2))"},
			q: "REPLACE INTO t VALUES (1, {X})", table: "SELECT id, ST_ASWKT(g) FROM t"},
		{name: "ON DUPLICATE KEY UPDATE", setup: []string{"CREATE TABLE t (id INT PRIMARY KEY, g GEOMETRY)", "INSERT INTO t VALUES (1, POINT(1, 2))"},
			q: "INSERT INTO t VALUES (1, POINT(3, 4)) ON DUPLICATE KEY UPDATE g = {X}", table: "SELECT id, ST_ASWKT(g) FROM t"},
		{name: "UPDATE", setup: []string{"CREATE TABLE t (id INT PRIMARY KEY, g GEOMETRY)", "INSERT INTO t VALUES (1, POINT(1, 2))"},
			q: "UPDATE t SET g = {X}", table: "SELECT id, ST_ASWKT(g) FROM t"},
		{name: "a default expression", setup: []string{"CREATE TABLE t (id INT, g GEOMETRY DEFAULT ({X}))"},
			q: "INSERT INTO t (id) VALUES (1)", table: "SELECT COUNT(*) FROM t"},
		// The engine's "incompatible type for default value" (1105) wraps
		// the check's error when the table is made.
		{name: "a literal default", q: "CREATE TABLE t (g GEOMETRY DEFAULT {X})", table: "SHOW TABLES", want: mysqlerr.ErUnknownError},
		{name: "a generated column", setup: []string{"CREATE TABLE t (b BLOB, g GEOMETRY AS (b) STORED)"},
			q: "INSERT INTO t (b) VALUES ({X})", table: "SELECT COUNT(*) FROM t"},
		{name: "ALTER TABLE MODIFY to a spatial type", setup: []string{"CREATE TABLE t (id INT PRIMARY KEY, b BLOB)", "INSERT INTO t VALUES (1, {X})"},
			q: "ALTER TABLE t MODIFY b GEOMETRY", table: "SELECT id, HEX(b) FROM t"},
		{name: "ALTER TABLE ADD COLUMN with a default", setup: []string{"CREATE TABLE t (id INT PRIMARY KEY)", "INSERT INTO t VALUES (1)"},
			q: "ALTER TABLE t ADD COLUMN g GEOMETRY DEFAULT ({X})", table: "SELECT * FROM t"},
		{name: "ALTER COLUMN SET DEFAULT", setup: []string{"CREATE TABLE t (id INT, g GEOMETRY)"},
			q: "ALTER TABLE t ALTER COLUMN g SET DEFAULT {X}", table: "SHOW CREATE TABLE t", want: mysqlerr.ErUnknownError},
		{name: "a table made by CREATE TABLE ... SELECT",
			setup: []string{"CREATE TABLE t AS SELECT ST_GEOMFROMTEXT('POINT(1 1)') AS g"},
			q:     "INSERT INTO t VALUES ({X})", table: "SELECT COUNT(*) FROM t"},
		{name: "a table made by CREATE TABLE ... LIKE",
			setup: []string{"CREATE TABLE s (g GEOMETRY)", "CREATE TABLE t LIKE s"},
			q:     "INSERT INTO t VALUES ({X})", table: "SELECT COUNT(*) FROM t"},
		{name: "a trigger's SET NEW.g",
			setup: []string{"CREATE TABLE t (b BLOB, g GEOMETRY)", "CREATE TRIGGER tg BEFORE INSERT ON t FOR EACH ROW SET NEW.g = NEW.b"},
			q:     "INSERT INTO t (b) VALUES ({X})", table: "SELECT COUNT(*) FROM t"},
		{name: "a trigger's DECLAREd variable",
			setup: []string{"CREATE TABLE t (b BLOB)",
				"CREATE TRIGGER tg BEFORE INSERT ON t FOR EACH ROW BEGIN DECLARE v GEOMETRY; SET v = NEW.b; END"},
			q: "INSERT INTO t VALUES ({X})", table: "SELECT COUNT(*) FROM t"},
		{name: "a trigger's variable read by IN",
			setup: []string{"CREATE TABLE t (b BLOB)", "CREATE TABLE log (r BOOL)",
				"CREATE TRIGGER tg BEFORE INSERT ON t FOR EACH ROW BEGIN DECLARE v GEOMETRY DEFAULT ST_GEOMFROMTEXT('POINT(1 1)'); INSERT INTO log VALUES (v IN (NEW.b)); END"},
			q: "INSERT INTO t VALUES ({X})", table: "SELECT (SELECT COUNT(*) FROM t), (SELECT COUNT(*) FROM log)"},
		{name: "a CALL's argument", setup: []string{"CREATE PROCEDURE p(g GEOMETRY) BEGIN SELECT 1; END"},
			q: "CALL p({X})"},
		{name: "a CALL's OUT parameter, then the variable",
			setup: []string{"CREATE PROCEDURE p(IN b BLOB, OUT g GEOMETRY) BEGIN SET g = b; END", "CALL p({X}, @v)"},
			q:     "SELECT @v"},
		{name: "a CALL's OUT parameter, then EXECUTE USING",
			setup: []string{"CREATE PROCEDURE p(IN b BLOB, OUT g GEOMETRY) BEGIN SET g = b; END", "CALL p({X}, @v)", "PREPARE s FROM 'SELECT ?'"},
			q:     "EXECUTE s USING @v"},
		{name: "a prepared INSERT's parameter",
			setup: []string{"CREATE TABLE t (g GEOMETRY)", "PREPARE s FROM 'INSERT INTO t VALUES (?)'", "SET @v = {X}"},
			q:     "EXECUTE s USING @v", table: "SELECT COUNT(*) FROM t"},
		{name: "IN with a geometry", q: "SELECT ST_GEOMFROMTEXT('POINT(1 1)') IN ({X})"},
		{name: "IN with a collection", q: "SELECT GEOMETRYCOLLECTION(POINT(1, 1)) IN ({X}, 1)"},
		{name: "IN with a tuple", q: "SELECT (ST_GEOMFROMTEXT('POINT(1 1)'), 1) IN (({X}, 1))"},
		{name: "IN in a constant filter", q: "SELECT 1 FROM dual WHERE ST_GEOMFROMTEXT('POINT(1 1)') IN ({X})"},
		{name: "IN on a column", setup: []string{"CREATE TABLE t (g GEOMETRY)", "INSERT INTO t VALUES (POINT(1, 1))"},
			q: "SELECT COUNT(*) FROM t WHERE g IN ({X})"},
		{name: "IN through a derived table",
			q: "SELECT x IN ({X}) FROM (SELECT ST_GEOMFROMTEXT('POINT(1 1)') AS x) d"},
		{name: "IN through a view", setup: []string{"CREATE VIEW v AS SELECT ST_GEOMFROMTEXT('POINT(1 1)') AS x"},
			q: "SELECT x IN ({X}) FROM v"},
		{name: "a spatial index lookup",
			setup: []string{"CREATE TABLE t (g GEOMETRY NOT NULL SRID 0, SPATIAL INDEX (g))", "INSERT INTO t VALUES (POINT(1, 1))"},
			q:     "SELECT COUNT(*) FROM t WHERE g = {X}"},
		{name: "a hash join",
			setup: []string{"CREATE TABLE t (g GEOMETRY)", "CREATE TABLE b (v BLOB)", "INSERT INTO t VALUES (POINT(1, 1))", "INSERT INTO b VALUES ({X})"},
			q:     "SELECT /*+ HASH_JOIN(t, b) */ COUNT(*) FROM t JOIN b ON t.g = b.v"},
		{name: "a spatial result carrying bytes", q: "SELECT IFNULL(ST_GEOMFROMTEXT(NULL), {X})"},
	}
	for pname, payload := range badEWKB {
		for _, a := range attacks {
			t.Run(pname+"/"+a.name, func(t *testing.T) {
				e, ctx := bigEngine(t)
				x := "UNHEX('" + payload + "')"
				if strings.Contains(a.q, "DEFAULT {X}") {
					x = "0x" + payload
				}
				for _, s := range a.setup {
					runSQL(t, e, ctx, strings.ReplaceAll(s, "{X}", x))
				}
				var before []sql.Row
				if a.table != "" {
					before = rowsOfQuery(t, e, ctx, a.table)
				}
				b := allocated()
				_, err := wire(e, ctx, strings.ReplaceAll(a.q, "{X}", x))
				want := a.want
				if want == 0 {
					want = mysqlerr.ErCantCreateGeometryObject
				}
				assert.Equal(t, want, errNum(err), "err %v", err)
				assert.Contains(t, err.Error(), "Cannot get geometry object from data you send to the GEOMETRY field")
				assert.Less(t, allocated()-b, uint64(64<<20), "allocated")
				if a.table != "" {
					assert.Equal(t, before, rowsOfQuery(t, e, ctx, a.table), "unchanged")
				}
			})
		}
	}
}

func rowsOfQuery(t *testing.T, e *sqle.Engine, ctx *sql.Context, q string) []sql.Row {
	t.Helper()
	rows, err := wire(e, ctx, q)
	require.NoError(t, err, q)
	return rows
}

// TestValidGeometriesRoundTrip: what the check lets through is written and
// read back as it was, the column's SRID and the spatial index included.
func TestValidGeometriesRoundTrip(t *testing.T) {
	e, ctx := bigEngine(t)
	nested := strings.Repeat("GEOMETRYCOLLECTION(", 10) + "POINT(1 2)" + strings.Repeat(")", 10)
	runSQL(t, e, ctx, "CREATE TABLE t (id INT PRIMARY KEY, g GEOMETRY)")
	values := map[int]string{
		1: "POINT(1 2)",
		2: "POLYGON((0 0,4 0,4 4,0 0),(1 1,2 1,2 2,1 1))",
		3: "MULTIPOLYGON(((0 0,1 0,1 1,0 0)),((0 0,2 0,2 2,0 0)))",
		4: "GEOMETRYCOLLECTION(POINT(1 2),LINESTRING(0 0,1 1),MULTIPOINT(1 1,2 2))",
		5: nested,
	}
	for id, wkt := range values {
		runSQL(t, e, ctx, "INSERT INTO t VALUES ("+strconv.Itoa(id)+", ST_GEOMFROMTEXT('"+wkt+"'))")
		// The same geometry as EWKB bytes, as a client sends it.
		runSQL(t, e, ctx, "INSERT INTO t SELECT id + 100, UNHEX(CONCAT('00000000', HEX(ST_ASWKB(g)))) FROM t WHERE id = "+strconv.Itoa(id))
	}
	for id, wkt := range values {
		for _, i := range []int{id, id + 100} {
			v, _ := one(t, e, ctx, "SELECT ST_ASWKT(g) FROM t WHERE id = "+strconv.Itoa(i))
			assert.Equal(t, wkt, v, "row %d", i)
		}
	}
	// Bytes the check lets through, read back byte for byte.
	v, _ := one(t, e, ctx, "SELECT HEX(ST_ASWKB(g)) FROM t WHERE id = 102")
	w, _ := one(t, e, ctx, "SELECT HEX(ST_ASWKB(g)) FROM t WHERE id = 2")
	assert.Equal(t, w, v)

	// A column with a SRID: EWKB carries it, and the column holds to it.
	runSQL(t, e, ctx, "CREATE TABLE s (g POINT NOT NULL SRID 4326, SPATIAL INDEX (g))")
	runSQL(t, e, ctx, "INSERT INTO s VALUES (ST_GEOMFROMTEXT('POINT(1 2)', 4326))")
	const ewkb4326 = "E6100000010100000000000000000008400000000000001040"
	runSQL(t, e, ctx, "INSERT INTO s VALUES (UNHEX('"+ewkb4326+"'))")
	rows := rowsOfQuery(t, e, ctx, "SELECT ST_SRID(g) FROM s")
	assert.Equal(t, []sql.Row{{uint32(4326)}, {uint32(4326)}}, rows)
	// On the wire a geometry is EWKB: what was written comes back.
	sch, iter, _, err := e.Query(ctx, "SELECT g FROM s WHERE ST_SRID(g) = 4326 AND ST_ASWKT(g) <> 'POINT(1 2)'")
	require.NoError(t, err)
	rows, err = sql.RowIterToRows(ctx, iter)
	require.NoError(t, err)
	require.Len(t, rows, 1)
	out, err := sch[0].Type.SQL(ctx, nil, rows[0][0])
	require.NoError(t, err)
	assert.Equal(t, ewkb4326, strings.ToUpper(hex.EncodeToString(out.Raw())))
	_, err = wire(e, ctx, "INSERT INTO s VALUES (UNHEX('000000000101000000000000000000F03F000000000000F03F'))")
	assert.Error(t, err, "SRID 0 into a SRID 4326 column")
	// The spatial index still answers lookups with a constructed geometry.
	v, _ = one(t, e, ctx, "SELECT COUNT(*) FROM s WHERE ST_INTERSECTS(g, ST_GEOMFROMTEXT('POINT(1 2)', 4326))")
	assert.EqualValues(t, 1, v)
	v, _ = one(t, e, ctx, "SELECT COUNT(*) FROM t WHERE g IN (ST_GEOMFROMTEXT('POINT(1 2)'))")
	assert.EqualValues(t, 2, v)

	// The table's columns are still spatial to everything that asks.
	rows = rowsOfQuery(t, e, ctx, "SHOW CREATE TABLE s")
	assert.Contains(t, rows[0][1], "`g` point NOT NULL /*!80003 SRID 4326 */")
	v, _ = one(t, e, ctx, "SELECT DATA_TYPE FROM information_schema.COLUMNS WHERE TABLE_NAME = 's'")
	assert.Equal(t, "point", strings.ToLower(v.(string)))
	// A geometry's result column is a geometry on the wire.
	sch, iter, _, err = e.Query(ctx, "SELECT g, POINT(1, 2) AS p FROM t WHERE id = 1")
	require.NoError(t, err)
	_, err = sql.RowIterToRows(ctx, iter)
	require.NoError(t, err)
	for _, c := range sch {
		assert.Equal(t, "GEOMETRY", c.Type.Type().String(), c.Name)
	}
	// A variable set from bytes holds bytes: no geometry is made of them.
	runSQL(t, e, ctx, "SET @v = IFNULL(ST_GEOMFROMTEXT(NULL), UNHEX('"+badEWKB["count"]+"'))")
	v, _ = one(t, e, ctx, "SELECT HEX(@v)")
	assert.Equal(t, badEWKB["count"], v)

	// A recursive CTE keeps its columns' types from before the rule.
	rows = rowsOfQuery(t, e, ctx, "WITH RECURSIVE c(n, g) AS (SELECT 1, ST_GEOMFROMTEXT('POINT(1 1)') UNION ALL "+
		"SELECT n + 1, GEOMETRYCOLLECTION(g) FROM c WHERE n < 3) SELECT ST_ASWKT(g) FROM c WHERE n = 3")
	assert.Equal(t, []sql.Row{{"GEOMETRYCOLLECTION(GEOMETRYCOLLECTION(POINT(1 1)))"}}, rows)

	// ALTER TABLE to a spatial type converts valid EWKB.
	runSQL(t, e, ctx, "CREATE TABLE b (v BLOB)")
	runSQL(t, e, ctx, "INSERT INTO b VALUES (UNHEX('000000000101000000000000000000F03F0000000000000040'))")
	runSQL(t, e, ctx, "ALTER TABLE b MODIFY v GEOMETRY")
	v, _ = one(t, e, ctx, "SELECT ST_ASWKT(v) FROM b")
	assert.Equal(t, "POINT(1 2)", v)
}

// TestEverySpatialTypeIsChecked: checkGeometry recognises the engine's
// spatial types by sql.SpatialColumnType; every type that has one, and
// its checked form refuses the bytes before the engine's reader sees them.
func TestEverySpatialTypeIsChecked(t *testing.T) {
	root := moduleDir(t, "github.com/dolthub/go-mysql-server")
	spatial := receivers(t, root, "MatchSRID", func(*ast.FuncDecl) bool { return true })
	known := map[string]sql.Type{
		"sql/types.GeometryType": types.GeometryType{}, "sql/types.PointType": types.PointType{},
		"sql/types.LineStringType": types.LineStringType{}, "sql/types.PolygonType": types.PolygonType{},
		"sql/types.MultiPointType": types.MultiPointType{}, "sql/types.MultiLineStringType": types.MultiLineStringType{},
		"sql/types.MultiPolygonType": types.MultiPolygonType{}, "sql/types.GeomCollType": types.GeomCollType{},
	}
	for name := range spatial {
		typ, ok := known[name]
		if !assert.True(t, ok, "%s is a spatial type this test does not know", name) {
			continue
		}
		c := checkedType(typ)
		assert.False(t, uncheckedType(c), name)
		assert.True(t, uncheckedType(typ), name)
		for pname, payload := range badEWKB {
			buf, err := hex.DecodeString(payload)
			require.NoError(t, err)
			_, _, err = c.Convert(t.Context(), buf)
			assert.Equal(t, uint16(mysqlerr.ErCantCreateGeometryObject), errNum(err), "%s %s", name, pname)
			_, err = c.SQL(sql.NewEmptyContext(), nil, string(buf))
			assert.Equal(t, uint16(mysqlerr.ErCantCreateGeometryObject), errNum(err), "%s %s", name, pname)
		}
		assert.False(t, uncheckedType(c.Promote()), "%s promoted", name)
		assert.False(t, uncheckedType(c.(sql.SpatialColumnType).SetSRID(4326)), "%s with a SRID", name)
		assert.True(t, c.Equals(typ) && c.Equals(c), name)
	}
}

// TestUncheckedGeometryIsRefused: a spatial type the rule could not check
// fails the statement before anything reads with it: a table made with
// one outside SQL (an embedder's), and a plan holding one.
func TestUncheckedGeometryIsRefused(t *testing.T) {
	db := memory.NewDatabase("db")
	pro := memory.NewDBProvider(db)
	sch := sql.NewPrimaryKeySchema(sql.Schema{{Name: "g", Type: types.GeometryType{}, Nullable: true, Source: "pre"}})
	db.AddTable("pre", memory.NewTable(db, "pre", sch, nil))
	e := newEngine(provider{DbProvider: pro}, sql.GetAuthorizationHandlerFactory())
	require.NoError(t, capResults(e.Analyzer))
	ctx := sql.NewContext(t.Context(), sql.WithSession(memory.NewSession(sql.NewBaseSession(), pro)))
	ctx.SetCurrentDatabase("db")
	for _, q := range []string{
		"SELECT * FROM pre",
		"INSERT INTO pre VALUES (UNHEX('" + badEWKB["count"] + "'))",
		"INSERT INTO pre VALUES (POINT(1, 2))",
	} {
		_, err := wire(e, ctx, q)
		assert.Equal(t, uint16(mysqlerr.ErNotSupportedYet), errNum(err), "%s: %v", q, err)
	}
	// Tables made with SQL are checked, and answer.
	runSQL(t, e, ctx, "CREATE TABLE made (g GEOMETRY)")
	runSQL(t, e, ctx, "INSERT INTO made VALUES (POINT(1, 2))")

	// What the authorizer checks of the plan it is about to run.
	f, err := spatial.NewGeomFromText(expression.NewLiteral("POINT(1 1)", types.LongText))
	require.NoError(t, err)
	p := plan.NewProject([]sql.Expression{expression.NewInTuple(f, expression.NewTuple(expression.NewLiteral([]byte{0}, types.LongBlob)))}, plan.NewResolvedDualTable())
	assert.Error(t, uncheckedGeometry(p), "an unchecked function's type")
	checked, _, err := checkNode(ctx, p)
	require.NoError(t, err)
	assert.NoError(t, uncheckedGeometry(checked), "the same, checked")
}

// typeHolders are the engine's plan structs that keep a type, a column or
// a schema in a field, and why each is safe: an engine upgrade that adds
// one fails TestEveryTypeHolderIsClassified until someone decides.
var typeHolders = map[string]string{
	// checkHeld puts checked types in these.
	"CreateTable": "checked", "AddColumn": "checked", "ModifyColumn": "checked",
	"DeclareVariables": "checked", "JSONTable": "checked", "JSONTableCol": "checked",
	"JSONTableColOpts": "checked", "Procedure": "checked", "ProcedureParam": "checked",
	"RecursiveCte": "checked", "RecursiveTable": "checked",
	// The table's own columns: checked if SQL made them, refused otherwise
	// (uncheckedGeometry checks every node's schema).
	"AlterDefaultDrop": "table", "AlterDefaultSet": "table", "AlterIndex": "table", "AlterPK": "table",
	"CreateView": "table", "DropColumn": "table", "RenameColumn": "table", "ForeignKeyEditor": "table",
	"ForeignKeyHandler": "table", "ForeignKeyRowMapper": "table", "InsertDestination": "table",
	"LoadData": "table", "ShowColumns": "table", "ShowCreateTable": "table", "updatableJoinUpdater": "table",
	"ColDefaultExpression": "table",
	// Made from the plan's expressions, after the rule checked them.
	"EmptyTable": "derived", "ValueDerivedTable": "derived", "Block": "derived", "Call": "derived",
	"Fetch": "derived", "RangeHeap": "derived",
	// The statement that makes it: the table's columns are CreateTable's.
	"TableSpec": "statement",
	// Refused by the authorizer (planrules.go).
	"ExternalProcedure": "refused",
}

func TestEveryTypeHolderIsClassified(t *testing.T) {
	root := moduleDir(t, "github.com/dolthub/go-mysql-server")
	paths, err := filepath.Glob(filepath.Join(root, "sql", "plan", "*.go"))
	require.NoError(t, err)
	found := map[string]bool{}
	for _, p := range paths {
		if strings.HasSuffix(p, "_test.go") {
			continue
		}
		f, err := parser.ParseFile(token.NewFileSet(), p, nil, parser.SkipObjectResolution)
		require.NoError(t, err)
		ast.Inspect(f, func(n ast.Node) bool {
			ts, ok := n.(*ast.TypeSpec)
			if !ok {
				return true
			}
			if st, ok := ts.Type.(*ast.StructType); ok {
				for _, fl := range st.Fields.List {
					switch types2string(fl.Type) {
					case "sql.Type", "[]sql.Type", "sql.Schema", "sql.PrimaryKeySchema", "*sql.Column", "sql.Column",
						"[]ProcedureParam", "[]JSONTableCol", "*JSONTableColOpts":
						found[ts.Name.Name] = true
					}
				}
			}
			return false
		})
	}
	require.Greater(t, len(found), 20, "the engine's plan structs were not found")
	for name := range found {
		assert.Contains(t, typeHolders, name, "plan.%s keeps a type: is it checked (geometry.go)?", name)
	}
}
