package server

// The host's versions of the engine's built-in functions. The provider
// (impersonate.go) answers every built-in name with one, so that:
//
//   - a wrong argument count is MySQL's 1582, where the engine answers
//     1105 (every name);
//   - the inputs on which go-mysql-server v0.20.0's functions panicked
//     get MySQL's answer, or its error where the engine cannot give the
//     answer (fixes, below; tests/funcsweep_test.go finds such inputs);
//   - results over max_allowed_packet are refused (bigResults,
//     bigstrings.go).
//
// The expressions keep the engine's function names, so the authorizer's
// classification (functions.go) applies unchanged; aggregates and window
// functions stay the engine's own expressions, since the engine tells them
// apart by their type.

import (
	"errors"
	"math"
	"strconv"
	"strings"

	"github.com/dolthub/go-mysql-server/sql"
	"github.com/dolthub/go-mysql-server/sql/expression"
	"github.com/dolthub/go-mysql-server/sql/expression/function"
	"github.com/dolthub/go-mysql-server/sql/types"

	"github.com/authplug/authplug/mysqlerr"
)

// fix is how the host corrects one built-in.
type fix struct {
	// args, when set, replaces the arguments before the engine's function
	// is built: for an engine constructor that reads its arguments.
	args func(args []sql.Expression) ([]sql.Expression, error)
	// eval, when set, evaluates a call: from the evaluated arguments, or
	// by handing them to the engine's function (fixed.engine).
	eval func(ctx *sql.Context, f *fixed, args []evaluated) (any, error)
	// typ, when set, is the call's type in place of the engine's.
	typ func(inner sql.Expression) sql.Type
}

// fixes are the built-ins the host corrects, by registry name.
var fixes = map[string]*fix{
	"format":         {eval: formatEval},
	"round":          {eval: roundEval, typ: roundType},
	"mod":            {eval: numericArgs(0, 1)},
	"inet6_aton":     {eval: textArg(0)},
	"json_value":     {eval: textArg(1)},
	"json_extract":   {eval: jsonExtractEval},
	"json_object":    {eval: jsonObjectEval},
	"last_insert_id": {eval: lastInsertIDEval},
	"locate":         {eval: locateEval},
	"rand":           {eval: randEval},
	"ntile":          {args: ntileArgs},
	"unix_timestamp": {args: unixTimestampArgs},
	"curtime":        {args: precisionLiteral("curtime")},
	"current_time":   {args: precisionLiteral("current_time")},
}

// builtin is the host's version of built-in name.
func builtin(name string) (sql.Function, bool) {
	name = strings.ToLower(name)
	base, ok := engineFunctions[name]
	if !ok {
		return nil, false
	}
	fx, br := fixes[name], bigResults[name]
	return hostFunction{sql.FunctionN{Name: name, Fn: func(args ...sql.Expression) (sql.Expression, error) {
		if fx != nil && fx.args != nil {
			var err error
			if args, err = fx.args(args); err != nil {
				return nil, err
			}
		}
		e, err := base.NewInstance(args)
		if err != nil {
			return nil, wrongCount(name, err)
		}
		if fx != nil && fx.eval != nil {
			e = &fixed{wrapped: wrapped{inner: e, name: name}, fx: fx}
		}
		if br != nil {
			e = &capped{wrapped: wrapped{inner: e, name: name}, br: br}
		}
		return e, nil
	}}}, true
}

// hostFunction is a built-in as the host makes it. The engine calls
// NewInstance while it builds a plan, and makes any error that is not the
// wire's a 1105: the MySQL error is converted here.
type hostFunction struct{ sql.FunctionN }

func (f hostFunction) NewInstance(args []sql.Expression) (sql.Expression, error) {
	e, err := f.FunctionN.NewInstance(args)
	return e, toSQLError(err)
}

// engineFunctions are the engine's own built-ins, which the host's wrap.
var engineFunctions = function.NewRegistry()

