package server

import (
	"math"
	"reflect"
	"strings"

	"github.com/dolthub/go-mysql-server/sql"
	"github.com/dolthub/go-mysql-server/sql/information_schema"
	"github.com/dolthub/go-mysql-server/sql/mysql_db"
	"github.com/dolthub/go-mysql-server/sql/plan"
	"github.com/dolthub/go-mysql-server/sql/rowexec"
	ast "github.com/dolthub/vitess/go/vt/sqlparser"

	"github.com/authplug/authplug/mysqlerr"
	"github.com/authplug/authplug/priv"
	"github.com/authplug/authplug/privilege"
)

// Metadata visibility, MySQL 8's rules: an account sees a database, table
// or column only if it holds some privilege on it (at that level or above,
// column grants and active roles included), and other sessions' rows of the
// process list only with PROCESS. Listings are filtered: SHOW DATABASES,
// SHOW TABLES, SHOW TABLE STATUS, SHOW TRIGGERS, SHOW COLUMNS (DESCRIBE),
// SHOW PROCESSLIST and the rows of every information_schema table. The
// statements that show one named table (SHOW CREATE TABLE, SHOW COLUMNS,
// SHOW INDEX) answer 1142 without MySQL's privilege for them, and CREATE
// TABLE ... LIKE needs SELECT on the original. Everything else a statement
// names is authorized elsewhere (authz.go, planauth.go), by name, so that a
// refusal stays a refusal and never becomes "doesn't exist".
//
// The filter sits in the engine's exec builder, which turns each node of an
// analyzed plan into rows: listings are built as usual and their rows
// filtered as they are read. The database provider is left alone on
// purpose: the analyzer enumerates every database for every statement that
// reads a table (assignRoutines), and lookups by name must reach the
// authorization check. A plan without metadata nodes pays one type switch
// per node and nothing else.
//
// Who sees what is asked of the connection's privilege.Session, so that the
// answer is the stored grants of the account acted as (the impersonation
// target, if any) AND the session's plugin. The server's own contexts
// (session ID 0) see everything.

// metadataBuilder is the exec builder with the metadata filters. Wrappers
// of the exec builder (the plan authorizer) must wrap this one.
func (s *Server) metadataBuilder() sql.NodeExecBuilder {
	return rowexec.NewOverrideBuilder(metadata{s})
}

// metadata is consulted by the engine's builder for every node it builds; a
// nil iterator and nil error mean "build it as usual".
type metadata struct{ s *Server }

func (m metadata) Build(ctx *sql.Context, n sql.Node, row sql.Row) (sql.RowIter, error) {
	var keep func(v *viewer) (rowFilter, error)
	switch n := n.(type) {
	case *plan.ResolvedTable:
		if n.SqlDatabase == nil || !isInfoSchema(n.SqlDatabase.Name()) {
			return nil, nil
		}
		return m.infoSchemaTable(ctx, n, row)
	case *plan.ShowDatabases:
		keep = func(v *viewer) (rowFilter, error) {
			return byColumn(0, func(db string) bool { return v.database(db) }), nil
		}
	case *plan.ShowTables:
		keep = func(v *viewer) (rowFilter, error) { return v.tablesOf(n.Database()), nil }
	case *plan.ShowTableStatus:
		keep = func(v *viewer) (rowFilter, error) { return v.tablesOf(n.Database()), nil }
	case *plan.ShowTriggers:
		// SHOW TRIGGERS lists the triggers of tables the account holds
		// TRIGGER on (column 2 is the table).
		keep = func(v *viewer) (rowFilter, error) {
			db := n.Database().Name()
			return byColumn(2, func(t string) bool { return v.allows(db, t, "", priv.Trigger) }), nil
		}
	case *plan.ShowColumns:
		keep = func(v *viewer) (rowFilter, error) { return v.showColumns(ctx, n) }
	case *plan.ShowIndexes:
		keep = func(v *viewer) (rowFilter, error) { return nil, v.showColumnsAllowed(ctx, n.Child) }
	case *plan.ShowCreateTable:
		keep = func(v *viewer) (rowFilter, error) { return nil, v.showCreate(ctx, n) }
	case *plan.ShowProcessList:
		keep = func(v *viewer) (rowFilter, error) { return v.processes(0, 1), nil }
	case *plan.CreateTable:
		keep = func(v *viewer) (rowFilter, error) { return nil, m.createLike(ctx, v) }
	case *plan.Call:
		keep = func(v *viewer) (rowFilter, error) { return nil, m.routineLike(ctx, n) }
	default:
		return nil, nil
	}
	v := m.s.viewer(ctx)
	if v.all {
		return nil, nil
	}
	f, err := keep(v)
	if err != nil {
		return nil, toSQLError(err)
	}
	if f == nil {
		return nil, nil
	}
	// The node itself is built by the engine's own builder: it has no
	// children that could hold metadata nodes of their own.
	iter, err := rowexec.DefaultBuilder.Build(ctx, n, row)
	if err != nil {
		return nil, err
	}
	return &filterIter{RowIter: iter, keep: f}, nil
}

