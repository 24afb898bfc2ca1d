package server

// Geometries read from WKB. The engine's readers (go-mysql-server v0.20.0,
// types.Deserialize*) allocate as many elements as a geometry's count says
// before reading any: ST_GeomFromWKB(UNHEX('010700000000FFFFFF7F')) asks for
// 2^31 elements (32 GiB), a fatal out-of-memory error that ends the
// process, not the statement. A nested GEOMETRYCOLLECTION recurses once per
// level. The host's *FromWKB functions walk the WKB first: every count must
// fit in the bytes that follow and nesting is bounded, or the data is
// invalid, as MySQL says of it (ErrInvalidGISData).
//
// WKT is read by scanning to the closing parenthesis at every level of
// nesting, and written back (ST_AsWKT) by copying each level's text into
// the next: both quadratic in the depth. Two megabytes of nested
// GEOMETRYCOLLECTION( took 100 s of CPU, unkillable, and 98 GB of
// allocation. The host's *FromText functions refuse WKT nested deeper than
// maxWKBDepth.
//
// GEOMETRYCOLLECTION(g, g) shares g rather than copying it, so that a
// recursive CTE doubles a collection at every step for nothing, until
// ST_AsWKB or the wire writes out 2^30 points (a fatal 16 GiB allocation).
// The host's GEOMETRYCOLLECTION measures its result as WKB, and over
// max_allowed_packet it is NULL with warning 1301. It is the only
// constructor that takes its own kind of value.
//
// A spatial column of JSON_TABLE converts the document's strings, read as
// EWKB (a SRID, then WKB), with the same readers: the analyzer rule
// checkJSONTableGeometry has its type check them first. (A geometry column
// of a table converts what is inserted the same way; that takes INSERT or
// UPDATE on such a column and is not checked here.)

import (
	"context"
	"encoding/binary"

	"github.com/dolthub/go-mysql-server/sql"
	"github.com/dolthub/go-mysql-server/sql/analyzer"
	"github.com/dolthub/go-mysql-server/sql/plan"
	"github.com/dolthub/go-mysql-server/sql/transform"
	"github.com/dolthub/go-mysql-server/sql/types"
)

// maxWKBDepth bounds the nesting of geometry collections.
const maxWKBDepth = 64

func init() {
	for _, name := range []string{
		"st_geomcollfromwkb", "st_geometrycollectionfromwkb", "st_geometryfromwkb", "st_geomfromwkb",
		"st_linefromwkb", "st_linestringfromwkb", "st_mlinefromwkb", "st_multilinestringfromwkb",
		"st_mpointfromwkb", "st_multipointfromwkb", "st_mpolyfromwkb", "st_multipolygonfromwkb",
		"st_pointfromwkb", "st_polyfromwkb", "st_polygonfromwkb",
	} {
		bigResults[name] = &bigResult{size: func(_ *sql.Context, args []evaluated, _ int64) (int64, error) {
			buf, ok := args[0].v.([]byte)
			if !ok {
				return 0, nil // the engine refuses anything else
			}
			if _, ok := wkbGeometry(buf, 0); !ok {
				return 0, sql.ErrInvalidGISData.New(name)
			}
			return 0, nil
		}}
	}
}

func init() {
	for _, name := range []string{
		"st_geomcollfromtext", "st_geomcollfromtxt", "st_geometrycollectionfromtext", "st_geometryfromtext",
		"st_geomfromtext", "st_linefromtext", "st_linestringfromtext", "st_mlinefromtext",
		"st_multilinestringfromtext", "st_mpointfromtext", "st_multipointfromtext", "st_mpolyfromtext",
		"st_multipolygonfromtext", "st_pointfromtext", "st_polyfromtext", "st_polygonfromtext",
	} {
		bigResults[name] = &bigResult{size: func(ctx *sql.Context, args []evaluated, _ int64) (int64, error) {
			if args[0].v == nil {
				return 0, nil
			}
			wkt, err := text(ctx, args[0].v)
			if err != nil {
				return 0, err
			}
			if wktDepth(wkt) > maxWKBDepth {
				return 0, sql.ErrInvalidGISData.New(name)
			}
			return 0, nil
		}}
	}
}

func init() {
	for _, name := range []string{"geometrycollection", "geomcollection"} {
		bigResults[name] = &bigResult{size: func(_ *sql.Context, args []evaluated, limit int64) (int64, error) {
			n := int64(types.WKBHeaderSize + types.CountSize)
			for _, a := range args {
				n = add(n, geomSize(a.v, limit-n))
				if n > limit {
					break
				}
			}
			return n, nil
		}}
	}
}

// geomSize is at least the length of v as WKB, counted no further than
// past limit.
func geomSize(v any, limit int64) int64 {
	const header = types.WKBHeaderSize
	switch g := v.(type) {
	case types.Point:
		return header + types.PointSize
	case types.LineString:
		return header + types.CountSize + int64(len(g.Points))*types.PointSize
	case types.MultiPoint:
		return header + types.CountSize + int64(len(g.Points))*(header+types.PointSize)
	case types.Polygon:
		n := int64(header + types.CountSize)
		for _, l := range g.Lines {
			n += types.CountSize + int64(len(l.Points))*types.PointSize
		}
		return n
	case types.MultiLineString:
		n := int64(header + types.CountSize)
		for _, l := range g.Lines {
			n += header + types.CountSize + int64(len(l.Points))*types.PointSize
		}
		return n
	case types.MultiPolygon:
		n := int64(header + types.CountSize)
		for _, p := range g.Polygons {
			n = add(n, geomSize(p, limit-n))
		}
		return n
	case types.GeomColl:
		n := int64(header + types.CountSize)
		for _, c := range g.Geoms {
			if n > limit {
				break
			}
			n = add(n, geomSize(c, limit-n))
		}
		return n
	}
	return 0
}

