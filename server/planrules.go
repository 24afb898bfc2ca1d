package server

import (
	"path/filepath"
	"reflect"
	"strings"

	"github.com/dolthub/go-mysql-server/memory"
	"github.com/dolthub/go-mysql-server/sql"
	"github.com/dolthub/go-mysql-server/sql/expression"
	dtablefunctions "github.com/dolthub/go-mysql-server/sql/expression/tablefunction"
	"github.com/dolthub/go-mysql-server/sql/plan"
	"github.com/dolthub/go-mysql-server/sql/transform"
	ast "github.com/dolthub/vitess/go/vt/sqlparser"

	"github.com/authplug/authplug/mysqlerr"
	"github.com/authplug/authplug/priv"
)

// nodeRule checks one kind of plan node and, where it has them, its
// children and expressions.
type nodeRule func(w *walker, n sql.Node) error

func typeOf[T any]() reflect.Type { return reflect.TypeFor[T]() }

// The allow-list. A plan node whose type is not a key here is refused
// (walker.node); TestEveryEngineNodeIsClassified fails when the engine has
// a node type that is not listed.
var nodeRules map[reflect.Type]nodeRule

// refusedNodes are node types that must never run: account statements are
// executed by authplug before the engine sees them, unresolved nodes mean
// the analyzer did not finish, and events would run bodies later with no
// session to check them against.
var refusedNodes = map[reflect.Type]string{
	typeOf[*plan.CreateUser]():                    "account statements outside authplug",
	typeOf[*plan.DropUser]():                      "account statements outside authplug",
	typeOf[*plan.AlterUser]():                     "account statements outside authplug",
	typeOf[*plan.RenameUser]():                    "account statements outside authplug",
	typeOf[*plan.CreateRole]():                    "account statements outside authplug",
	typeOf[*plan.DropRole]():                      "account statements outside authplug",
	typeOf[*plan.Grant]():                         "account statements outside authplug",
	typeOf[*plan.GrantRole]():                     "account statements outside authplug",
	typeOf[*plan.GrantProxy]():                    "account statements outside authplug",
	typeOf[*plan.Revoke]():                        "account statements outside authplug",
	typeOf[*plan.RevokeAll]():                     "account statements outside authplug",
	typeOf[*plan.RevokeRole]():                    "account statements outside authplug",
	typeOf[*plan.RevokeProxy]():                   "account statements outside authplug",
	typeOf[*plan.ShowGrants]():                    "account statements outside authplug",
	typeOf[*plan.UnresolvedTable]():               "unresolved tables",
	typeOf[*expression.UnresolvedTableFunction](): "unresolved table functions",
	typeOf[*plan.CreateEvent]():                   "events (their bodies would run with no session to authorize them)",
	typeOf[*plan.AlterEvent]():                    "events (their bodies would run with no session to authorize them)",
	typeOf[*plan.OnScheduleTimestamp]():           "events (their bodies would run with no session to authorize them)",
	typeOf[*plan.ExecuteQuery]():                  "EXECUTE that was not bound to its statement",
	typeOf[*plan.ExternalProcedure]():             "procedures implemented outside SQL",
	typeOf[*plan.DeclareCursor]():                 "cursors",
}

func refuse(what string) nodeRule {
	return func(*walker, sql.Node) error { return errNotClassified(what) }
}

func relational(w *walker, n sql.Node) error { return w.relational(n) }

// none: the node needs no privilege and has nothing under it that runs.
func none(*walker, sql.Node) error { return nil }

// alterTable is MySQL's rule for ALTER TABLE: ALTER, CREATE and INSERT on
// the table.
func alterTable(w *walker, n sql.Node) error {
	const p = priv.Alter | priv.Create | priv.Insert
	// These name their table in fields, resolved when they run.
	switch fk := n.(type) {
	case *plan.DropForeignKey:
		return w.onTable(ref(w.db(fk.Database()), fk.Table), p)
	case *plan.RenameForeignKey:
		return w.onTable(ref(w.db(fk.Database()), fk.Table), p)
	}
	return onTablesIn(w, n, p)
}

// onTablesIn asks for p on the tables among n's children. A node that is
// classified with it but names no table there (one that keeps its table in
// fields) is refused, never passed with nothing asked.
func onTablesIn(w *walker, n sql.Node, p priv.Mask) error {
	tables, err := someTablesIn(n, n)
	if err != nil {
		return err
	}
	for _, r := range tables {
		if err := w.onTable(ref(w.db(r.db), r.table), p); err != nil {
			return err
		}
	}
	return w.exprsOf(n)
}

