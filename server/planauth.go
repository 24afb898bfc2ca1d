package server

import (
	"cmp"
	"context"
	"errors"
	"maps"
	"reflect"
	"slices"
	"strings"
	"sync"

	"github.com/dolthub/go-mysql-server/sql"
	"github.com/dolthub/go-mysql-server/sql/expression"
	"github.com/dolthub/go-mysql-server/sql/expression/function"
	"github.com/dolthub/go-mysql-server/sql/plan"
	"github.com/dolthub/go-mysql-server/sql/transform"
	"github.com/dolthub/vitess/go/mysql"
	ast "github.com/dolthub/vitess/go/vt/sqlparser"

	"github.com/authplug/authplug/mysqlerr"
	"github.com/authplug/authplug/priv"
)

// The plan authorizer: see AUTHZ.md. Every plan the engine is about to run
// passes through authorizingBuilder.Build, the engine's only way from an
// analyzed plan to rows. There the whole plan, every node and expression, is
// checked against an allow-list of classified kinds, and only then built.

// authorizingBuilder wraps the analyzer's exec builder.
type authorizingBuilder struct {
	s    *Server
	next sql.NodeExecBuilder
}

func (b authorizingBuilder) Build(ctx *sql.Context, n sql.Node, r sql.Row) (sql.RowIter, error) {
	id := ctx.Session.ID()
	cn := b.s.conn(id)
	if cn == nil {
		if id == internalSession {
			return b.internal(ctx, n, r)
		}
		c := ctx.Session.Client()
		return nil, toSQLError(mysqlerr.AccessDenied(c.User, c.Address, false))
	}
	out, onSuccess, err := cn.plan.authorize(ctx, b.s, cn, n)
	if err != nil {
		return nil, toSQLError(err)
	}
	iter, err := b.next.Build(ctx, out, r)
	if err != nil || len(onSuccess) == 0 {
		return iter, err
	}
	return &successIter{RowIter: iter, fns: onSuccess}, nil
}

// internal builds a plan of the server's own (setup, extensions'
// bootstrap), unchecked. The triggers and routines it creates have no
// account to act for: they run with their caller's rights.
func (b authorizingBuilder) internal(ctx *sql.Context, n sql.Node, r sql.Row) (sql.RowIter, error) {
	var onSuccess []func()
	switch c := n.(type) {
	case *plan.CreateProcedure:
		db, name := ctx.GetCurrentDatabase(), c.StoredProcDetails.Name
		if c.Database() != nil {
			db = c.Database().Name()
		}
		onSuccess = append(onSuccess, func() { b.s.definers.record(kindRoutine, db, name, definerRecord{invoker: true}) })
	case *plan.CreateTrigger:
		db, name := ctx.GetCurrentDatabase(), c.TriggerName
		if c.Database() != nil {
			db = c.Database().Name()
		}
		onSuccess = append(onSuccess, func() { b.s.definers.record(kindTrigger, db, name, definerRecord{invoker: true}) })
	case *plan.CreateView:
		db, name := ctx.GetCurrentDatabase(), c.Name
		if c.Database() != nil {
			db = c.Database().Name()
		}
		onSuccess = append(onSuccess, func() { b.s.definers.record(kindView, db, name, definerRecord{invoker: true}) })
	}
	iter, err := b.next.Build(ctx, n, r)
	if err != nil || len(onSuccess) == 0 {
		return iter, err
	}
	return &successIter{RowIter: iter, fns: onSuccess}, nil
}

// planState is a connection's authorizer state.
type planState struct {
	mu sync.Mutex
	// pid and built: subtrees of an authorized plan that the engine may build
	// again on their own while it runs (subqueries), so that they are not
	// walked once per outer row. Anything else is authorized as a new plan.
	pid   uint64
	built []sql.Node
	// definers: the principals of the routine bodies running now, innermost
	// last. Empty means the session itself.
	definers []principal
	// deferrals are the refusals the engine's planner-time check left to
	// this authorizer (see authz.check), in order. A name's refusal is
	// settled by the plan that runs (settle.go); if the statement fails
	// because an object does not exist, the refusal is the answer, so that
	// missing and forbidden objects look alike. settled counts the
	// deferrals that a plan's authorization already settled.
	deferrals []deferral
	settled   int
	// reached: the statement's plan came to the plan authorizer. A
	// statement that failed before that failed while the engine bound
	// its names and shapes, and its error may describe a table it was
	// refused (a UNION's or a row comparison's column count, say).
	reached bool
}