// infoSchemaTable reads an information_schema table for a session. The
// engine's readers describe every object as the server would (they parse
// stored triggers, routines and views, and some ask the engine's own
// privilege set, which authplug leaves empty); what they produce is then
// filtered by the session's privileges.
func (m metadata) infoSchemaTable(ctx *sql.Context, n *plan.ResolvedTable, row sql.Row) (sql.RowIter, error) {
	v := m.s.viewer(ctx)
	if infoSchemaRules[strings.ToLower(n.Name())].kind == isGrantee {
		return sql.RowsToRowIter(v.privilegeRows(n.Name(), n.Schema())...), nil
	}
	if v.all {
		return nil, nil
	}
	f := v.infoSchema(n.Name(), n.Schema())
	name := strings.ToLower(n.Name())
	if parsesDefinitions[name] {
		var err error
		if n, err = m.readAsServer(n); err != nil {
			return nil, err
		}
	}
	if !engineGated[name] {
		iter, err := rowexec.DefaultBuilder.Build(ctx, n, row)
		if err != nil {
			return nil, err
		}
		return &filterIter{RowIter: iter, keep: f}, nil
	}
	var iter sql.RowIter
	err := withEnginePrivileges(ctx, func() (err error) {
		iter, err = rowexec.DefaultBuilder.Build(ctx, n, row)
		return err
	})
	if err != nil {
		return nil, err
	}
	if name == "triggers" {
		// Read now, while no other goroutine of the engine looks at the
		// session: the reader switches its current database
		// (triggersCatalog), which is put back before the rows are served.
		db := ctx.GetCurrentDatabase()
		var rows []sql.Row
		err := withEnginePrivileges(ctx, func() (err error) {
			rows, err = sql.RowIterToRows(ctx, iter)
			return err
		})
		if ctx.GetCurrentDatabase() != db {
			ctx.SetCurrentDatabase(db)
		}
		if err != nil {
			return nil, err
		}
		return &filterIter{RowIter: sql.RowsToRowIter(rows...), keep: f}, nil
	}
	return &filterIter{RowIter: &enginePrivilegesIter{RowIter: iter}, keep: f}, nil
}

// parsesDefinitions are the information_schema tables whose readers parse
// stored definitions (of triggers, routines, views) to describe them.
var parsesDefinitions = map[string]bool{
	"triggers": true, "routines": true, "parameters": true, "columns": true, "views": true,
}

// engineGated are the information_schema tables whose rows the engine hides
// unless the session holds the engine's own privileges (sql.PrivilegeSet),
// which authplug does not use and leaves empty: to everyone, they would be
// empty.
var engineGated = map[string]bool{
	"triggers": true, "routines": true, "parameters": true, "views": true, "column_statistics": true,
}

// readAsServer gives the table a catalog whose authorization allows
// everything: the reader parses stored definitions, and a definition must
// not be left out, or fail the read, because the session could not have
// created it. The table is copied, never changed: the engine shares its
// information_schema tables between sessions.
func (m metadata) readAsServer(n *plan.ResolvedTable) (*plan.ResolvedTable, error) {
	var cat sql.Catalog = serverCatalog{m.s.engine.Analyzer.Catalog}
	t := n.Table
	pt, tracked := t.(*plan.ProcessTable)
	if tracked {
		t = pt.Underlying()
	}
	switch tt := t.(type) {
	case *information_schema.InformationSchemaTable:
		if strings.EqualFold(tt.TableName, "triggers") {
			cat = triggersCatalog{serverCatalog{m.s.engine.Analyzer.Catalog}}
		}
		// Made from the fields that never change, not copied whole: the
		// engine assigns the shared table's catalog for every statement.
		cp := &information_schema.InformationSchemaTable{TableName: tt.TableName, TableSchema: tt.TableSchema, Reader: tt.Reader}
		t = cp.AssignCatalog(cat)
	case *information_schema.ColumnsTable:
		cp := *tt // made afresh for each statement
		t = cp.AssignCatalog(cat)
	case sql.CatalogTable:
		// ROUTINES and PARAMETERS, of a type the engine does not export.
		v := reflect.ValueOf(tt)
		if v.Kind() != reflect.Pointer || v.Elem().Kind() != reflect.Struct {
			return n, nil
		}
		cp := reflect.New(v.Elem().Type())
		cp.Elem().Set(v.Elem())
		t = cp.Interface().(sql.CatalogTable).AssignCatalog(cat)
	default:
		return n, nil
	}
	if tracked {
		t = plan.NewProcessTable(t, pt.OnPartitionDone, pt.OnPartitionStart, pt.OnRowNext)
	}
	out, err := n.ReplaceTable(t)
	if err != nil {
		return nil, err
	}
	return out.(*plan.ResolvedTable), nil
}

// triggersCatalog is serverCatalog for information_schema.TRIGGERS, whose
// reader binds each stored CREATE TRIGGER in the current database: its
// databases make themselves current when their triggers are read, so a
// trigger binds in its own database. Otherwise a trigger's table would be
// looked up in the caller's database, failing the read for everyone and
// telling, by the error, which tables in other databases have triggers.
type triggersCatalog struct{ serverCatalog }

func (c triggersCatalog) AllDatabases(ctx *sql.Context) []sql.Database {
	dbs := c.serverCatalog.AllDatabases(ctx)
	out := make([]sql.Database, len(dbs))
	for i, d := range dbs {
		if td, ok := d.(sql.TriggerDatabase); ok {
			out[i] = ownDatabaseTriggers{Database: d, td: td}
		} else {
			out[i] = d
		}
	}
	return out
}

type ownDatabaseTriggers struct {
	sql.Database
	td sql.TriggerDatabase
}

func (d ownDatabaseTriggers) GetTriggers(ctx *sql.Context) ([]sql.TriggerDefinition, error) {
	ctx.SetCurrentDatabase(d.Name())
	return d.td.GetTriggers(ctx)
}

func (d ownDatabaseTriggers) CreateTrigger(ctx *sql.Context, def sql.TriggerDefinition) error {
	return d.td.CreateTrigger(ctx, def)
}

func (d ownDatabaseTriggers) DropTrigger(ctx *sql.Context, name string) error {
	return d.td.DropTrigger(ctx, name)
}

func (d ownDatabaseTriggers) GetCollation(ctx *sql.Context) sql.CollationID {
	if cd, ok := d.Database.(sql.CollatedDatabase); ok {
		return cd.GetCollation(ctx)
	}
	return sql.Collation_Default
}