// someTablesIn is tablesIn(under), refused when it finds none: a node
// whose table the walker cannot find must not pass with nothing asked.
func someTablesIn(n, under sql.Node) ([]tableRef, error) {
	tables := tablesIn(under)
	if len(tables) == 0 {
		return nil, errNotClassified(nodeName(n) + " naming no table")
	}
	return tables, nil
}

// globalOrDynamic needs a static privilege on *.* or one of the dynamic ones.
func globalOrDynamic(p priv.Mask, dynamic ...string) nodeRule {
	return func(w *walker, n sql.Node) error { return w.global(p, dynamic...) }
}

func dbOf(n sql.Node) string {
	if d, ok := n.(sql.Databaser); ok && d.Database() != nil {
		return d.Database().Name()
	}
	return ""
}

func init() {
	nodeRules = map[reflect.Type]nodeRule{}
	for t, why := range refusedNodes {
		nodeRules[t] = refuse(why)
	}
	add := func(r nodeRule, types ...reflect.Type) {
		for _, t := range types {
			nodeRules[t] = r
		}
	}

	// Relational operators, procedural control flow and wrappers: no
	// privilege of their own.
	add(relational,
		typeOf[*plan.Filter](), typeOf[*plan.Project](), typeOf[*plan.Limit](), typeOf[*plan.Offset](),
		typeOf[*plan.Sort](), typeOf[*plan.TopN](), typeOf[*plan.Distinct](), typeOf[*plan.OrderedDistinct](),
		typeOf[*plan.GroupBy](), typeOf[*plan.Having](), typeOf[*plan.Window](), typeOf[*plan.JoinNode](),
		typeOf[*plan.CachedResults](), typeOf[*plan.HashLookup](), typeOf[*plan.Max1Row](),
		typeOf[*plan.Concat](), typeOf[*plan.SetOp](), typeOf[*plan.With](), typeOf[*plan.RecursiveCte](),
		typeOf[*plan.RecursiveTable](), typeOf[*plan.ValueDerivedTable](), typeOf[*plan.Values](),
		typeOf[*plan.EmptyTable](), typeOf[plan.Nothing](), typeOf[*plan.Nothing](), typeOf[*plan.StripRowNode](),
		typeOf[*plan.PrependNode](), typeOf[*plan.TransformedNamedNode](), typeOf[*plan.NamedWindows](),
		typeOf[*plan.Releaser](), typeOf[*plan.RangeHeap](),
		typeOf[*plan.TableAlias](), typeOf[*plan.ForeignKeyHandler](), typeOf[*plan.UpdateSource](),
		typeOf[*plan.UpdateJoin](),
		typeOf[*plan.BeginEndBlock](), typeOf[*plan.Block](), typeOf[*plan.TriggerBeginEndBlock](),
		typeOf[*plan.IfElseBlock](), typeOf[*plan.IfConditional](), typeOf[*plan.CaseStatement](),
		typeOf[*plan.Loop](), typeOf[*plan.While](), typeOf[*plan.Repeat](), typeOf[*plan.Leave](),
		typeOf[*plan.Iterate](), typeOf[*plan.DeclareVariables](), typeOf[*plan.DeclareCondition](),
		typeOf[*plan.DeclareHandler](), typeOf[*plan.Open](), typeOf[*plan.Close](), typeOf[*plan.Fetch](),
		typeOf[*plan.Signal](), typeOf[*plan.SignalName](), typeOf[plan.ElseCaseError](),
		typeOf[*plan.Procedure](), typeOf[*plan.JSONTable](), typeOf[plan.InsertDestination](),
		typeOf[*plan.StrExpr](),
	)
	// Transactions, prepared-statement bookkeeping (what is prepared is
	// checked when it is executed) and harmless status output.
	add(none,
		typeOf[*plan.StartTransaction](), typeOf[*plan.Commit](), typeOf[*plan.Rollback](),
		typeOf[*plan.CreateSavepoint](), typeOf[*plan.ReleaseSavepoint](), typeOf[*plan.RollbackSavepoint](),
		typeOf[*plan.PrepareQuery](), typeOf[*plan.DeallocateQuery](), typeOf[*plan.UnlockTables](),
		typeOf[plan.ShowWarnings](), typeOf[*plan.ShowStatus](), typeOf[*plan.ShowVariables](),
		typeOf[*plan.ShowCharset](), typeOf[*plan.ShowPrivileges](), typeOf[*plan.ShowDatabases](),
		typeOf[*plan.ShowProcessList](),
	)

	add(subqueryAliasRule, typeOf[*plan.SubqueryAlias]())
	add(explainRule, typeOf[*plan.Describe](), typeOf[*plan.DescribeQuery]())

	// Tables read.
	add(readNode, typeOf[*plan.ResolvedTable](), typeOf[*plan.IndexedTableAccess](),
		typeOf[*plan.TableCountLookup](), typeOf[*plan.ProcedureResolvedTable]())
	// go-mysql-server's in-memory table functions generate rows from
	// their arguments.
	add(relational, typeOf[memory.IntSequenceTable](), typeOf[memory.ExponentialDistTable](),
		typeOf[memory.NormalDistTable](), typeOf[memory.TableFunc](), typeOf[memory.RequiredLookupTable](),
		typeOf[*memory.IntSequenceTable](), typeOf[*memory.ExponentialDistTable](),
		typeOf[*memory.NormalDistTable](), typeOf[*memory.TableFunc](), typeOf[*memory.RequiredLookupTable](),
		typeOf[*dtablefunctions.TableFunctionWrapper]())

	// Writes.
	add(insertRule, typeOf[*plan.InsertInto]())
	add(updateRule, typeOf[*plan.Update]())
	add(deleteRule, typeOf[*plan.DeleteFrom]())
	add(triggerRule, typeOf[*plan.TriggerExecutor]())
	add(loadDataRule, typeOf[*plan.LoadData]())
	add(intoRule, typeOf[*plan.Into]())
	add(func(w *walker, n sql.Node) error {
		t := n.(*plan.Truncate)
		tables, err := someTablesIn(n, t.Child)
		if err != nil {
			return err
		}
		for _, r := range tables {
			if err := w.onTable(ref(w.db(orDefault(r.db, t.DatabaseName())), r.table), priv.Drop); err != nil {
				return err
			}
		}
		return nil
	}, typeOf[*plan.Truncate]())

	// Data definition.
	add(createTableRule, typeOf[*plan.CreateTable]())
	add(tableCopierRule, typeOf[*plan.TableCopier]())
	add(func(w *walker, n sql.Node) error {
		if len(n.Children()) == 0 && n.(*plan.DropTable).IfExists() {
			return nil // DROP TABLE IF EXISTS of missing tables only: the engine asked DROP of each name
		}
		return onTablesIn(w, n, priv.Drop)
	}, typeOf[*plan.DropTable]())
	add(func(w *walker, n sql.Node) error { return onTablesIn(w, n, priv.Index) },
		typeOf[*plan.CreateIndex](), typeOf[*plan.DropIndex]())
	add(alterTable,
		typeOf[plan.AlterIndex](), typeOf[*plan.AlterIndex](), typeOf[plan.AlterPK](), typeOf[*plan.AlterPK](),
		typeOf[plan.AddColumn](), typeOf[*plan.AddColumn](), typeOf[plan.DropColumn](), typeOf[*plan.DropColumn](),
		typeOf[*plan.ModifyColumn](), typeOf[plan.RenameColumn](), typeOf[*plan.RenameColumn](),
		typeOf[*plan.AlterDefaultSet](), typeOf[*plan.AlterDefaultDrop](), typeOf[*plan.AlterAutoIncrement](),
		typeOf[*plan.AlterTableCollation](), typeOf[*plan.CreateCheck](), typeOf[*plan.DropCheck](),
		typeOf[plan.DropConstraint](), typeOf[*plan.DropConstraint](), typeOf[*plan.DropForeignKey](),
		typeOf[*plan.RenameForeignKey](),
	)
	add(createForeignKeyRule, typeOf[*plan.CreateForeignKey]())
	add(renameTableRule, typeOf[*plan.RenameTable]())
	add(func(w *walker, n sql.Node) error { return w.onDB(n.(*plan.CreateDB).DbName, priv.Create) },
		typeOf[*plan.CreateDB](), typeOf[*plan.CreateSchema]())
	add(func(w *walker, n sql.Node) error {
		db := n.(*plan.DropDB).DbName
		if err := w.onDB(db, priv.Drop); err != nil {
			return err
		}
		w.afterSuccess(func() { w.s.definers.forgetDB(db) })
		return nil
	}, typeOf[*plan.DropDB]())
	add(func(w *walker, n sql.Node) error { return w.onDB(n.(*plan.AlterDB).Database(w.ctx), priv.Alter) },
		typeOf[*plan.AlterDB]())
	add(createViewRule, typeOf[*plan.CreateView]())
	add(dropViewRule, typeOf[*plan.DropView](), typeOf[*plan.SingleDropView]())
	add(createTriggerRule, typeOf[*plan.CreateTrigger]())
	add(func(w *walker, n sql.Node) error {
		d := n.(*plan.DropTrigger)
		db := w.db(dbName(d.Db))
		if err := w.onDB(db, priv.Trigger); err != nil {
			return err
		}
		w.afterSuccess(func() { w.s.definers.forget(kindTrigger, db, d.TriggerName) })
		return nil
	}, typeOf[*plan.DropTrigger]())
	add(createProcedureRule, typeOf[*plan.CreateProcedure]())
	add(func(w *walker, n sql.Node) error {
		d := n.(*plan.DropProcedure)
		db := w.db(dbName(d.Db))
		if err := w.onDB(db, priv.AlterRoutine); err != nil {
			return err
		}
		w.afterSuccess(func() { w.s.definers.forget(kindRoutine, db, d.ProcedureName) })
		return nil
	}, typeOf[*plan.DropProcedure]())
	add(func(w *walker, n sql.Node) error { return w.onDB(w.db(dbOf(n)), priv.Event) }, typeOf[*plan.DropEvent]())
	add(callRule, typeOf[*plan.Call]())
	add(analyzeRule, typeOf[*plan.AnalyzeTable]())
	add(histogramRule, typeOf[*plan.UpdateHistogram](), typeOf[*plan.DropHistogram]())
	add(globalOrDynamic(priv.Super), typeOf[*plan.CreateSpatialRefSys]())
	add(lockTablesRule, typeOf[*plan.LockTables]())

	// Session and server.
	add(useRule, typeOf[*plan.Use]())
	add(setRule, typeOf[*plan.Set]())
	add(killRule, typeOf[*plan.Kill]())
	add(globalOrDynamic(priv.Reload), typeOf[*plan.FlushPrivileges]())
	add(globalOrDynamic(0, "REPLICATION_SLAVE_ADMIN"),
		typeOf[*plan.ChangeReplicationSource](), typeOf[*plan.ChangeReplicationFilter](),
		typeOf[*plan.StartReplica](), typeOf[*plan.StopReplica](), typeOf[*plan.ResetReplica]())
	add(globalOrDynamic(priv.ReplClient|priv.Super, "REPLICATION_CLIENT"),
		typeOf[*plan.ShowBinlogs](), typeOf[*plan.ShowBinlogStatus](), typeOf[*plan.ShowReplicaStatus]())

	// Metadata.
	add(showTableRule, typeOf[*plan.ShowColumns](), typeOf[*plan.ShowIndexes](),
		typeOf[plan.ShowCreateTable](), typeOf[*plan.ShowCreateTable]())
	add(func(w *walker, n sql.Node) error { return w.visibleDB(dbOf(n)) },
		typeOf[*plan.ShowTables](), typeOf[*plan.ShowTableStatus](), typeOf[*plan.ShowCreateDatabase](),
		typeOf[*plan.ShowTriggers]())
	add(func(w *walker, n sql.Node) error { return w.onDB(w.db(dbOf(n)), priv.Trigger) }, typeOf[*plan.ShowCreateTrigger]())
	add(func(w *walker, n sql.Node) error { return w.onDB(w.db(dbOf(n)), priv.Event) },
		typeOf[*plan.ShowEvents](), typeOf[*plan.ShowCreateEvent]())
	add(func(w *walker, n sql.Node) error {
		// MySQL 8 shows the body to holders of global SELECT or
		// SHOW_ROUTINE, or of CREATE/ALTER ROUTINE; to others (EXECUTE
		// alone) it shows none. authplug refuses them: stricter.
		db := w.db(dbOf(n))
		if w.who.verify("", "", "", priv.Select) == nil || w.who.verifyDynamic("SHOW_ROUTINE") == nil ||
			w.who.verify(db, "", "", priv.CreateRoutine) == nil || w.who.verify(db, "", "", priv.AlterRoutine) == nil {
			return nil
		}
		return mysqlerr.DBAccessDenied(w.who.named().User, w.who.named().Host, db)
	}, typeOf[*plan.ShowCreateProcedure]())
}