// columnRefusal is a table-level refusal that column grants may still
// meet: who lacked p on db.table.
type columnRefusal struct {
	who       principal
	db, table string
	p         priv.Mask
}

// deferral is one refusal deferred: on a table SELECT was refused on
// (ref), or on something else (ref empty). columns is set where the
// session's column grants on the table may still meet it. query and db
// are the statement's text and current database when it was deferred.
type deferral struct {
	ref       tableRef
	err       error
	columns   *columnRefusal
	query, db string
}

// notFound: the engine's "no such table, database or column" (or "which
// column", columnerr.go), as an engine error or already as the MySQL error
// the handler made of it.
func notFound(err error) bool {
	if sql.ErrTableNotFound.Is(err) || sql.ErrDatabaseNotFound.Is(err) {
		return true
	}
	if _, ok := columnError(err); ok {
		return true
	}
	var se *mysql.SQLError
	if errors.As(err, &se) {
		switch se.Num {
		case mysqlerr.ErNoSuchTable, mysqlerr.ErBadDB, mysqlerr.ErBadField:
			return true
		}
	}
	var me *mysqlerr.Error
	if errors.As(err, &me) {
		switch me.Code {
		case mysqlerr.ErNoSuchTable, mysqlerr.ErBadDB, mysqlerr.ErBadField:
			return true
		}
	}
	return false
}

// begin starts a statement from the client.
func (ps *planState) begin() {
	ps.mu.Lock()
	ps.deferrals, ps.settled, ps.reached = ps.deferrals[:0], 0, false
	ps.mu.Unlock()
}

// deferredSelects are the names SELECT was refused on: a view among them
// still needs SELECT (views.go).
func (ps *planState) deferredSelects() []deferral {
	ps.mu.Lock()
	defer ps.mu.Unlock()
	var out []deferral
	for _, d := range ps.deferrals {
		if d.ref.table != "" {
			out = append(out, d)
		}
	}
	return out
}

func (ps *planState) defer_(d deferral) {
	ps.mu.Lock()
	ps.deferrals = append(ps.deferrals, d)
	ps.mu.Unlock()
}

// prepared is the answer to a prepare that the engine accepted. Preparing
// describes the statement's columns to the client, so the refusals the
// engine's checks deferred are settled now, on the plan as bound: nothing
// of it is read yet, so only the statement's text, a view's own SELECT
// and column grants settle them (settle.go).
func (s *Server) prepared(ctx context.Context, c *mysql.Conn, cn *conn, query string) error {
	deferred := cn.plan.deferredSelects()
	if len(deferred) == 0 {
		return nil
	}
	sctx, err := s.gms.SessionManager().NewContextWithQuery(ctx, c, query)
	if err != nil {
		return deferred[0].err
	}
	n, err := s.engine.PrepareQuery(sctx, query)
	if err != nil {
		return deferred[0].err
	}
	// Binding again deferred the same refusals again.
	w := &walker{ctx: sctx, s: s, cn: cn, who: cn.plan.current(cn), root: n, deferred: cn.plan.deferredSelects(), settle: &settlement{}}
	if err := w.viewsNamed(); err != nil {
		return err
	}
	return cn.plan.settle(w, n)
}