func (d ownDatabaseTriggers) SetCollation(ctx *sql.Context, id sql.CollationID) error {
	if cd, ok := d.Database.(sql.CollatedDatabase); ok {
		return cd.SetCollation(ctx, id)
	}
	return nil
}

// serverCatalog is the engine's catalog with authorization off, for the
// information_schema readers only.
type serverCatalog struct{ sql.Catalog }

func (serverCatalog) AuthorizationHandler() sql.AuthorizationHandler { return openAuthorization{} }

type openAuthorization struct{}

type openState struct{}

func (openState) Error() error                 { return nil }
func (openState) AuthorizationQueryStateImpl() {}

func (openAuthorization) NewQueryState(*sql.Context) sql.AuthorizationQueryState { return openState{} }

func (openAuthorization) HandleAuth(*sql.Context, sql.AuthorizationQueryState, ast.AuthInformation) error {
	return nil
}

func (openAuthorization) HandleAuthNode(*sql.Context, sql.AuthorizationQueryState, sql.AuthorizationCheckerNode) error {
	return nil
}

func (openAuthorization) CheckDatabase(*sql.Context, sql.AuthorizationQueryState, string) error {
	return nil
}

func (openAuthorization) CheckSchema(*sql.Context, sql.AuthorizationQueryState, string, string) error {
	return nil
}

func (openAuthorization) CheckTable(*sql.Context, sql.AuthorizationQueryState, string, string, string) error {
	return nil
}

// withEnginePrivileges runs f with the session's engine privilege set full
// (the engine's TRIGGERS, ROUTINES and VIEWS readers show nothing
// otherwise), and
// puts back the one it had. authplug's checks never read that set.
func withEnginePrivileges(ctx *sql.Context, f func() error) error {
	prev, counter := ctx.Session.GetPrivilegeSet()
	ctx.Session.SetPrivilegeSet(allEnginePrivileges, 1)
	defer ctx.Session.SetPrivilegeSet(prev, counter)
	return f()
}

var allEnginePrivileges = mysql_db.NewPrivilegeSetWithAllPrivileges()

// enginePrivilegesIter reads an information_schema table, whose reader
// runs when rows are first asked for.
type enginePrivilegesIter struct{ sql.RowIter }

func (it *enginePrivilegesIter) Next(ctx *sql.Context) (r sql.Row, err error) {
	err = withEnginePrivileges(ctx, func() error {
		r, err = it.RowIter.Next(ctx)
		return err
	})
	return r, err
}

// rowFilter keeps a row (possibly rewritten) or drops it.
type rowFilter func(sql.Row) (sql.Row, bool)

type filterIter struct {
	sql.RowIter
	keep rowFilter
}

func (it *filterIter) Next(ctx *sql.Context) (sql.Row, error) {
	for {
		r, err := it.RowIter.Next(ctx)
		if err != nil {
			return nil, err
		}
		if out, ok := it.keep(r); ok {
			return out, nil
		}
	}
}

func byColumn(i int, visible func(string) bool) rowFilter {
	return func(r sql.Row) (sql.Row, bool) {
		s, ok := str(r, i)
		return r, ok && visible(s)
	}
}

// str is a name-valued cell; a NULL or non-string cell names nothing, and a
// row that needs one is dropped.
func str(r sql.Row, i int) (string, bool) {
	if i < 0 || i >= len(r) {
		return "", false
	}
	s, ok := r[i].(string)
	return s, ok
}

// viewer answers, for one listing, which objects its session may see. It
// remembers its answers: a listing asks about the same database for each of
// its tables.
type viewer struct {
	s    *Server
	ctx  *sql.Context
	sess *privilege.Session
	all  bool // the server itself: no filtering
	// none: a context with no session (nothing is visible); the statement
	// is refused by the authorization anyway.
	none    bool
	dbs     map[string]bool
	tables  map[seenTable]bool
	allCols map[seenTable]bool
}

// seenTable is a table as the viewer remembers it, names in lower case as
// the privilege checks compare them.
type seenTable struct{ db, table string }

func (s *Server) viewer(ctx *sql.Context) *viewer {
	v := &viewer{s: s, ctx: ctx}
	if c := s.conn(ctx.Session.ID()); c != nil {
		v.sess = c.sess
	} else if ctx.Session.ID() == internalSession {
		v.all = true
	} else {
		v.none = true
	}
	return v
}

// allows is one privilege on an object (empty names for wider levels), from
// the stored grants of the account acted as AND the session's plugin.
func (v *viewer) allows(db, table, column string, p priv.Mask) bool {
	if v.none {
		return false
	}
	return v.sess.RequestVerification(db, table, column, p) == nil
}

// anyOf reports whether the session holds one of the privileges in m on the
// object. Each is asked on its own: the plugin judges single privileges.
func (v *viewer) anyOf(db, table, column string, m priv.Mask) bool {
	for m != 0 {
		p := m & -m
		if v.allows(db, table, column, p) {
			return true
		}
		m &^= p
	}
	return false
}

// The privileges that make an object visible, as MySQL's DB_ACLS,
// TABLE_ACLS and COL_ACLS (GRANT OPTION alone does not, as in
// privilege.Session.HasAnyPrivilege).
const (
	dbVisible     = priv.AllDB &^ priv.GrantOption
	tableVisible  = priv.AllTable &^ priv.GrantOption
	columnVisible = priv.AllColumn
)

