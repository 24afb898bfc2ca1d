package server

import (
	"context"
	"strings"

	"github.com/dolthub/vitess/go/mysql"
	"github.com/dolthub/vitess/go/sqltypes"
	querypb "github.com/dolthub/vitess/go/vt/proto/query"
	ast "github.com/dolthub/vitess/go/vt/sqlparser"

	"github.com/authplug/authplug/extension"
	"github.com/authplug/authplug/mysqlerr"
)

// handler wraps the engine's handler: account statements are executed by
// authplug, everything else by the engine, and the extensions hear about
// connections and statements.
type handler struct {
	mysql.Handler
	s *Server
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
	info := func() *extension.ConnEventInfo {
		return &extension.ConnEventInfo{ConnectionID: uint64(c.ConnectionID), User: c.User, RemoteAddr: c.RemoteAddr().String()}
	}
	if cn := h.s.conn(c.ConnectionID); cn != nil {
		h.s.sessions.Delete(c.ConnectionID)
		if cn.events.HasConnEventHandlers() {
			i := info()
			i.ClientHost, i.Account = cn.sess.Host(), cn.sess.AuthenticatedAccount()
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

func (h *handler) ComResetConnection(c *mysql.Conn) error {
	if cn := h.s.conn(c.ConnectionID); cn != nil {
		// COM_RESET_CONNECTION resets the session: the caller's own identity
		// and default roles again.
		cn.acting.revert()
		snap := h.s.mgr.Snapshot()
		if err := cn.sess.SetActiveRoles(snap.DefaultRoles(cn.sess.AuthenticatedAccount())); err != nil {
			return toSQLError(err)
		}
		cn.events.OnConnectionEvent(extension.ConnReset, &extension.ConnEventInfo{
			ConnectionID: uint64(c.ConnectionID), User: cn.sess.User(), ClientHost: cn.sess.Host(),
			Account: cn.sess.AuthenticatedAccount(), RemoteAddr: c.RemoteAddr().String(),
		})
	}
	return h.Handler.ComResetConnection(c)
}

func (h *handler) ComQuery(ctx context.Context, c *mysql.Conn, query string, callback mysql.ResultSpoolFn) error {
	cn := h.s.conn(c.ConnectionID)
	switch statementKind(query) {
	case kindImpersonation:
		if cn != nil {
			if handled, err := h.executeAs(ctx, c, cn, query, callback); handled {
				return err
			}
		}
	case kindAccount:
		return h.account(ctx, c, query, callback)
	}
	if cn != nil && cn.sess.HasColumnGrants() {
		done, err := h.s.checkColumns(ctx, c, cn, query)
		if err != nil {
			h.stmtEvent(cn, c, query, 0, err)
			return toSQLError(err)
		}
		defer done()
	}
	if cn == nil || !cn.events.HasStmtEventHandlers() {
		return h.Handler.ComQuery(ctx, c, query, callback)
	}
	var affected uint64
	err := h.Handler.ComQuery(ctx, c, query, func(r *sqltypes.Result, more bool) error {
		affected += r.RowsAffected
		return callback(r, more)
	})
	h.stmtEvent(cn, c, query, affected, err)
	return err
}

func (h *handler) ComMultiQuery(ctx context.Context, c *mysql.Conn, query string, callback mysql.ResultSpoolFn) (string, error) {
	cn := h.s.conn(c.ConnectionID)
	if statementKind(query) == kindEngine && (cn == nil || !cn.sess.HasColumnGrants() && !cn.events.HasStmtEventHandlers()) {
		return h.Handler.ComMultiQuery(ctx, c, query, callback)
	}
	// Run the first statement through ComQuery, which handles account
	// statements, column checks and events; the client must be told when
	// more results follow.
	first, rest, err := ast.SplitStatement(query)
	if err != nil {
		return "", toSQLError(mysqlerr.New(mysqlerr.ErSyntax, "42000", "%v", err))
	}
	rest = strings.TrimSpace(rest)
	more := func(r *sqltypes.Result, m bool) error { return callback(r, m || rest != "") }
	return rest, h.ComQuery(ctx, c, first, more)
}

func (h *handler) ComPrepare(ctx context.Context, c *mysql.Conn, query string, prepare *mysql.PrepareData) ([]*querypb.Field, error) {
	if statementKind(query) != kindEngine {
		// 1295 ER_UNSUPPORTED_PS, as MySQL answers for statements that
		// cannot be prepared.
		return nil, toSQLError(mysqlerr.New(1295, "HY000", "This command is not supported in the prepared statement protocol yet"))
	}
	return h.Handler.ComPrepare(ctx, c, query, prepare)
}

// account runs an account statement through authplug's store.
func (h *handler) account(ctx context.Context, c *mysql.Conn, query string, callback mysql.ResultSpoolFn) error {
	cn := h.s.conn(c.ConnectionID)
	if cn == nil {
		return toSQLError(mysqlerr.AccessDenied(c.User, "", false))
	}
	res, text, err := h.s.execAccount(ctx, cn.sess, h.s.currentDB(c), query)
	h.stmtEvent(cn, c, text, 0, err)
	if err != nil {
		return toSQLError(err)
	}
	return callback(res, false)
}

func (h *handler) stmtEvent(cn *conn, c *mysql.Conn, text string, affected uint64, err error) {
	if !cn.events.HasStmtEventHandlers() {
		return
	}
	tp := extension.StmtSuccess
	if err != nil {
		tp = extension.StmtError
	}
	sess := cn.sess
	cn.events.OnStmtEvent(tp, &extension.StmtEventInfo{
		ConnectionID:     uint64(c.ConnectionID),
		User:             sess.User(),
		ClientHost:       sess.Host(),
		Account:          sess.AuthenticatedAccount(),
		EffectiveAccount: sess.Account(),
		ActiveRoles:      sess.ActiveRoles(),
		CurrentDB:        h.s.currentDB(c),
		Text:             text,
		AffectedRows:     affected,
		Err:              err,
		PluginState:      sess.State(),
	})
}
