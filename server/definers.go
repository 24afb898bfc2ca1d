package server

import (
	"io"
	"strings"

	"github.com/dolthub/go-mysql-server/sql"
	"github.com/dolthub/go-mysql-server/sql/plan"
	ast "github.com/dolthub/vitess/go/vt/sqlparser"

	"github.com/authplug/authplug/mysqlerr"
	"github.com/authplug/authplug/priv"
	"github.com/authplug/authplug/privilege"
)

// Definers. A trigger's body and a SQL SECURITY DEFINER routine's
// statements run with their definer's stored grants, checked at every
// execution. authplug records the definer in its store when the object is
// created, rather than trusting the engine's copy of the CREATE text (which
// holds no definer when the statement named none). A trigger or routine
// with no record, made behind the server's back, is refused, never run as
// someone; objects the server makes itself (setup) run as their caller.

type objectKind = privilege.ObjectKind

const (
	kindTrigger = privilege.KindTrigger
	kindRoutine = privilege.KindRoutine
	kindView    = privilege.KindView
)

type definerRecord struct {
	account priv.Account
	invoker bool // SQL SECURITY INVOKER: runs with the caller's rights
}

// definerRegistry keeps the records in authplug's store, beside the grants
// (privilege.Tx.SetDefiner): saved with them, and the one source of truth.
type definerRegistry struct{ s *Server }

func (r definerRegistry) update(fn func(tx *privilege.Tx)) {
	err := r.s.mgr.Update(func(tx *privilege.Tx) error { fn(tx); return nil })
	if err != nil {
		// The object exists and its definer is not saved: it is refused
		// (no record) until it is created again. Never run as someone else.
		r.s.log.Error("recording a definer", "err", err)
	}
}

func (r definerRegistry) record(kind objectKind, db, name string, rec definerRecord) {
	r.update(func(tx *privilege.Tx) {
		tx.SetDefiner(privilege.DefinedObject{Kind: kind, DB: db, Name: name},
			privilege.Definer{Account: rec.account, Invoker: rec.invoker})
	})
}

func (r definerRegistry) forget(kind objectKind, db, name string) {
	r.update(func(tx *privilege.Tx) { tx.DropDefiner(privilege.DefinedObject{Kind: kind, DB: db, Name: name}) })
}

func (r definerRegistry) lookup(kind objectKind, db, name string) (definerRecord, bool) {
	d, ok := r.s.mgr.Snapshot().Definer(privilege.DefinedObject{Kind: kind, DB: db, Name: name})
	return definerRecord{account: d.Account, invoker: d.Invoker}, ok
}

// forgetDB drops the records of a dropped database's objects.
func (r definerRegistry) forgetDB(db string) {
	r.update(func(tx *privilege.Tx) { tx.DropDefinersIn(db) })
}

func errNoDefiner(kind objectKind, db, name string) error {
	return mysqlerr.Errorf(mysqlerr.ErNotSupportedYet,
		"authplug has no recorded definer for %s %s.%s (made outside this server); create it again",
		strings.ToLower(string(kind)), db, name)
}

// current is who a statement of this connection runs as now.
func (ps *planState) current(cn *conn) principal {
	ps.mu.Lock()
	defer ps.mu.Unlock()
	if k := len(ps.definers); k > 0 {
		return ps.definers[k-1]
	}
	return sessionPrincipal{cn.sess}
}