// database: the global SHOW DATABASES privilege, or a database-level
// privilege (held on the database or globally), or a visible table in it.
func (v *viewer) database(db string) bool {
	if v.none {
		return false
	}
	if isInfoSchema(db) {
		return true
	}
	key := strings.ToLower(db)
	if r, ok := v.dbs[key]; ok {
		return r
	}
	// The stored grants alone are a quick, wider answer: without them no
	// plugin can make the database visible.
	r := v.sess.HasAnyPrivilege(db, "") &&
		(v.allows("", "", "", priv.ShowDB) || v.anyOf(db, "", "", dbVisible) || v.someTable(db))
	if v.dbs == nil {
		v.dbs = map[string]bool{}
	}
	v.dbs[key] = r
	return r
}

func (v *viewer) someTable(db string) bool {
	d, err := v.s.pro.Database(v.ctx, db)
	if err != nil {
		return false
	}
	names, err := d.GetTableNames(v.ctx)
	if err != nil {
		return false
	}
	if vd, ok := d.(sql.ViewDatabase); ok {
		views, err := vd.AllViews(v.ctx)
		if err != nil {
			return false
		}
		for _, vw := range views {
			names = append(names, vw.Name)
		}
	}
	for _, t := range names {
		if v.table(db, t) {
			return true
		}
	}
	return false
}

// table: a table-level privilege (held on the table or above), or a
// privilege on one of its columns.
func (v *viewer) table(db, table string) bool {
	if v.none {
		return false
	}
	if isInfoSchema(db) {
		return true
	}
	r := seenTable{strings.ToLower(db), strings.ToLower(table)}
	if ok, seen := v.tables[r]; seen {
		return ok
	}
	ok := v.sess.HasAnyPrivilege(db, table) && (v.anyOf(db, table, "", tableVisible) || v.someColumn(db, table))
	if v.tables == nil {
		v.tables = map[seenTable]bool{}
	}
	v.tables[r] = ok
	return ok
}

func (v *viewer) someColumn(db, table string) bool {
	if !v.sess.HasColumnGrants() {
		return false // then a column check is the table check just made
	}
	for _, c := range v.columnsOf(db, table) {
		if v.column(db, table, c) {
			return true
		}
	}
	return false
}

// columnsOf a base table; a view's columns are not looked into (a view is
// visible through grants on the view).
func (v *viewer) columnsOf(db, table string) []string {
	d, err := v.s.pro.Database(v.ctx, db)
	if err != nil {
		return nil
	}
	t, ok, err := d.GetTableInsensitive(v.ctx, table)
	if err != nil || !ok {
		return nil
	}
	var cols []string
	for _, c := range t.Schema() {
		cols = append(cols, c.Name)
	}
	return cols
}

// column: SELECT, INSERT, UPDATE or REFERENCES on the column, held on it or
// above (MySQL's COL_ACLS, as information_schema.COLUMNS and SHOW COLUMNS
// apply them).
func (v *viewer) column(db, table, column string) bool {
	if v.none {
		return false
	}
	if isInfoSchema(db) {
		return true
	}
	r := seenTable{strings.ToLower(db), strings.ToLower(table)}
	every, seen := v.allCols[r]
	if !seen {
		every = v.anyOf(db, table, "", columnVisible)
		if v.allCols == nil {
			v.allCols = map[seenTable]bool{}
		}
		v.allCols[r] = every
	}
	return every || v.sess.HasColumnGrants() && v.anyOf(db, table, column, columnVisible)
}

// tablesOf filters SHOW TABLES and SHOW TABLE STATUS, whose first column is
// a table (or view) of db.
func (v *viewer) tablesOf(db sql.Database) rowFilter {
	name := db.Name()
	return byColumn(0, func(t string) bool { return v.table(name, t) })
}

// processes filters the process list: with PROCESS every row, else the
// session's own, as MySQL has it: rows of connections logged in with the
// user name of the account acted as (MySQL compares the other thread's user
// with priv_user). Whose a row is comes from authplug's sessions, by
// connection ID, not from the row's USER, which the engine leaves at
// "unauthenticated user" until a connection selects a database (a name
// anyone could take); the USER shown is corrected the same way.
func (v *viewer) processes(idCol, userCol int) rowFilter {
	if v.none {
		return dropAll
	}
	all := v.allows("", "", "", priv.Process)
	self := v.sess.Account().User
	return func(r sql.Row) (sql.Row, bool) {
		var id uint64
		switch x := r[idCol].(type) {
		case uint64:
			id = x
		case int64:
			id = uint64(x)
		case uint32:
			id = uint64(x)
		default:
			return r, all
		}
		var c *conn
		if id <= math.MaxUint32 {
			c = v.s.conn(uint32(id))
		}
		if c == nil {
			return r, all
		}
		if !all && c.sess.User() != self {
			return nil, false
		}
		if u, ok := str(r, userCol); !ok || u != c.sess.User() {
			r = r.Copy()
			r[userCol] = c.sess.User()
		}
		return r, true
	}
}

// tableOfShow is the table a SHOW COLUMNS, SHOW INDEX or SHOW CREATE
// TABLE/VIEW reads: a resolved table, or a view (a subquery alias, whose
// columns name their database).
func tableOfShow(ctx *sql.Context, child sql.Node) (db, table string, ok bool) {
	switch t := child.(type) {
	case *plan.ResolvedTable:
		if t.SqlDatabase == nil {
			return "", "", false
		}
		return t.SqlDatabase.Name(), t.Name(), true
	case *plan.SubqueryAlias:
		db := ctx.GetCurrentDatabase()
		if s := t.Schema(); len(s) > 0 && s[0].DatabaseSource != "" {
			db = s[0].DatabaseSource
		}
		return db, t.Name(), true
	}
	return "", "", false
}

