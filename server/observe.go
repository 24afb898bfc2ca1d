package server

import (
	"context"
	"errors"
	"time"

	"github.com/dolthub/go-mysql-server/sql"
	"github.com/dolthub/vitess/go/mysql"
	"github.com/dolthub/vitess/go/sqltypes"
	querypb "github.com/dolthub/vitess/go/vt/proto/query"

	"github.com/authplug/authplug/mysqlerr"
	"github.com/authplug/authplug/privilege"
)

// Observer is told what an operator counts: logins, refused statements,
// open sessions and impersonations (package server/metrics counts them for
// Prometheus). Its methods are called on the connection's goroutine, in the
// middle of a login or a statement, and concurrently for several
// connections: they must be quick and must not block.
//
// Every string it is given comes from a small fixed set, never from the
// client, so that what an observer keys on them stays bounded.
type Observer interface {
	// Login is one login attempt that reached authentication.
	Login(LoginOutcome)
	// Denied is a command refused for want of a privilege, by its MySQL
	// error number: one of DenialCodes.
	Denied(code uint16)
	// SessionOpened and SessionClosed bracket every authenticated session.
	SessionOpened()
	SessionClosed()
	// Impersonation is one EXECUTE AS, and whether the session could act
	// as its target.
	Impersonation(ok bool)
}

// LoginOutcome is one login attempt for an Observer.
type LoginOutcome struct {
	// Plugin is the server-side plugin of the account the login matched: a
	// loaded plugin's name, PluginOther for an account whose plugin is not
	// loaded, or PluginNone when no account was matched (or the login was
	// refused before an account was looked for).
	Plugin string
	// Failure is "" for a login that succeeded, else why it did not: a
	// privilege.LoginFailure, or FailureFenced, FailureConnectionLimit or
	// FailureOther.
	Failure string
	// Duration is the server's part of the login: from the client's
	// handshake response to the outcome, throttle delay included.
	Duration time.Duration
}

// The Plugin of a LoginOutcome that names no loaded plugin.
const (
	PluginNone  = "none"
	PluginOther = "other"
)

// The Failure of a LoginOutcome refused by the host rather than by the
// privilege manager.
const (
	// FailureFenced: the front end had lost its lease on a shared grant
	// store (1047).
	FailureFenced = "fenced"
	// FailureConnectionLimit: max_connections, the account's
	// MAX_USER_CONNECTIONS or max_user_connections (1040, 1226, 1203).
	FailureConnectionLimit = "connection_limit"
	// FailureOther: anything else (the connection failed mid-login).
	FailureOther = "other"
)

// DenialCodes are the MySQL errors an Observer hears of as privilege
// denials.
var DenialCodes = []uint16{
	mysqlerr.ErDBAccessDenied,       // 1044
	mysqlerr.ErAccessDenied,         // 1045: the session's account is gone
	mysqlerr.ErKillDenied,           // 1095
	mysqlerr.ErTableAccessDenied,    // 1142
	mysqlerr.ErColumnAccessDenied,   // 1143
	mysqlerr.ErSpecificAccess,       // 1227
	mysqlerr.ErProcAccessDenied,     // 1370
	mysqlerr.ErRoleNotGranted,       // 3530
	mysqlerr.ErNoSystemSchemaAccess, // 3552
}

// nopObserver is the Observer of a server that has none.
type nopObserver struct{}

func (nopObserver) Login(LoginOutcome) {}
func (nopObserver) Denied(uint16)      {}
func (nopObserver) SessionOpened()     {}
func (nopObserver) SessionClosed()     {}
func (nopObserver) Impersonation(bool) {}

// observeLogin reports the outcome of the login of c: err is the refusal
// before it is put on the wire, nil for a session.
func (s *Server) observeLogin(c *mysql.Conn, err error, d time.Duration) {
	o := LoginOutcome{Plugin: PluginNone, Duration: d}
	if err == nil {
		if cn := s.conn(c.ConnectionID); cn != nil {
			o.Plugin = cn.sess.Plugin().Name
		}
		s.obs.Login(o)
		return
	}
	var le *privilege.LoginError
	switch code := mysqlerr.Code(err); {
	case errors.As(err, &le):
		o.Failure = string(le.Kind)
		if le.Plugin != "" {
			// Only a loaded plugin's name: the store may hold any.
			o.Plugin = PluginOther
			if s.mgr.Plugin(le.Plugin) != nil {
				o.Plugin = le.Plugin
			}
		}
	case code == mysqlerr.ErUnknownComError:
		o.Failure = FailureFenced
	case code == mysqlerr.ErConCount || code == mysqlerr.ErTooManyUserConns || code == mysqlerr.ErUserLimitReached:
		o.Failure = FailureConnectionLimit
	default:
		o.Failure = FailureOther
	}
	s.obs.Login(o)
}

// observeDenial tells the observer of err, a command's error, if it is a
// privilege denial.
func (s *Server) observeDenial(err error) {
	if err == nil {
		return
	}
	code := mysqlerr.Code(err)
	if code == 0 {
		var se *mysql.SQLError
		if !errors.As(err, &se) {
			se = sql.CastSQLError(err)
		}
		code = uint16(se.Number())
	}
	for _, d := range DenialCodes {
		if code == d {
			s.obs.Denied(code)
			return
		}
	}
}

// observingHandler tells the server's Observer of the privilege denials of
// the commands vitess hands it. It sits outside handler so that a command
// handler runs for another (EXECUTE AS, a multi-statement query) is counted
// once, by the command the client sent.
type observingHandler struct {
	*handler
}

func (h observingHandler) ComInitDB(c *mysql.Conn, db string) error {
	err := h.handler.ComInitDB(c, db)
	h.s.observeDenial(err)
	return err
}

func (h observingHandler) ComQuery(ctx context.Context, c *mysql.Conn, query string, callback mysql.ResultSpoolFn) error {
	err := h.handler.ComQuery(ctx, c, query, callback)
	h.s.observeDenial(err)
	return err
}

func (h observingHandler) ComMultiQuery(ctx context.Context, c *mysql.Conn, query string, callback mysql.ResultSpoolFn) (string, error) {
	rest, err := h.handler.ComMultiQuery(ctx, c, query, callback)
	h.s.observeDenial(err)
	return rest, err
}

func (h observingHandler) ComPrepare(ctx context.Context, c *mysql.Conn, query string, prepare *mysql.PrepareData) ([]*querypb.Field, error) {
	fields, err := h.handler.ComPrepare(ctx, c, query, prepare)
	h.s.observeDenial(err)
	return fields, err
}

func (h observingHandler) ComStmtExecute(ctx context.Context, c *mysql.Conn, prepare *mysql.PrepareData, callback func(*sqltypes.Result) error) error {
	err := h.handler.ComStmtExecute(ctx, c, prepare, callback)
	h.s.observeDenial(err)
	return err
}
