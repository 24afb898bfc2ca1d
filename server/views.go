package server

import (
	"sort"
	"strings"

	"github.com/dolthub/go-mysql-server/sql"
	"github.com/dolthub/go-mysql-server/sql/plan"
	"github.com/dolthub/go-mysql-server/sql/transform"
	ast "github.com/dolthub/vitess/go/vt/sqlparser"

	"github.com/authplug/authplug/mysqlerr"
	"github.com/authplug/authplug/priv"
)

// Views. The engine inlines a view as a derived table (SubqueryAlias) with
// nothing to tell it from a derived table the client wrote with the same
// text and name. A derived table is treated as view V only when it cannot
// compute anything but V's rows:
//
//   - its text is V's definition, to the byte;
//   - V's definition reads tables only: no derived table, no common table
//     expression, no other view (a client's CTE can stand in for any of
//     these, rename columns, or bear a view's name and text);
//   - every table it reads is one V's definition names, unqualified names
//     taken in V's database (so the same text bound in another current
//     database does not pass), and it has no derived table or CTE either.
//
// Then it needs SELECT on V from the caller, and its body runs with V's
// definer's stored grants (SQL SECURITY DEFINER, MySQL's default) or the
// caller's (INVOKER). Anything else, views over views and views with
// derived tables or CTEs included, is checked with the caller's rights, and
// its refusal names no view: stricter than MySQL, never looser.

// subqueryAliasRule: a derived table, a CTE or a view.
func subqueryAliasRule(w *walker, n sql.Node) error {
	sa := n.(*plan.SubqueryAlias)
	var first error
	if !w.views {
		// The usual case: the caller may read what the view reads.
		first = w.relational(sa)
		if first == nil || !isPrivilegeError(first) {
			return first
		}
	}
	views := w.findViews(sa)
	if len(views) == 0 {
		if first != nil {
			return first
		}
		return w.relational(sa)
	}
	// Each candidate computes the same rows (see above): the caller may
	// read them through any view it holds SELECT on whose body runs.
	for _, v := range views {
		if w.viaView(sa, v) == nil {
			return nil
		}
	}
	// None: a derived table as the caller wrote it, and the refusal names
	// nothing of the views it resembled.
	return w.relational(sa)
}

func (w *walker) viaView(sa *plan.SubqueryAlias, v viewRef) error {
	if err := w.who.verify(v.db, v.name, "", priv.Select); err != nil {
		return err
	}
	if w.explainer != nil {
		if err := w.explainer.verify(v.db, v.name, "", priv.ShowView); err != nil {
			return err
		}
	}
	who, settle := w.who, w.settle
	if rec, ok := w.s.definers.lookup(kindView, v.db, v.name); ok && !rec.invoker {
		// What the definer reads settles no refusal of the caller's.
		who, settle = definerPrincipal{m: w.s.mgr, a: rec.account}, nil
	}
	body := &walker{ctx: w.ctx, s: w.s, cn: w.cn, who: who, root: sa.Child, forUpdate: w.forUpdate, views: w.views, deferred: w.deferred, explainer: w.explainer, settle: settle}
	if err := body.node(sa.Child); err != nil {
		return err
	}
	w.built = append(w.built, body.built...)
	return nil
}

// viewsNamed: a view the engine refused SELECT on while binding names
// still needs it. A common table expression named like a view in the
// current database is refused with it: stricter, never looser.
func (w *walker) viewsNamed() error {
	for _, d := range w.deferred {
		if w.isView(d.ref) && w.who.verify(d.ref.db, d.ref.table, "", priv.Select) != nil {
			return d.err
		}
	}
	return nil
}

func isPrivilegeError(err error) bool {
	switch mysqlerr.Code(err) {
	case mysqlerr.ErTableAccessDenied, mysqlerr.ErColumnAccessDenied, mysqlerr.ErDBAccessDenied, mysqlerr.ErSpecificAccess:
		return true
	}
	return false
}

type viewRef struct{ db, name string }