// counted is f with MySQL's 1582 for a wrong number of arguments.
func counted(name string, f sql.Function) sql.Function {
	return hostFunction{sql.FunctionN{Name: name, Fn: func(args ...sql.Expression) (sql.Expression, error) {
		e, err := f.NewInstance(args)
		if err != nil {
			return nil, wrongCount(name, err)
		}
		return e, nil
	}}}
}

// wrongCount is MySQL's 1582 for the engine's error for a wrong number of
// arguments, and err unchanged otherwise.
func wrongCount(name string, err error) error {
	if sql.ErrInvalidArgumentNumber.Is(err) {
		return mysqlerr.Errorf(mysqlerr.ErWrongParamcountToNativeFct,
			"Incorrect parameter count in the call to native function '%s'", name)
	}
	return err
}

// fixed is a built-in whose calls the host evaluates (fix.eval). It
// answers to the engine's function's name.
type fixed struct {
	wrapped
	fx *fix
}

var (
	_ sql.FunctionExpression = (*fixed)(nil)
	_ sql.CollationCoercible = (*fixed)(nil)
	_ sql.Disposable         = (*fixed)(nil)
)

func (f *fixed) Type() sql.Type {
	if f.fx.typ != nil {
		return f.fx.typ(f.inner)
	}
	return f.inner.Type()
}

func (f *fixed) WithChildren(children ...sql.Expression) (sql.Expression, error) {
	e, err := f.inner.WithChildren(children...)
	if err != nil {
		return nil, err
	}
	return &fixed{wrapped: wrapped{inner: e, name: f.name}, fx: f.fx}, nil
}

func (f *fixed) Eval(ctx *sql.Context, row sql.Row) (any, error) {
	args, err := f.args(ctx, row)
	if err != nil {
		return nil, err
	}
	v, err := f.fx.eval(ctx, f, args)
	return v, toSQLError(err)
}

// engine runs the engine's function on args.
func (f *fixed) engine(ctx *sql.Context, args []evaluated) (any, error) {
	return evalOn(ctx, f.inner, args)
}

// evalOn evaluates a copy of the engine's expression e whose children are
// args, and gives back what the copy holds (a compiled regular expression's
// WebAssembly memory) at once rather than when the collector finds it.
func evalOn(ctx *sql.Context, e sql.Expression, args []evaluated) (any, error) {
	exprs := make([]sql.Expression, len(args))
	for i := range args {
		exprs[i] = args[i]
	}
	c, err := e.WithChildren(exprs...)
	if err != nil {
		return nil, err
	}
	if d, ok := c.(sql.Disposable); ok {
		defer d.Dispose()
	}
	return c.Eval(ctx, nil)
}

// outOfRange is MySQL's 1690 for expression e, a double that is no
// number: MySQL never makes one (1e308 * 10 is this error there), the
// engine does (+Inf), and its decimal conversions panic on it.
func outOfRange(e sql.Expression) error {
	return mysqlerr.Errorf(mysqlerr.ErDataOutOfRange, "DOUBLE value is out of range in '%s'", e)
}

// finite is argument a of a numeric function: a double that is no number
// is refused (outOfRange); a string is read as MySQL reads a number from
// one (asDouble), not as Go does ('inf', 'NaN'); a JSON value is its
// number. The evaluated argument keeps its expression unless its value had
// to be read as a double, when it becomes a DOUBLE constant.
func finite(ctx *sql.Context, a evaluated) (evaluated, error) {
	switch v := a.v.(type) {
	case nil:
		return a, nil
	case float64:
		if math.IsNaN(v) || math.IsInf(v, 0) {
			return a, outOfRange(a.Expression)
		}
		return a, nil
	case float32:
		if math.IsNaN(float64(v)) || math.IsInf(float64(v), 0) {
			return a, outOfRange(a.Expression)
		}
		return a, nil
	case sql.JSONWrapper:
		j, err := v.ToInterface()
		if err != nil {
			return a, err
		}
		return asDoubleArg(ctx, finiteJSON(ctx, j)), nil
	}
	if s, ok := stringValue(ctx, a.v); ok {
		return asDoubleArg(ctx, asDouble(ctx, s)), nil
	}
	return a, nil
}

