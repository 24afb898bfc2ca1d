package server

import (
	"context"
	"strings"
	"sync"
	"sync/atomic"

	"github.com/dolthub/go-mysql-server/sql"
	"github.com/dolthub/vitess/go/mysql"
	"github.com/dolthub/vitess/go/sqltypes"
	querypb "github.com/dolthub/vitess/go/vt/proto/query"
	ast "github.com/dolthub/vitess/go/vt/sqlparser"

	"github.com/authplug/authplug/account"
	"github.com/authplug/authplug/extension"
	"github.com/authplug/authplug/mysqlerr"
	"github.com/authplug/authplug/priv"
	"github.com/authplug/authplug/privilege"
)

// handler wraps the engine's handler: account statements are executed by
// authplug, everything else by the engine, and the extensions hear about
// connections and statements.
//
// It overrides every command of vitess' mysql.Handler that runs something
// for the client (ComInitDB, ComQuery, ComMultiQuery, ComPrepare,
// ComStmtExecute; COM_FIELD_LIST reaches ComQuery as a SELECT), so that each
// one refuses a lapsed session and reports what it ran. The engine's
// ExtendedHandler methods (ComParsedQuery, ComPrepareParsed, ComBind,
// ComExecuteBound) are deliberately not promoted by the embedded interface:
// vitess cannot reach the engine around these checks.
type handler struct {
	mysql.Handler
	s *Server
	// acting maps a *conn to the statement whose EXECUTE AS or REVERT is
	// running, so that an event executeAs reports itself (stmtEvent) counts
	// as that statement's.
	acting sync.Map
}

func (h *handler) NewConnection(c *mysql.Conn) {
	events := h.s.cfg.Extensions.NewSessionExtensions()
	if events.HasConnEventHandlers() || events.HasStmtEventHandlers() {
		h.s.pending.Store(c.ConnectionID, events)
	}
	if events.HasConnEventHandlers() {
		events.OnConnectionEvent(extension.ConnConnected, &extension.ConnEventInfo{
			ConnectionID: uint64(c.ConnectionID), RemoteAddr: c.RemoteAddr().String(),
		})
	}
	h.Handler.NewConnection(c)
}

func (h *handler) ConnectionClosed(c *mysql.Conn) {
	defer h.Handler.ConnectionClosed(c)
	// Every connection vitess was handed ends here once, however it ends:
	// its max_connections count is given back (limits.go).
	defer h.s.connClosed(c.Conn)
	info := func() *extension.ConnEventInfo {
		return &extension.ConnEventInfo{ConnectionID: uint64(c.ConnectionID), User: c.User, RemoteAddr: c.RemoteAddr().String()}
	}
	if cn := h.s.conn(c.ConnectionID); cn != nil {
		h.s.sessions.Delete(c.ConnectionID)
		h.s.obs.SessionClosed()
		if cn.release != nil {
			cn.release()
		}
		if cn.events.HasConnEventHandlers() {
			i := info()
			i.ClientHost, i.Account = cn.sess.ClientHost(), cn.sess.AuthenticatedAccount()
			cn.events.OnConnectionEvent(extension.ConnDisconnected, i)
		}
		return
	}
	if e, ok := h.s.pending.LoadAndDelete(c.ConnectionID); ok {
		if events := e.(*extension.SessionExtensions); events.HasConnEventHandlers() {
			events.OnConnectionEvent(extension.ConnDisconnected, info())
		}
	}
}