// showCreate is MySQL's rule for SHOW CREATE TABLE: a privilege on the
// table as a whole (held on it or above; a column grant is not enough), and
// for a view SHOW VIEW and SELECT, as SHOW CREATE VIEW needs. Else 1142.
// The authorization refuses these before they are planned; this holds the
// rule where the plan runs.
func (v *viewer) showCreate(ctx *sql.Context, n *plan.ShowCreateTable) error {
	db, table, ok := tableOfShow(ctx, n.Child)
	if ok && isInfoSchema(db) {
		return nil
	}
	if ok && !v.none {
		if n.IsView && v.allows(db, table, "", priv.ShowView) && v.allows(db, table, "", priv.Select) {
			return nil
		}
		if !n.IsView && v.sess.HasAnyPrivilege(db, table) && v.anyOf(db, table, "", tableVisible) {
			return nil
		}
	}
	return v.showDenied("SHOW", ctx, n.Child, table, ok)
}

// showColumnsAllowed is MySQL's rule for SHOW COLUMNS (DESCRIBE) and SHOW
// INDEX: SELECT on the table (held on it or above), or a grant on the table
// itself, or a privilege on one of its columns. A privilege on the whole
// database other than SELECT (ALTER, INDEX, ...) is not enough, as in MySQL.
// Else 1142.
func (v *viewer) showColumnsAllowed(ctx *sql.Context, child sql.Node) error {
	db, table, ok := tableOfShow(ctx, child)
	if ok && isInfoSchema(db) {
		return nil
	}
	if ok && !v.none && v.sess.HasAnyPrivilege(db, table) &&
		(v.allows(db, table, "", priv.Select) || v.tableGrant(db, table) || v.someColumn(db, table)) {
		return nil
	}
	return v.showDenied("SELECT", ctx, child, table, ok)
}

// tableGrant reports whether a privilege is held on the table itself: one
// the table allows and its database does not.
func (v *viewer) tableGrant(db, table string) bool {
	for m := tableVisible; m != 0; {
		p := m & -m
		if v.allows(db, table, "", p) && !v.allows(db, "", "", p) {
			return true
		}
		m &^= p
	}
	return false
}

func (v *viewer) showDenied(command string, ctx *sql.Context, child sql.Node, table string, named bool) error {
	if !named {
		table = child.String()
	}
	user, host := "", ""
	if v.sess != nil {
		a := v.sess.Account()
		user, host = a.User, a.Host
		if _, acting := v.sess.Impersonating(); !acting {
			user, host = v.sess.User(), v.sess.ClientHost()
		}
	}
	return mysqlerr.TableAccessDenied(command, user, host, table)
}

// showColumns lists only the columns the session holds a privilege on
// (column 0 is the column's name), as SHOW COLUMNS and DESCRIBE do in MySQL.
func (v *viewer) showColumns(ctx *sql.Context, n *plan.ShowColumns) (rowFilter, error) {
	if err := v.showColumnsAllowed(ctx, n.Child); err != nil {
		return nil, err
	}
	db, table, _ := tableOfShow(ctx, n.Child)
	return byColumn(0, func(c string) bool { return v.column(db, table, c) }), nil
}

// createLike is MySQL 8's rule for CREATE TABLE ... LIKE: SELECT on the
// original, besides CREATE on the new table (which the authorization
// checked while planning). The engine's plan keeps no trace of the
// original, so the statement is read again. A routine's statements are
// checked when the routine is called (routineLike): the engine runs them
// with no statement text, which a client's statement always has.
func (m metadata) createLike(ctx *sql.Context, v *viewer) error {
	if ctx.IsInterpreted() || strings.TrimSpace(ctx.Query()) == "" {
		return nil
	}
	stmt, err := m.statement(ctx)
	if err != nil {
		// The engine read this statement to plan it; if it cannot be read
		// again, the original cannot be checked and the statement is
		// refused.
		return mysqlerr.Errorf(mysqlerr.ErSpecificAccess, "CREATE TABLE could not be authorized: %v", err)
	}
	ddl, ok := stmt.(*ast.DDL)
	if !ok || ddl.OptLike == nil {
		return nil
	}
	for _, src := range ddl.OptLike.LikeTables {
		db := src.DbQualifier.String()
		if db == "" {
			db = ctx.GetCurrentDatabase()
		}
		if isInfoSchema(db) {
			continue
		}
		if v.none {
			return mysqlerr.TableAccessDenied("SELECT", "", "", src.Name.String())
		}
		if err := v.sess.RequestVerification(db, src.Name.String(), "", priv.Select); err != nil {
			return err
		}
	}
	return nil
}

// routineLike checks, when a procedure is called, every CREATE TABLE ...
// LIKE in its body: SELECT on each original, for whoever the body runs as
// (its definer, or the caller for SQL SECURITY INVOKER). Every one is
// checked, including those in branches the call may not take: stricter
// than MySQL, never looser.
func (m metadata) routineLike(ctx *sql.Context, c *plan.Call) error {
	if c.Procedure == nil || c.Procedure.CreateProcedureString == "" {
		return nil
	}
	stmt, _, err := ast.ParseOneWithOptions(ctx, c.Procedure.CreateProcedureString, sql.LoadSqlMode(ctx).ParserOptions())
	if err != nil {
		return mysqlerr.Errorf(mysqlerr.ErSpecificAccess, "CALL could not be authorized: %v", err)
	}
	sources := likeSources(stmt)
	if len(sources) == 0 {
		return nil
	}
	db := ""
	if d := c.Database(); d != nil {
		db = d.Name()
	}
	rec, ok := m.s.definers.lookup(kindRoutine, db, c.Name)
	if !ok {
		return errNoDefiner(kindRoutine, db, c.Name)
	}
	cn := m.s.conn(ctx.Session.ID())
	for _, src := range sources {
		sdb := src.DbQualifier.String()
		if sdb == "" {
			sdb = db // a routine's statements run in its database
		}
		if isInfoSchema(sdb) {
			continue
		}
		var err error
		switch {
		case !rec.invoker:
			err = m.s.mgr.RequestVerificationWithUser(rec.account, sdb, src.Name.String(), "", priv.Select)
		case cn != nil:
			err = cn.sess.RequestVerification(sdb, src.Name.String(), "", priv.Select)
		default:
			err = mysqlerr.TableAccessDenied("SELECT", "", "", src.Name.String())
		}
		if err != nil {
			return err
		}
	}
	return nil
}