// wktDepth is the deepest nesting of parentheses in wkt.
func wktDepth(wkt string) int {
	depth, deepest := 0, 0
	for i := range len(wkt) {
		switch wkt[i] {
		case '(':
			depth++
			deepest = max(deepest, depth)
		case ')':
			depth--
		}
	}
	return deepest
}

// wkbGeometry walks one geometry, header included, and says how many bytes
// it takes, or false when a count does not fit in buf.
func wkbGeometry(buf []byte, depth int) (int, bool) {
	if len(buf) < types.WKBHeaderSize || depth > maxWKBDepth {
		return 0, false
	}
	big := buf[0] == 0
	typ := binary.LittleEndian.Uint32(buf[1:])
	if big {
		typ = binary.BigEndian.Uint32(buf[1:])
	}
	n, ok := wkbBody(buf[types.WKBHeaderSize:], typ, big, depth)
	return types.WKBHeaderSize + n, ok
}

// wkbBody walks the data of a geometry of type typ.
func wkbBody(buf []byte, typ uint32, big bool, depth int) (int, bool) {
	if typ == types.WKBPointID {
		return types.PointSize, len(buf) >= types.PointSize
	}
	if len(buf) < types.CountSize {
		return 0, false
	}
	count := int64(binary.LittleEndian.Uint32(buf))
	if big {
		count = int64(binary.BigEndian.Uint32(buf))
	}
	rest := int64(len(buf) - types.CountSize)
	switch typ {
	case types.WKBLineID:
		// Points, 16 bytes each.
		return types.CountSize + int(count)*types.PointSize, count <= rest/types.PointSize
	case types.WKBPolyID:
		// Lines, each at least a count.
		if count > rest/types.CountSize {
			return 0, false
		}
		off := types.CountSize
		for range count {
			n, ok := wkbBody(buf[off:], types.WKBLineID, big, depth)
			if !ok {
				return 0, false
			}
			off += n
		}
		return off, true
	case types.WKBMultiPointID, types.WKBMultiLineID, types.WKBMultiPolyID, types.WKBGeomCollID:
		// Geometries, each with its header.
		if count > rest/types.WKBHeaderSize {
			return 0, false
		}
		off := types.CountSize
		for range count {
			n, ok := wkbGeometry(buf[off:], depth+1)
			if !ok {
				return 0, false
			}
			off += n
		}
		return off, true
	}
	return 0, false
}

// checkedSpatial is a spatial type whose Convert checks EWKB before the
// engine reads it.
type checkedSpatial struct{ spatialType }

// spatialType names the embedded type apart from its Type method.
type spatialType = sql.Type

func (c checkedSpatial) Convert(ctx context.Context, v any) (any, sql.ConvertInRange, error) {
	var buf []byte
	switch v := v.(type) {
	case []byte:
		buf = v
	case string:
		buf = []byte(v)
	default:
		return c.spatialType.Convert(ctx, v)
	}
	if len(buf) < types.SRIDSize {
		return nil, sql.OutOfRange, sql.ErrInvalidGISData.New("json_table")
	}
	if _, ok := wkbGeometry(buf[types.SRIDSize:], 0); !ok {
		return nil, sql.OutOfRange, sql.ErrInvalidGISData.New("json_table")
	}
	return c.spatialType.Convert(ctx, v)
}

// checkJSONTableGeometryRule is the analyzer rule that puts checkedSpatial
// in JSON_TABLE's spatial columns.
const checkJSONTableGeometryRule analyzer.RuleId = -2

func checkJSONTableGeometry(_ *sql.Context, _ *analyzer.Analyzer, n sql.Node, _ *plan.Scope, _ analyzer.RuleSelector, _ *sql.QueryFlags) (sql.Node, transform.TreeIdentity, error) {
	return transform.Node(n, func(n sql.Node) (sql.Node, transform.TreeIdentity, error) {
		jt, ok := n.(*plan.JSONTable)
		if !ok {
			return n, transform.SameTree, nil
		}
		cols, changed := checkedColumns(jt.Cols)
		if !changed {
			return n, transform.SameTree, nil
		}
		nt := *jt
		nt.Cols = cols
		return &nt, transform.NewTree, nil
	})
}

// checkedColumns are cols with checkedSpatial for every spatial type, and
// whether there was any.
func checkedColumns(cols []plan.JSONTableCol) ([]plan.JSONTableCol, bool) {
	out := make([]plan.JSONTableCol, len(cols))
	changed := false
	for i, c := range cols {
		out[i] = c
		if nested, ok := checkedColumns(c.NestedCols); ok {
			out[i].NestedCols, changed = nested, true
		}
		if c.Opts == nil {
			continue
		}
		if _, ok := c.Opts.Type.(sql.SpatialColumnType); ok {
			opts := *c.Opts
			opts.Type = checkedSpatial{c.Opts.Type}
			out[i].Opts, changed = &opts, true
		}
	}
	return out, changed
}
