package server

// Spatial types that check what they read. Every spatial type of
// go-mysql-server v0.20.0 turns a []byte or string into a geometry by
// reading it as EWKB with the readers bigwkb.go describes, which allocate
// what a count says before reading anything: a 13-byte value is a fatal
// 32 GiB allocation. The engine converts to a spatial type wherever a value
// meets one: a row written to a geometry column (INSERT, REPLACE, UPDATE,
// ON DUPLICATE KEY UPDATE, LOAD DATA, INSERT ... SELECT, a trigger's SET
// NEW.g), a column's default or generated value, ALTER TABLE converting
// the rows of a column it makes spatial, a CALL's arguments, a routine's
// variables, a JSON_TABLE column, an index lookup or a hash join on a
// spatial column, the operands of IN, and the wire writing out a result
// whose column is spatial (IFNULL(ST_GeomFromText(NULL), x) is spatial and
// carries x's bytes). Several of these need no privilege on any table.
//
// Listing those places would be a list of the engine's internals that the
// next version changes. What they have in common is where the type comes
// from: the engine converts with a sql.Type that the plan, or a table
// created by a plan, holds. So the analyzer rule checkGeometry, the first
// of all, puts checkedSpatial, a spatial type whose Convert and SQL walk
// the bytes first (wkbGeometry), in place of every spatial type the plan
// holds: the column types a CREATE or ALTER TABLE gives the table (which
// the table then hands out to every later statement, its indexes
// included), JSON_TABLE's columns, DECLAREd variables, a CALL's
// parameters, column references, literals and defaults; any other
// expression whose type is spatial (the constructors and readers, a
// variable that is read) is wrapped in checkedGeometry, which reports the
// checked type. Whatever type the engine derives from these (IN takes its
// left operand's, IFNULL its arguments', a subquery its column's) is then
// a checked one.
//
// Fail closed: after the rule, and again where the authorizer sees the
// plan that runs (planauth.go), uncheckedGeometry refuses (1235) a plan in
// which a spatial type is not checked: a table handed to the server
// already made with spatial columns (Config.Databases), or a kind of node
// or expression that a new engine version brings and the rule does not
// know (TestEveryTypeHolderIsClassified lists the engine's plan structs
// that keep a type). The rule runs before any rule that evaluates (the
// engine folds constant filters and builds index lookups during
// analysis), so nothing reads with an unchecked type before the check.
//
// Outside plans: a CALL's OUT parameter gives a user variable the type of
// the parameter as the statement was built, with the value the routine
// left in it unconverted; EXECUTE ... USING @v converts @v with that type
// before anything is planned. The rule checks the parameter types in the
// session too (checkCall).

import (
	"context"

	"github.com/dolthub/go-mysql-server/sql"
	"github.com/dolthub/go-mysql-server/sql/analyzer"
	"github.com/dolthub/go-mysql-server/sql/expression"
	"github.com/dolthub/go-mysql-server/sql/plan"
	"github.com/dolthub/go-mysql-server/sql/transform"
	"github.com/dolthub/go-mysql-server/sql/types"
	"github.com/dolthub/vitess/go/sqltypes"

	"github.com/authplug/authplug/mysqlerr"
)

// checkedSpatial is a spatial type whose conversions check EWKB before the
// engine reads it.
type checkedSpatial struct{ spatialType }

// spatialType names the embedded type apart from its Type method.
type spatialType = sql.Type

var (
	_ sql.Type              = checkedSpatial{}
	_ sql.SpatialColumnType = checkedSpatial{}
)

// checkedType is t, made a checkedSpatial if it is spatial.
func checkedType(t sql.Type) sql.Type {
	switch t := t.(type) {
	case checkedSpatial:
		return t
	case types.TupleType:
		out := make(types.TupleType, len(t))
		for i, e := range t {
			out[i] = checkedType(e)
		}
		return out
	case sql.SpatialColumnType:
		return checkedSpatial{t.(sql.Type)}
	}
	return t
}

// uncheckedType: t is, or holds, a spatial type that is not checked.
func uncheckedType(t sql.Type) bool {
	switch t := t.(type) {
	case checkedSpatial:
		return false
	case types.TupleType:
		for _, e := range t {
			if uncheckedType(e) {
				return true
			}
		}
		return false
	case sql.SpatialColumnType:
		return true
	}
	return false
}