// likeSources finds the originals of every CREATE TABLE ... LIKE in a
// statement, routine bodies included (vitess' Walk does not enter them).
func likeSources(stmt ast.Statement) []ast.TableName {
	var out []ast.TableName
	seen := map[uintptr]bool{}
	var visit func(v reflect.Value)
	visit = func(v reflect.Value) {
		switch v.Kind() {
		case reflect.Interface:
			if !v.IsNil() {
				visit(v.Elem())
			}
		case reflect.Pointer:
			if v.IsNil() || seen[v.Pointer()] {
				return
			}
			seen[v.Pointer()] = true
			if v.CanInterface() {
				if d, ok := v.Interface().(*ast.DDL); ok && d.OptLike != nil {
					out = append(out, d.OptLike.LikeTables...)
				}
			}
			visit(v.Elem())
		case reflect.Struct:
			for i := 0; i < v.NumField(); i++ {
				visit(v.Field(i))
			}
		case reflect.Slice, reflect.Array:
			for i := 0; i < v.Len(); i++ {
				visit(v.Index(i))
			}
		}
	}
	visit(reflect.ValueOf(stmt))
	return out
}

// statement is the statement the context runs: its text, or for EXECUTE
// the statement that was prepared.
func (m metadata) statement(ctx *sql.Context) (ast.Statement, error) {
	stmt, _, err := ast.ParseOneWithOptions(ctx, ctx.Query(), sql.LoadSqlMode(ctx).ParserOptions())
	if err != nil {
		return nil, err
	}
	if ex, ok := stmt.(*ast.Execute); ok {
		if prepared, ok := m.s.engine.PreparedDataCache.GetCachedStmt(ctx.Session.ID(), ex.Name); ok {
			return prepared, nil
		}
	}
	return stmt, nil
}

// isRule says how the rows of one information_schema table are filtered:
// which of its columns name the object a row describes, and what makes the
// object visible.
type isRule struct {
	kind isKind
	cols []string // the columns the kind reads, in the order it reads them
}

type isKind uint8

const (
	isAll         isKind = iota // no objects: every row
	isHidden                    // the engine's own grant tables, which authplug does not use
	isProcess                   // PROCESS, as MySQL asks for the INNODB_* tables
	isDB                        // schema
	isTable                     // schema, table
	isColumn                    // schema, table, column
	isTrigger                   // schema, table: TRIGGER on the table
	isEvent                     // schema: EVENT on the database
	isRoutine                   // schema: a routine privilege on the database
	isView                      // schema, view, definition: the definition needs SHOW VIEW and SELECT
	isTwoTables                 // schema, table, schema, table: a view and a table it uses
	isCheck                     // schema, constraint name: the table the check belongs to
	isProcessList               // connection id, user: own rows, or every row with PROCESS
	isGrantee                   // made from authplug's store (privilegeRows), not filtered
)

// infoSchemaRules classifies every information_schema table of the engine
// (TestInformationSchemaClassified fails for one that is not). A table that
// is not listed shows no rows to a session.
var infoSchemaRules = func() map[string]isRule {
	r := map[string]isRule{}
	set := func(rule isRule, names ...string) {
		for _, n := range names {
			r[n] = rule
		}
	}
	set(isRule{kind: isAll}, "character_sets", "collations", "collation_character_set_applicability",
		"engines", "keywords", "plugins", "resource_groups", "st_spatial_reference_systems",
		"st_units_of_measure", "optimizer_trace", "profiling", "tablespaces", "tablespaces_extensions")
	set(isRule{kind: isHidden}, "administrable_role_authorizations", "applicable_roles", "enabled_roles",
		"role_column_grants", "role_routine_grants", "role_table_grants", "user_attributes")
	set(isRule{kind: isGrantee}, "column_privileges", "schema_privileges", "table_privileges", "user_privileges")
	set(isRule{kind: isDB, cols: []string{"SCHEMA_NAME"}}, "schemata", "schemata_extensions")
	set(isRule{kind: isTable, cols: []string{"TABLE_SCHEMA", "TABLE_NAME"}},
		"tables", "tables_extensions", "statistics", "key_column_usage", "table_constraints",
		"partitions", "files")
	set(isRule{kind: isTable, cols: []string{"CONSTRAINT_SCHEMA", "TABLE_NAME"}},
		"referential_constraints", "table_constraints_extensions")
	set(isRule{kind: isColumn, cols: []string{"TABLE_SCHEMA", "TABLE_NAME", "COLUMN_NAME"}},
		"columns", "columns_extensions", "st_geometry_columns")
	set(isRule{kind: isColumn, cols: []string{"SCHEMA_NAME", "TABLE_NAME", "COLUMN_NAME"}}, "column_statistics")
	set(isRule{kind: isTrigger, cols: []string{"EVENT_OBJECT_SCHEMA", "EVENT_OBJECT_TABLE"}}, "triggers")
	set(isRule{kind: isEvent, cols: []string{"EVENT_SCHEMA"}}, "events")
	set(isRule{kind: isRoutine, cols: []string{"ROUTINE_SCHEMA"}}, "routines")
	set(isRule{kind: isRoutine, cols: []string{"SPECIFIC_SCHEMA"}}, "parameters")
	set(isRule{kind: isView, cols: []string{"TABLE_SCHEMA", "TABLE_NAME", "VIEW_DEFINITION"}}, "views")
	set(isRule{kind: isTable, cols: []string{"TABLE_SCHEMA", "TABLE_NAME"}}, "view_routine_usage")
	set(isRule{kind: isTwoTables, cols: []string{"VIEW_SCHEMA", "VIEW_NAME", "TABLE_SCHEMA", "TABLE_NAME"}}, "view_table_usage")
	set(isRule{kind: isCheck, cols: []string{"CONSTRAINT_SCHEMA", "CONSTRAINT_NAME"}}, "check_constraints")
	set(isRule{kind: isProcessList, cols: []string{"ID", "USER"}}, "processlist")
	for _, n := range []string{
		"innodb_buffer_page", "innodb_buffer_page_lru", "innodb_buffer_pool_stats", "innodb_cached_indexes",
		"innodb_cmp", "innodb_cmp_per_index", "innodb_cmp_per_index_reset", "innodb_cmp_reset",
		"innodb_cmpmem", "innodb_cmpmem_reset", "innodb_columns", "innodb_datafiles", "innodb_fields",
		"innodb_foreign", "innodb_foreign_cols", "innodb_ft_being_deleted", "innodb_ft_config",
		"innodb_ft_default_stopword", "innodb_ft_deleted", "innodb_ft_index_cache", "innodb_ft_index_table",
		"innodb_indexes", "innodb_metrics", "innodb_session_temp_tablespaces", "innodb_tables",
		"innodb_tablespaces", "innodb_tablespaces_brief", "innodb_tablestats", "innodb_temp_table_info",
		"innodb_trx", "innodb_virtual",
	} {
		r[n] = isRule{kind: isProcess}
	}
	return r
}()

