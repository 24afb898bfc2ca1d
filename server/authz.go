package server

import (
	"fmt"
	"strings"

	"github.com/dolthub/go-mysql-server/sql"
	ast "github.com/dolthub/vitess/go/vt/sqlparser"

	"github.com/authplug/authplug/mysqlerr"
	"github.com/authplug/authplug/priv"
	"github.com/authplug/authplug/privilege"
)

// authzFactory replaces go-mysql-server's authorization: every privilege a
// statement needs, as the engine's planner finds it in the parse tree that
// will execute, is asked of the session's privilege.Session.
type authzFactory struct{ s *Server }

func (f authzFactory) CreateHandler(sql.Catalog) sql.AuthorizationHandler { return authz(f) }

type authz struct{ s *Server }

// queryState is the session found once per statement.
type queryState struct {
	sess *privilege.Session
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
		return queryState{sess: c.sess, conn: c}
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
	q := a.state(ctx, st)
	if q.err != nil || q.sess == nil {
		return q.err
	}
	switch info.AuthType {
	case ast.AuthType_IGNORE, ast.AuthType_SHOW:
		return nil
	case ast.AuthType_VISIBLE:
		return a.visible(ctx, q.sess, info)
	case ast.AuthType_REPLICATION:
		return toSQLError(q.sess.RequestDynamicVerification("REPLICATION_SLAVE_ADMIN", false))
	case ast.AuthType_RENAME:
		return a.rename(ctx, q.sess, info)
	case ast.AuthType_CALL:
		// TargetNames: database, procedure, parameter count. authplug has no
		// routine-level grants: EXECUTE on the database decides.
		db, proc := a.db(ctx, first(info.TargetNames)), ""
		if len(info.TargetNames) > 1 {
			proc = info.TargetNames[1]
		}
		if q.sess.RequestVerification(db, "", "", priv.Execute) != nil {
			return toSQLError(mysqlerr.New(1370, "42000", "execute command denied to user '%s'@'%s' for routine '%s.%s'",
				q.sess.User(), q.sess.Host(), db, proc))
		}
		return nil
	case ast.AuthType_SHOW_CREATE_PROCEDURE:
		db := a.db(ctx, first(info.TargetNames))
		if q.sess.RequestVerification("", "", "", priv.Select) == nil || q.sess.HasAnyPrivilege(db, "") {
			return nil
		}
		return toSQLError(mysqlerr.DBAccessDenied(q.sess.User(), q.sess.Host(), db))
	}
	p, ok := staticPrivs[info.AuthType]
	if !ok {
		// Account statements are executed by authplug before the engine
		// sees them; one that reaches the engine took a path we do not
		// handle, and is refused rather than run against the engine's own
		// (unused) grant tables.
		return toSQLError(mysqlerr.New(mysqlerr.ErSpecificAccess, "42000",
			"%s is not supported in this form by authplug", strings.ReplaceAll(info.AuthType, "_", " ")))
	}
	return a.check(ctx, q, info, p)
}

// check asks for p on every target the engine named.
func (a authz) check(ctx *sql.Context, q queryState, info ast.AuthInformation, p priv.Mask) error {
	sess, names := q.sess, info.TargetNames
	var err error
	switch info.TargetType {
	case ast.AuthTargetType_Global, ast.AuthTargetType_Ignore, ast.AuthTargetType_TODO:
		// The engine names no object: the privilege is needed globally
		// (REPLICATION CLIENT and the like), and anything unnamed fails closed.
		err = sess.RequestVerification("", "", "", p)
	case ast.AuthTargetType_DatabaseIdentifiers:
		for _, db := range names {
			if err == nil && !isInfoSchema(db) {
				err = sess.RequestVerification(a.db(ctx, db), "", "", p)
			}
		}
	case ast.AuthTargetType_SingleTableIdentifier, ast.AuthTargetType_MultipleTableIdentifiers:
		for i := 0; i+1 < len(names) && err == nil; i += 2 {
			if !isInfoSchema(names[i]) {
				err = a.tableCheck(q, a.db(ctx, names[i]), names[i+1], p)
			}
		}
	case ast.AuthTargetType_TableColumn:
		if len(names) == 3 && !isInfoSchema(names[0]) {
			err = sess.RequestVerification(a.db(ctx, names[0]), names[1], names[2], p)
		}
	default:
		return fmt.Errorf("authplug: unknown authorization target %q", info.TargetType)
	}
	return toSQLError(err)
}

// tableCheck checks each privilege of p on its own, so that the error names
// the one that is missing (REPLACE needs INSERT and DELETE). A privilege the
// session holds only on columns of the table is settled by the column check
// (columns.go) or refused.
func (a authz) tableCheck(q queryState, db, table string, p priv.Mask) error {
	for _, one := range splitMask(p) {
		err := q.sess.RequestVerification(db, table, "", one)
		if err == nil {
			continue
		}
		if one&priv.AllColumn != 0 && q.conn != nil && q.conn.columns.admit(columnCheck{db: strings.ToLower(db), table: strings.ToLower(table), p: one}) {
			continue
		}
		return err
	}
	return nil
}