// finiteJSON is JSON value j as a double, as MySQL converts one: numbers
// as they are, strings read as numbers, anything else 0 with a warning.
func finiteJSON(ctx *sql.Context, j any) float64 {
	switch j := j.(type) {
	case float64:
		return j
	case int64:
		return float64(j)
	case uint64:
		return float64(j)
	case bool:
		if j {
			return 1
		}
		return 0
	case string:
		return asDouble(ctx, j)
	}
	ctx.Warn(mysqlerr.ErTruncatedWrongValue, "Truncated incorrect DOUBLE value: a JSON value that is no number")
	return 0
}

func asDoubleArg(ctx *sql.Context, f float64) evaluated {
	return evaluated{Expression: expression.NewLiteral(f, types.Float64), v: f}
}

// stringValue is v's text if v is a string of some kind.
func stringValue(ctx *sql.Context, v any) (string, bool) {
	switch v.(type) {
	case string, []byte, sql.AnyWrapper:
		s, err := text(ctx, v)
		return s, err == nil
	}
	return "", false
}

// asDouble reads s as MySQL reads a number from a string: the longest
// prefix that is a decimal number (after leading spaces), 0 if there is
// none, with warning 1292 when something was left over. 'inf' and 'NaN'
// are no numbers; a number past the largest double is the largest double.
func asDouble(ctx *sql.Context, s string) float64 {
	t := strings.TrimLeft(s, " \t\n\r\f\v")
	i := 0
	if i < len(t) && (t[i] == '+' || t[i] == '-') {
		i++
	}
	digits := 0
	for i < len(t) && t[i] >= '0' && t[i] <= '9' {
		i, digits = i+1, digits+1
	}
	if i < len(t) && t[i] == '.' {
		i++
		for i < len(t) && t[i] >= '0' && t[i] <= '9' {
			i, digits = i+1, digits+1
		}
	}
	end := i
	if digits > 0 && i < len(t) && (t[i] == 'e' || t[i] == 'E') {
		j := i + 1
		if j < len(t) && (t[j] == '+' || t[j] == '-') {
			j++
		}
		if j < len(t) && t[j] >= '0' && t[j] <= '9' {
			for j < len(t) && t[j] >= '0' && t[j] <= '9' {
				j++
			}
			end = j
		}
	}
	var f float64
	if digits > 0 {
		var err error
		f, err = strconv.ParseFloat(t[:end], 64)
		if errors.Is(err, strconv.ErrRange) && math.IsInf(f, 0) {
			f = math.Copysign(math.MaxFloat64, f)
		}
	}
	if digits == 0 || strings.TrimRight(t[end:], " \t\n\r\f\v") != "" {
		ctx.Warn(mysqlerr.ErTruncatedWrongValue, "Truncated incorrect DOUBLE value: '%s'", truncateForMessage(s))
	}
	return f
}

// truncateForMessage keeps a warning short whatever the argument's size.
func truncateForMessage(s string) string {
	const most = 64
	if len(s) <= most {
		return s
	}
	return s[:most] + "..."
}

// numericArgs makes the arguments at positions safe for the engine's
// decimal arithmetic (finite), then runs the engine's function: MOD
// panicked on a double that is no number.
func numericArgs(positions ...int) func(*sql.Context, *fixed, []evaluated) (any, error) {
	return func(ctx *sql.Context, f *fixed, args []evaluated) (any, error) {
		for _, p := range positions {
			if p >= len(args) {
				continue
			}
			a, err := finite(ctx, args[p])
			if err != nil {
				return nil, err
			}
			args[p] = a
		}
		return f.engine(ctx, args)
	}
}

// ROUND(X[, D]): a double X (a string or JSON value read as one) is
// rounded as MySQL rounds a double, half to even (doubleRound); the engine
// converted every X to a DECIMAL(65,30), which panicked on a double that
// is no number and on a JSON null, and refused one past 10^35. An exact X
// is the engine's.
func roundEval(ctx *sql.Context, f *fixed, args []evaluated) (any, error) {
	a, err := finite(ctx, args[0])
	if err != nil {
		return nil, err
	}
	v, ok := a.v.(float64)
	if !ok {
		args[0] = a
		return f.engine(ctx, args)
	}
	places := 0
	if len(args) == 2 {
		if args[1].v == nil {
			return nil, nil
		}
		places = integerArg(ctx, args[1].v)
	}
	return doubleRound(v, places), nil
}

