package server

// Geometries read from WKB. The engine's readers (go-mysql-server v0.20.0,
// types.Deserialize*) allocate as many elements as a geometry's count says
// before reading any: ST_GeomFromWKB(UNHEX('010700000000FFFFFF7F')) asks for
// 2^31 elements (32 GiB), a fatal out-of-memory error that ends the
// process, not the statement. A nested GEOMETRYCOLLECTION recurses once per
// level. The host's *FromWKB functions walk the WKB first: every count must
// fit in the bytes that follow and nesting is bounded, or the data is
// invalid, as MySQL says of it (3037, errInvalidGISData).
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
// The engine reads EWKB (a SRID, then WKB) with the same readers wherever
// it converts a value to a spatial type: a row written to a geometry
// column, an index lookup, IN, and a dozen other places. geometry.go puts
// a type that walks the bytes first (checkedSpatial) in place of every
// spatial type a plan holds, and refuses a plan with one it could not.
// Invalid EWKB given to a column is MySQL's 1416; to a function, 3037.

import (
	"encoding/binary"

	"github.com/dolthub/go-mysql-server/sql"
	"github.com/dolthub/go-mysql-server/sql/types"

	"github.com/authplug/authplug/mysqlerr"
)

// maxWKBDepth bounds the nesting of geometry collections.
const maxWKBDepth = 64

// errInvalidGISData is MySQL's answer to data a spatial function cannot
// read.
func errInvalidGISData(function string) *mysqlerr.Error {
	return mysqlerr.Errorf(mysqlerr.ErGISInvalidData, "Invalid GIS data provided to function %s.", function)
}

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
				return 0, errInvalidGISData(name)
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
				return 0, errInvalidGISData(name)
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
