package server

// Results larger than max_allowed_packet. A built-in whose result can be
// far larger than its arguments (REPEAT('x', 2e9) is 2 GB from a dozen
// bytes of SQL) is replaced by the host's version of it, under the same
// name (builtin, builtins.go): it evaluates the arguments once, works out
// from them how long the result would be, and when that is more than the
// session's max_allowed_packet returns NULL with warning 1301, as MySQL
// does, before anything is built. Otherwise the engine's function runs on
// the same argument values. The expression keeps the engine's name, so the
// authorizer's classification (functions.go) applies unchanged.
//
// The built-ins, by how long their result can be (go-mysql-server
// v0.20.0's implementations):
//
//   - Checked here, the result a product of the arguments or a multiple of
//     one argument that nesting compounds: REPEAT, SPACE (also quadratic in
//     time in the engine: the host builds it), LPAD, RPAD, REPLACE,
//     REGEXP_REPLACE, CONCAT, CONCAT_WS (the sum of arguments that are each
//     within the limit), HEX, TO_BASE64, QUOTE, JSON_QUOTE (HEX(HEX(...))
//     doubles at every level), UNCOMPRESS (its length header, warning 1256
//     as in MySQL), CAST/CONVERT(... AS BINARY(n)) (padded to n bytes:
//     binaryCast below).
//   - Checked in bigjson.go, JSON values sharing their parts so that a
//     document can double at every statement without being copied:
//     JSON_ARRAY, JSON_OBJECT, JSON_ARRAY_APPEND, JSON_ARRAY_INSERT,
//     JSON_INSERT, JSON_SET, JSON_REPLACE, JSON_MERGE, JSON_MERGE_PRESERVE,
//     JSON_MERGE_PATCH, JSON_REMOVE (their documents and result), and
//     JSON_PRETTY (indentation grows with depth), JSON_SEARCH (a path per
//     match).
//   - Bounded, not checked: a fixed size or a small constant factor that
//     does not compound, because the function's output is not its own kind
//     of input (BIN, CHAR, CONV, DATE_FORMAT, TIME_FORMAT, FORMAT (at most
//     30 decimals), INET6_NTOA, LOWER, UPPER, REVERSE, SOUNDEX, COMPRESS,
//     MD5, SHA*, UUID, RANDOM_BYTES (1024), CAST AS CHAR(n) (truncates),
//     ST_* text and WKB, whose reading bigwkb.go checks); no larger than
//     an argument (LEFT, RIGHT, SUBSTR,
//     TRIM, ELT, FIELD, UNHEX, FROM_BASE64, JSON_EXTRACT, JSON_KEYS,
//     JSON_UNQUOTE, ...); numbers, dates and booleans.
//   - Not checked: the aggregates GROUP_CONCAT (group_concat_max_len, which
//     a session may raise), JSON_ARRAYAGG and JSON_OBJECTAGG keep every
//     row's value until the group ends; their size is that of the rows, as
//     for ORDER BY, not an amplification of their arguments.

import (
	"encoding/binary"
	"fmt"
	"math"
	"reflect"
	"strings"
	"sync"
	"unicode/utf8"

	"github.com/dolthub/go-mysql-server/sql"
	"github.com/dolthub/go-mysql-server/sql/analyzer"
	"github.com/dolthub/go-mysql-server/sql/expression"
	"github.com/dolthub/go-mysql-server/sql/expression/function"
	"github.com/dolthub/go-mysql-server/sql/plan"
	"github.com/dolthub/go-mysql-server/sql/transform"
	"github.com/dolthub/go-mysql-server/sql/types"

	"github.com/authplug/authplug/mysqlerr"
)

const (
	// DefaultMaxAllowedPacket is MySQL 8's max_allowed_packet, which the
	// server makes the global default (go-mysql-server's is 1 GiB).
	DefaultMaxAllowedPacket = 64 << 20
	// maxMaxAllowedPacket is the largest value MySQL accepts.
	maxMaxAllowedPacket = 1 << 30
)

// maxAllowedPacket is the session's max_allowed_packet: the longest result a
// string function may build. Sessions cannot change it (setSystemVar); an
// unreadable value counts as MySQL's default.
func maxAllowedPacket(ctx *sql.Context) int64 {
	n := int64(DefaultMaxAllowedPacket)
	if v, err := ctx.GetSessionVariable(ctx, "max_allowed_packet"); err == nil {
		switch v := v.(type) {
		case int64:
			n = v
		case uint64:
			n = int64(min(v, maxMaxAllowedPacket))
		case int:
			n = int64(v)
		}
	}
	return min(max(n, 1024), maxMaxAllowedPacket)
}