// roundType is a DOUBLE for ROUND of anything but a number (a string, a
// JSON value), as in MySQL, where the engine's is an INT that clamps the
// double roundEval returns.
func roundType(inner sql.Expression) sql.Type {
	if kids := inner.Children(); len(kids) > 0 && !types.IsNumber(kids[0].Type()) {
		return types.Float64
	}
	return inner.Type()
}

// integerArg is v as MySQL reads an integer argument: a string's leading
// integer, any other value rounded half away from zero; kept within
// ±maxPlaces, past which rounding a double changes nothing more.
func integerArg(ctx *sql.Context, v any) int {
	const maxPlaces = 400
	var p float64
	if s, ok := stringValue(ctx, v); ok {
		p = leadingInteger(s)
	} else if c, _, err := types.Float64.Convert(ctx, v); err == nil {
		p, _ = c.(float64)
		p = math.Round(p)
	}
	if math.IsNaN(p) {
		return 0
	}
	return int(max(min(p, maxPlaces), -maxPlaces))
}

// doubleRound is v rounded at places decimals (tens, hundreds... when
// places is negative) as MySQL rounds a double: multiplied or divided by
// the power of ten, rounded half to even and brought back, and v itself
// when the product is no longer finite.
func doubleRound(v float64, places int) float64 {
	scale := math.Pow(10, math.Abs(float64(places)))
	if places < 0 {
		if math.IsInf(scale, 0) {
			return 0
		}
		return math.RoundToEven(v/scale) * scale
	}
	m := v * scale
	if math.IsInf(m, 0) || math.IsNaN(m) {
		return v
	}
	return math.RoundToEven(m) / scale
}

// textArg hands the argument at position to the engine's function as text,
// as MySQL reads it: INET6_ATON and JSON_VALUE's path asserted a string and
// panicked on a number, a binary string or JSON. NULL stays NULL.
func textArg(position int) func(*sql.Context, *fixed, []evaluated) (any, error) {
	return func(ctx *sql.Context, f *fixed, args []evaluated) (any, error) {
		a := args[position]
		if a.v == nil {
			return nil, nil
		}
		switch v := a.v.(type) {
		case string:
		case []byte:
			// Bytes that are no UTF-8 (X'FF') are no address or path either:
			// the engine's function says so, rather than a conversion.
			args[position] = evaluated{Expression: expression.NewLiteral(string(v), types.LongText), v: string(v)}
		default:
			s, err := text(ctx, v)
			if err != nil {
				return nil, err
			}
			args[position] = evaluated{Expression: expression.NewLiteral(s, types.LongText), v: s}
		}
		return f.engine(ctx, args)
	}
}

// JSON_EXTRACT(doc, path, path...): with several paths, the engine joined
// the matches of all of them and dereferenced the missing ones (a nil
// pointer). As in MySQL, a path that matches nothing is left out, and
// nothing matched at all is NULL.
func jsonExtractEval(ctx *sql.Context, f *fixed, args []evaluated) (any, error) {
	if len(args) <= 2 {
		return f.engine(ctx, args)
	}
	if args[0].v == nil {
		return nil, nil
	}
	var found []sql.JSONWrapper
	for _, p := range args[1:] {
		if p.v == nil {
			return nil, nil
		}
		v, err := f.engine(ctx, []evaluated{args[0], p})
		if err != nil {
			return nil, err
		}
		if v == nil {
			continue
		}
		j, ok := v.(sql.JSONWrapper)
		if !ok {
			return v, nil // what the engine answers for a document that is no JSON
		}
		found = append(found, j)
	}
	if len(found) == 0 {
		return nil, nil
	}
	return types.ConcatenateJSONValues(ctx, found...)
}

