package server

// JSON results larger than max_allowed_packet (see bigstrings.go). The
// engine's JSON values share their parts: JSON_ARRAY(@j, @j) holds @j
// twice without copying it, so SET @j = JSON_ARRAY(@j, @j) doubles the
// document at every statement at no cost, until something writes it out
// or copies it (JSON_SET does). The host measures, without writing it out,
// every document a JSON function is given and the one it returns, and
// stops counting past the limit: a document only ever grows through these
// functions, so none is ever much over it.

import (
	"encoding/json"
	"fmt"
	"reflect"
	"strconv"
	"time"
	"unicode/utf8"

	"github.com/dolthub/go-mysql-server/sql"
	"github.com/dolthub/go-mysql-server/sql/types"
)

func init() {
	for _, name := range []string{
		"json_array", "json_object", "json_array_append", "json_array_insert", "json_insert",
		"json_set", "json_replace", "json_merge", "json_merge_preserve", "json_merge_patch",
		"json_remove",
	} {
		bigResults[name] = &bigResult{size: noSize, after: jsonResultSize}
	}
	bigResults["json_pretty"] = &bigResult{size: jsonPrettySize}
	bigResults["json_search"] = &bigResult{size: jsonSearchSize}
}

// maxJSONDepth bounds the nesting the meter follows (and so its stack):
// MySQL refuses documents deeper than 100; deeper than this counts as too
// big.
const maxJSONDepth = 10000

// noSize: only the documents given are checked (capped.Eval).
func noSize(*sql.Context, []evaluated, int64) (int64, error) { return 0, nil }

// jsonResultSize measures a JSON function's result written out.
func jsonResultSize(v any, limit int64) int64 {
	switch x := v.(type) {
	case sql.JSONWrapper:
		return jsonSize(x, limit)
	case string:
		return int64(len(x))
	}
	return 0
}

// jsonSize is the length of j written out as MySQL writes JSON ("[1, 2]",
// `{"a": 1}`), or something over limit once it is known to be longer.
func jsonSize(j sql.JSONWrapper, limit int64) int64 {
	v, err := j.ToInterface()
	if err != nil {
		return 0 // nothing to write out: the engine fails on it too
	}
	m := jsonMeter{limit: limit}
	m.value(v, 0)
	return m.n
}

// jsonDoc is a JSON function's document argument as the engine reads it:
// a JSON value, or a string it parses. A string is parsed here once and
// handed to the engine parsed.
func jsonDoc(arg *evaluated) (any, bool) {
	switch x := arg.v.(type) {
	case sql.JSONWrapper:
		v, err := x.ToInterface()
		return v, err == nil
	case string:
		var v any
		if err := json.Unmarshal([]byte(x), &v); err != nil {
			return nil, false // the engine refuses it
		}
		arg.v = types.JSONDocument{Val: v}
		return v, true
	}
	return nil, false
}

// JSON_PRETTY(doc): indented two spaces a level, as encoding/json does.
func jsonPrettySize(_ *sql.Context, args []evaluated, limit int64) (int64, error) {
	v, ok := jsonDoc(&args[0])
	if !ok {
		return 0, nil
	}
	m := jsonMeter{limit: limit, pretty: true}
	m.value(v, 0)
	return m.n, nil
}

// JSON_SEARCH(doc, one_or_all, str[, escape[, path...]]): the engine
// builds the path of every value under each path it is given, and returns
// those of the matching strings.
func jsonSearchSize(_ *sql.Context, args []evaluated, limit int64) (int64, error) {
	v, ok := jsonDoc(&args[0])
	if !ok {
		return 0, nil
	}
	bases := []int64{1} // "$"
	if len(args) > 4 {
		bases = bases[:0]
		for _, p := range args[4:] {
			s, _ := p.v.(string)
			bases = append(bases, int64(len(s)))
		}
	}
	m := jsonMeter{limit: limit}
	for _, b := range bases {
		m.paths(v, b, 0)
	}
	return m.n, nil
}

// jsonMeter adds up the length of a JSON value written out, and stops
// once it is past limit: a document whose parts are shared is walked no
// further than the limit, however large it is written out.
type jsonMeter struct {
	limit int64
	n     int64
	// pretty: as JSON_PRETTY writes it (encoding/json, indented), not as
	// MySQL writes a value.
	pretty bool
}

func (m *jsonMeter) full() bool { return m.n > m.limit }

func (m *jsonMeter) add(n int64) { m.n = add(m.n, n) }