// mysqlMaxAllowedPacket makes MySQL's default the engine's, once per
// process: the engine's variables are process-wide, and a later server
// must not undo a SET GLOBAL.
func mysqlMaxAllowedPacket() error {
	defaultPacketOnce.Do(func() {
		defaultPacketErr = sql.SystemVariables.AssignValues(map[string]any{"max_allowed_packet": int64(DefaultMaxAllowedPacket)})
	})
	return defaultPacketErr
}

var (
	defaultPacketOnce sync.Once
	defaultPacketErr  error
)

// bigResult is how the host checks one built-in.
type bigResult struct {
	// size is at least the length in bytes of the function's result for the
	// evaluated arguments, worked out without building it. Anything over
	// limit is too big, so it may stop counting there.
	size func(ctx *sql.Context, args []evaluated, limit int64) (int64, error)
	// eval, when set, builds the result in place of the engine.
	eval func(ctx *sql.Context, args []evaluated) (any, error)
	// after, when set, measures the engine's result (bigjson.go).
	after func(v any, limit int64) int64
	// tooBig reports a refused result; nil is warning 1301.
	tooBig func(ctx *sql.Context, name string, limit int64)
}

// bigResults are the built-ins the host checks, by registry name.
var bigResults = map[string]*bigResult{
	"repeat":         {size: repeatSize},
	"space":          {size: spaceSize, eval: spaceEval},
	"lpad":           {size: padSize},
	"rpad":           {size: padSize},
	"replace":        {size: replaceSize},
	"regexp_replace": {size: regexpReplaceSize},
	"concat":         {size: concatSize},
	"concat_ws":      {size: concatWSSize},
	"hex":            {size: hexSize},
	"to_base64":      {size: toBase64Size},
	"quote":          {size: quoteSize},
	"json_quote":     {size: jsonQuoteSize},
	"uncompress":     {size: uncompressSize, tooBig: uncompressTooBig},
}

// capped is a built-in whose result is checked against max_allowed_packet
// before it is built. It answers to the engine's function's name.
type capped struct {
	wrapped
	br *bigResult
}

var (
	_ sql.FunctionExpression = (*capped)(nil)
	_ sql.CollationCoercible = (*capped)(nil)
	_ sql.Disposable         = (*capped)(nil)
)

func (c *capped) Type() sql.Type { return c.inner.Type() }

// wrapped is the engine's expression for a built-in that the host wraps
// (capped here, fixed in builtins.go): it stands in for it in everything
// but its evaluation, under the engine's function's name, so that the
// authorizer's classification by name holds.
type wrapped struct {
	inner sql.Expression
	name  string // the registry's, for a function whose expression has none
}

func (w *wrapped) FunctionName() string {
	if f, ok := w.inner.(interface{ FunctionName() string }); ok {
		return f.FunctionName()
	}
	return w.name
}

func (w *wrapped) Description() string {
	if f, ok := w.inner.(sql.FunctionExpression); ok {
		return f.Description()
	}
	return ""
}

func (w *wrapped) Resolved() bool             { return w.inner.Resolved() }
func (w *wrapped) String() string             { return w.inner.String() }
func (w *wrapped) IsNullable() bool           { return true }
func (w *wrapped) Children() []sql.Expression { return w.inner.Children() }
func (w *wrapped) CollationCoercibility(ctx *sql.Context) (sql.CollationID, byte) {
	return sql.GetCoercibility(ctx, w.inner)
}

// args evaluates the engine's expression's arguments on row.
func (w *wrapped) args(ctx *sql.Context, row sql.Row) ([]evaluated, error) {
	kids := w.inner.Children()
	args := make([]evaluated, len(kids))
	for i, k := range kids {
		v, err := k.Eval(ctx, row)
		if err != nil {
			return nil, err
		}
		args[i] = evaluated{Expression: k, v: v}
	}
	return args, nil
}

// Dispose gives back what the engine's expression holds (a compiled regular
// expression) when the plan is done with.
func (w *wrapped) Dispose() {
	if d, ok := w.inner.(sql.Disposable); ok {
		d.Dispose()
	}
}

func (c *capped) WithChildren(children ...sql.Expression) (sql.Expression, error) {
	e, err := c.inner.WithChildren(children...)
	if err != nil {
		return nil, err
	}
	return &capped{wrapped: wrapped{inner: e, name: c.name}, br: c.br}, nil
}