func (c checkedSpatial) Convert(ctx context.Context, v any) (any, sql.ConvertInRange, error) {
	if !validEWKB(v) {
		return nil, sql.OutOfRange, toSQLError(errCantCreateGeometry())
	}
	return c.spatialType.Convert(ctx, v)
}

// SQL writes v to the wire; the engine's converts v first.
func (c checkedSpatial) SQL(ctx *sql.Context, dest []byte, v any) (sqltypes.Value, error) {
	if !validEWKB(v) {
		return sqltypes.Value{}, toSQLError(errCantCreateGeometry())
	}
	return c.spatialType.SQL(ctx, dest, v)
}

// Promote: the engine's returns itself, unchecked.
func (c checkedSpatial) Promote() sql.Type { return checkedType(c.spatialType.Promote()) }

func (c checkedSpatial) Equals(o sql.Type) bool {
	if oc, ok := o.(checkedSpatial); ok {
		o = oc.spatialType
	}
	return c.spatialType.Equals(o)
}

func (c checkedSpatial) GetSpatialTypeSRID() (uint32, bool) {
	return c.spatialType.(sql.SpatialColumnType).GetSpatialTypeSRID()
}

// SetSRID: the engine's returns a new type, unchecked.
func (c checkedSpatial) SetSRID(srid uint32) sql.Type {
	return checkedType(c.spatialType.(sql.SpatialColumnType).SetSRID(srid))
}

func (c checkedSpatial) MatchSRID(v any) error {
	return c.spatialType.(sql.SpatialColumnType).MatchSRID(v)
}

// validEWKB: v is not something the engine reads as EWKB (only []byte and
// string are), or it is EWKB, a SRID then WKB, whose counts fit.
func validEWKB(v any) bool {
	var buf []byte
	switch v := v.(type) {
	case []byte:
		buf = v
	case string:
		buf = []byte(v)
	default:
		return true
	}
	if len(buf) < types.SRIDSize {
		return false
	}
	_, ok := wkbGeometry(buf[types.SRIDSize:], 0)
	return ok
}

// errCantCreateGeometry is MySQL's answer to bytes that are no geometry
// given to a geometry column. The engine's hooks below put it on the wire
// as they return it (sqlerror.go).
func errCantCreateGeometry() *mysqlerr.Error {
	return mysqlerr.Errorf(mysqlerr.ErCantCreateGeometryObject,
		"Cannot get geometry object from data you send to the GEOMETRY field")
}

// checkedGeometry is an expression of a spatial type, reporting the type
// checked. Its child is the expression, so that every walk of the plan
// (the authorizer's among them) still sees it.
type checkedGeometry struct{ sql.Expression }

var (
	_ sql.Expression         = checkedGeometry{}
	_ sql.CollationCoercible = checkedGeometry{}
)

func (c checkedGeometry) Type() sql.Type             { return checkedType(c.Expression.Type()) }
func (c checkedGeometry) Children() []sql.Expression { return []sql.Expression{c.Expression} }

func (c checkedGeometry) WithChildren(children ...sql.Expression) (sql.Expression, error) {
	if len(children) != 1 {
		return nil, sql.ErrInvalidChildrenNumber.New(c, len(children), 1)
	}
	return checkedGeometry{children[0]}, nil
}

func (c checkedGeometry) CollationCoercibility(ctx *sql.Context) (sql.CollationID, byte) {
	return sql.GetCoercibility(ctx, c.Expression)
}

// checkGeometryRule is the analyzer rule that puts checked spatial types in
// a plan; capResults adds it to a host engine's first batch.
const checkGeometryRule analyzer.RuleId = -2

// The analyzer runs an INSERT of literal values, and an UPDATE or DELETE
// of one table, through batches of its own (node_batches.go) made of the
// package's AlwaysBeforeDefault and OnceAfterAll rules, not the engine's
// batches; every engine of the process reads those lists, and its standard
// batches copy them. checkGeometry goes in both, for host engines only
// (hostEngine): first, and last again, for what the last rules add (the
// defaults of the columns an INSERT leaves out, the triggers it fires).
const (
	checkGeometryFirstRule analyzer.RuleId = -3
	checkGeometryLastRule  analyzer.RuleId = -4
)