func (m *jsonMeter) value(v any, depth int) {
	if m.full() {
		return
	}
	if depth > maxJSONDepth {
		m.n = m.limit + 1
		return
	}
	switch x := v.(type) {
	case []any:
		m.open(len(x), depth)
		for i, e := range x {
			m.item(i, depth)
			if m.value(e, depth+1); m.full() {
				return
			}
		}
	case map[string]any:
		m.open(len(x), depth)
		i := 0
		for k, e := range x {
			m.item(i, depth)
			m.add(m.key(k))
			if m.value(e, depth+1); m.full() {
				return
			}
			i++
		}
	case map[string]string:
		m.open(len(x), depth)
		i := 0
		for k, e := range x {
			m.item(i, depth)
			m.add(m.key(k) + m.str(e))
			i++
		}
	case string:
		m.add(m.str(x))
	case sql.JSONWrapper:
		if in, err := x.ToInterface(); err == nil {
			m.value(in, depth)
		}
	default:
		m.add(m.scalar(v, depth))
	}
}

// open and item are the punctuation and, pretty, the line breaks and
// indentation of a container of n elements at depth, and of its i-th.
func (m *jsonMeter) open(n, depth int) {
	m.add(2) // [] or {}
	if m.pretty && n > 0 {
		m.add(1 + 2*int64(depth)) // the line break and indentation before the closing one
	}
}

func (m *jsonMeter) item(i, depth int) {
	if i > 0 {
		m.add(2) // ", " or ",\n"
	}
	if m.pretty {
		if i == 0 {
			m.add(1) // the first line break
		}
		m.add(2 * int64(depth+1))
	}
}

// key is a member's name and separator: MySQL writes the name unescaped.
func (m *jsonMeter) key(k string) int64 {
	if m.pretty {
		return m.str(k) + 2
	}
	return int64(len(k)) + 4
}

// str is a string literal: MySQL escapes seven characters with a
// backslash; encoding/json also writes control characters, <, > and &,
// invalid bytes and U+2028/9 as \uXXXX.
func (m *jsonMeter) str(s string) int64 {
	n := int64(2)
	for i := 0; i < len(s); {
		c := s[i]
		if c < utf8.RuneSelf {
			switch {
			case c == '"' || c == '\\' || c == '\b' || c == '\f' || c == '\n' || c == '\r' || c == '\t':
				n += 2
			case m.pretty && (c < 0x20 || c == '<' || c == '>' || c == '&'):
				n += 6
			default:
				n++
			}
			i++
			continue
		}
		if !m.pretty {
			n++
			i++
			continue
		}
		r, size := utf8.DecodeRuneInString(s[i:])
		switch {
		case r == utf8.RuneError && size == 1, r == '\u2028', r == '\u2029':
			n += 6
		default:
			n += int64(size)
		}
		i += size
	}
	return n
}

// scalar is the length of a number, boolean, null or date.
func (m *jsonMeter) scalar(v any, depth int) int64 {
	var buf [512]byte
	switch x := v.(type) {
	case nil:
		return 4
	case bool:
		if x {
			return 4
		}
		return 5
	case float64:
		if m.pretty {
			return 32
		}
		if x == float64(int64(x)) {
			return int64(len(strconv.AppendInt(buf[:0], int64(x), 10)))
		}
		return int64(len(strconv.AppendFloat(buf[:0], x, 'f', -1, 64)))
	case float32:
		return int64(len(strconv.AppendFloat(buf[:0], float64(x), 'f', -1, 32)))
	case int, int8, int16, int32, int64, uint, uint8, uint16, uint32, uint64:
		return 20
	case time.Time:
		return 40
	case fmt.Stringer: // decimal.Decimal: its digits, quoted when pretty
		return int64(len(x.String())) + 2
	}
	// Anything else the engine writes element by element or through its
	// MarshalJSON.
	r := reflect.ValueOf(v)
	switch r.Kind() {
	case reflect.Slice, reflect.Array:
		m.open(r.Len(), depth)
		for i := 0; i < r.Len() && !m.full(); i++ {
			m.item(i, depth)
			m.value(r.Index(i).Interface(), depth+1)
		}
		return 0
	case reflect.Map:
		m.open(r.Len(), depth)
		for i, k := range r.MapKeys() {
			if m.full() {
				break
			}
			m.item(i, depth)
			m.add(m.key(k.String()))
			m.value(r.MapIndex(k).Interface(), depth+1)
		}
		return 0
	}
	if j, ok := v.(json.Marshaler); ok {
		b, err := j.MarshalJSON()
		if err == nil {
			return int64(len(b))
		}
	}
	return 64
}

// paths adds the lengths of the paths JSON_SEARCH builds under v, whose
// own path is base long: one for every value, and the matching strings'
// again in the result (escaped, quoted).
func (m *jsonMeter) paths(v any, base int64, depth int) {
	if m.full() {
		return
	}
	if depth > maxJSONDepth {
		m.n = m.limit + 1
		return
	}
	m.add(base)
	switch x := v.(type) {
	case string:
		m.add(2*base + 4)
	case []any:
		for i, e := range x {
			m.paths(e, base+2+int64(len(strconv.Itoa(i))), depth+1)
			if m.full() {
				return
			}
		}
	case map[string]any:
		for k, e := range x {
			m.paths(e, base+1+int64(len(k)), depth+1)
			if m.full() {
				return
			}
		}
	}
}