func (c *capped) Eval(ctx *sql.Context, row sql.Row) (any, error) {
	args, err := c.args(ctx, row)
	if err != nil {
		return nil, err
	}
	limit := maxAllowedPacket(ctx)
	// A JSON document may be far larger written out than it is in memory
	// (bigjson.go): none is read, let alone copied, past the limit.
	for _, a := range args {
		if j, ok := a.v.(sql.JSONWrapper); ok && jsonSize(j, limit) > limit {
			return c.refuse(ctx, limit), nil
		}
	}
	n, err := c.br.size(ctx, args, limit)
	if err != nil {
		return nil, toSQLError(err) // the host's refusals are *mysqlerr.Error (bigwkb.go)
	}
	if n > limit {
		return c.refuse(ctx, limit), nil
	}
	if c.br.eval != nil {
		return c.br.eval(ctx, args)
	}
	// The engine's function runs on the values just checked: an argument
	// is not evaluated again (RAND() would give another length).
	v, err := evalOn(ctx, c.inner, args)
	if err != nil || v == nil || c.br.after == nil {
		return v, err
	}
	if c.br.after(v, limit) > limit {
		return c.refuse(ctx, limit), nil
	}
	return v, nil
}

func (c *capped) refuse(ctx *sql.Context, limit int64) any {
	name := strings.ToLower(c.FunctionName())
	if c.br.tooBig != nil {
		c.br.tooBig(ctx, name, limit)
	} else {
		warnTooBig(ctx, name, limit)
	}
	return nil
}

// warnTooBig is MySQL's warning for a result over max_allowed_packet.
func warnTooBig(ctx *sql.Context, name string, limit int64) {
	ctx.Warn(mysqlerr.ErWarnAllowMaxPacketResult, "Result of %s() was larger than max_allowed_packet (%d) - truncated", name, limit)
}

// evaluated is an argument already evaluated, standing in for it (its
// type, collation and text) when the engine's function runs.
type evaluated struct {
	sql.Expression
	v any
}

var _ sql.CollationCoercible = evaluated{}

func (e evaluated) Eval(*sql.Context, sql.Row) (any, error) { return e.v, nil }

func (e evaluated) CollationCoercibility(ctx *sql.Context) (sql.CollationID, byte) {
	return sql.GetCoercibility(ctx, e.Expression)
}

// text is v as the engine's string functions read it. A JSON value has
// been measured before (capped.Eval): writing it out is within the limit.
func text(ctx *sql.Context, v any) (string, error) {
	if s, ok := v.(string); ok {
		return s, nil
	}
	c, _, err := types.LongText.Convert(ctx, v)
	if err != nil {
		return "", err
	}
	s, _, err := sql.Unwrap[string](ctx, c)
	return s, err
}

func textLen(ctx *sql.Context, v any) (int64, error) {
	s, err := text(ctx, v)
	return int64(len(s)), err
}

// mul and add saturate: a length past the limit is only "too big".
func mul(a, b int64) int64 {
	if a <= 0 || b <= 0 {
		return 0
	}
	if a > math.MaxInt64/b {
		return math.MaxInt64
	}
	return a * b
}

func add(a, b int64) int64 {
	if a > math.MaxInt64-b {
		return math.MaxInt64
	}
	return a + b
}

// REPEAT(str, count): the engine reads count as an INT (clamped).
func repeatSize(ctx *sql.Context, args []evaluated, limit int64) (int64, error) {
	if args[0].v == nil || args[1].v == nil {
		return 0, nil
	}
	n, err := textLen(ctx, args[0].v)
	if err != nil || n == 0 {
		return 0, err
	}
	count, _, err := types.Int32.Convert(ctx, args[1].v)
	if err != nil {
		return 0, err
	}
	return mul(n, int64(count.(int32))), nil
}

// SPACE(n), which the engine builds a byte at a time (quadratic).
func spaceCount(ctx *sql.Context, v any, warn bool) int64 {
	n, _, err := types.Int64.Convert(ctx, v)
	if err != nil {
		if warn {
			ctx.Warn(mysqlerr.ErTruncatedWrongValue, "Truncated incorrect INTEGER value: '%v'", v)
		}
		return 0
	}
	return max(n.(int64), 0)
}

func spaceSize(ctx *sql.Context, args []evaluated, _ int64) (int64, error) {
	if args[0].v == nil {
		return 0, nil
	}
	return spaceCount(ctx, args[0].v, false), nil
}