// definerAllowed is MySQL's rule for a DEFINER clause: naming an account
// other than one's own needs SET_USER_ID (or SUPER). It returns the account
// to record. The engine fills in an absent clause with the client's user
// and address, which is taken as one's own.
func (w *walker) definerAllowed(text string) (priv.Account, error) {
	self := w.who.account()
	if strings.TrimSpace(text) == "" || strings.EqualFold(strings.TrimSpace(text), "current_user") ||
		strings.EqualFold(strings.TrimSpace(text), "current_user()") {
		return self, nil
	}
	a, ok := parseDefiner(text)
	if !ok {
		return priv.Account{}, errNotClassified("DEFINER " + text)
	}
	client := w.ctx.Session.Client()
	if a == self || a.User == client.User && a.Host == strings.ToLower(client.Address) {
		// One's own account, or the engine's default for no DEFINER clause
		// (the login's user and address): CURRENT_USER, the account acted
		// as while impersonating.
		return self, nil
	}
	if err := w.global(priv.Super, "SET_USER_ID"); err != nil {
		return priv.Account{}, err
	}
	return a, nil
}

// afterSuccess runs fn once the statement being authorized has completed
// without error.
func (w *walker) afterSuccess(fn func()) { w.onSuccess = append(w.onSuccess, fn) }

// successIter runs its functions when the statement's rows were all read
// and closed with no error.
type successIter struct {
	sql.RowIter
	fns    []func()
	failed bool
}

func (it *successIter) Next(ctx *sql.Context) (sql.Row, error) {
	row, err := it.RowIter.Next(ctx)
	if err != nil && err != io.EOF {
		it.failed = true
	}
	return row, err
}

func (it *successIter) Close(ctx *sql.Context) error {
	err := it.RowIter.Close(ctx)
	if err == nil && !it.failed {
		for _, fn := range it.fns {
			fn()
		}
		it.fns = nil
	}
	return err
}

func createTriggerRule(w *walker, n sql.Node) error {
	ct := n.(*plan.CreateTrigger)
	db := w.db(dbName(ct.Db))
	for _, r := range tablesIn(ct.Table) {
		if err := w.onTable(ref(w.db(r.db), r.table), priv.Trigger); err != nil {
			return err
		}
	}
	definer, err := w.definerAllowed(ct.Definer)
	if err != nil {
		return err
	}
	// The body is checked when it runs, as its definer.
	w.afterSuccess(func() { w.s.definers.record(kindTrigger, db, ct.TriggerName, definerRecord{account: definer}) })
	return nil
}

func createProcedureRule(w *walker, n sql.Node) error {
	cp := n.(*plan.CreateProcedure)
	db := w.db(dbOf(cp))
	if err := w.onDB(db, priv.CreateRoutine); err != nil {
		return err
	}
	stmt, err := ast.Parse(cp.StoredProcDetails.CreateStatement)
	if err != nil {
		return errNotClassified("CREATE PROCEDURE that does not parse")
	}
	ddl, ok := stmt.(*ast.DDL)
	if !ok || ddl.ProcedureSpec == nil {
		return errNotClassified("CREATE PROCEDURE of another form")
	}
	definer, err := w.definerAllowed(ddl.ProcedureSpec.Definer)
	if err != nil {
		return err
	}
	rec := definerRecord{account: definer}
	for _, c := range ddl.ProcedureSpec.Characteristics {
		if c.Type == ast.CharacteristicValue_SqlSecurityInvoker {
			rec.invoker = true
		}
	}
	name := cp.StoredProcDetails.Name
	w.afterSuccess(func() { w.s.definers.record(kindRoutine, db, name, rec) })
	return nil
}

// callRule: EXECUTE on the routine's database; its statements are each
// authorized when they run, as the definer (finish installs the runner that
// says so).
func callRule(w *walker, n sql.Node) error {
	c := n.(*plan.Call)
	db := w.db(dbOf(c))
	if err := executeCheck(w.who, db, c.Name); err != nil {
		return err
	}
	if c.Procedure != nil && c.Procedure.ExternalProc != nil {
		return errNotClassified("procedures implemented outside SQL")
	}
	who, err := w.routinePrincipal(c)
	if err != nil {
		return err
	}
	// The plan is this statement's own: its statements are to run through
	// a runner that authorizes each as the routine's principal. (Replacing
	// the node instead would lose the result schema the engine keeps on it.)
	if c.Runner == nil {
		return errNotClassified("CALL with no statement runner")
	}
	if _, ok := c.Runner.(routineRunner); !ok {
		c.Runner = routineRunner{next: c.Runner, ps: &w.cn.plan, who: who, db: db}
	}
	for _, e := range c.Params {
		if err := w.expr(e); err != nil {
			return err
		}
	}
	return nil
}