// explain turns "no such table/database/column", and any error of a
// statement that failed before its plan was authorized, into the refusal
// that was deferred for the statement, if there was one, and the engine's
// column errors into MySQL's.
//
// Of the refusals, one on a table the session may not read at all comes
// first. Otherwise an unknown column of a table whose columns the session
// may be granted is refused as a column (1143), as an existing column it
// is not granted would be, so that the refusal does not tell the two
// apart; MySQL and MariaDB answer so too. A refusal on a name the
// statement's text does not name as a table (one inside a view's
// definition, or a common table expression's name) is not an answer: it
// would name what the session may not know of.
//
// A statement that succeeded with a refusal no plan settled (one the
// engine ran without the plan authorizer) is refused: nothing decided
// that the session may read what the name check refused.
func (ps *planState) explain(err error) error {
	ps.mu.Lock()
	all, reached, settled := slices.Clone(ps.deferrals), ps.reached, ps.settled
	ps.mu.Unlock()
	if err == nil {
		return unsettled(all[settled:])
	}
	var first, table error
	var columns []columnRefusal
	texts := map[string]statementText{}
	for _, d := range all {
		if d.ref.table != "" {
			t, ok := texts[d.query]
			if !ok {
				t = readText(d.query, d.db)
				texts[d.query] = t
			}
			if t.settles(d.ref) {
				continue
			}
		}
		if first == nil {
			first = d.err
		}
		if d.columns != nil {
			columns = append(columns, *d.columns)
		} else if table == nil {
			table = d.err
		}
	}
	if first != nil && (notFound(err) || !reached) {
		if table != nil {
			return table
		}
		if e := refuseColumn(err, columns); e != nil {
			return e
		}
		return first
	}
	if e, ok := columnError(err); ok {
		return e
	}
	return err
}

// unsettled is the first refusal on a name that the statement's text
// names as a table, or nil.
func unsettled(pending []deferral) error {
	for _, d := range pending {
		if d.ref.table != "" && !readText(d.query, d.db).settles(d.ref) {
			return d.err
		}
	}
	return nil
}

// refuseColumn is the refusal of the unknown column err names, on the
// first of the tables refused that it may belong to, or nil.
func refuseColumn(err error, refused []columnRefusal) error {
	table, column, ok := unknownColumnName(err)
	if !ok {
		return nil
	}
	for _, r := range refused {
		if table != "" && !strings.EqualFold(table, r.table) {
			continue
		}
		if verr := r.who.verify(r.db, r.table, column, r.p); verr != nil {
			return verr
		}
	}
	return nil
}

func (ps *planState) authorize(ctx *sql.Context, s *Server, cn *conn, n sql.Node) (sql.Node, []func(), error) {
	ps.mu.Lock()
	ps.reached = true
	if ps.pid != ctx.Pid() {
		ps.pid, ps.built = ctx.Pid(), ps.built[:0]
	} else if isPointer(n) {
		for _, b := range ps.built {
			if b == n {
				ps.mu.Unlock()
				return n, nil, nil
			}
		}
	}
	ps.mu.Unlock()
	who := ps.current(cn)

	deferred := ps.deferredSelects()
	w := &walker{ctx: ctx, s: s, cn: cn, who: who, root: n, forUpdate: lockingRead(ctx.Query()), views: len(deferred) > 0, deferred: deferred, settle: &settlement{}}
	if err := w.node(n); err != nil {
		return nil, nil, err
	}
	if err := w.viewsNamed(); err != nil {
		return nil, nil, err
	}
	if err := ps.settle(w, n); err != nil {
		return nil, nil, err
	}
	// Some plans are analyzed by a few rules only (a routine's conditions):
	// checkGeometry may not have seen them (geometry.go).
	if err := uncheckedGeometry(n); err != nil {
		return nil, nil, err
	}
	out := n
	if len(w.built) > 0 {
		ps.mu.Lock()
		if ps.pid == ctx.Pid() {
			ps.built = append(ps.built, w.built...)
		}
		ps.mu.Unlock()
	}
	return out, w.onSuccess, nil
}

func (ps *planState) push(p principal) {
	ps.mu.Lock()
	ps.definers = append(ps.definers, p)
	ps.mu.Unlock()
}

func (ps *planState) pop() {
	ps.mu.Lock()
	ps.definers = ps.definers[:len(ps.definers)-1]
	ps.mu.Unlock()
}

