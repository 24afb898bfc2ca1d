package server

import (
	"context"
	"errors"
	"strings"

	"github.com/dolthub/vitess/go/sqltypes"
	querypb "github.com/dolthub/vitess/go/vt/proto/query"

	"github.com/authplug/authplug/account"
	"github.com/authplug/authplug/mysqlerr"
	"github.com/authplug/authplug/privilege"
)

// Account statements are the core's (package account): the host picks
// them out, runs them there and puts the result on the wire.

// Kinds of statement the host runs itself rather than the engine.
type stmtKind uint8

const (
	kindEngine stmtKind = iota
	kindAccount
	kindImpersonation // EXECUTE AS, REVERT
)

// statementKind reads the first words of query once: it is on every
// statement's path.
func statementKind(query string) stmtKind {
	w := account.Keywords(query, 3)
	if w[0] == "REVERT" || w[0] == "EXECUTE" && w[1] == "AS" {
		return kindImpersonation
	}
	if account.IsStatement(query) {
		return kindAccount
	}
	return kindEngine
}

var okResult = &sqltypes.Result{}

// execAccount runs one account statement for sess.
func (s *Server) execAccount(ctx context.Context, sess *privilege.Session, currentDB, query string) (*sqltypes.Result, error) {
	res, err := s.accounts.Exec(ctx, sess, currentDB, query)
	if err != nil {
		return okResult, s.accountError(ctx, sess, query, err)
	}
	if res == nil {
		return okResult, nil
	}
	out := &sqltypes.Result{}
	for _, c := range res.Columns {
		out.Fields = append(out.Fields, &querypb.Field{Name: c, Type: querypb.Type_VARCHAR, Charset: 33})
	}
	for _, row := range res.Rows {
		vals := make([]sqltypes.Value, len(row))
		for i, v := range row {
			vals[i] = sqltypes.NewVarChar(v)
		}
		out.Rows = append(out.Rows, vals)
	}
	return out, nil
}

// accountError is the error the client gets for an account statement
// that failed with err. A MySQL error (a refusal, an unknown account) is
// the statement's own and goes as it is. Anything else came from below
// the statement: the grant store's driver, whose text holds the store's
// address and database, or a catch-up of other front ends' changes, whose
// error names accounts the statement did not. The client, who may hold no
// privilege at all, gets a neutral error; the server's log the whole one.
func (s *Server) accountError(ctx context.Context, sess *privilege.Session, query string, err error) error {
	var behind *privilege.CatchUpError
	if !errors.As(err, &behind) && mysqlerr.Code(err) != 0 {
		return err
	}
	s.log.Error("account statement failed", "user", sess.AuthenticatedAccount().String(), "statement", redact(query), "err", err)
	return neutralError(ctx, s.mgr.Fence(), err)
}

// neutralError is what the client sees of err, an account statement's
// failure below the statement; fence is the front end's fence, if any.
func neutralError(ctx context.Context, fence, err error) error {
	switch {
	case errors.Is(err, privilege.ErrUnacknowledged):
		return mysqlerr.ChangeUnacknowledged()
	case errors.As(err, new(*privilege.CatchUpError)):
		// The front end is behind the store, and about to be fenced for
		// it: the statement is refused as the fence refuses them.
		return mysqlerr.GrantStoreUnreachable()
	case fence != nil:
		return fence
	case ctx.Err() != nil:
		return mysqlerr.QueryInterrupted()
	}
	return mysqlerr.AccountStatementFailed()
}

// redact is a statement's text for logs and audit, with no secret in it:
// account.Redact, and the statement inside EXECUTE AS redacted the same way.
func redact(query string) string {
	if _, stmt, ok, err := parseExecuteAs(query); ok && err == nil && stmt != "" {
		if i := strings.LastIndex(query, stmt); i >= 0 {
			return query[:i] + account.Redact(stmt)
		}
		return account.Redacted
	}
	return account.Redact(query)
}
