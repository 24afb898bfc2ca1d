package server

import (
	"context"
	"errors"

	"github.com/dolthub/vitess/go/mysql"
	"github.com/dolthub/vitess/go/vt/sqlparser"

	"github.com/authplug/authplug/mysqlerr"
)

// toSQLError is the one conversion of an authplug error (*mysqlerr.Error,
// wrapped or not) to the wire's: vitess writes a *mysql.SQLError's number,
// state and text, and go-mysql-server passes only a *mysql.SQLError
// through (anything else becomes 1105). Inside the host, errors stay
// *mysqlerr.Error; they are converted where they leave it, and only there
// (a test holds every call to an exported method):
//
//   - the login: HandleAuthPluginData, vitess' AuthMethod;
//   - a client's commands: the Com* methods of handler, vitess' Handler,
//     account statements included (accountError first makes a failure
//     below the statement a neutral MySQL error);
//   - the engine's hooks: the authorizer's methods, the exec builders'
//     Build, and the constructors and Eval of the host's functions
//     (LOAD_FILE, builtins.go, bigstrings.go).
//
// Before the handshake, refuseTooMany writes its 1040 packet itself.
func toSQLError(err error) error {
	var e *mysqlerr.Error
	if errors.As(err, &e) {
		return mysql.NewSQLError(int(e.Code), e.SQLState, "%s", e.Message)
	}
	return err
}

// asClientSaw is err as an extension's statement event carries it: the
// *mysqlerr.Error with the number, state and text the client got, whether
// authplug refused the statement or the engine failed it (a *mysql.SQLError),
// so an audit log shows every failure in one form. Other errors, which the
// client sees as 1105, are left as they are.
func asClientSaw(err error) error {
	var se *mysql.SQLError
	if err == nil || !errors.As(err, &se) {
		return err
	}
	return mysqlerr.Received(uint16(se.Num), se.State, se.Message)
}

// syntaxError gives a statement the engine could not parse MySQL's 1064
// (42000), where go-mysql-server answers 1105 (or hands vitess an error
// that becomes 1105). It looks only at an error that would reach the client
// as 1105, and calls it a syntax error only when the parser refuses query
// too, so a 1105 for any other reason stays one; the parse costs nothing
// on the statements that succeed.
func syntaxError(query string, err error) error {
	if err == nil || mysqlerr.Code(err) != 0 {
		return err
	}
	if se := (*mysql.SQLError)(nil); errors.As(err, &se) && se.Num != int(mysqlerr.ErUnknownError) {
		return err
	}
	_, _, perr := sqlparser.ParseOne(context.Background(), query)
	if perr == nil || errors.Is(perr, sqlparser.ErrEmpty) {
		return err
	}
	return mysqlerr.SyntaxError(perr.Error())
}