func isPointer(n sql.Node) bool { return reflect.TypeOf(n).Kind() == reflect.Pointer }

// walker authorizes one plan for one principal.
type walker struct {
	ctx  *sql.Context
	s    *Server
	cn   *conn
	who  principal
	root sql.Node

	// targets are the tables an UPDATE or DELETE writes: reading them needs
	// SELECT only on the columns the statement reads.
	targets map[tableRef]bool
	use     *usage
	// forUpdate: the statement is a locking read, which MySQL 8 lets only
	// those who could change or lock the rows run.
	forUpdate bool
	// explainer: the plan is only being explained, to this principal.
	explainer principal
	// views: the engine's name checks left a refusal to this authorizer, so
	// a derived table may be a view whose own SELECT privilege is unchecked
	// (views.go).
	views    bool
	deferred []deferral
	// settle records what this plan settles of the deferred refusals;
	// nil in a body that runs with someone else's rights.
	settle *settlement
	// dml is the table the enclosing INSERT, UPDATE or DELETE writes: the
	// table of a trigger under it.
	dml       *tableRef
	built     []sql.Node
	onSuccess []func()
}

// node checks n and everything under it.
func (w *walker) node(n sql.Node) error {
	if n == nil {
		return nil
	}
	rule, ok := nodeRules[reflect.TypeOf(n)]
	if !ok {
		if tf, isTF := n.(sql.TableFunction); isTF {
			return w.tableFunction(tf)
		}
		return errNotClassified(nodeName(n))
	}
	return rule(w, n)
}

// relational is the rule of nodes that need no privilege themselves: their
// children and expressions decide.
func (w *walker) relational(n sql.Node) error {
	if err := w.exprsOf(n); err != nil {
		return err
	}
	for _, c := range n.Children() {
		if err := w.node(c); err != nil {
			return err
		}
	}
	return nil
}

func (w *walker) exprsOf(n sql.Node) error {
	ex, ok := n.(sql.Expressioner)
	if !ok {
		return nil
	}
	for _, e := range ex.Expressions() {
		if err := w.expr(e); err != nil {
			return err
		}
	}
	return nil
}

// db names the database of an unqualified name.
func (w *walker) db(name string) string {
	if name == "" {
		return w.ctx.GetCurrentDatabase()
	}
	return name
}

func nodeName(n sql.Node) string { return strings.TrimPrefix(reflect.TypeOf(n).String(), "*") }

// tableRef names a table, lower case.
type tableRef struct{ db, table string }

func ref(db, table string) tableRef { return tableRef{strings.ToLower(db), strings.ToLower(table)} }

// tableOf is the table a node reads, if it is a table.
func tableOf(n sql.Node) (tableRef, sql.Schema, bool) {
	switch t := n.(type) {
	case *plan.TableCountLookup:
		if t.Db() != nil {
			return ref(t.Db().Name(), t.Table().Name()), t.Table().Schema(), true
		}
	case sql.TableNode:
		if t.Database() != nil {
			return ref(t.Database().Name(), t.Name()), t.Schema(), true
		}
	}
	return tableRef{}, nil, false
}

// readTable is the check for a table the plan reads. MySQL wants SELECT on
// each column read; a read of no column (COUNT(*), a constant) needs SELECT
// on some column of the table. A table an UPDATE or DELETE writes needs
// SELECT only on the columns the statement reads.
func (w *walker) readTable(r tableRef, schema sql.Schema) error {
	if isInfoSchema(r.db) {
		return nil // its rows are filtered by visibility
	}
	if err := w.readColumns(r, schema); err != nil {
		return err
	}
	w.settle.read(r)
	if w.forUpdate && !w.targets[r] {
		// MySQL 8.0.22: a locking read needs SELECT and one of UPDATE,
		// DELETE or LOCK TABLES.
		if w.who.verify(r.db, r.table, "", priv.Update) != nil && w.who.verify(r.db, r.table, "", priv.Delete) != nil &&
			w.who.verify(r.db, "", "", priv.LockTables) != nil {
			a := w.who.named()
			return mysqlerr.TableAccessDenied("SELECT with locking clause", a.User, a.Host, r.table)
		}
	}
	return nil
}

