package server

import (
	"fmt"
	"strings"

	"github.com/dolthub/go-mysql-server/sql"
	ast "github.com/dolthub/vitess/go/vt/sqlparser"

	"github.com/authplug/authplug/mysqlerr"
	"github.com/authplug/authplug/priv"
)

// authzFactory replaces go-mysql-server's authorization: every privilege a
// statement needs, as the engine's planner finds it in the parse tree that
// will execute, is asked of the session's privilege.Session.
type authzFactory struct{ s *Server }

func (f authzFactory) CreateHandler(sql.Catalog) sql.AuthorizationHandler { return authz(f) }

type authz struct{ s *Server }

// queryState is who a statement runs as, found once per statement: the
// session, or the definer of the routine whose body is being planned.
type queryState struct {
	who  principal
	conn *conn
	err  error
}

func (queryState) AuthorizationQueryStateImpl() {}
func (q queryState) Error() error               { return q.err }

// internalSession is the ID of contexts the host makes itself (setup), which
// have no connection; connections are numbered from 1.
const internalSession = 0

func (a authz) NewQueryState(ctx *sql.Context) sql.AuthorizationQueryState {
	if c := a.s.conn(ctx.Session.ID()); c != nil {
		return queryState{who: c.plan.current(c), conn: c}
	}
	if ctx.Session.ID() == internalSession {
		return queryState{}
	}
	return queryState{err: toSQLError(mysqlerr.AccessDenied(ctx.Session.Client().User, ctx.Session.Client().Address, false))}
}

func (a authz) state(ctx *sql.Context, st sql.AuthorizationQueryState) queryState {
	if q, ok := st.(queryState); ok {
		return q
	}
	return a.NewQueryState(ctx).(queryState)
}

// staticPrivs maps the engine's statement kinds to the privileges they need.
var staticPrivs = map[string]priv.Mask{
	ast.AuthType_ALTER:              priv.Alter,
	ast.AuthType_ALTER_ROUTINE:      priv.AlterRoutine,
	ast.AuthType_CREATE:             priv.Create,
	ast.AuthType_CREATE_ROUTINE:     priv.CreateRoutine,
	ast.AuthType_CREATE_TEMP:        priv.CreateTmpTable,
	ast.AuthType_CREATE_VIEW:        priv.CreateView,
	ast.AuthType_DELETE:             priv.Delete,
	ast.AuthType_DROP:               priv.Drop,
	ast.AuthType_EVENT:              priv.Event,
	ast.AuthType_FILE:               priv.File,
	ast.AuthType_FOREIGN_KEY:        priv.References,
	ast.AuthType_INDEX:              priv.Index,
	ast.AuthType_INSERT:             priv.Insert,
	ast.AuthType_LOCK:               priv.Select | priv.LockTables,
	ast.AuthType_PROCESS:            priv.Process,
	ast.AuthType_RELOAD:             priv.Reload,
	ast.AuthType_REPLACE:            priv.Insert | priv.Delete,
	ast.AuthType_REPLICATION_CLIENT: priv.ReplClient,
	ast.AuthType_SELECT:             priv.Select,
	ast.AuthType_SUPER:              priv.Super,
	ast.AuthType_TRIGGER:            priv.Trigger,
	ast.AuthType_UPDATE:             priv.Update,
}

func (a authz) HandleAuth(ctx *sql.Context, st sql.AuthorizationQueryState, info ast.AuthInformation) error {
	return toSQLError(a.handleAuth(ctx, st, info))
}

func (a authz) handleAuth(ctx *sql.Context, st sql.AuthorizationQueryState, info ast.AuthInformation) error {
	q := a.state(ctx, st)
	if q.err != nil || q.who == nil {
		return q.err
	}
	switch info.AuthType {
	case ast.AuthType_IGNORE, ast.AuthType_SHOW:
		return nil
	case ast.AuthType_PROCESS, ast.AuthType_SUPER, ast.AuthType_FILE, ast.AuthType_CREATE_VIEW, ast.AuthType_TRIGGER:
		// SHOW PROCESSLIST (everyone sees their own rows), KILL (everyone
		// may kill their own connections) and LOAD DATA (LOCAL needs no
		// FILE): the plan authorizer knows which case it is. CREATE VIEW:
		// the engine asks it of the current database whenever it reads a
		// view's definition; the plan authorizer asks it of the view's
		// database when one is created. TRIGGER: the engine asks it of
		// every table for SHOW TRIGGERS, whose rows are filtered instead.
		return nil
	case ast.AuthType_VISIBLE:
		return a.visible(ctx, q.who, info)
	case ast.AuthType_REPLICATION:
		return q.who.verifyDynamic("REPLICATION_SLAVE_ADMIN")
	case ast.AuthType_RENAME:
		return a.rename(ctx, q, info)
	case ast.AuthType_CALL:
		// TargetNames: database, procedure, parameter count. authplug has no
		// routine-level grants: EXECUTE on the database decides.
		db, proc := a.db(ctx, first(info.TargetNames)), ""
		if len(info.TargetNames) > 1 {
			proc = info.TargetNames[1]
		}
		return executeCheck(q.who, db, proc)
	case ast.AuthType_SHOW_CREATE_PROCEDURE:
		db := a.db(ctx, first(info.TargetNames))
		if q.who.verify("", "", "", priv.Select) == nil || q.who.anyOn(db, "") {
			return nil
		}
		acct := q.who.named()
		return mysqlerr.DBAccessDenied(acct.User, acct.Host, db)
	}
	p, ok := staticPrivs[info.AuthType]
	if !ok {
		// Account statements are executed by authplug before the engine
		// sees them; one that reaches the engine took a path we do not
		// handle, and is refused rather than run against the engine's own
		// (unused) grant tables.
		return mysqlerr.Errorf(mysqlerr.ErSpecificAccess,
			"%s is not supported in this form by authplug", strings.ReplaceAll(info.AuthType, "_", " "))
	}
	return a.check(ctx, q, info, p)
}

