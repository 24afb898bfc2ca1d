package server

import (
	"strings"
	"unicode/utf8"

	"github.com/dolthub/go-mysql-server/sql"
	"github.com/dolthub/go-mysql-server/sql/expression"
	"github.com/dolthub/go-mysql-server/sql/plan"
	"github.com/dolthub/go-mysql-server/sql/transform"
	ast "github.com/dolthub/vitess/go/vt/sqlparser"
)

// Settling the refusals the engine's name checks deferred (authz.check).
// The analyzer may drop a table from the plan it runs (a filter that is
// constant false becomes an empty table, as do LIMIT 0 and impossible
// joins), and the plan authorizer then never sees it. The statement's
// result still describes the table (its columns, their types, a UNION's
// width), so a refusal deferred on a name is never dropped for want of a
// table in the plan: each is settled by the plan authorizer reading the
// table as the session, or by the statement's text showing that the name
// was not the client's own reference to that table, else it is the
// statement's answer.
//
// A name the text does not hold at all was bound from a definition the
// engine read again (a view, a trigger, a routine): those are authorized
// by their own rules (views.go, definers.go), and their refusals must not
// name what the definition reads. An unqualified name that the text uses
// only where a common table expression of that name is in scope is that
// expression.

// settlement is what one plan's walkers settled.
type settlement struct {
	// reads are the tables read with the rights of the principal the
	// plan is authorized for (not a view's definer).
	reads map[tableRef]bool
}

func (st *settlement) read(r tableRef) {
	if st == nil {
		return
	}
	if st.reads == nil {
		st.reads = map[tableRef]bool{}
	}
	st.reads[r] = true
}

// statementText is what a statement's text names.
type statementText struct {
	raw string
	// parsed: the text was understood, and direct and cte hold, per
	// table, the references to it and the unqualified names of it that
	// are common table expressions where they stand.
	parsed      bool
	direct, cte map[tableRef]int
	// elsewhere: the statement's own text is not this one (EXECUTE of a
	// prepared statement, PREPARE from a variable), so that a name it
	// does not hold may still be the client's reference.
	elsewhere bool
}

func readText(query, db string) statementText {
	t := statementText{raw: query, direct: map[tableRef]int{}, cte: map[tableRef]int{}}
	stmt, err := ast.Parse(query)
	if err != nil {
		return t
	}
	switch p := stmt.(type) {
	case *ast.Execute:
		t.elsewhere = true
		return t
	case *ast.Prepare:
		// PREPARE s FROM 'text': what is prepared is the text. From a
		// variable, it is not known here.
		if strings.HasPrefix(strings.TrimSpace(p.Expr), "@") {
			t.elsewhere = true
			return t
		}
		if stmt, err = ast.Parse(p.Expr); err != nil {
			return t
		}
	}
	t.parsed = true
	t.walk(stmt, nil, db, nil)
	return t
}

// walk counts the table names under node, with the common table
// expressions in scope; scoped is a statement whose WITH clause is in
// scope already.
func (t *statementText) walk(node, scoped ast.SQLNode, db string, scope map[string]bool) {
	_ = ast.Walk(func(n ast.SQLNode) (bool, error) {
		if n != scoped {
			if w := withOf(n); w != nil {
				t.scoped(n, w, db, scope)
				return false, nil
			}
		}
		switch x := n.(type) {
		case *ast.With:
			return false, nil // scoped walks its expressions
		case *ast.ColName:
			return false, nil // t.c names a table or an alias of the query
		case ast.TableName:
			if x.Name.IsEmpty() {
				return true, nil
			}
			q := x.DbQualifier.String()
			name := strings.ToLower(x.Name.String())
			if q == "" && scope[name] {
				t.cte[ref(db, name)]++
			} else {
				t.direct[ref(orDefault(q, db), name)]++
			}
		}
		return true, nil
	}, node)
}

// scoped walks a statement with a WITH clause: a common table expression
// is in scope in the statement, in the ones after it and, if recursive,
// in itself.
func (t *statementText) scoped(n ast.SQLNode, w *ast.With, db string, outer map[string]bool) {
	names := make([]string, len(w.Ctes))
	for i, c := range w.Ctes {
		if c != nil && c.AliasedTableExpr != nil {
			names[i] = strings.ToLower(c.As.String())
		}
	}
	with := func(k int) map[string]bool {
		s := make(map[string]bool, len(outer)+k)
		for name := range outer {
			s[name] = true
		}
		for _, name := range names[:k] {
			s[name] = true
		}
		return s
	}
	for i, c := range w.Ctes {
		if c == nil || c.AliasedTableExpr == nil {
			continue
		}
		k := i
		if w.Recursive {
			k = len(names)
		}
		t.walk(c.Expr, nil, db, with(k))
	}
	t.walk(n, n, db, with(len(names)))
}