// JSON_OBJECT(key, value, ...): a NULL key is MySQL's 3158; the engine
// asserted a string and panicked.
func jsonObjectEval(ctx *sql.Context, f *fixed, args []evaluated) (any, error) {
	for i := 0; i < len(args); i += 2 {
		if args[i].v == nil {
			return nil, mysqlerr.Errorf(mysqlerr.ErJSONDocumentNullKey, "JSON documents may not contain NULL member names.")
		}
	}
	return f.engine(ctx, args)
}

// LAST_INSERT_ID(NULL) is NULL and makes the session's last insert id 0,
// as in MySQL; the engine asserted an integer and panicked.
func lastInsertIDEval(ctx *sql.Context, f *fixed, args []evaluated) (any, error) {
	if len(args) == 1 && args[0].v == nil {
		ctx.SetLastQueryInfoInt(sql.LastInsertId, 0)
		return nil, nil
	}
	return f.engine(ctx, args)
}

// LOCATE(substr, str, pos): a position before the first character is 0,
// and a NULL position NULL, as in MySQL; the engine sliced the string at
// the position and panicked on a negative one ('NaN' read as -2^31).
func locateEval(ctx *sql.Context, f *fixed, args []evaluated) (any, error) {
	if len(args) != 3 {
		return f.engine(ctx, args)
	}
	for _, a := range args {
		if a.v == nil {
			return nil, nil
		}
	}
	pos := args[2].v
	if s, ok := stringValue(ctx, pos); ok {
		pos = asDouble(ctx, s)
	}
	var p float64
	switch v := pos.(type) {
	case float64:
		p = math.Round(v)
	case float32:
		p = math.Round(float64(v))
	default:
		c, _, err := types.Float64.Convert(ctx, pos)
		if err != nil {
			return nil, err
		}
		p, _ = c.(float64)
		p = math.Round(p)
	}
	if math.IsNaN(p) || p < 1 {
		return int32(0), nil
	}
	if p > math.MaxInt32 {
		// Past the end of any string the server can hold.
		return int32(0), nil
	}
	args[2] = evaluated{Expression: expression.NewLiteral(int64(p), types.Int64), v: int64(p)}
	return f.engine(ctx, args)
}

// RAND(NULL) is RAND(0), as in MySQL; the engine asserted an integer seed
// and panicked on a NULL one of a numeric type.
func randEval(ctx *sql.Context, f *fixed, args []evaluated) (any, error) {
	if len(args) == 1 && args[0].v == nil {
		args[0] = evaluated{Expression: expression.NewLiteral(int64(0), types.Int64), v: int64(0)}
	}
	return f.engine(ctx, args)
}

// NTILE(n): the engine read n with a conversion whose failure it left as
// an unsigned 0 and then asserted a signed integer, so NTILE('a') panicked.
// The host hands it n as a signed integer, or MySQL's 1210 when n is no
// positive integer (MySQL takes only an integer literal there: anything
// else is its syntax error).
func ntileArgs(args []sql.Expression) ([]sql.Expression, error) {
	if len(args) != 1 {
		return args, nil
	}
	return []sql.Expression{&ntileBuckets{Child: args[0]}}, nil
}

// ntileBuckets is NTILE's bucket count.
type ntileBuckets struct {
	Child sql.Expression
}

var _ sql.Expression = (*ntileBuckets)(nil)

func (n *ntileBuckets) Resolved() bool             { return n.Child.Resolved() }
func (n *ntileBuckets) String() string             { return n.Child.String() }
func (n *ntileBuckets) Type() sql.Type             { return types.Int64 }
func (n *ntileBuckets) IsNullable() bool           { return false }
func (n *ntileBuckets) Children() []sql.Expression { return []sql.Expression{n.Child} }

func (n *ntileBuckets) WithChildren(children ...sql.Expression) (sql.Expression, error) {
	if len(children) != 1 {
		return nil, sql.ErrInvalidChildrenNumber.New(n, len(children), 1)
	}
	return &ntileBuckets{Child: children[0]}, nil
}