// check asks for p on every target the engine named.
func (a authz) check(ctx *sql.Context, q queryState, info ast.AuthInformation, p priv.Mask) error {
	who, names := q.who, info.TargetNames
	var err error
	deferrable := false
	var denied tableRef
	var onColumns *columnRefusal
	switch info.TargetType {
	case ast.AuthTargetType_Global, ast.AuthTargetType_Ignore, ast.AuthTargetType_TODO:
		if info.TargetType == ast.AuthTargetType_Global && (p == priv.Create || p == priv.Drop) {
			// CREATE/DROP DATABASE: the parser names no database; the plan
			// authorizer asks for the privilege on the one named.
			return nil
		}
		// The engine names no object: the privilege is needed globally
		// (REPLICATION CLIENT and the like), and anything unnamed fails closed.
		return who.verify("", "", "", p)
	case ast.AuthTargetType_DatabaseIdentifiers:
		for _, db := range names {
			if err == nil && !isInfoSchema(db) {
				err = who.verify(a.db(ctx, db), "", "", p)
			}
		}
	case ast.AuthTargetType_SingleTableIdentifier, ast.AuthTargetType_MultipleTableIdentifiers:
		for i := 0; i+1 < len(names) && err == nil; i += 2 {
			if isInfoSchema(names[i]) {
				continue
			}
			db, table := a.db(ctx, names[i]), names[i+1]
			if err = a.tableCheck(q, db, table, p); err != nil {
				// Columns may be granted (and the table is then no
				// secret to the session).
				columns := p&^priv.AllColumn == 0 && who.columnGrants() && who.anyOn(db, table)
				deferrable = p == priv.Select || columns
				if p == priv.Select {
					denied = ref(db, table)
				}
				if columns && who.columnsAllow(db, table, p) {
					onColumns = &columnRefusal{who: who, db: db, table: table, p: p}
				}
			}
		}
	case ast.AuthTargetType_TableColumn:
		if len(names) == 3 && !isInfoSchema(names[0]) {
			err = who.verify(a.db(ctx, names[0]), names[1], names[2], p)
		}
	default:
		return fmt.Errorf("authplug: unknown authorization target %q", info.TargetType)
	}
	if err != nil && q.conn != nil && (deferrable || isShow(ctx.Query())) {
		// The engine asks while it binds names, before it knows what they
		// are: a common table expression, a column the grants may cover,
		// a view's definition read again (which runs as its definer), or,
		// for SHOW, the stored text of every trigger read again. The
		// plan authorizer decides on what will run (SHOW statements are
		// classified there one by one). A SELECT refusal on a table
		// name must be settled by the plan (settle.go); any refusal is
		// the answer for a name that turns out not to exist, so that
		// missing and forbidden objects look alike (planState.explain).
		q.conn.plan.defer_(deferral{ref: denied, err: err, columns: onColumns, query: ctx.Query(), db: ctx.GetCurrentDatabase()})
		return nil
	}
	return err
}

// tableCheck checks each privilege of p on its own, so that the error names
// the one that is missing (REPLACE needs INSERT and DELETE).
func (a authz) tableCheck(q queryState, db, table string, p priv.Mask) error {
	return verifyEach(q.who, db, table, p)
}

// executeCheck is EXECUTE on a routine's database (authplug has no
// routine-level grants), refused with 1370 as MySQL does.
func executeCheck(who principal, db, proc string) error {
	if who.verify(db, "", "", priv.Execute) == nil {
		return nil
	}
	a := who.named()
	return mysqlerr.Errorf(mysqlerr.ErProcAccessDenied, "execute command denied to user '%s'@'%s' for routine '%s.%s'",
		a.User, a.Host, db, proc)
}