func spaceEval(ctx *sql.Context, args []evaluated) (any, error) {
	if args[0].v == nil {
		return nil, nil
	}
	return strings.Repeat(" ", int(spaceCount(ctx, args[0].v, true))), nil
}

// LPAD/RPAD(str, len, padstr): the result is len bytes at most.
func padSize(ctx *sql.Context, args []evaluated, limit int64) (int64, error) {
	if args[0].v == nil || args[1].v == nil {
		return 0, nil
	}
	if _, err := text(ctx, args[0].v); err != nil {
		return 0, err
	}
	n, _, err := types.Int64.Convert(ctx, args[1].v)
	if err != nil {
		return 0, err
	}
	return max(n.(int64), 0), nil
}

// REPLACE(str, from, to): exactly, from the number of occurrences.
func replaceSize(ctx *sql.Context, args []evaluated, limit int64) (int64, error) {
	var s [3]string
	for i := range s {
		if args[i].v == nil {
			return 0, nil
		}
		t, err := text(ctx, args[i].v)
		if err != nil {
			return 0, err
		}
		s[i] = t
	}
	str, from, to := s[0], s[1], s[2]
	if from == "" || len(to) <= len(from) {
		return int64(len(str)), nil
	}
	return add(int64(len(str)), mul(int64(strings.Count(str, from)), int64(len(to)-len(from)))), nil
}

// utf8Len is the length of s once it has been through UTF-16 and back, as
// the regular expression engine takes it: an invalid byte becomes U+FFFD.
func utf8Len(s string) int64 {
	if utf8.ValidString(s) {
		return int64(len(s))
	}
	return mul(int64(len(s)), 3)
}

// REGEXP_REPLACE(str, pat, repl[, pos[, occurrence[, match_type]]]). The
// result is str with m matches replaced, each replacement repl with its
// group references ($n) filled from the match: at most
// len(str)·(1+refs) + m·len(repl). m is at most len(str)+1, or 1 for one
// occurrence; when that bound is over the limit, REGEXP_INSTR (the same
// regular expression engine) tells whether there are more matches than the
// limit leaves room for.
func regexpReplaceSize(ctx *sql.Context, args []evaluated, limit int64) (int64, error) {
	for _, a := range args {
		if a.v == nil {
			return 0, nil
		}
	}
	str, err := text(ctx, args[0].v)
	if err != nil {
		return 0, err
	}
	repl, err := text(ctx, args[2].v)
	if err != nil {
		return 0, err
	}
	kept := mul(utf8Len(str), 1+int64(strings.Count(repl, "$")))
	each := utf8Len(repl)
	matches := int64(len(str)) + 1
	if len(args) >= 5 {
		occ, _, err := types.Int32.Convert(ctx, args[4].v)
		if err != nil {
			return 0, err
		}
		if occ.(int32) > 0 {
			matches = 1
		}
	}
	if n := add(kept, mul(matches, each)); n <= limit || kept > limit || each == 0 {
		return n, nil
	}
	room := (limit - kept) / each // matches the limit leaves room for
	pos := sql.Expression(expression.NewLiteral(int32(1), types.Int32))
	if len(args) >= 4 {
		pos = args[3]
	}
	instr := []sql.Expression{args[0], args[1], pos, expression.NewLiteral(int32(room+1), types.Int32)}
	if len(args) == 6 {
		instr = append(instr, expression.NewLiteral(int32(0), types.Int32), args[5])
	}
	e, err := function.NewRegexpInstr(instr...)
	if err != nil {
		return 0, err
	}
	if d, ok := e.(sql.Disposable); ok {
		defer d.Dispose() // gives its regular expression back
	}
	at, err := e.Eval(ctx, nil)
	if err != nil {
		return 0, err
	}
	if n, ok := at.(int32); ok && n == 0 {
		return add(kept, mul(room, each)), nil
	}
	if at == nil {
		return 0, nil
	}
	return limit + 1, nil
}

// CONCAT(a, b, ...): the sum; NULL if any argument is.
func concatSize(ctx *sql.Context, args []evaluated, limit int64) (int64, error) {
	var n int64
	for _, a := range args {
		if a.v == nil {
			return 0, nil
		}
		l, err := textLen(ctx, a.v)
		if err != nil {
			return 0, err
		}
		if n = add(n, l); n > limit {
			return n, nil
		}
	}
	return n, nil
}