func init() {
	analyzer.AlwaysBeforeDefault = append(analyzer.AlwaysBeforeDefault,
		analyzer.Rule{Id: checkGeometryFirstRule, Apply: checkGeometry{}.Apply})
	analyzer.OnceAfterAll = append(analyzer.OnceAfterAll,
		analyzer.Rule{Id: checkGeometryLastRule, Apply: checkGeometry{}.Apply})
}

// hostEngine: capResults set a up.
func hostEngine(a *analyzer.Analyzer) bool {
	for _, b := range a.Batches {
		if b.Desc != preAnalyzerBatch {
			continue
		}
		for _, r := range b.Rules {
			if r.Id == checkGeometryRule {
				return true
			}
		}
	}
	return false
}

// checkGeometry is the rule.
type checkGeometry struct{}

func (checkGeometry) Apply(ctx *sql.Context, a *analyzer.Analyzer, n sql.Node, _ *plan.Scope, _ analyzer.RuleSelector, _ *sql.QueryFlags) (sql.Node, transform.TreeIdentity, error) {
	if !hostEngine(a) {
		return n, transform.SameTree, nil
	}
	if n == nil {
		// The engine gives EXECUTE ... USING no plan, and no error, when a
		// variable's value does not convert to the variable's type: for a
		// spatial one, that is the check refusing its bytes.
		return n, transform.SameTree, toSQLError(errCantCreateGeometry())
	}
	out, same, err := checkNode(ctx, n)
	if err != nil {
		return n, transform.SameTree, err
	}
	if err := uncheckedGeometry(out); err != nil {
		return n, transform.SameTree, toSQLError(err)
	}
	return out, same, nil
}

// checkNode puts checked types in n and everything under it.
func checkNode(ctx *sql.Context, n sql.Node) (sql.Node, transform.TreeIdentity, error) {
	return transform.NodeWithOpaque(n, func(n sql.Node) (sql.Node, transform.TreeIdentity, error) {
		n, sameExprs, err := checkNodeExprs(ctx, n)
		if err != nil {
			return n, transform.SameTree, err
		}
		n, sameHeld, err := checkHeld(ctx, n)
		return n, sameExprs && sameHeld, err
	})
}

func checkNodeExprs(ctx *sql.Context, n sql.Node) (sql.Node, transform.TreeIdentity, error) {
	ex, ok := n.(sql.Expressioner)
	if !ok {
		return n, transform.SameTree, nil
	}
	exprs := ex.Expressions()
	out := make([]sql.Expression, len(exprs))
	same := transform.SameTree
	for i, e := range exprs {
		out[i] = e
		if assigns(n) && isVariable(e) {
			continue
		}
		ne, s, err := checkExpr(ctx, e)
		if err != nil {
			return n, transform.SameTree, err
		}
		if !s {
			out[i], same = ne, transform.NewTree
		}
	}
	if same {
		return n, same, nil
	}
	nn, err := ex.WithExpressions(out...)
	return nn, transform.NewTree, err
}

// assigns: n's own expressions are the variables it sets (SELECT ... INTO,
// FETCH ... INTO, a CALL's OUT arguments), which the engine needs as they
// are. Their types are their declarations' (DeclareVariables).
func assigns(n sql.Node) bool {
	switch n.(type) {
	case *plan.Into, *plan.Fetch, *plan.Call:
		return true
	}
	return false
}

func isVariable(e sql.Expression) bool {
	switch e.(type) {
	case *expression.UserVar, *expression.ProcedureParam, *expression.SystemVar:
		return true
	}
	return false
}