// explainRule: EXPLAIN needs what running the statement needs, and its
// output shows trigger bodies and view definitions, so also TRIGGER on the
// tables whose triggers it shows and SHOW VIEW on the views it reads
// through, as the one who asks.
func explainRule(w *walker, n sql.Node) error {
	q := n.Children()
	if d, ok := n.(*plan.DescribeQuery); ok {
		q = []sql.Node{d.Query()}
	}
	if w.explainer == nil {
		w.explainer = w.who
	}
	for _, c := range q {
		if err := w.node(c); err != nil {
			return err
		}
	}
	return nil
}

// shownDatabase is the database a SHOW statement names, or the current one.
func shownDatabase(w *walker) string {
	if stmt, err := ast.Parse(w.ctx.Query()); err == nil {
		if show, ok := stmt.(*ast.Show); ok {
			if q := show.Table.DbQualifier.String(); q != "" {
				return q
			}
		}
	}
	return w.ctx.GetCurrentDatabase()
}

func orDefault(s, d string) string {
	if s == "" {
		return d
	}
	return s
}

func dbName(d sql.Database) string {
	if d == nil {
		return ""
	}
	return d.Name()
}

func readNode(w *walker, n sql.Node) error {
	if p, ok := n.(*plan.ProcedureResolvedTable); ok {
		n = p.ResolvedTable
	}
	if t, ok := n.(sql.Table); ok && plan.IsDualTable(t) {
		return nil // SELECT with no FROM
	}
	if rt, ok := n.(*plan.ResolvedTable); ok && plan.IsDualTable(rt.Table) {
		return nil
	}
	r, schema, ok := tableOf(n)
	if !ok {
		return errNotClassified("a table with no database")
	}
	if err := w.readTable(r, schema); err != nil {
		return err
	}
	return w.exprsOf(n)
}