// CONCAT_WS(sep, a, b, ...): NULL arguments are skipped.
func concatWSSize(ctx *sql.Context, args []evaluated, limit int64) (int64, error) {
	if args[0].v == nil {
		return 0, nil
	}
	sep, err := textLen(ctx, args[0].v)
	if err != nil {
		return 0, err
	}
	var n int64
	parts := 0
	for _, a := range args[1:] {
		if a.v == nil {
			continue
		}
		l, err := textLen(ctx, a.v)
		if err != nil {
			return 0, err
		}
		if parts++; parts > 1 {
			n = add(n, sep)
		}
		if n = add(n, l); n > limit {
			return n, nil
		}
	}
	return n, nil
}

// encodedLen bounds the length of s in the character set of typ, which
// HEX and TO_BASE64 encode a string in first.
func encodedLen(typ sql.Type, s string) int64 {
	st, ok := typ.(sql.StringType)
	if !ok || !types.IsTextOnly(typ) {
		return int64(len(s))
	}
	switch cs := st.Collation().CharacterSet(); cs {
	case sql.CharacterSet_utf8mb4, sql.CharacterSet_utf8mb3:
		return int64(len(s))
	default:
		return mul(int64(utf8.RuneCountInString(s)), max(cs.MaxLength(), 1))
	}
}

// bytesIn bounds the bytes that HEX and TO_BASE64 encode for v.
func bytesIn(ctx *sql.Context, arg evaluated) (int64, error) {
	switch x := arg.v.(type) {
	case string, sql.StringWrapper:
		s, _, err := sql.Unwrap[string](ctx, x)
		if err != nil {
			return 0, err
		}
		return encodedLen(arg.Type(), s), nil
	case []byte:
		return int64(len(x)), nil
	case sql.BytesWrapper:
		b, _, err := sql.Unwrap[[]byte](ctx, x)
		return int64(len(b)), err
	case types.GeometryValue:
		return int64(len(x.Serialize())), nil
	}
	return textLen(ctx, arg.v)
}

// HEX(x): two digits a byte; a number is at most 16.
func hexSize(ctx *sql.Context, args []evaluated, limit int64) (int64, error) {
	if args[0].v == nil {
		return 0, nil
	}
	n, err := bytesIn(ctx, args[0])
	return max(mul(n, 2), 64), err
}

// TO_BASE64(x): four characters for three bytes, a newline every 76.
func toBase64Size(ctx *sql.Context, args []evaluated, limit int64) (int64, error) {
	if args[0].v == nil {
		return 0, nil
	}
	n, err := bytesIn(ctx, args[0])
	if err != nil {
		return 0, err
	}
	enc := mul((n+2)/3, 4)
	return add(enc, enc/76), nil
}

// QUOTE(str): two quotes, and a backslash before \, ', NUL and Ctrl-Z.
func quoteSize(ctx *sql.Context, args []evaluated, _ int64) (int64, error) {
	if args[0].v == nil {
		return 0, nil
	}
	v, _, err := types.Blob.Convert(ctx, args[0].v)
	if err != nil || v == nil {
		return 0, err
	}
	b := v.([]byte)
	n := int64(len(b)) + 2
	for _, c := range b {
		switch c {
		case '\\', '\'', 0, '\032':
			n++
		}
	}
	return n, nil
}

// JSON_QUOTE(str): a JSON string literal; an invalid byte is \ufffd.
func jsonQuoteSize(ctx *sql.Context, args []evaluated, limit int64) (int64, error) {
	if args[0].v == nil {
		return 0, nil
	}
	s, err := text(ctx, args[0].v)
	if err != nil {
		return 0, err
	}
	n := int64(2)
	for i := 0; i < len(s); {
		if c := s[i]; c < utf8.RuneSelf {
			switch c {
			case '\\', '"', '\b', '\f', '\n', '\r', '\t':
				n += 2
			default:
				n++
			}
			i++
			continue
		}
		r, size := utf8.DecodeRuneInString(s[i:])
		if r == utf8.RuneError && size == 1 {
			n += 6
		} else {
			n += int64(size)
		}
		i += size
	}
	return n, nil
}

// UNCOMPRESS(data): the length COMPRESS wrote before the data.
func uncompressSize(ctx *sql.Context, args []evaluated, _ int64) (int64, error) {
	if args[0].v == nil {
		return 0, nil
	}
	v, _, err := types.LongBlob.Convert(ctx, args[0].v)
	if err != nil {
		return 0, nil // the engine warns and answers NULL
	}
	b := v.([]byte)
	if len(b) <= 4 {
		return 0, nil
	}
	return int64(binary.LittleEndian.Uint32(b)), nil
}