// visible is MySQL's rule for USE and SHOW: any privilege on the object.
func (a authz) visible(ctx *sql.Context, who principal, info ast.AuthInformation) error {
	names := info.TargetNames
	acct := who.named()
	switch info.TargetType {
	case ast.AuthTargetType_DatabaseIdentifiers:
		for _, db := range names {
			if db = a.db(ctx, db); !isInfoSchema(db) && !who.anyOn(db, "") {
				return mysqlerr.DBAccessDenied(acct.User, acct.Host, db)
			}
		}
	case ast.AuthTargetType_SingleTableIdentifier, ast.AuthTargetType_MultipleTableIdentifiers:
		for i := 0; i+1 < len(names); i += 2 {
			db := a.db(ctx, names[i])
			if !isInfoSchema(db) && !who.anyOn(db, names[i+1]) {
				return mysqlerr.TableAccessDenied("SHOW", acct.User, acct.Host, names[i+1])
			}
		}
	}
	return nil
}

// rename is RENAME TABLE: ALTER and DROP on the old name, CREATE and INSERT
// on the new one, as in MySQL.
func (a authz) rename(ctx *sql.Context, q queryState, info ast.AuthInformation) error {
	n := info.TargetNames
	for i := 0; i+3 < len(n); i += 4 {
		if err := a.tableCheck(q, a.db(ctx, n[i]), n[i+1], priv.Alter|priv.Drop); err != nil {
			return err
		}
		if err := a.tableCheck(q, a.db(ctx, n[i+2]), n[i+3], priv.Create|priv.Insert); err != nil {
			return err
		}
	}
	return nil
}

func (a authz) HandleAuthNode(ctx *sql.Context, st sql.AuthorizationQueryState, node sql.AuthorizationCheckerNode) error {
	q := a.state(ctx, st)
	if q.err != nil || q.who == nil {
		return q.err
	}
	if !node.CheckAuth(ctx, checker{a: a, who: q.who}) {
		return toSQLError(mysqlerr.SpecificAccessDenied(node.String()))
	}
	return nil
}

func (a authz) CheckDatabase(ctx *sql.Context, st sql.AuthorizationQueryState, db string) error {
	q := a.state(ctx, st)
	if q.err != nil || q.who == nil {
		return q.err
	}
	if db = a.db(ctx, db); isInfoSchema(db) || q.who.anyOn(db, "") {
		return nil
	}
	acct := q.who.named()
	return toSQLError(mysqlerr.DBAccessDenied(acct.User, acct.Host, db))
}

func (a authz) CheckSchema(ctx *sql.Context, st sql.AuthorizationQueryState, db, _ string) error {
	return a.CheckDatabase(ctx, st, db)
}

func (a authz) CheckTable(ctx *sql.Context, st sql.AuthorizationQueryState, db, _, table string) error {
	q := a.state(ctx, st)
	if q.err != nil || q.who == nil {
		return q.err
	}
	if db = a.db(ctx, db); isInfoSchema(db) || q.who.anyOn(db, table) {
		return nil
	}
	acct := q.who.named()
	return toSQLError(mysqlerr.TableAccessDenied("SELECT", acct.User, acct.Host, table))
}

func (a authz) db(ctx *sql.Context, db string) string {
	if db == "" {
		return ctx.GetCurrentDatabase()
	}
	return db
}

// isShow reports whether a statement's text is a SHOW statement.
func isShow(query string) bool {
	q := strings.TrimLeft(query, " \t\r\n(")
	return len(q) >= 4 && strings.EqualFold(q[:4], "show")
}

func isInfoSchema(db string) bool { return strings.EqualFold(db, "information_schema") }

func first(s []string) string {
	if len(s) == 0 {
		return ""
	}
	return s[0]
}

// checker answers the engine's node-level checks (sql.PrivilegedOperationChecker).
type checker struct {
	a   authz
	who principal
}

func (c checker) UserHasPrivileges(ctx *sql.Context, ops ...sql.PrivilegedOperation) bool {
	for _, op := range ops {
		for _, sp := range op.StaticPrivileges {
			p, ok := priv.Parse(sp.String())
			if !ok || c.who.verify(c.a.db(ctx, op.Database), op.Table, op.Column, p) != nil {
				return false
			}
		}
		for _, d := range op.DynamicPrivileges {
			if c.who.verifyDynamic(d) != nil {
				return false
			}
		}
	}
	return true
}

func (c checker) RoutineAdminCheck(ctx *sql.Context, ops ...sql.PrivilegedOperation) bool {
	return c.UserHasPrivileges(ctx, ops...)
}