// ComResetConnection resets the session. It never fails: on an error vitess
// writes an ERR packet and then its OK anyway, two replies to one command
// that leave the client out of step, so a part that cannot be reset is
// logged instead.
func (h *handler) ComResetConnection(c *mysql.Conn) error {
	if cn := h.s.conn(c.ConnectionID); cn != nil {
		// COM_RESET_CONNECTION resets the session: the caller's own identity
		// and default roles again.
		cn.acting.revert()
		cn.sess.Revert()
		snap := h.s.mgr.Snapshot()
		if err := cn.sess.SetActiveRoles(snap.DefaultRoles(cn.sess.AuthenticatedAccount())); err != nil {
			// A default role revoked since the snapshot: none rather
			// than a stale set.
			h.s.cfg.Logger.Warn("COM_RESET_CONNECTION: default roles", "connection", c.ConnectionID, "error", err)
			_ = cn.sess.SetActiveRoles(nil)
		}
		cn.events.OnConnectionEvent(extension.ConnReset, &extension.ConnEventInfo{
			ConnectionID: uint64(c.ConnectionID), User: cn.sess.User(), ClientHost: cn.sess.ClientHost(),
			Account: cn.sess.AuthenticatedAccount(), RemoteAddr: c.RemoteAddr().String(),
		})
	}
	// The engine makes its session on a connection's first statement and
	// its reset reads the current database from that session without a nil
	// check: as the first command, the reset panicked and vitess dropped
	// the connection. Asking for a context makes the session.
	if _, err := h.s.gms.SessionManager().NewContextWithQuery(context.Background(), c, ""); err != nil {
		h.s.cfg.Logger.Warn("COM_RESET_CONNECTION: engine session", "connection", c.ConnectionID, "error", err)
		return nil
	}
	if err := h.Handler.ComResetConnection(c); err != nil {
		// Typically the current database was dropped meanwhile: the new
		// session has none, as MySQL leaves it after DROP DATABASE.
		h.s.cfg.Logger.Warn("COM_RESET_CONNECTION: engine session", "connection", c.ConnectionID, "error", err)
	}
	return nil
}

// lapsed is the plugin's refusal of a session that may no longer be used (a
// token past its expiry), nil while it is valid. It is asked before every
// command, not only by privilege checks: a statement that needs no privilege
// (SELECT 1, SET, SET PASSWORD for oneself) must not outlive the credential
// either.
func lapsed(sess *privilege.Session) error { return sess.Validate() }

// usable is the fence of a shared grant store (Session.Fence); then
// lapsed; then, for a session that logged in with an expired password
// (sandbox mode), MySQL's 1820 for every statement but account
// statements, which package account judges (only changing one's own
// password passes), and SET, which MySQL 8.0 allows there (what a SET
// would read is still refused: RequestVerification is 1820 in sandbox
// mode); and, while the session acts as another account, that its own may
// still do so (REVOKE PROXY ends an open EXECUTE AS at the next statement,
// with 1227). REVERT is the one statement it lets through.
func usable(sess *privilege.Session, query string) error {
	// A front end that has lost its lease on a shared grant store may be
	// behind the others' REVOKEs: nothing runs until it has caught up.
	if err := sess.Fence(); err != nil {
		return err
	}
	if err := lapsed(sess); err != nil {
		return err
	}
	if err := sess.PasswordExpired(); err != nil && !sandboxAllows(query) {
		return err
	}
	if isRevert(query) {
		return nil
	}
	return sess.ActingAllowed()
}

// sandboxAllows reports whether query may run in sandbox mode as far as
// the host is concerned: account statements, of which package account
// lets through only a change of one's own password. SET statements are
// refused too, as in MySQL 8.0.27 and later.
func sandboxAllows(query string) bool {
	return statementKind(query) == kindAccount
}

// ComInitDB makes db the current database: COM_INIT_DB, and the database a
// client names in its handshake, which vitess applies through here once the
// login succeeded (an error then fails the login). As in MySQL, some
// privilege on the database is needed (1044), checked before the database's
// existence (1049) so that a refusal does not tell which databases exist.
func (h *handler) ComInitDB(c *mysql.Conn, db string) error {
	cn := h.s.conn(c.ConnectionID)
	if cn == nil {
		// vitess calls this only after authentication; without a session
		// there are no privileges to allow it.
		return toSQLError(mysqlerr.DBAccessDenied(c.User, "", db))
	}
	st := h.newStmt(context.Background(), cn)
	err := h.initDB(c, cn, db)
	// Audited as the USE it is, as TiDB does, so that a refused COM_INIT_DB
	// leaves a trace like a refused USE statement.
	h.emit(st, c, "USE "+quoteIdent(db), 0, err)
	return toSQLError(err)
}

