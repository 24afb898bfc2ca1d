package server

// Geometries read from WKB. The engine's readers (go-mysql-server v0.20.0,
// types.Deserialize*) allocate as many elements as a geometry's count says
// before reading any: ST_GeomFromWKB(UNHEX('010700000000FFFFFF7F')) asks for
// 2^31 elements (32 GiB), a fatal out-of-memory error that ends the
// process, not the statement. A nested GEOMETRYCOLLECTION recurses once per
// level. The host's *FromWKB functions walk the WKB first: every count must
// fit in the bytes that follow and nesting is bounded, or the data is
// invalid, as MySQL says of it (ErrInvalidGISData).

import (
	"encoding/binary"

	"github.com/dolthub/go-mysql-server/sql"
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