func (w *walker) readColumns(r tableRef, schema sql.Schema) error {
	err := w.who.verify(r.db, r.table, "", priv.Select)
	if err == nil {
		return nil
	}
	target := w.targets[r]
	if !target && !w.who.columnsAllow(r.db, r.table, priv.Select) {
		// No column of this table to check: checking them one by one would
		// name an existing column (1143) and refuse a missing one as the
		// table (1142), telling them apart.
		return err
	}
	u := w.usage()
	if !target {
		if err := w.tablesReadable(u); err != nil {
			return err
		}
	}
	cols := u.reads[r]
	if !target {
		cols = union(cols, u.scans[r])
	}
	if len(cols) == 0 {
		if target {
			return nil
		}
		for _, c := range schema {
			if w.who.verify(r.db, r.table, c.Name, priv.Select) == nil {
				return nil
			}
		}
		return err
	}
	for c := range cols {
		if err := w.who.verify(r.db, r.table, c, priv.Select); err != nil {
			return err
		}
	}
	return nil
}

// tablesReadable refuses the first table the plan reads (in name order)
// that the session may read neither whole nor in part. MySQL checks every
// table of a statement before any column: a column refusal would otherwise
// name a column another table shares, one the session may not read at all
// (NATURAL JOIN, USING).
func (w *walker) tablesReadable(u *usage) error {
	refs := slices.SortedFunc(maps.Keys(u.columns), func(a, b tableRef) int {
		return cmp.Or(strings.Compare(a.db, b.db), strings.Compare(a.table, b.table))
	})
	for _, r := range refs {
		if r.db == "" || isInfoSchema(r.db) || w.targets[r] {
			continue // DUAL and the like: no table
		}
		if err := w.who.verify(r.db, r.table, "", priv.Select); err != nil && !w.who.columnsAllow(r.db, r.table, priv.Select) {
			return err
		}
	}
	return nil
}

// lockingRead reports whether a statement's text holds a locking read:
// SELECT ... FOR UPDATE, FOR SHARE or LOCK IN SHARE MODE (MySQL 8.0.22 asks
// the same of all three). The engine's plan keeps no trace of the locking clause, so the
// text is parsed again, only when it names one.
func lockingRead(query string) bool {
	if !containsFold(query, "for update") && !containsFold(query, "for share") && !containsFold(query, "share mode") {
		return false
	}
	stmt, err := ast.Parse(query)
	if err != nil {
		return true // cannot tell: the stricter rule
	}
	found := false
	_ = ast.Walk(func(n ast.SQLNode) (bool, error) {
		switch x := n.(type) {
		case *ast.Select:
			found = found || x.Lock != ""
		case *ast.SetOp:
			found = found || x.Lock != ""
		}
		return !found, nil
	}, stmt)
	return found
}

func containsFold(s, sub string) bool {
	for i := 0; i+len(sub) <= len(s); i++ {
		if strings.EqualFold(s[i:i+len(sub)], sub) {
			return true
		}
	}
	return false
}

// onTable asks for every privilege of p on a table, each on its own so that
// the error names the missing one.
func (w *walker) onTable(r tableRef, p priv.Mask) error { return verifyEach(w.who, r.db, r.table, p) }

// onColumns asks for p on a table, or failing that on each of cols.
func (w *walker) onColumns(r tableRef, cols []string, p priv.Mask) error {
	err := w.who.verify(r.db, r.table, "", p)
	if err == nil {
		return nil
	}
	if len(cols) == 0 || !w.who.columnGrants() {
		return err
	}
	for _, c := range cols {
		if err := w.who.verify(r.db, r.table, c, p); err != nil {
			return err
		}
	}
	return nil
}

func (w *walker) onDB(db string, p priv.Mask) error { return verifyEach(w.who, db, "", p) }