// columnIndexes finds the rule's columns in the table's schema; ok is false
// if one is missing (an engine whose table differs from the one classified).
func (rule isRule) columnIndexes(sch sql.Schema) (idx []int, ok bool) {
	for _, name := range rule.cols {
		i := sch.IndexOfColName(name)
		if i < 0 {
			return nil, false
		}
		idx = append(idx, i)
	}
	return idx, true
}

func dropAll(sql.Row) (sql.Row, bool)   { return nil, false }
func keepAll(r sql.Row) (sql.Row, bool) { return r, true }

// infoSchema is the row filter of one information_schema table.
func (v *viewer) infoSchema(name string, sch sql.Schema) rowFilter {
	rule, known := infoSchemaRules[strings.ToLower(name)]
	if !known || v.none {
		return dropAll
	}
	idx, ok := rule.columnIndexes(sch)
	if !ok {
		return dropAll
	}
	// cell reads the rule's k-th column.
	cell := func(r sql.Row, k int) (string, bool) { return str(r, idx[k]) }
	test := func(f func(r sql.Row) bool) rowFilter {
		return func(r sql.Row) (sql.Row, bool) { return r, f(r) }
	}
	switch rule.kind {
	case isAll:
		return keepAll
	case isHidden:
		return dropAll
	case isProcess:
		if v.allows("", "", "", priv.Process) {
			return keepAll
		}
		return dropAll
	case isProcessList:
		return v.processes(idx[0], idx[1])
	case isDB:
		return test(func(r sql.Row) bool {
			db, ok := cell(r, 0)
			return ok && v.database(db)
		})
	case isTable:
		return test(func(r sql.Row) bool {
			db, ok1 := cell(r, 0)
			t, ok2 := cell(r, 1)
			return ok1 && ok2 && v.table(db, t)
		})
	case isTwoTables:
		return test(func(r sql.Row) bool {
			vdb, ok1 := cell(r, 0)
			vw, ok2 := cell(r, 1)
			db, ok3 := cell(r, 2)
			t, ok4 := cell(r, 3)
			return ok1 && ok2 && ok3 && ok4 && v.table(vdb, vw) && v.table(db, t)
		})
	case isColumn:
		return test(func(r sql.Row) bool {
			db, ok1 := cell(r, 0)
			t, ok2 := cell(r, 1)
			c, ok3 := cell(r, 2)
			return ok1 && ok2 && ok3 && v.column(db, t, c)
		})
	case isTrigger:
		return test(func(r sql.Row) bool {
			db, ok1 := cell(r, 0)
			t, ok2 := cell(r, 1)
			return ok1 && ok2 && (isInfoSchema(db) || v.allows(db, t, "", priv.Trigger))
		})
	case isEvent:
		return test(func(r sql.Row) bool {
			db, ok := cell(r, 0)
			return ok && v.allows(db, "", "", priv.Event)
		})
	case isRoutine:
		return test(func(r sql.Row) bool {
			db, ok := cell(r, 0)
			return ok && v.routines(db)
		})
	case isView:
		return func(r sql.Row) (sql.Row, bool) {
			db, ok1 := cell(r, 0)
			vw, ok2 := cell(r, 1)
			if !ok1 || !ok2 || !v.table(db, vw) {
				return nil, false
			}
			// The definition is what SHOW CREATE VIEW shows, and needs
			// what it needs; the row itself only that the view is visible.
			if v.allows(db, vw, "", priv.ShowView) && v.allows(db, vw, "", priv.Select) {
				return r, true
			}
			out := r.Copy()
			out[idx[2]] = ""
			return out, true
		}
	case isCheck:
		owners := v.checkOwners()
		return test(func(r sql.Row) bool {
			db, ok1 := cell(r, 0)
			name, ok2 := cell(r, 1)
			tables := owners[checkKey{strings.ToLower(db), strings.ToLower(name)}]
			if !ok1 || !ok2 || len(tables) == 0 {
				return false
			}
			// A name shared by checks of several tables shows only if
			// every one of them is visible.
			for _, t := range tables {
				if !v.table(db, t) {
					return false
				}
			}
			return true
		})
	}
	return dropAll
}

