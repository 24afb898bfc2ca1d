package server

import (
	"reflect"
	"strings"

	"github.com/dolthub/go-mysql-server/sql"
	"github.com/dolthub/go-mysql-server/sql/expression"
	"github.com/dolthub/go-mysql-server/sql/expression/function"
	"github.com/dolthub/go-mysql-server/sql/plan"

	"github.com/authplug/authplug/priv"
)

// pureExpressions are the engine's operators and leaves: they compute from
// their children and the row, and touch nothing else. An expression that is
// neither here nor a function is refused.
var pureExpressions = map[reflect.Type]bool{}

func init() {
	for _, t := range []reflect.Type{
		typeOf[*expression.Alias](), typeOf[*expression.And](), typeOf[*expression.Arithmetic](),
		typeOf[*expression.AutoIncrement](), typeOf[*expression.AutoUuid](), typeOf[*expression.Between](),
		typeOf[*expression.Binary](), typeOf[*expression.BindVar](), typeOf[*expression.BitOp](),
		typeOf[*expression.Case](), typeOf[*expression.CollatedExpression](), typeOf[*expression.Convert](),
		typeOf[*expression.ConvertUsing](), typeOf[*expression.DefaultColumn](),
		typeOf[*expression.DistinctExpression](), typeOf[*expression.Div](), typeOf[*expression.EnumToString](),
		typeOf[*expression.Equals](), typeOf[*expression.GetField](), typeOf[*expression.GreaterThan](),
		typeOf[*expression.GreaterThanOrEqual](), typeOf[*expression.HashInTuple](), typeOf[*expression.InTuple](),
		typeOf[*expression.IntDiv](), typeOf[*expression.Interval](), typeOf[*expression.IsNull](),
		typeOf[*expression.IsTrue](), typeOf[*expression.LessThan](), typeOf[*expression.LessThanOrEqual](),
		typeOf[*expression.Like](), typeOf[*expression.Literal](), typeOf[*expression.MatchAgainst](),
		typeOf[*expression.Mod](), typeOf[*expression.Not](), typeOf[*expression.NullSafeEquals](),
		typeOf[*expression.Or](), typeOf[*expression.ProcedureParam](), typeOf[*expression.SetField](),
		typeOf[*expression.Star](), typeOf[*expression.UnaryMinus](), typeOf[*expression.UserVar](),
		typeOf[*expression.Wrapper](), typeOf[*expression.Xor](), typeOf[expression.AliasReference](),
		typeOf[expression.Tuple](), typeOf[*expression.SystemVar](),
		typeOf[*sql.ColumnDefaultValue](), typeOf[plan.ColDefaultExpression](), typeOf[*plan.StrExpr](),
		typeOf[*plan.ExistsSubquery](), typeOf[*plan.InSubquery](),
		typeOf[*plan.Subquery](), // walked as a plan (walker.expr)
		typeOf[*function.Quote](),
		typeOf[currentUser](),       // CURRENT_USER(), answered by the host
		typeOf[*binaryCast](),       // CAST(x AS BINARY(n)), checked against max_allowed_packet
		typeOf[checkedGeometry](),   // a spatial expression, its type checked (geometry.go)
		typeOf[geometryValue](),     // a spatial column's computed value, its bytes checked
		typeOf[*unixTimestampArg](), // UNIX_TIMESTAMP's argument (builtins.go)
		typeOf[*ntileBuckets](),     // NTILE's bucket count, checked (builtins.go)
	} {
		pureExpressions[t] = true
	}
}

// refusedExpressions never belong in a plan that runs.
var refusedExpressions = map[reflect.Type]string{
	typeOf[*expression.UnresolvedColumn]():         "unresolved columns",
	typeOf[*expression.UnresolvedFunction]():       "unresolved functions",
	typeOf[*expression.UnresolvedProcedureParam](): "unresolved procedure parameters",
	typeOf[sql.UnresolvedColumnDefault]():          "unresolved column defaults",
	typeOf[*plan.OnScheduleTimestamp]():            "events",
}

// fileFunctions read files on the server: FILE, inside secure_file_priv.
var fileFunctions = map[string]bool{"load_file": true}

// expr checks an expression and everything under it.
func (w *walker) expr(e sql.Expression) error {
	if e == nil {
		return nil
	}
	switch x := e.(type) {
	case *plan.Subquery:
		if x.Query != nil {
			w.built = append(w.built, x.Query)
			return w.node(x.Query)
		}
		return nil
	case *expression.Convert:
		if err := checkBinaryCast(w.ctx, x); err != nil {
			return err
		}
	case sql.FunctionExpression:
		name := strings.ToLower(x.FunctionName())
		switch {
		case fileFunctions[name]:
			if err := w.global(priv.File); err != nil {
				return err
			}
			if w.s.secureFiles == "" {
				return errFileIODisabled()
			}
		case !pureFunctions[name]:
			return errNotClassified("function " + name)
		}
	default:
		t := reflect.TypeOf(e)
		if why, ok := refusedExpressions[t]; ok {
			return errNotClassified(why)
		}
		if !pureExpressions[t] {
			return errNotClassified("expression " + strings.TrimPrefix(t.String(), "*"))
		}
	}
	for _, c := range e.Children() {
		if err := w.expr(c); err != nil {
			return err
		}
	}
	return nil
}