func (h *handler) initDB(c *mysql.Conn, cn *conn, db string) error {
	// As for a statement (usable): a fenced front end's grants may be
	// stale, and 1044/1049 would be judged on them.
	if err := cn.sess.Fence(); err != nil {
		return err
	}
	if err := lapsed(cn.sess); err != nil {
		return err
	}
	// MySQL refuses COM_INIT_DB in sandbox mode. vitess also applies the
	// handshake's database through here, so such a login fails with 1820
	// where MySQL would log in with the database set.
	if err := cn.sess.PasswordExpired(); err != nil {
		return err
	}
	if db != "" && !isInfoSchema(db) && !cn.sess.HasAnyPrivilege(db, "") {
		return mysqlerr.DBAccessDenied(cn.sess.User(), cn.sess.ClientHost(), db)
	}
	return h.Handler.ComInitDB(c, db)
}

func quoteIdent(s string) string { return "`" + strings.ReplaceAll(s, "`", "``") + "`" }

func (h *handler) ComQuery(ctx context.Context, c *mysql.Conn, query string, callback mysql.ResultSpoolFn) error {
	cn := h.s.conn(c.ConnectionID)
	if cn == nil {
		// No session: the engine's authorization refuses (authz.go).
		return h.Handler.ComQuery(ctx, c, query, callback)
	}
	ctx, done := whileConnected(ctx, c)
	defer done()
	if !cn.events.HasStmtEventHandlers() {
		return toSQLError(h.run(ctx, c, cn, query, callback))
	}
	st := h.newStmt(ctx, cn)
	ctx = context.WithValue(ctx, auditKey{}, st)
	var affected uint64
	err := h.run(ctx, c, cn, query, func(r *sqltypes.Result, more bool) error {
		affected += r.RowsAffected
		return callback(r, more)
	})
	// Account statements and the statement inside EXECUTE AS report
	// themselves (with a redacted text, with the impersonated identity);
	// everything else, refusals included, is reported here, once.
	if !st.audited.Load() {
		h.emit(st, c, auditText(query), affected, err)
	}
	return toSQLError(err)
}

// run executes one statement of a session.
func (h *handler) run(ctx context.Context, c *mysql.Conn, cn *conn, query string, callback mysql.ResultSpoolFn) error {
	if err := usable(cn.sess, query); err != nil {
		return err
	}
	switch statementKind(query) {
	case kindImpersonation:
		if st := stmtOf(ctx); st != nil {
			prev, had := h.acting.Swap(cn, st)
			defer func() {
				if had {
					h.acting.Store(cn, prev)
				} else {
					h.acting.Delete(cn)
				}
			}()
		}
		if handled, err := h.executeAs(ctx, c, cn, query, callback); handled {
			return err
		}
	case kindAccount:
		return h.account(ctx, c, cn, query, callback)
	}
	cn.plan.begin()
	err := h.s.guarded(c.ConnectionID, func() error { return h.Handler.ComQuery(ctx, c, query, callback) })
	return h.s.hideMissing(c, cn, query, cn.plan.explain(syntaxError(query, err)))
}

// ComMultiQuery runs the first statement of query and returns the rest,
// which vitess hands back to it until nothing is left: each statement is
// checked and audited on its own.
func (h *handler) ComMultiQuery(ctx context.Context, c *mysql.Conn, query string, callback mysql.ResultSpoolFn) (string, error) {
	cn := h.s.conn(c.ConnectionID)
	if cn == nil {
		return h.Handler.ComMultiQuery(ctx, c, query, callback)
	}
	if statementKind(query) == kindEngine && !cn.events.HasStmtEventHandlers() {
		// Nothing to report and nothing for authplug to execute: the engine
		// splits and runs the first statement itself.
		if err := usable(cn.sess, query); err != nil {
			return "", toSQLError(err)
		}
		ctx, done := whileConnected(ctx, c)
		defer done()
		cn.plan.begin()
		var rest string
		err := h.s.guarded(c.ConnectionID, func() (err error) {
			rest, err = h.Handler.ComMultiQuery(ctx, c, query, callback)
			return err
		})
		return rest, toSQLError(h.s.hideMissing(c, cn, query, cn.plan.explain(syntaxError(query, err))))
	}
	first, rest := h.splitFirst(ctx, c, query)
	// The client must be told when more results follow.
	more := func(r *sqltypes.Result, m bool) error { return callback(r, m || rest != "") }
	if err := h.ComQuery(ctx, c, first, more); err != nil {
		return "", err
	}
	return rest, nil
}

