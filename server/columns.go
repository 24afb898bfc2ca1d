package server

import (
	"context"
	"strings"
	"sync"

	"github.com/dolthub/go-mysql-server/sql"
	"github.com/dolthub/go-mysql-server/sql/expression"
	"github.com/dolthub/go-mysql-server/sql/plan"
	"github.com/dolthub/go-mysql-server/sql/transform"
	"github.com/dolthub/vitess/go/mysql"

	"github.com/authplug/authplug/mysqlerr"
	"github.com/authplug/authplug/priv"
	"github.com/authplug/authplug/privilege"
)

// Column privileges. The engine's authorization calls name tables only, so
// for a session that holds column grants the handler first analyzes the
// statement. During that pass, a table-level check that fails but that
// column grants could satisfy is recorded instead of refused; the resolved
// plan then shows which columns the statement reads and writes, and each is
// checked. Only the (table, privilege) pairs that passed are let through
// when the statement is planned again to run. Anything else, prepared
// statements included, is refused at table level as before: the rule fails
// closed.

// columnCheck is a table-level privilege to be settled column by column.
type columnCheck struct {
	db, table string
	p         priv.Mask
}

type columnMode uint8

const (
	columnsOff      columnMode = iota // refuse: no plan was checked
	columnsRecord                     // analysis pass: record, allow
	columnsApproved                   // execution: allow what was checked
)

// columnState is a connection's column checks for its current statement.
type columnState struct {
	mu       sync.Mutex
	mode     columnMode
	needs    []columnCheck
	approved map[columnCheck]bool
}

// admit reports whether a failed table-level check may pass for now.
func (cs *columnState) admit(c columnCheck) bool {
	cs.mu.Lock()
	defer cs.mu.Unlock()
	switch cs.mode {
	case columnsRecord:
		cs.needs = append(cs.needs, c)
		return true
	case columnsApproved:
		return cs.approved[c]
	}
	return false
}

func (cs *columnState) set(mode columnMode, approved []columnCheck) []columnCheck {
	cs.mu.Lock()
	defer cs.mu.Unlock()
	needs := cs.needs
	cs.mode, cs.needs, cs.approved = mode, nil, nil
	if len(approved) > 0 {
		cs.approved = map[columnCheck]bool{}
		for _, c := range approved {
			cs.approved[c] = true
		}
	}
	return needs
}

// checkColumns analyzes query for a session with column grants and checks
// its columns. It returns a function that ends the approval after the
// statement ran.
func (s *Server) checkColumns(ctx context.Context, c *mysql.Conn, cn *conn, query string) (done func(), err error) {
	cn.columns.set(columnsRecord, nil)
	sctx, err := s.gms.SessionManager().NewContextWithQuery(ctx, c, query)
	if err != nil {
		cn.columns.set(columnsOff, nil)
		return nil, err
	}
	node, err := s.engine.AnalyzeQuery(sctx, query)
	needs := cn.columns.set(columnsOff, nil)
	if err != nil || len(needs) == 0 {
		// An error here (a table-level refusal, a syntax error) is met
		// again, and reported, when the statement runs.
		return func() {}, nil
	}
	u := collect(node)
	for _, need := range needs {
		if err := u.check(cn.sess, need); err != nil {
			return nil, err
		}
	}
	cn.columns.set(columnsApproved, needs)
	return func() { cn.columns.set(columnsOff, nil) }, nil
}

type tableRef struct{ db, table string }

func ref(db, table string) tableRef { return tableRef{strings.ToLower(db), strings.ToLower(table)} }

// usage is what a resolved plan does with columns.
type usage struct {
	names   map[string]tableRef // table name or alias, lower case -> table
	schemas map[tableRef]map[string]bool
	reads   map[tableRef][]string
	fields  []*expression.GetField
	inserts map[tableRef][]string
	updates map[tableRef][]string
}

func collect(n sql.Node) *usage {
	u := &usage{
		names: map[string]tableRef{}, schemas: map[tableRef]map[string]bool{}, reads: map[tableRef][]string{},
		inserts: map[tableRef][]string{}, updates: map[tableRef][]string{},
	}
	u.walk(n)
	return u
}