// global asks for a static privilege on *.*, or one of the dynamic ones.
func (w *walker) global(p priv.Mask, dynamic ...string) error {
	for _, d := range dynamic {
		if w.who.verifyDynamic(d) == nil {
			return nil
		}
	}
	if p != 0 && w.who.verify("", "", "", p) == nil {
		return nil
	}
	names := append([]string{}, p.Names()...)
	return mysqlerr.SpecificAccessDenied(append(names, dynamic...)...)
}

// tablesIn lists the tables named by a DDL node's table children, which it
// changes rather than reads.
func tablesIn(n sql.Node) []tableRef {
	var out []tableRef
	transform.Inspect(n, func(c sql.Node) bool {
		if r, _, ok := tableOf(c); ok {
			out = append(out, r)
			return false
		}
		if ut, ok := c.(*plan.UnresolvedTable); ok {
			out = append(out, ref(ut.Database().Name(), ut.Name()))
			return false
		}
		return true
	})
	return out
}

// usage is what the whole plan does with columns, found once when a check
// needs it.
type usage struct {
	names   map[string]tableRef // table name or alias -> table
	columns map[tableRef]map[string]bool
	// reads are the columns expressions read; scans the columns table scans
	// produce (a scan's pushed-down projection, else every column). Both
	// map a lower-case name to the name.
	reads, scans map[tableRef]map[string]string
}

func (w *walker) usage() *usage {
	if w.use == nil {
		w.use = &usage{
			names: map[string]tableRef{}, columns: map[tableRef]map[string]bool{},
			reads: map[tableRef]map[string]string{}, scans: map[tableRef]map[string]string{},
		}
		var fields []*expression.GetField
		collectUsage(w.root, w.use, &fields)
		for _, gf := range fields {
			r, ok := w.use.resolve(gf)
			// Derived values (COUNT(*), aliases) are not the table's columns.
			if !ok || !w.use.columns[r][strings.ToLower(gf.Name())] {
				continue
			}
			addColumn(w.use.reads, r, gf.Name())
		}
	}
	return w.use
}

func addColumn(m map[tableRef]map[string]string, r tableRef, name string) {
	if m[r] == nil {
		m[r] = map[string]string{}
	}
	m[r][strings.ToLower(name)] = name
}

func union(a, b map[string]string) map[string]string {
	if len(b) == 0 {
		return a
	}
	if len(a) == 0 {
		return b
	}
	out := make(map[string]string, len(a)+len(b))
	for k, v := range a {
		out[k] = v
	}
	for k, v := range b {
		out[k] = v
	}
	return out
}

// scanned is what a table scan produces: its pushed-down projection, or
// every column.
func scanned(n sql.Node, schema sql.Schema) []string {
	var t any = n
	switch x := n.(type) {
	case *plan.ResolvedTable:
		t = x.Table
	case *plan.IndexedTableAccess:
		t = x.Table
	case *plan.TableCountLookup:
		return nil // COUNT(*) from the table's statistics: no column
	}
	if pt, ok := t.(sql.ProjectedTable); ok && pt.Projections() != nil {
		return pt.Projections()
	}
	cols := make([]string, 0, len(schema))
	for _, c := range schema {
		cols = append(cols, c.Name)
	}
	return cols
}

func collectUsage(root sql.Node, u *usage, fields *[]*expression.GetField) {
	transform.Inspect(root, func(n sql.Node) bool {
		if n == nil {
			return false
		}
		switch t := n.(type) {
		case *plan.TableAlias:
			if r, _, ok := tableOf(t.Child); ok {
				u.names[strings.ToLower(t.Name())] = r
			}
		case *plan.TriggerExecutor:
			collectUsage(t.Left(), u, fields)
			collectUsage(t.Right(), u, fields)
			return false
		}
		if r, schema, ok := tableOf(n); ok {
			if _, seen := u.names[r.table]; !seen {
				u.names[r.table] = r
			}
			if u.columns[r] == nil {
				u.columns[r] = map[string]bool{}
			}
			for _, c := range schema {
				u.columns[r][strings.ToLower(c.Name)] = true
			}
			for _, c := range scanned(n, schema) {
				addColumn(u.scans, r, c)
				u.columns[r][strings.ToLower(c)] = true
			}
		}
		if ex, ok := n.(sql.Expressioner); ok {
			for _, e := range ex.Expressions() {
				collectFields(e, u, fields)
			}
		}
		return true
	})
}