// splitFirst splits off the first statement of a multi-statement query. An
// engine statement's end is found by the engine's parser, which knows that
// the semicolons inside a trigger's or routine's BEGIN ... END do not end
// it; authplug's own statements, and text the parser refuses (whose error
// is then reported for the first statement only), are split by tokens.
func (h *handler) splitFirst(ctx context.Context, c *mysql.Conn, query string) (first, rest string) {
	// As the engine does: trailing delimiters are not one more, empty,
	// statement.
	query = sql.RemoveSpaceAndDelimiter(query, ';')
	if statementKind(query) == kindEngine {
		if opts, err := h.Handler.ParserOptionsForConnection(c); err == nil {
			if _, end, err := ast.ParseOneWithOptions(ctx, query, opts); err == nil && end > 0 && end <= len(query) {
				return sql.RemoveSpaceAndDelimiter(query[:end], ';'), strings.TrimSpace(query[end:])
			}
		}
	}
	first, rest, err := ast.SplitStatement(query)
	if err != nil {
		// The tokenizer failed (an unterminated quote): the whole text is
		// one statement, and the engine reports the error.
		return query, ""
	}
	return first, strings.TrimSpace(rest)
}

// ComPrepare prepares a statement for the binary protocol. Preparing is not
// running: a prepared statement is audited each time it is executed. A
// prepare that fails is audited once, as an error, since that statement
// will never run and its refusal would otherwise leave no trace.
func (h *handler) ComPrepare(ctx context.Context, c *mysql.Conn, query string, prepare *mysql.PrepareData) ([]*querypb.Field, error) {
	cn := h.s.conn(c.ConnectionID)
	if cn == nil {
		return h.Handler.ComPrepare(ctx, c, query, prepare)
	}
	st := h.newStmt(ctx, cn)
	fields, err := h.prepare(ctx, c, cn, query, prepare)
	if err != nil {
		h.emit(st, c, auditText(query), 0, err)
		return nil, toSQLError(err)
	}
	return fields, nil
}

func (h *handler) prepare(ctx context.Context, c *mysql.Conn, cn *conn, query string, prepare *mysql.PrepareData) ([]*querypb.Field, error) {
	if err := usable(cn.sess, query); err != nil {
		return nil, err
	}
	if statementKind(query) != kindEngine {
		// MySQL's answer for statements that cannot be prepared: authplug
		// executes its own statements from text only.
		return nil, mysqlerr.Errorf(mysqlerr.ErUnsupportedPS, "This command is not supported in the prepared statement protocol yet")
	}
	cn.plan.begin()
	var fields []*querypb.Field
	err := h.s.guarded(c.ConnectionID, func() (err error) {
		fields, err = h.Handler.ComPrepare(ctx, c, query, prepare)
		return err
	})
	if err != nil {
		return nil, h.s.hideMissing(c, cn, query, cn.plan.explain(err))
	}
	// The refusal settling gives is the answer (a column's, say).
	if err := h.s.prepared(ctx, c, cn, query); err != nil {
		return nil, err
	}
	return fields, nil
}