func withOf(n ast.SQLNode) *ast.With {
	switch x := n.(type) {
	case *ast.Select:
		return x.With
	case *ast.SetOp:
		return x.With
	case *ast.Insert:
		return x.With
	case *ast.Update:
		return x.With
	case *ast.Delete:
		return x.With
	}
	return nil
}

// settles reports whether the text shows that a refusal deferred on r is
// not on the client's own reference to the table: the text never names
// it, or names it only as a common table expression.
func (t statementText) settles(r tableRef) bool {
	if t.elsewhere {
		return false
	}
	if !mentions(t.raw, r.table) {
		return true
	}
	return t.parsed && t.direct[r] == 0 && t.cte[r] > 0
}

// mentions reports whether name appears in text as a whole word, quoted
// or not, anywhere: in a string (PREPARE's text), a comment, a column
// name. Finding too much only refuses more.
func mentions(text, name string) bool {
	if name == "" {
		return false
	}
	lower := strings.ToLower(text)
	for i := 0; ; {
		j := strings.Index(lower[i:], name)
		if j < 0 {
			return false
		}
		start, end := i+j, i+j+len(name)
		before, _ := utf8.DecodeLastRuneInString(lower[:start])
		after, _ := utf8.DecodeRuneInString(lower[end:])
		if (start == 0 || !identRune(before)) && (end == len(lower) || !identRune(after)) {
			return true
		}
		i = start + 1
	}
}

func identRune(r rune) bool {
	return r == '_' || r == '$' || r >= '0' && r <= '9' || r >= 'a' && r <= 'z' || r >= 'A' && r <= 'Z' || r >= utf8.RuneSelf
}

// settle returns the refusal of the first name deferred since the last
// plan was settled that this plan did not settle: see above.
func (ps *planState) settle(w *walker, root sql.Node) error {
	ps.mu.Lock()
	pending := ps.deferrals[ps.settled:]
	pending = append([]deferral(nil), pending...)
	ps.settled = len(ps.deferrals)
	ps.mu.Unlock()
	if len(pending) == 0 {
		return nil // the common case, on every statement
	}
	texts := map[string]statementText{}
	for _, d := range pending {
		if d.ref.table == "" || w.settle.reads[d.ref] || w.isView(d.ref) {
			// Views: viewsNamed asks SELECT on them.
			continue
		}
		t, ok := texts[d.query]
		if !ok {
			t = readText(d.query, d.db)
			texts[d.query] = t
		}
		if t.settles(d.ref) {
			continue
		}
		if d.columns == nil {
			return d.err
		}
		if err := w.columnsOfDropped(root, d); err != nil {
			return err
		}
	}
	return nil
}

// columnsOfDropped checks a table that the plan no longer reads but whose
// columns the session may be granted: SELECT on every column of it that
// the plan names anywhere or returns (as any table's column: more than it
// reads, never less), or else on some column, which the deferral found.
// (An empty table holds every column of the table it replaced, read or
// not: the expressions above it name those read.)
func (w *walker) columnsOfDropped(root sql.Node, d deferral) error {
	db, err := w.s.pro.Database(w.ctx, d.columns.db)
	if err != nil {
		return d.err
	}
	tbl, ok, err := db.GetTableInsensitive(w.ctx, d.columns.table)
	if err != nil || !ok {
		return d.err
	}
	named := map[string]bool{}
	for _, c := range root.Schema() {
		named[strings.ToLower(c.Name)] = true
	}
	var visit func(sql.Node)
	visit = func(n sql.Node) {
		transform.Inspect(n, func(n sql.Node) bool {
			if n == nil {
				return false
			}
			if ex, ok := n.(sql.Expressioner); ok {
				for _, e := range ex.Expressions() {
					transform.InspectExpr(e, func(e sql.Expression) bool {
						switch x := e.(type) {
						case *expression.GetField:
							named[strings.ToLower(x.Name())] = true
						case *plan.Subquery:
							if x.Query != nil {
								visit(x.Query)
							}
						}
						return false
					})
				}
			}
			return true
		})
	}
	visit(root)
	r := d.columns
	for _, c := range tbl.Schema() {
		if !named[strings.ToLower(c.Name)] {
			continue
		}
		if err := r.who.verify(r.db, r.table, c.Name, r.p); err != nil {
			return err
		}
	}
	return nil
}