// collectFields gathers the columns an expression reads: not the column a
// SET assigns, nor VALUES(col) of ON DUPLICATE KEY UPDATE, which is the row
// being inserted.
func collectFields(e sql.Expression, u *usage, fields *[]*expression.GetField) {
	switch x := e.(type) {
	case nil:
		return
	case *expression.GetField:
		*fields = append(*fields, x)
		return
	case *expression.SetField:
		collectFields(x.RightChild, u, fields)
		return
	case *function.Values:
		return
	case *plan.Subquery:
		if x.Query != nil {
			collectUsage(x.Query, u, fields)
		}
		return
	}
	for _, c := range e.Children() {
		collectFields(c, u, fields)
	}
}

func (u *usage) resolve(gf *expression.GetField) (tableRef, bool) {
	if r, ok := u.names[strings.ToLower(gf.Table())]; ok {
		if gf.Database() == "" || strings.EqualFold(gf.Database(), r.db) {
			return r, true
		}
	}
	if gf.Database() != "" && gf.Table() != "" {
		return ref(gf.Database(), gf.Table()), true
	}
	return tableRef{}, false
}

// setColumns lists the columns that SET expressions assign, per table.
func (w *walker) setColumns(exprs []sql.Expression) map[tableRef][]string {
	out := map[tableRef][]string{}
	for _, e := range exprs {
		sf, ok := e.(*expression.SetField)
		if !ok {
			continue
		}
		gf, ok := sf.LeftChild.(*expression.GetField)
		if !ok {
			continue
		}
		if r, ok := w.usage().resolve(gf); ok {
			out[r] = append(out[r], gf.Name())
		}
	}
	return out
}

// isDescribe: DESCRIBE, DESC or EXPLAIN of a table.
func isDescribe(query string) bool {
	q := strings.ToLower(strings.TrimLeft(query, " \t\r\n"))
	return strings.HasPrefix(q, "desc") || strings.HasPrefix(q, "explain")
}

// hideMissing answers a SHOW about a database or table that does not exist
// as MySQL answers one the account may not see (1044, 1142), so that SHOW
// cannot tell missing objects from forbidden ones, and the statements of
// existence.go as MySQL answers a table they may not use. The engine looks
// the name up before any check is made.
func (s *Server) hideMissing(c *mysql.Conn, cn *conn, query string, err error) error {
	if err == nil || !notFound(err) {
		return err
	}
	stmt, ok := statementOf(query)
	if !ok {
		return err
	}
	show, ok := stmt.(*ast.Show)
	if !ok {
		return refuseNamed(cn.plan.current(cn), s.currentDB(c), stmt, err)
	}
	if !(isShow(query) || isDescribe(query)) {
		return err
	}
	db, table := show.Database, ""
	if show.ShowTablesOpt != nil && show.ShowTablesOpt.DbName != "" {
		db = show.ShowTablesOpt.DbName
	}
	if !show.Table.IsEmpty() {
		table = show.Table.Name.String()
		if q := show.Table.DbQualifier.String(); q != "" {
			db = q
		}
	}
	if db == "" {
		db = s.currentDB(c)
	}
	who := cn.plan.current(cn)
	a := who.named()
	switch {
	case db == "" || isInfoSchema(db):
		return err
	case table != "" && !who.anyOn(db, table):
		return mysqlerr.TableAccessDenied("SELECT", a.User, a.Host, table)
	case table == "" && !who.anyOn(db, ""):
		return mysqlerr.DBAccessDenied(a.User, a.Host, db)
	}
	return err
}