func (n *ntileBuckets) Eval(ctx *sql.Context, row sql.Row) (any, error) {
	v, err := n.Child.Eval(ctx, row)
	if err != nil {
		return nil, err
	}
	var b int64
	switch v := v.(type) {
	case int8:
		b = int64(v)
	case int16:
		b = int64(v)
	case int32:
		b = int64(v)
	case int64:
		b = v
	case uint8:
		b = int64(v)
	case uint16:
		b = int64(v)
	case uint32:
		b = int64(v)
	case uint64:
		// More buckets than rows is one row a bucket, however many more.
		b = int64(min(v, math.MaxInt64))
	}
	if b < 1 {
		return nil, toSQLError(mysqlerr.Errorf(mysqlerr.ErWrongArguments, "Incorrect arguments to ntile"))
	}
	return b, nil
}

// UNIX_TIMESTAMP(date): the engine's constructor evaluates a constant date
// that is no DATETIME, with no context, to learn the result's scale: it
// asserted that a binary string (X'FF', UNHEX(...)) was text, and the
// host's own functions (REPEAT, FORMAT...) read their session from the
// missing context: the statement panicked before it ran. The host hands it
// such a date through unixTimestampArg.
func unixTimestampArgs(args []sql.Expression) ([]sql.Expression, error) {
	if len(args) != 1 {
		return args, nil
	}
	if _, ok := args[0].Type().(sql.DatetimeType); ok {
		return args, nil
	}
	if l, ok := args[0].(*expression.Literal); ok {
		if _, binary := l.Value().([]byte); !binary {
			return args, nil
		}
	}
	return []sql.Expression{&unixTimestampArg{Child: args[0]}}, nil
}

// unixTimestampArg is UNIX_TIMESTAMP's date: a binary string read as text
// (LONGTEXT), evaluated in an empty context when the engine gives none.
type unixTimestampArg struct {
	Child sql.Expression
}

var _ sql.Expression = (*unixTimestampArg)(nil)

func (a *unixTimestampArg) Resolved() bool             { return a.Child.Resolved() }
func (a *unixTimestampArg) String() string             { return a.Child.String() }
func (a *unixTimestampArg) IsNullable() bool           { return a.Child.IsNullable() }
func (a *unixTimestampArg) Children() []sql.Expression { return []sql.Expression{a.Child} }

func (a *unixTimestampArg) Type() sql.Type {
	if types.IsBinaryType(a.Child.Type()) {
		return types.LongText
	}
	return a.Child.Type()
}

func (a *unixTimestampArg) WithChildren(children ...sql.Expression) (sql.Expression, error) {
	if len(children) != 1 {
		return nil, sql.ErrInvalidChildrenNumber.New(a, len(children), 1)
	}
	return &unixTimestampArg{Child: children[0]}, nil
}

// Eval reads a value of a string type that the engine does not hold as a
// Go string (bytes, a JSON document, a geometry) as its text, since the
// engine's constructor asserts one.
func (a *unixTimestampArg) Eval(ctx *sql.Context, row sql.Row) (any, error) {
	if ctx == nil {
		ctx = sql.NewEmptyContext()
	}
	v, err := a.Child.Eval(ctx, row)
	if err != nil || v == nil {
		return v, err
	}
	if b, ok := v.([]byte); ok {
		return string(b), nil
	}
	if _, ok := v.(string); ok || !types.IsText(a.Type()) {
		return v, nil
	}
	return text(ctx, v)
}

// precisionLiteral refuses CURTIME(fsp) whose fsp is no literal, or that
// has more than one argument, as MySQL's grammar does (1064): the engine's
// expression cannot take a column there, and the analyzer dereferenced
// what it made of it (a nil pointer, before the statement ran).
func precisionLiteral(name string) func([]sql.Expression) ([]sql.Expression, error) {
	return func(args []sql.Expression) ([]sql.Expression, error) {
		switch {
		case len(args) > 1:
			return nil, mysqlerr.SyntaxError(strings.ToUpper(name) + "() takes one argument at most, an integer literal")
		case len(args) == 1:
			if _, ok := args[0].(*expression.Literal); !ok {
				return nil, mysqlerr.SyntaxError(
					"the precision of " + strings.ToUpper(name) + "() must be an integer literal, near '" + args[0].String() + "'")
			}
		}
		return args, nil
	}
}