func (w *walker) tableFunction(tf sql.TableFunction) error {
	// Unknown table functions are refused: a table function can read
	// anything it likes.
	return errNotClassified("table function " + tf.Name())
}

func (w *walker) visibleDB(db string) error {
	db = w.db(db)
	if db == "" || isInfoSchema(db) || w.who.anyOn(db, "") {
		return nil
	}
	a := w.who.named()
	return mysqlerr.DBAccessDenied(a.User, a.Host, db)
}

// destTable is the table an INSERT writes.
func destTable(ii *plan.InsertInto) (tableRef, sql.Schema, bool) {
	r, s, ok := tableOf(destination(ii.Destination))
	if ok && ii.Database() != nil && ii.Database().Name() != "" {
		r.db = strings.ToLower(ii.Database().Name())
	}
	return r, s, ok
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

func insertRule(w *walker, n sql.Node) error {
	ii := n.(*plan.InsertInto)
	if ld, ok := ii.Source.(*plan.LoadData); ok && !ld.Local {
		// As MySQL does: FILE before the table, and the table before
		// the file's path (loadDataRule), which a refused session may
		// not learn anything about.
		if err := w.global(priv.File); err != nil {
			return err
		}
	}
	r, schema, ok := destTable(ii)
	if !ok {
		return errNotClassified("INSERT into " + nodeName(ii.Destination))
	}
	cols := ii.ColumnNames
	if len(cols) == 0 {
		for _, c := range schema {
			cols = append(cols, c.Name)
		}
	}
	if err := w.onColumns(r, cols, priv.Insert); err != nil {
		return err
	}
	w.dml = &r
	if ii.IsReplace {
		if err := w.onTable(r, priv.Delete); err != nil {
			return err
		}
	}
	if len(ii.OnDupExprs) > 0 {
		for t, cols := range w.setColumns(ii.OnDupExprs) {
			if err := w.onColumns(t, cols, priv.Update); err != nil {
				return err
			}
		}
		// The columns ON DUPLICATE KEY UPDATE reads of the existing row.
		w.markTarget(r)
		if err := w.readTable(r, schema); err != nil {
			return err
		}
	}
	if err := w.exprsOf(ii); err != nil {
		return err
	}
	return w.node(ii.Source)
}

func (w *walker) markTarget(r tableRef) {
	if w.targets == nil {
		w.targets = map[tableRef]bool{}
	}
	w.targets[r] = true
}

func updateRule(w *walker, n sql.Node) error {
	u := n.(*plan.Update)
	var exprs []sql.Expression
	for _, c := range collectNodes[*plan.UpdateSource](u.Child) {
		exprs = append(exprs, c.UpdateExprs...)
	}
	sets := w.setColumns(exprs)
	if len(sets) == 0 {
		return errNotClassified("UPDATE with no assignments")
	}
	for r, cols := range sets {
		if err := w.onColumns(r, cols, priv.Update); err != nil {
			return err
		}
		w.markTarget(r)
		w.dml = &r
	}
	return w.relational(u)
}

func deleteRule(w *walker, n sql.Node) error {
	d := n.(*plan.DeleteFrom)
	var targets []tableRef
	if d.HasExplicitTargets() {
		for _, t := range d.GetDeleteTargets() {
			targets = append(targets, tablesIn(t)...)
		}
	} else {
		targets = tablesIn(d.Child)
		if len(targets) != 1 {
			return errNotClassified("DELETE from several tables without named targets")
		}
	}
	for _, r := range targets {
		r = ref(w.db(r.db), r.table)
		if err := w.onTable(r, priv.Delete); err != nil {
			return err
		}
		w.markTarget(r)
		w.dml = &r
	}
	return w.relational(d)
}

func collectNodes[T sql.Node](n sql.Node) []T {
	var out []T
	var visit func(sql.Node)
	visit = func(n sql.Node) {
		if t, ok := n.(T); ok {
			out = append(out, t)
		}
		for _, c := range n.Children() {
			visit(c)
		}
	}
	visit(n)
	return out
}

func createTableRule(w *walker, n sql.Node) error {
	c := n.(*plan.CreateTable)
	db := w.db(dbName(c.Db))
	p := priv.Create
	if c.Temporary() {
		p = priv.CreateTmpTable
	}
	if err := w.onTable(ref(db, c.Name()), p); err != nil {
		return err
	}
	if like := c.Like(); like != nil {
		// MySQL 8: CREATE TABLE ... LIKE needs SELECT on the original.
		tables, err := someTablesIn(n, like)
		if err != nil {
			return err
		}
		for _, r := range tables {
			if err := w.onTable(ref(w.db(r.db), r.table), priv.Select); err != nil {
				return err
			}
		}
	}
	for _, fk := range c.ForeignKeys() {
		if err := w.onTable(ref(w.db(orDefault(fk.ParentDatabase, db)), fk.ParentTable), priv.References); err != nil {
			return err
		}
	}
	if s := c.Select(); s != nil {
		if err := w.onTable(ref(db, c.Name()), priv.Insert); err != nil {
			return err
		}
		return w.node(s)
	}
	return w.exprsOf(c)
}

func tableCopierRule(w *walker, n sql.Node) error {
	tc := n.(*plan.TableCopier)
	if err := w.node(tc.Destination); err != nil {
		return err
	}
	for _, r := range tablesIn(tc.Destination) {
		if err := w.onTable(ref(w.db(r.db), r.table), priv.Insert); err != nil {
			return err
		}
	}
	if ct, ok := tc.Destination.(*plan.CreateTable); ok {
		if err := w.onTable(ref(w.db(dbName(ct.Db)), ct.Name()), priv.Insert); err != nil {
			return err
		}
	}
	w.built = append(w.built, tc.Source)
	return w.node(tc.Source)
}

func createForeignKeyRule(w *walker, n sql.Node) error {
	fk := n.(*plan.CreateForeignKey).FkDef
	if err := w.onTable(ref(w.db(fk.Database), fk.Table), priv.Alter|priv.Create|priv.Insert); err != nil {
		return err
	}
	return w.onTable(ref(w.db(orDefault(fk.ParentDatabase, fk.Database)), fk.ParentTable), priv.References)
}

// renameTableRule: ALTER and DROP on the old name, CREATE and INSERT on the
// new one, as in MySQL.
func renameTableRule(w *walker, n sql.Node) error {
	rt := n.(*plan.RenameTable)
	db := w.db(dbName(rt.Db))
	split := func(name string) tableRef {
		if i := strings.IndexByte(name, '.'); i > 0 {
			return ref(name[:i], name[i+1:])
		}
		return ref(db, name)
	}
	for i := range rt.OldNames {
		if err := w.onTable(split(rt.OldNames[i]), priv.Alter|priv.Drop); err != nil {
			return err
		}
		if i < len(rt.NewNames) {
			if err := w.onTable(split(rt.NewNames[i]), priv.Create|priv.Insert); err != nil {
				return err
			}
		}
	}
	return nil
}

// createViewRule: CREATE VIEW on the view (and DROP to replace one), and
// the SELECT the definition makes, checked as the creator.
func createViewRule(w *walker, n sql.Node) error {
	cv := n.(*plan.CreateView)
	r := ref(w.db(dbName(cv.Database())), cv.Name)
	if err := w.onTable(r, priv.CreateView); err != nil {
		return err
	}
	if cv.IsReplace {
		if err := w.onTable(r, priv.Drop); err != nil {
			return err
		}
	}
	definer, err := w.definerAllowed(cv.Definer)
	if err != nil {
		return err
	}
	if cv.Definition != nil && readsVariables(cv.Definition) {
		// MySQL refuses these (1351): a view running with its definer's
		// rights must not let its reader choose what it returns.
		return mysqlerr.Errorf(mysqlerr.ErViewSelectVariable, "View's SELECT contains a variable or parameter")
	}
	rec := definerRecord{account: definer, invoker: strings.EqualFold(cv.Security, "INVOKER")}
	w.afterSuccess(func() { w.s.definers.record(kindView, r.db, cv.Name, rec) })
	if cv.Definition != nil {
		// MySQL checks the definition as its creator when it is created.
		return w.node(cv.Definition.Child)
	}
	return nil
}

// readsVariables reports whether a plan reads a user or system variable, or
// a routine's parameter, anywhere, subqueries included.
func readsVariables(n sql.Node) bool {
	found := false
	var expr func(e sql.Expression)
	expr = func(e sql.Expression) {
		switch x := e.(type) {
		case nil:
			return
		case *expression.UserVar, *expression.SystemVar, *expression.ProcedureParam, *expression.BindVar:
			found = true
			return
		case *plan.Subquery:
			if x.Query != nil && readsVariables(x.Query) {
				found = true
			}
			return
		}
		for _, c := range e.Children() {
			expr(c)
		}
	}
	transform.Inspect(n, func(c sql.Node) bool {
		if c == nil || found {
			return false
		}
		if ex, ok := c.(sql.Expressioner); ok {
			for _, e := range ex.Expressions() {
				expr(e)
			}
		}
		return !found
	})
	return found
}

func dropViewRule(w *walker, n sql.Node) error {
	if dv, ok := n.(*plan.SingleDropView); ok {
		r := ref(w.db(dbName(dv.Database())), dv.ViewName)
		if err := w.onTable(r, priv.Drop); err != nil {
			return err
		}
		w.afterSuccess(func() { w.s.definers.forget(kindView, r.db, r.table) })
		return nil
	}
	for _, c := range n.Children() {
		if err := w.node(c); err != nil {
			return err
		}
	}
	return nil
}

func analyzeRule(w *walker, n sql.Node) error {
	a := n.(*plan.AnalyzeTable)
	for _, t := range a.Tables {
		db := a.Db
		if d, ok := t.(interface{ Database() string }); ok && d.Database() != "" {
			db = d.Database()
		}
		if err := w.onTable(ref(w.db(db), t.Name()), priv.Select|priv.Insert); err != nil {
			return err
		}
	}
	return nil
}

// histogramRule: ANALYZE TABLE ... UPDATE/DROP HISTOGRAM needs what
// ANALYZE TABLE needs, SELECT and INSERT on the table, which these nodes
// name in fields rather than children.
func histogramRule(w *walker, n sql.Node) error {
	h, ok := n.(interface {
		Db() string
		Table() string
	})
	if !ok || h.Table() == "" {
		return errNotClassified(nodeName(n) + " naming no table")
	}
	return w.onTable(ref(w.db(h.Db()), h.Table()), priv.Select|priv.Insert)
}

func lockTablesRule(w *walker, n sql.Node) error {
	for _, l := range n.(*plan.LockTables).Locks {
		tables, err := someTablesIn(n, l.Table)
		if err != nil {
			return err
		}
		for _, r := range tables {
			r = ref(w.db(r.db), r.table)
			if err := w.onDB(r.db, priv.LockTables); err != nil {
				return err
			}
			if err := w.onTable(r, priv.Select); err != nil {
				return err
			}
		}
	}
	return nil
}

func useRule(w *walker, n sql.Node) error { return w.visibleDB(dbOf(n)) }

// showTableRule: SHOW COLUMNS and SHOW INDEX need a column privilege
// (SELECT, INSERT, UPDATE, REFERENCES) on the table or one of its columns;
// SHOW CREATE TABLE needs some privilege on the table itself; SHOW CREATE
// VIEW needs SHOW VIEW and SELECT.
func showTableRule(w *walker, n sql.Node) error {
	var refs []tableRef
	var schema sql.Schema
	view := false
	for _, c := range n.Children() {
		transform.Inspect(c, func(c sql.Node) bool {
			if r, s, ok := tableOf(c); ok && len(refs) == 0 {
				refs, schema = append(refs, r), s
			}
			if sa, ok := c.(*plan.SubqueryAlias); ok && len(refs) == 0 {
				refs, view = append(refs, ref(shownDatabase(w), sa.Name())), true
			}
			return len(refs) == 0
		})
	}
	if len(refs) == 0 {
		return errNotClassified(nodeName(n) + " of no table")
	}
	r := ref(w.db(refs[0].db), refs[0].table)
	sc, isShowCreate := n.(*plan.ShowCreateTable)
	if isShowCreate && (sc.IsView || view) {
		// A view's definition: SHOW VIEW and SELECT, whichever SHOW
		// CREATE names it.
		return w.onTable(r, priv.ShowView|priv.Select)
	}
	wanted := priv.AllColumn
	if isShowCreate {
		wanted = priv.AllTable &^ priv.GrantOption
	}
	for _, p := range wanted.Split() {
		if w.who.verify(r.db, r.table, "", p) == nil {
			return nil
		}
	}
	if !isShowCreate && w.who.columnGrants() {
		for _, c := range schema {
			for _, p := range priv.AllColumn.Split() {
				if w.who.verify(r.db, r.table, c.Name, p) == nil {
					return nil
				}
			}
		}
	}
	a := w.who.named()
	return mysqlerr.TableAccessDenied("SELECT", a.User, a.Host, r.table)
}

// intoRule: SELECT ... INTO OUTFILE / DUMPFILE writes a file on the server:
// FILE, and a path inside secure_file_priv.
func intoRule(w *walker, n sql.Node) error {
	in := n.(*plan.Into)
	path := in.Outfile
	if path == "" {
		path = in.Dumpfile
	}
	if path != "" {
		if err := w.fileAccess(path); err != nil {
			return err
		}
	}
	return w.relational(in)
}

func loadDataRule(w *walker, n sql.Node) error {
	ld := n.(*plan.LoadData)
	if !ld.Local {
		if err := w.fileAccess(ld.File); err != nil {
			return err
		}
	} else if w.s.secureFiles == "" {
		return errFileIODisabled()
	}
	return w.relational(ld)
}

// fileAccess is FILE and a path inside the server's secure_file_priv.
func (w *walker) fileAccess(path string) error {
	if err := w.global(priv.File); err != nil {
		return err
	}
	return w.s.inSecureDir(path)
}

func errFileIODisabled() error {
	return mysqlerr.Errorf(mysqlerr.ErOptionPrevents,
		"The MySQL server is running with the --secure-file-priv option so it cannot execute this statement")
}

// inSecureDir reports whether path (after cleaning, and with symbolic links
// of its directory resolved) is inside the secure_file_priv directory.
func (s *Server) inSecureDir(path string) error {
	if s.secureFiles == "" || !filepath.IsAbs(path) {
		return errFileIODisabled()
	}
	dir := filepath.Dir(filepath.Clean(path))
	if real, err := filepath.EvalSymlinks(dir); err == nil {
		dir = real
	}
	rel, err := filepath.Rel(s.secureFiles, dir)
	if err != nil || rel == ".." || strings.HasPrefix(rel, ".."+string(filepath.Separator)) {
		return errFileIODisabled()
	}
	return nil
}

// restrictedSessionVars need SYSTEM_VARIABLES_ADMIN or
// SESSION_VARIABLES_ADMIN even for the session (MySQL 8 manual, "System
// Variable Privileges").
var restrictedSessionVars = map[string]bool{
	"binlog_format": true, "binlog_row_image": true, "binlog_row_value_options": true,
	"binlog_direct_non_transactional_updates": true, "sql_log_bin": true, "sql_log_off": true,
	"pseudo_thread_id": true, "pseudo_replica_mode": true, "pseudo_slave_mode": true,
	"gtid_next": true, "default_storage_engine": false, "explicit_defaults_for_timestamp": true,
	"original_commit_timestamp": true, "original_server_version": true, "immediate_server_version": true,
	"rbr_exec_mode": true, "sql_require_primary_key": true, "default_table_encryption": true,
	"secure_file_priv": true, "timestamp": false,
}

func setRule(w *walker, n sql.Node) error {
	for _, e := range n.(*plan.Set).Exprs {
		sf, ok := e.(*expression.SetField)
		if !ok {
			if err := w.expr(e); err != nil {
				return err
			}
			continue
		}
		if sv, ok := sf.LeftChild.(*expression.SystemVar); ok {
			if err := w.setSystemVar(sv); err != nil {
				return err
			}
		} else if err := w.expr(sf.LeftChild); err != nil {
			return err
		}
		if err := w.expr(sf.RightChild); err != nil {
			return err
		}
	}
	return nil
}

func (w *walker) setSystemVar(sv *expression.SystemVar) error {
	global := true
	if sc, ok := sv.Scope.(*sql.MysqlScope); ok {
		global = sc.Type != sql.SystemVariableScope_Session
	}
	if global {
		return w.global(priv.Super, "SYSTEM_VARIABLES_ADMIN")
	}
	if strings.EqualFold(sv.Name, "max_allowed_packet") {
		// As in MySQL: a session may not raise the limit on the results
		// it builds (bigstrings.go).
		return mysqlerr.Errorf(mysqlerr.ErVariableIsReadonly, "SESSION variable '%s' is read-only. Use SET GLOBAL to assign the value", strings.ToLower(sv.Name))
	}
	if restrictedSessionVars[strings.ToLower(sv.Name)] {
		return w.global(priv.Super, "SYSTEM_VARIABLES_ADMIN", "SESSION_VARIABLES_ADMIN")
	}
	return nil
}

// killRule: a connection of the same user may be killed by anyone of that
// user; others need CONNECTION_ADMIN or SUPER (1095).
func killRule(w *walker, n sql.Node) error {
	k := n.(*plan.Kill)
	other := w.s.conn(k.ConnID)
	if other == nil {
		return mysqlerr.Errorf(mysqlerr.ErNoSuchThread, "Unknown thread id: %d", k.ConnID)
	}
	if other.sess.AuthenticatedAccount().User == w.who.account().User {
		return nil
	}
	if w.global(priv.Super, "CONNECTION_ADMIN") == nil {
		return nil
	}
	return mysqlerr.Errorf(mysqlerr.ErKillDenied, "You are not owner of thread %d", k.ConnID)
}