func tableOf(n sql.Node) (tableRef, sql.TableNode, bool) {
	if tn, ok := n.(sql.TableNode); ok && tn.Database() != nil {
		return ref(tn.Database().Name(), tn.Name()), tn, true
	}
	return tableRef{}, nil, false
}

// scanned is what a table scan reads: its pushed-down projection, or every
// column.
func scanned(tn sql.TableNode) []string {
	var t sql.Table = tn
	if rt, ok := tn.(*plan.ResolvedTable); ok {
		t = rt.Table
	}
	if pt, ok := t.(sql.ProjectedTable); ok && pt.Projections() != nil {
		return pt.Projections()
	}
	var cols []string
	for _, c := range tn.Schema() {
		cols = append(cols, c.Name)
	}
	return cols
}

func (u *usage) walk(n sql.Node) {
	transform.Inspect(n, func(node sql.Node) bool {
		if node == nil {
			return false
		}
		switch t := node.(type) {
		case *plan.TableAlias:
			if r, _, ok := tableOf(t.Child); ok {
				u.names[strings.ToLower(t.Name())] = r
			}
		case *plan.InsertInto:
			if r, tn, ok := tableOf(destination(t.Destination)); ok {
				cols := t.ColumnNames
				if len(cols) == 0 {
					for _, c := range tn.Schema() {
						cols = append(cols, c.Name)
					}
				}
				u.inserts[r] = append(u.inserts[r], cols...)
			}
			u.walk(t.Source)
		case *plan.UpdateSource:
			for _, e := range t.UpdateExprs {
				if sf, ok := e.(*expression.SetField); ok {
					if gf, ok := sf.LeftChild.(*expression.GetField); ok {
						r := u.resolve(gf)
						u.updates[r] = append(u.updates[r], gf.Name())
					}
				}
			}
		}
		if r, tn, ok := tableOf(node); ok {
			u.names[r.table] = r
			if u.schemas[r] == nil {
				u.schemas[r] = map[string]bool{}
				for _, c := range tn.Schema() {
					u.schemas[r][strings.ToLower(c.Name)] = true
				}
			}
			u.reads[r] = append(u.reads[r], scanned(tn)...)
		}
		if ex, ok := node.(sql.Expressioner); ok {
			for _, e := range ex.Expressions() {
				transform.InspectExpr(e, func(e sql.Expression) bool {
					switch x := e.(type) {
					case *expression.GetField:
						u.fields = append(u.fields, x)
					case *plan.Subquery:
						u.walk(x.Query)
					}
					return false
				})
			}
		}
		return true
	})
}

// destination unwraps an insert target to its table.
func destination(n sql.Node) sql.Node {
	for n != nil {
		if _, ok := n.(sql.TableNode); ok {
			return n
		}
		ch := n.Children()
		if len(ch) != 1 {
			return n
		}
		n = ch[0]
	}
	return n
}

func (u *usage) resolve(gf *expression.GetField) tableRef {
	if r, ok := u.names[strings.ToLower(gf.Table())]; ok {
		return r
	}
	return ref(gf.Database(), gf.Table())
}

// check settles one table-level privilege column by column. A privilege
// whose columns the plan does not show is refused.
func (u *usage) check(sess *privilege.Session, c columnCheck) error {
	r := ref(c.db, c.table)
	var cols []string
	var ok bool
	switch c.p {
	case priv.Select:
		cols = u.reads[r]
		for _, gf := range u.fields {
			// Derived values (COUNT(*), aliases) are not the table's columns.
			if u.resolve(gf) == r && u.schemas[r][strings.ToLower(gf.Name())] {
				cols = append(cols, gf.Name())
			}
		}
		ok = true
	case priv.Insert:
		cols, ok = u.inserts[r]
	case priv.Update:
		cols, ok = u.updates[r]
	}
	if !ok {
		return mysqlerr.TableAccessDenied(c.p.Name(), sess.User(), sess.Host(), c.table)
	}
	for _, col := range cols {
		if err := sess.RequestVerification(c.db, c.table, col, c.p); err != nil {
			return err
		}
	}
	return nil
}