// ComStmtExecute runs a prepared statement, audited with the prepared text,
// once per execution.
func (h *handler) ComStmtExecute(ctx context.Context, c *mysql.Conn, prepare *mysql.PrepareData, callback func(*sqltypes.Result) error) error {
	cn := h.s.conn(c.ConnectionID)
	if cn == nil {
		return h.Handler.ComStmtExecute(ctx, c, prepare, callback)
	}
	ctx, done := whileConnected(ctx, c)
	defer done()
	st := h.newStmt(ctx, cn)
	var affected uint64
	err := usable(cn.sess, prepare.PrepareStmt)
	if err == nil {
		cn.plan.begin()
		err = h.s.hideMissing(c, cn, prepare.PrepareStmt, cn.plan.explain(h.s.guarded(c.ConnectionID, func() error {
			return h.Handler.ComStmtExecute(ctx, c, prepare, func(r *sqltypes.Result) error {
				affected += r.RowsAffected
				return callback(r)
			})
		})))
	}
	h.emit(st, c, auditText(prepare.PrepareStmt), affected, err)
	return toSQLError(err)
}

// account runs an account statement through authplug's store.
func (h *handler) account(ctx context.Context, c *mysql.Conn, cn *conn, query string, callback mysql.ResultSpoolFn) error {
	res, err := h.s.execAccount(ctx, cn.sess, h.s.currentDB(c), query)
	h.emit(stmtOf(ctx), c, redact(query), 0, err)
	if err != nil {
		return err
	}
	return callback(res, false)
}

// auditText is a statement's text as extensions see it: the passwords of
// account statements, EXECUTE AS ones included, are redacted.
func auditText(query string) string {
	if statementKind(query) != kindEngine || account.MayHoldSecret(query) {
		return redact(query)
	}
	return query
}

// stmtAudit is one statement (or command) being run, for its audit event.
type stmtAudit struct {
	cn     *conn
	parent *stmtAudit // the EXECUTE AS statement this one runs inside
	// The identity the statement started with: the event reports who ran
	// it, not who the session is after it (EXECUTE AS, REVERT, SET ROLE).
	account, effective priv.Account
	roles              []priv.Account
	// audited is set once an event reported the statement, or a statement
	// run inside it; an EXECUTE AS statement and the statement it runs are
	// one statement to the audit.
	audited atomic.Bool
}

type auditKey struct{}

func stmtOf(ctx context.Context) *stmtAudit {
	st, _ := ctx.Value(auditKey{}).(*stmtAudit)
	return st
}

// newStmt starts a statement's audit record, nil when no extension listens.
func (h *handler) newStmt(ctx context.Context, cn *conn) *stmtAudit {
	if !cn.events.HasStmtEventHandlers() {
		return nil
	}
	sess := cn.sess
	return &stmtAudit{
		cn: cn, parent: stmtOf(ctx),
		account: sess.AuthenticatedAccount(), effective: sess.Account(), roles: sess.ActiveRoles(),
	}
}

// stmtEvent reports a statement that executeAs (impersonate.go) refused
// itself; it counts as the EXECUTE AS statement's event.
func (h *handler) stmtEvent(cn *conn, c *mysql.Conn, text string, affected uint64, err error) {
	st, _ := h.acting.Load(cn)
	s, _ := st.(*stmtAudit)
	if s == nil {
		s = h.newStmt(context.Background(), cn)
	}
	h.emit(s, c, auditText(text), affected, err)
}

// emit reports st to the extensions, and marks it (and any EXECUTE AS it
// runs inside) as reported. A nil st means no extension listens.
func (h *handler) emit(st *stmtAudit, c *mysql.Conn, text string, affected uint64, err error) {
	if st == nil {
		return
	}
	for s := st; s != nil; s = s.parent {
		s.audited.Store(true)
	}
	tp := extension.StmtSuccess
	if err != nil {
		tp = extension.StmtError
	}
	sess := st.cn.sess
	st.cn.events.OnStmtEvent(tp, &extension.StmtEventInfo{
		ConnectionID:     uint64(c.ConnectionID),
		User:             sess.User(),
		ClientHost:       sess.ClientHost(),
		Account:          st.account,
		EffectiveAccount: st.effective,
		ActiveRoles:      st.roles,
		CurrentDB:        h.s.currentDB(c),
		Text:             text,
		AffectedRows:     affected,
		Err:              asClientSaw(err),
		PluginState:      sess.State(),
	})
}