// checkExpr puts checked types in e and everything under it.
func checkExpr(ctx *sql.Context, e sql.Expression) (sql.Expression, transform.TreeIdentity, error) {
	switch x := e.(type) {
	case nil, checkedGeometry:
		return e, transform.SameTree, nil
	case *plan.Subquery:
		if x.Query == nil {
			return e, transform.SameTree, nil
		}
		q, same, err := checkNode(ctx, x.Query)
		if err != nil || same {
			return e, transform.SameTree, err
		}
		return x.WithQuery(q), transform.NewTree, nil
	case *sql.ColumnDefaultValue:
		return checkDefault(ctx, x)
	case *expression.SetField:
		// The left is where the value goes: a column's type is the
		// conversion, a variable is set by the engine as it is.
		left, right := x.LeftChild, x.RightChild
		sameLeft := transform.SameTree
		if _, ok := left.(*expression.GetField); ok {
			left, sameLeft, _ = checkExpr(ctx, left)
		}
		right, sameRight, err := checkExpr(ctx, right)
		if err != nil || (sameLeft && sameRight) {
			return e, transform.SameTree, err
		}
		ne, err := x.WithChildren(left, right)
		return ne, transform.NewTree, err
	}
	same := transform.SameTree
	if kids := e.Children(); len(kids) > 0 {
		out := make([]sql.Expression, len(kids))
		for i, k := range kids {
			nk, s, err := checkExpr(ctx, k)
			if err != nil {
				return e, transform.SameTree, err
			}
			out[i] = nk
			same = same && s
		}
		if !same {
			ne, err := e.WithChildren(out...)
			if err != nil {
				return e, transform.SameTree, err
			}
			e = ne
		}
	}
	if !e.Resolved() || !uncheckedType(e.Type()) {
		return e, same, nil
	}
	switch x := e.(type) {
	case *expression.GetField:
		gf := expression.NewGetFieldWithTable(x.Index(), int(x.TableId()), checkedType(x.Type()),
			x.Database(), x.Table(), x.Name(), x.IsNullable()).WithId(x.Id())
		return gf, transform.NewTree, nil
	case *expression.Literal:
		return expression.NewLiteral(x.Value(), checkedType(x.Type())), transform.NewTree, nil
	}
	return checkedGeometry{e}, transform.NewTree, nil
}

// checkDefault checks a column's default or generated value: its type, and,
// for an expression, its value as it is computed, so that bytes that are
// no geometry are MySQL's 1416 rather than the engine's "incompatible
// type for default value". A literal is checked by the type when the
// table is made.
func checkDefault(ctx *sql.Context, d *sql.ColumnDefaultValue) (sql.Expression, transform.TreeIdentity, error) {
	if d == nil {
		return d, transform.SameTree, nil
	}
	expr, same, err := checkExpr(ctx, d.Expr)
	if err != nil {
		return d, transform.SameTree, err
	}
	_, spatial := d.OutType.(sql.SpatialColumnType)
	_, wrapped := expr.(geometryValue)
	wrap := spatial && !d.Literal && !wrapped
	if bool(same) && !uncheckedType(d.OutType) && !wrap {
		return d, transform.SameTree, nil
	}
	nd := *d
	nd.Expr, nd.OutType = expr, checkedType(d.OutType)
	if wrap {
		nd.Expr = geometryValue{expr}
	}
	return &nd, transform.NewTree, nil
}

// geometryValue is an expression whose value a column's spatial type
// converts: its bytes are checked as it is computed.
type geometryValue struct{ sql.Expression }

var (
	_ sql.Expression         = geometryValue{}
	_ sql.CollationCoercible = geometryValue{}
)

func (g geometryValue) Eval(ctx *sql.Context, row sql.Row) (any, error) {
	v, err := g.Expression.Eval(ctx, row)
	if err != nil {
		return nil, err
	}
	if !validEWKB(v) {
		return nil, toSQLError(errCantCreateGeometry())
	}
	return v, nil
}

func (g geometryValue) Children() []sql.Expression { return []sql.Expression{g.Expression} }

func (g geometryValue) WithChildren(children ...sql.Expression) (sql.Expression, error) {
	if len(children) != 1 {
		return nil, sql.ErrInvalidChildrenNumber.New(g, len(children), 1)
	}
	return geometryValue{children[0]}, nil
}

func (g geometryValue) CollationCoercibility(ctx *sql.Context) (sql.CollationID, byte) {
	return sql.GetCoercibility(ctx, g.Expression)
}