// routines: MySQL shows a routine to an account with global SELECT, the
// SHOW_ROUTINE privilege, or EXECUTE, CREATE ROUTINE or ALTER ROUTINE on
// it. authplug grants routine privileges on databases, not routines.
func (v *viewer) routines(db string) bool {
	if v.none {
		return false
	}
	return v.allows("", "", "", priv.Select) || v.sess.RequestDynamicVerification("SHOW_ROUTINE", false) == nil ||
		v.anyOf(db, "", "", priv.Execute|priv.CreateRoutine|priv.AlterRoutine)
}

type checkKey struct{ db, name string }

// checkOwners maps each check constraint to the tables it belongs to:
// CHECK_CONSTRAINTS names no table.
func (v *viewer) checkOwners() map[checkKey][]string {
	out := map[checkKey][]string{}
	for _, d := range v.s.pro.AllDatabases(v.ctx) {
		names, err := d.GetTableNames(v.ctx)
		if err != nil {
			continue
		}
		for _, n := range names {
			t, ok, err := d.GetTableInsensitive(v.ctx, n)
			if err != nil || !ok {
				continue
			}
			ct, ok := t.(sql.CheckTable)
			if !ok {
				continue
			}
			checks, err := ct.GetChecks(v.ctx)
			if err != nil {
				continue
			}
			for _, c := range checks {
				k := checkKey{strings.ToLower(d.Name()), strings.ToLower(c.Name)}
				out[k] = append(out[k], t.Name())
			}
		}
	}
	return out
}

// The information_schema privilege tables (USER_PRIVILEGES,
// SCHEMA_PRIVILEGES, TABLE_PRIVILEGES, COLUMN_PRIVILEGES) are made from
// authplug's store: the engine fills them from its own grant tables, which
// authplug does not use. MySQL 8's rules: one row per privilege held
// directly (not through roles) at the table's level, GRANT OPTION shown as
// IS_GRANTABLE rather than as a row, an account with no global privilege
// shown with USAGE, and dynamic privileges in USER_PRIVILEGES. An account
// sees its own rows (the account acted as); SELECT on the mysql schema
// shows every account's.

// grantRow is one row of a privilege table, by column.
type grantRow struct {
	grantee, schema, table, column, privilege string
	grantable                                 bool
}

// privilegeRows makes the rows of one privilege table in the order of sch.
func (v *viewer) privilegeRows(table string, sch sql.Schema) []sql.Row {
	if v.none {
		return nil
	}
	snap := v.s.mgr.Snapshot()
	var accounts []privilege.AccountData
	if v.all || v.allows(mysqlSchemaName, "", "", priv.Select) {
		accounts = snap.Data().Accounts
	} else if ad, ok := snap.Account(v.sess.Account()); ok {
		accounts = []privilege.AccountData{ad}
	}
	var rows []sql.Row
	for _, ad := range accounts {
		for _, g := range grantRows(strings.ToLower(table), ad) {
			r := make(sql.Row, len(sch))
			for i, c := range sch {
				switch strings.ToUpper(c.Name) {
				case "GRANTEE":
					r[i] = g.grantee
				case "TABLE_CATALOG":
					r[i] = "def"
				case "TABLE_SCHEMA":
					r[i] = g.schema
				case "TABLE_NAME":
					r[i] = g.table
				case "COLUMN_NAME":
					r[i] = g.column
				case "PRIVILEGE_TYPE":
					r[i] = g.privilege
				case "IS_GRANTABLE":
					r[i] = "NO"
					if g.grantable {
						r[i] = "YES"
					}
				}
			}
			rows = append(rows, r)
		}
	}
	return rows
}

// grantRows are an account's rows of one privilege table.
func grantRows(table string, ad privilege.AccountData) []grantRow {
	grantee := ad.Account.String()
	var out []grantRow
	each := func(m priv.Mask, base grantRow) {
		base.grantee, base.grantable = grantee, m&priv.GrantOption != 0
		for _, name := range (m &^ priv.GrantOption).Names() {
			g := base
			g.privilege = name
			out = append(out, g)
		}
	}
	// A column's privileges are grantable with GRANT OPTION on its table.
	tableGrant := map[[2]string]priv.Mask{}
	for _, g := range ad.Grants {
		if g.Level() == priv.Table {
			tableGrant[[2]string{g.DB, g.Table}] = g.Privs
		}
	}
	switch table {
	case "user_privileges":
		var global priv.Mask
		for _, g := range ad.Grants {
			if g.Level() == priv.Global {
				global = g.Privs
			}
		}
		if global&^priv.GrantOption == 0 {
			out = append(out, grantRow{grantee: grantee, privilege: "USAGE", grantable: global&priv.GrantOption != 0})
		} else {
			each(global, grantRow{})
		}
		for _, d := range ad.Dynamic {
			out = append(out, grantRow{grantee: grantee, privilege: d.Name, grantable: d.WithGrant})
		}
	case "schema_privileges":
		for _, g := range ad.Grants {
			if g.Level() == priv.Database {
				each(g.Privs, grantRow{schema: g.DB})
			}
		}
	case "table_privileges":
		for _, g := range ad.Grants {
			if g.Level() == priv.Table {
				each(g.Privs, grantRow{schema: g.DB, table: g.Table})
			}
		}
	case "column_privileges":
		for _, g := range ad.Grants {
			if g.Level() == priv.Column {
				m := g.Privs&^priv.GrantOption | tableGrant[[2]string{g.DB, g.Table}]&priv.GrantOption
				each(m, grantRow{schema: g.DB, table: g.Table, column: g.Column})
			}
		}
	}
	return out
}