// findViews lists the views a derived table may be (see above), the one
// named like it in the current database first, then in a fixed order.
func (w *walker) findViews(sa *plan.SubqueryAlias) []viewRef {
	if sa.TextDefinition == "" {
		return nil
	}
	var out []viewRef
	// A view may live in any database: this runs only for derived tables
	// the caller could not read as written, or when names were refused.
	for _, d := range w.s.pro.AllDatabases(w.ctx) {
		db := strings.ToLower(d.Name())
		if isInfoSchema(db) {
			continue
		}
		vdb, ok := d.(sql.ViewDatabase)
		if !ok {
			continue
		}
		views, err := vdb.AllViews(w.ctx)
		if err != nil {
			continue
		}
		for _, vd := range views {
			if vd.TextDefinition != sa.TextDefinition {
				continue
			}
			def, ok := w.parseDefinition(vd.CreateViewStatement, db)
			if ok && w.fits(sa.Child, def) {
				out = append(out, viewRef{db: db, name: strings.ToLower(vd.Name)})
			}
		}
	}
	cur, name := strings.ToLower(w.ctx.GetCurrentDatabase()), strings.ToLower(sa.Name())
	rank := func(v viewRef) int {
		switch {
		case v.db == cur && v.name == name:
			return 0
		case v.name == name:
			return 1
		}
		return 2
	}
	sort.Slice(out, func(i, j int) bool {
		if ri, rj := rank(out[i]), rank(out[j]); ri != rj {
			return ri < rj
		}
		return out[i].db+"."+out[i].name < out[j].db+"."+out[j].name
	})
	// Named as a view is named: that view, and no other with the same
	// definition (so an INVOKER view is not read through a DEFINER twin).
	if len(out) > 0 && rank(out[0]) < 2 {
		k := 1
		for k < len(out) && rank(out[k]) == rank(out[0]) {
			k++
		}
		out = out[:k]
	}
	return out
}

// definition is what a view's CREATE statement names: the tables it
// reads, unqualified ones in the view's database; nested is set when it
// has derived tables, common table expressions, or reads a view.
type definition struct {
	tables map[tableRef]bool
	nested bool
}

func (w *walker) parseDefinition(create, db string) (definition, bool) {
	stmt, err := ast.Parse(create)
	if err != nil {
		return definition{}, false
	}
	d := definition{tables: map[tableRef]bool{}}
	_ = ast.Walk(func(n ast.SQLNode) (bool, error) {
		switch x := n.(type) {
		case ast.TableName:
			if !x.Name.IsEmpty() {
				q := x.DbQualifier.String()
				if q == "" {
					q = db
				}
				r := ref(q, x.Name.String())
				d.tables[r] = true
				if w.isView(r) {
					d.nested = true
				}
			}
		case *ast.AliasedTableExpr:
			if _, derived := x.Expr.(*ast.Subquery); derived {
				d.nested = true
			}
		case *ast.CommonTableExpr:
			d.nested = true
		}
		return true, nil
	}, stmt)
	return d, true
}

func (w *walker) isView(r tableRef) bool {
	d, err := w.s.pro.Database(w.ctx, r.db)
	if err != nil {
		return false
	}
	vdb, ok := d.(sql.ViewDatabase)
	if !ok {
		return false
	}
	_, found, err := vdb.GetViewDefinition(w.ctx, r.table)
	return err == nil && found
}

// fits reports whether a plan can compute nothing but what a view's
// definition says: it reads only tables the definition names, through no
// derived table, common table expression or view of its own. A client's
// CTE can stand in for a table name, rename columns, or be named like a
// view, with text to match, so a view whose definition has any of these
// is not recognised at all (it is read with the reader's rights).
func (w *walker) fits(n sql.Node, def definition) bool {
	if def.nested {
		return false
	}
	ok := true
	transform.Inspect(n, func(c sql.Node) bool {
		if !ok || c == nil {
			return false
		}
		if r, _, isTable := tableOf(c); isTable {
			ok = def.tables[r]
			return false
		}
		switch c.(type) {
		case *plan.SubqueryAlias, *plan.RecursiveCte, *plan.RecursiveTable, *plan.With:
			ok = false
			return false
		}
		if ex, isEx := c.(sql.Expressioner); isEx {
			for _, e := range ex.Expressions() {
				transform.InspectExpr(e, func(e sql.Expression) bool {
					if sq, isSub := e.(*plan.Subquery); isSub && sq.Query != nil && ok {
						ok = w.fits(sq.Query, def)
					}
					return false
				})
			}
		}
		return ok
	})
	return ok
}