// checkHeld checks the types a node holds outside its expressions.
func checkHeld(ctx *sql.Context, n sql.Node) (sql.Node, transform.TreeIdentity, error) {
	switch x := n.(type) {
	case *plan.JSONTable:
		cols, changed := checkedColumns(x.Cols)
		if !changed {
			return n, transform.SameTree, nil
		}
		nt := *x
		nt.Cols = cols
		return &nt, transform.NewTree, nil
	case *plan.CreateTable:
		if !uncheckedSchema(x.PkSchema().Schema) {
			return n, transform.SameTree, nil
		}
		// WithExpressions copies the columns: the table gets these.
		nn, err := x.WithExpressions(x.Expressions()...)
		if err != nil {
			return n, transform.SameTree, err
		}
		checkColumns(nn.(*plan.CreateTable).PkSchema().Schema)
		return nn, transform.NewTree, nil
	case *plan.AddColumn:
		if !uncheckedSchema(sql.Schema{x.Column()}) {
			return n, transform.SameTree, nil
		}
		nn, err := x.WithExpressions(x.Expressions()...)
		if err != nil {
			return n, transform.SameTree, err
		}
		checkColumns(sql.Schema{nn.(*plan.AddColumn).Column()})
		return nn, transform.NewTree, nil
	case *plan.ModifyColumn:
		// The statement's own column, which the engine's WithExpressions
		// changes in place too.
		if !uncheckedSchema(sql.Schema{x.NewColumn()}) {
			return n, transform.SameTree, nil
		}
		checkColumns(sql.Schema{x.NewColumn()})
		return n, transform.NewTree, nil
	case *plan.DeclareVariables:
		def, sameDef := sql.Expression(nil), transform.SameTree
		if x.DefaultVal != nil {
			var err error
			if def, sameDef, err = checkExpr(ctx, x.DefaultVal); err != nil {
				return n, transform.SameTree, err
			}
		}
		if bool(sameDef) && !uncheckedType(x.Type) {
			return n, transform.SameTree, nil
		}
		nd := *x
		nd.Type = checkedType(x.Type)
		if !sameDef {
			nd.DefaultVal = def.(*sql.ColumnDefaultValue)
		}
		return &nd, transform.NewTree, nil
	case *plan.Call:
		if x.Procedure == nil {
			return n, transform.SameTree, nil
		}
		checkCall(ctx, x.Procedure)
		p, same := checkProcedure(x.Procedure)
		if same {
			return n, same, nil
		}
		return x.WithProcedure(p), transform.NewTree, nil
	case *plan.Procedure:
		p, same := checkProcedure(x)
		return p, same, nil
	case *plan.RecursiveCte:
		// Both keep the schema the statement was built with, before this
		// rule: the statement's own columns.
		same := checkOwnColumns(x.Schema())
		if x.Working != nil {
			same = checkOwnColumns(x.Working.Schema()) && same
		}
		return n, transform.TreeIdentity(same), nil
	case *plan.RecursiveTable:
		return n, transform.TreeIdentity(checkOwnColumns(x.Schema())), nil
	case *plan.InsertInto:
		// Its source is not among its children.
		src, same, err := checkNode(ctx, x.Source)
		if err != nil || same {
			return n, transform.SameTree, err
		}
		return x.WithSource(src), transform.NewTree, nil
	case *plan.TableCopier:
		// Neither is its source nor the table it makes.
		src, sameSrc, err := checkNode(ctx, x.Source)
		if err != nil {
			return n, transform.SameTree, err
		}
		dst, sameDst, err := checkNode(ctx, x.Destination)
		if err != nil || (sameSrc && sameDst) {
			return n, transform.SameTree, err
		}
		nc := *x
		nc.Source, nc.Destination = src, dst
		return &nc, transform.NewTree, nil
	}
	return n, transform.SameTree, nil
}

func checkProcedure(p *plan.Procedure) (*plan.Procedure, transform.TreeIdentity) {
	unchecked := false
	for _, param := range p.Params {
		unchecked = unchecked || uncheckedType(param.Type)
	}
	if !unchecked {
		return p, transform.SameTree
	}
	np := *p
	np.Params = make([]plan.ProcedureParam, len(p.Params))
	for i, param := range p.Params {
		np.Params[i] = param
		np.Params[i].Type = checkedType(param.Type)
	}
	return &np, transform.NewTree
}

// checkCall checks the types of a CALL's parameters that the statement's
// building put in the session: an OUT parameter's becomes the type of the
// user variable it is returned in.
func checkCall(ctx *sql.Context, p *plan.Procedure) {
	for _, param := range p.Params {
		for spp := ctx.Session.GetStoredProcParam(param.Name); spp != nil; spp = spp.Reference {
			spp.Type = checkedType(spp.Type)
			if spp.Reference == spp {
				break
			}
		}
	}
}

func uncheckedSchema(sch sql.Schema) bool {
	for _, c := range sch {
		if uncheckedColumn(c) {
			return true
		}
	}
	return false
}

func uncheckedColumn(c *sql.Column) bool {
	if c == nil {
		return false
	}
	if uncheckedType(c.Type) {
		return true
	}
	for _, d := range []*sql.ColumnDefaultValue{c.Default, c.Generated, c.OnUpdate} {
		if d != nil && uncheckedType(d.OutType) {
			return true
		}
	}
	return false
}

