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
//   - every table it reads is one V's definition names, unqualified names
//     taken in V's database (so the same text bound in another current
//     database does not pass).
//
// Then it needs SELECT on V from the caller, and its body runs with V's
// definer's stored grants (SQL SECURITY DEFINER, MySQL's default) or the
// caller's (INVOKER). Anything else is a derived table, checked as the
// caller. Views the engine does not inline are checked as the caller: never
// looser.

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
	var err error
	for _, v := range views {
		if err = w.viaView(sa, v); err == nil {
			return nil
		}
	}
	return err
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
	who := w.who
	if rec, ok := w.s.definers.lookup(kindView, v.db, v.name); ok && !rec.invoker {
		who = definerPrincipal{m: w.s.mgr, a: rec.account}
	}
	body := &walker{ctx: w.ctx, s: w.s, cn: w.cn, who: who, root: sa.Child, forUpdate: w.forUpdate, views: w.views, deferred: w.deferred, explainer: w.explainer}
	if err := body.node(sa.Child); err != nil {
		return err
	}
	w.built = append(w.built, body.built...)
	if w.covered == nil {
		w.covered = map[tableRef]bool{}
	}
	for r := range v.named {
		w.covered[r] = true
	}
	for r := range body.covered {
		w.covered[r] = true
	}
	return nil
}

// viewsNamed: a view the engine refused SELECT on while binding names
// still needs it, unless it was named inside a view the plan was read
// through (its SELECT is then that view's principal's to hold, and was
// checked as such). A common table expression named like a view in the
// current database is refused with it: stricter, never looser.
func (w *walker) viewsNamed() error {
	for _, d := range w.deferred {
		if w.covered[d.ref] {
			continue
		}
		db, err := w.s.pro.Database(w.ctx, d.ref.db)
		if err != nil {
			continue
		}
		vdb, ok := db.(sql.ViewDatabase)
		if !ok {
			continue
		}
		if _, isView, err := vdb.GetViewDefinition(w.ctx, d.ref.table); err == nil && isView {
			if w.who.verify(d.ref.db, d.ref.table, "", priv.Select) != nil {
				return d.err
			}
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

type viewRef struct {
	db, name string
	named    map[tableRef]bool // the tables and views its definition names
}

// findViews lists the views a derived table may be (see above), the one
// named like it in the current database first, then in a fixed order.
func (w *walker) findViews(sa *plan.SubqueryAlias) []viewRef {
	if sa.TextDefinition == "" {
		return nil
	}
	read := readTables(sa.Child)
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
			if named, ok := namedTables(vd.CreateViewStatement, db); ok && subset(read, named) {
				out = append(out, viewRef{db: db, name: strings.ToLower(vd.Name), named: named})
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

// readTables lists the tables a plan reads, not looking inside derived
// tables that are views themselves (their names stand for them).
func readTables(n sql.Node) map[tableRef]bool {
	out := map[tableRef]bool{}
	transform.Inspect(n, func(c sql.Node) bool {
		if c == nil {
			return false
		}
		if r, _, ok := tableOf(c); ok {
			out[r] = true
		}
		if ex, ok := c.(sql.Expressioner); ok {
			for _, e := range ex.Expressions() {
				transform.InspectExpr(e, func(e sql.Expression) bool {
					if sq, ok := e.(*plan.Subquery); ok && sq.Query != nil {
						for r := range readTables(sq.Query) {
							out[r] = true
						}
					}
					return false
				})
			}
		}
		if sa, ok := c.(*plan.SubqueryAlias); ok && sa.TextDefinition != "" {
			// A nested view or derived table stands for itself by its alias:
			// it is checked on its own when the body is walked.
			out[tableRef{db: "*", table: strings.ToLower(sa.Name())}] = true
			return false
		}
		return true
	})
	return out
}

// namedTables parses a CREATE VIEW statement and lists the tables its
// definition names, unqualified ones in db.
func namedTables(create, db string) (map[tableRef]bool, bool) {
	stmt, err := ast.Parse(create)
	if err != nil {
		return nil, false
	}
	out := map[tableRef]bool{}
	_ = ast.Walk(func(n ast.SQLNode) (bool, error) {
		if tn, ok := n.(ast.TableName); ok && !tn.Name.IsEmpty() {
			q := tn.DbQualifier.String()
			if q == "" {
				q = db
			}
			out[ref(q, tn.Name.String())] = true
			out[tableRef{db: "*", table: strings.ToLower(tn.Name.String())}] = true
		}
		if at, ok := n.(*ast.AliasedTableExpr); ok && !at.As.IsEmpty() {
			out[tableRef{db: "*", table: strings.ToLower(at.As.String())}] = true
		}
		return true, nil
	}, stmt)
	return out, true
}

func subset(a, b map[tableRef]bool) bool {
	for r := range a {
		if !b[r] {
			return false
		}
	}
	return true
}