func splitMask(p priv.Mask) []priv.Mask {
	var out []priv.Mask
	for b := priv.Mask(1); b != 0 && b <= p; b <<= 1 {
		if p&b != 0 {
			out = append(out, b)
		}
	}
	return out
}

// visible is MySQL's rule for USE and SHOW: any privilege on the object.
func (a authz) visible(ctx *sql.Context, sess *privilege.Session, info ast.AuthInformation) error {
	names := info.TargetNames
	switch info.TargetType {
	case ast.AuthTargetType_DatabaseIdentifiers:
		for _, db := range names {
			if db = a.db(ctx, db); !isInfoSchema(db) && !sess.HasAnyPrivilege(db, "") {
				return toSQLError(mysqlerr.DBAccessDenied(sess.User(), sess.Host(), db))
			}
		}
	case ast.AuthTargetType_SingleTableIdentifier, ast.AuthTargetType_MultipleTableIdentifiers:
		for i := 0; i+1 < len(names); i += 2 {
			db := a.db(ctx, names[i])
			if !isInfoSchema(db) && !sess.HasAnyPrivilege(db, names[i+1]) {
				return toSQLError(mysqlerr.TableAccessDenied("SHOW", sess.User(), sess.Host(), names[i+1]))
			}
		}
	}
	return nil
}

// rename is RENAME TABLE: ALTER and DROP on the old name, CREATE and INSERT
// on the new one, as in MySQL.
func (a authz) rename(ctx *sql.Context, sess *privilege.Session, info ast.AuthInformation) error {
	n := info.TargetNames
	for i := 0; i+3 < len(n); i += 4 {
		if err := a.tableCheck(queryState{sess: sess}, a.db(ctx, n[i]), n[i+1], priv.Alter|priv.Drop); err != nil {
			return toSQLError(err)
		}
		if err := a.tableCheck(queryState{sess: sess}, a.db(ctx, n[i+2]), n[i+3], priv.Create|priv.Insert); err != nil {
			return toSQLError(err)
		}
	}
	return nil
}

func (a authz) HandleAuthNode(ctx *sql.Context, st sql.AuthorizationQueryState, node sql.AuthorizationCheckerNode) error {
	q := a.state(ctx, st)
	if q.err != nil || q.sess == nil {
		return q.err
	}
	if !node.CheckAuth(ctx, checker{a: a, sess: q.sess}) {
		return toSQLError(mysqlerr.SpecificAccessDenied(node.String()))
	}
	return nil
}

func (a authz) CheckDatabase(ctx *sql.Context, st sql.AuthorizationQueryState, db string) error {
	q := a.state(ctx, st)
	if q.err != nil || q.sess == nil {
		return q.err
	}
	if db = a.db(ctx, db); isInfoSchema(db) || q.sess.HasAnyPrivilege(db, "") {
		return nil
	}
	return toSQLError(mysqlerr.DBAccessDenied(q.sess.User(), q.sess.Host(), db))
}

func (a authz) CheckSchema(ctx *sql.Context, st sql.AuthorizationQueryState, db, _ string) error {
	return a.CheckDatabase(ctx, st, db)
}

func (a authz) CheckTable(ctx *sql.Context, st sql.AuthorizationQueryState, db, _, table string) error {
	q := a.state(ctx, st)
	if q.err != nil || q.sess == nil {
		return q.err
	}
	if db = a.db(ctx, db); isInfoSchema(db) || q.sess.HasAnyPrivilege(db, table) {
		return nil
	}
	return toSQLError(mysqlerr.TableAccessDenied("SELECT", q.sess.User(), q.sess.Host(), table))
}

func (a authz) db(ctx *sql.Context, db string) string {
	if db == "" {
		return ctx.GetCurrentDatabase()
	}
	return db
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
	a    authz
	sess *privilege.Session
}

func (c checker) UserHasPrivileges(ctx *sql.Context, ops ...sql.PrivilegedOperation) bool {
	for _, op := range ops {
		for _, sp := range op.StaticPrivileges {
			p, ok := priv.Parse(sp.String())
			if !ok || c.sess.RequestVerification(c.a.db(ctx, op.Database), op.Table, op.Column, p) != nil {
				return false
			}
		}
		for _, d := range op.DynamicPrivileges {
			if c.sess.RequestDynamicVerification(d, false) != nil {
				return false
			}
		}
	}
	return true
}

func (c checker) RoutineAdminCheck(ctx *sql.Context, ops ...sql.PrivilegedOperation) bool {
	return c.UserHasPrivileges(ctx, ops...)
}
