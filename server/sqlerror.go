package server

import (
	"errors"

	"github.com/dolthub/vitess/go/mysql"

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
//     Build and LOAD_FILE's Eval.
//
// Before the handshake, refuseTooMany writes its 1040 packet itself.
func toSQLError(err error) error {
	var e *mysqlerr.Error
	if errors.As(err, &e) {
		return mysql.NewSQLError(int(e.Code), e.SQLState, "%s", e.Message)
	}
	return err
}