func uncompressTooBig(ctx *sql.Context, _ string, limit int64) {
	ctx.Warn(mysqlerr.ErTooBigForUncompress, "Uncompressed data size too large; the maximum size is %d (probably, length of uncompressed data was corrupted)", limit)
}

// binaryCast is CAST(x AS BINARY(n)) and CONVERT(x, BINARY(n)), which pad
// the value with zero bytes to n: the analyzer rule capBinaryCasts puts it
// in place of the engine's. Its result is n bytes, so n over
// max_allowed_packet is NULL with warning 1301, as in MySQL.
type binaryCast struct {
	*expression.Convert
	length int64
}

var _ sql.CollationCoercible = (*binaryCast)(nil)

func (b *binaryCast) Eval(ctx *sql.Context, row sql.Row) (any, error) {
	if limit := maxAllowedPacket(ctx); b.length > limit {
		warnTooBig(ctx, "cast_as_binary", limit)
		return nil, nil
	}
	return b.Convert.Eval(ctx, row)
}

func (b *binaryCast) WithChildren(children ...sql.Expression) (sql.Expression, error) {
	e, err := b.Convert.WithChildren(children...)
	if err != nil {
		return nil, err
	}
	c, ok := e.(*expression.Convert)
	if !ok {
		return e, nil
	}
	return &binaryCast{Convert: c, length: b.length}, nil
}

// binaryLength is n of a CAST(... AS BINARY(n)), 0 for any other
// conversion. The engine keeps the type and length unexported; if they
// are not where expected, the length counts as unbounded.
func binaryLength(c *expression.Convert) int64 {
	v := reflect.ValueOf(c).Elem()
	to, n := v.FieldByName("castToType"), v.FieldByName("typeLength")
	if to.Kind() != reflect.String || n.Kind() != reflect.Int {
		return math.MaxInt64
	}
	if !strings.EqualFold(to.String(), expression.ConvertToBinary) {
		return 0
	}
	return n.Int()
}

// capBinaryCastsRule is the analyzer rule that puts binaryCast in place;
// it runs before any rule that evaluates constant expressions.
const capBinaryCastsRule analyzer.RuleId = -1

func capBinaryCasts(_ *sql.Context, _ *analyzer.Analyzer, n sql.Node, _ *plan.Scope, _ analyzer.RuleSelector, _ *sql.QueryFlags) (sql.Node, transform.TreeIdentity, error) {
	if n == nil {
		return n, transform.SameTree, nil // checkGeometry answers (geometry.go)
	}
	return transform.NodeExprs(n, func(e sql.Expression) (sql.Expression, transform.TreeIdentity, error) {
		return transform.Expr(e, func(e sql.Expression) (sql.Expression, transform.TreeIdentity, error) {
			c, ok := e.(*expression.Convert)
			if !ok {
				return e, transform.SameTree, nil
			}
			if n := binaryLength(c); n > 0 {
				return &binaryCast{Convert: c, length: n}, transform.NewTree, nil
			}
			return e, transform.SameTree, nil
		})
	})
}

// errNoPreAnalyzer: the engine's analyzer no longer starts with the batch
// the rule is added to.
var errNoPreAnalyzer = fmt.Errorf("go-mysql-server's analyzer has no %q batch for the CAST AS BINARY(n) rule (bigstrings.go)", preAnalyzerBatch)

const preAnalyzerBatch = "pre-analyzer"

// capResults adds capBinaryCasts and checkGeometry (geometry.go)
// to the analyzer's first batch.
func capResults(a *analyzer.Analyzer) error {
	for _, b := range a.Batches {
		if b.Desc == preAnalyzerBatch {
			b.Rules = append([]analyzer.Rule{
				{Id: capBinaryCastsRule, Apply: capBinaryCasts},
				{Id: checkGeometryRule, Apply: checkGeometry{}.Apply},
			}, b.Rules...)
			return nil
		}
	}
	return errNoPreAnalyzer
}

// checkBinaryCast is the authorizer's backstop for a CAST AS BINARY(n)
// that reached the plan without the rule (a routine's conditions are
// analyzed by a few rules only): over the limit, it is refused.
func checkBinaryCast(ctx *sql.Context, c *expression.Convert) error {
	if limit := maxAllowedPacket(ctx); binaryLength(c) > limit {
		return mysqlerr.Errorf(mysqlerr.ErWarnAllowMaxPacketResult, "Result of cast_as_binary() was larger than max_allowed_packet (%d) - truncated", limit)
	}
	return nil
}