// checkOwnColumns checks, in place, the columns a node keeps of its own,
// and says whether there was nothing to check.
func checkOwnColumns(sch sql.Schema) bool {
	if !uncheckedSchema(sch) {
		return true
	}
	checkColumns(sch)
	return false
}

// checkColumns changes columns the caller owns; their defaults may be
// shared, and are copied.
func checkColumns(sch sql.Schema) {
	for _, c := range sch {
		c.Type = checkedType(c.Type)
		for _, d := range []**sql.ColumnDefaultValue{&c.Default, &c.Generated, &c.OnUpdate} {
			if *d != nil && uncheckedType((*d).OutType) {
				nd := **d
				nd.OutType = checkedType(nd.OutType)
				*d = &nd
			}
		}
	}
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
		if c.Opts == nil || !uncheckedType(c.Opts.Type) {
			continue
		}
		opts := *c.Opts
		opts.Type = checkedType(c.Opts.Type)
		out[i].Opts, changed = &opts, true
	}
	return out, changed
}

// errUncheckedGeometry: a plan holds a spatial type checkGeometry did not
// check, in what.
func errUncheckedGeometry(what string) error {
	return errNotClassified("a geometry type the host does not check, in " + what)
}

// uncheckedGeometry refuses a plan that holds an unchecked spatial type
// anywhere checkGeometry puts checked ones, or in a node's schema (a
// table's columns).
func uncheckedGeometry(n sql.Node) error {
	if n == nil {
		return nil
	}
	if heldUnchecked(n) || uncheckedSchema(n.Schema()) {
		what := nodeName(n)
		if nn, ok := n.(sql.Nameable); ok {
			what += " " + nn.Name()
		}
		return errUncheckedGeometry(what)
	}
	if ex, ok := n.(sql.Expressioner); ok {
		for _, e := range ex.Expressions() {
			if assigns(n) && isVariable(e) {
				continue
			}
			if err := uncheckedExpr(e); err != nil {
				return err
			}
		}
	}
	if d, ok := n.(*plan.DeclareVariables); ok && d.DefaultVal != nil {
		if err := uncheckedExpr(d.DefaultVal); err != nil {
			return err
		}
	}
	for _, c := range append(n.Children(), hiddenChildren(n)...) {
		if err := uncheckedGeometry(c); err != nil {
			return err
		}
	}
	return nil
}

// hiddenChildren are the plans under n that are not its Children (checkHeld
// rewrites them).
func hiddenChildren(n sql.Node) []sql.Node {
	switch x := n.(type) {
	case *plan.InsertInto:
		return []sql.Node{x.Source}
	case *plan.TableCopier:
		return []sql.Node{x.Source, x.Destination}
	}
	return nil
}

func heldUnchecked(n sql.Node) bool {
	switch x := n.(type) {
	case *plan.CreateTable:
		return uncheckedSchema(x.PkSchema().Schema)
	case *plan.AddColumn:
		return uncheckedColumn(x.Column())
	case *plan.ModifyColumn:
		return uncheckedColumn(x.NewColumn())
	case *plan.DeclareVariables:
		return uncheckedType(x.Type)
	case *plan.Call:
		return x.Procedure != nil && heldUnchecked(x.Procedure)
	case *plan.Procedure:
		for _, p := range x.Params {
			if uncheckedType(p.Type) {
				return true
			}
		}
	}
	return false
}

func uncheckedExpr(e sql.Expression) error {
	switch x := e.(type) {
	case nil:
		return nil
	case checkedGeometry:
		// Its child's type is the unchecked one it reports checked.
		return uncheckedExprs(x.Expression.Children())
	case *plan.Subquery:
		return uncheckedGeometry(x.Query)
	case *expression.SetField:
		if _, ok := x.LeftChild.(*expression.GetField); ok {
			if err := uncheckedExpr(x.LeftChild); err != nil {
				return err
			}
		}
		return uncheckedExpr(x.RightChild)
	}
	if e.Resolved() && uncheckedType(e.Type()) {
		return errUncheckedGeometry(e.String())
	}
	return uncheckedExprs(e.Children())
}

func uncheckedExprs(es []sql.Expression) error {
	for _, e := range es {
		if err := uncheckedExpr(e); err != nil {
			return err
		}
	}
	return nil
}
