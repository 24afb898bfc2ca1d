package server

import (
	"context"
	"strings"

	"github.com/dolthub/vitess/go/sqltypes"
	querypb "github.com/dolthub/vitess/go/vt/proto/query"

	"github.com/authplug/authplug/account"
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
	if err != nil || res == nil {
		return okResult, err
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