func (w *walker) routinePrincipal(c *plan.Call) (principal, error) {
	db := w.db(dbOf(c))
	rec, ok := w.s.definers.lookup(kindRoutine, db, c.Name)
	if !ok {
		return nil, errNoDefiner(kindRoutine, db, c.Name)
	}
	if rec.invoker {
		return w.who, nil
	}
	return definerPrincipal{m: w.s.mgr, a: rec.account}, nil
}

// routineRunner runs a routine's statements: each is planned and
// authorized as the routine's principal, with the routine's database as
// the current one, so that an unqualified name means what it meant to the
// routine's author, never a table of the caller's choosing.
type routineRunner struct {
	next sql.StatementRunner
	ps   *planState
	who  principal
	db   string
}

func (r routineRunner) QueryWithBindings(ctx *sql.Context, query string, parsed ast.Statement, bindings map[string]ast.Expr, qFlags *sql.QueryFlags) (sql.Schema, sql.RowIter, *sql.QueryFlags, error) {
	r.ps.push(r.who)
	defer r.ps.pop()
	if prev := ctx.GetCurrentDatabase(); r.db != "" && !strings.EqualFold(prev, r.db) {
		ctx.SetCurrentDatabase(r.db)
		defer ctx.SetCurrentDatabase(prev)
	}
	return r.next.QueryWithBindings(ctx, query, parsed, bindings, qFlags)
}

// triggerRule: the statement that fires the trigger is checked as its
// caller; the body as the trigger's definer, who must still hold TRIGGER on
// the table, with stored grants only.
func triggerRule(w *walker, n sql.Node) error {
	te := n.(*plan.TriggerExecutor)
	if err := w.node(te.Left()); err != nil {
		return err
	}
	r, ok := w.dmlTarget(te.Left())
	if !ok {
		return errNotClassified("trigger " + te.TriggerDefinition.Name + " on no table")
	}
	rec, ok := w.s.definers.lookup(kindTrigger, r.db, te.TriggerDefinition.Name)
	if !ok {
		return errNoDefiner(kindTrigger, r.db, te.TriggerDefinition.Name)
	}
	if w.explainer != nil {
		if err := w.explainer.verify(r.db, r.table, "", priv.Trigger); err != nil {
			return err
		}
	}
	var who principal = w.who
	if !rec.invoker {
		definer := definerPrincipal{m: w.s.mgr, a: rec.account}
		if err := definer.verify(r.db, r.table, "", priv.Trigger); err != nil {
			return err
		}
		who = definer
	}
	body := &walker{ctx: w.ctx, s: w.s, cn: w.cn, who: who, root: te.Right(), explainer: w.explainer}
	if err := body.node(te.Right()); err != nil {
		return err
	}
	w.built = append(w.built, body.built...)
	return nil
}

// dmlTarget is the table a trigger fires on: the one the statement under
// it writes, or the one the enclosing statement writes.
func (w *walker) dmlTarget(n sql.Node) (tableRef, bool) {
	var out tableRef
	found := false
	var visit func(sql.Node)
	visit = func(n sql.Node) {
		if found || n == nil {
			return
		}
		switch t := n.(type) {
		case *plan.InsertInto:
			out, _, found = destTable(t)
			return
		case *plan.Update, *plan.DeleteFrom:
			if rs := tablesIn(t); len(rs) > 0 {
				out, found = ref(w.db(rs[0].db), rs[0].table), true
			}
			return
		}
		for _, c := range n.Children() {
			visit(c)
		}
	}
	visit(n)
	if !found && w.dml != nil {
		return *w.dml, true
	}
	return out, found
}
