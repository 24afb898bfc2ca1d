package gateway

import (
	"fmt"
	"strings"

	"github.com/dolthub/vitess/go/vt/sqlparser"

	"github.com/authplug/authplug/account"
	"github.com/authplug/authplug/mysqlerr"
)

// The query tool runs exactly one statement that reads or writes data, and
// nothing that changes the connection it runs on: in impersonate mode that
// connection is the gateway's, pooled, and the next call on it may be
// another user's. The statement is read by the parser of the server's
// engine (vitess), so that what is checked here is what the server runs;
// text that parser refuses is refused, whatever MySQL would make of it.
//
// Refused, with the reason:
//   - more than one statement (the gateway's connection does not enable
//     multi-statements either, so the server refuses them too);
//   - EXECUTE AS and REVERT: the gateway's own identity statements;
//   - anything but SELECT/TABLE/VALUES/WITH, INSERT/REPLACE, UPDATE,
//     DELETE, SHOW, DESCRIBE and EXPLAIN of those: SET (variables, roles,
//     autocommit), USE, transactions, LOCK TABLES, PREPARE/EXECUTE, CALL,
//     DDL and account statements, which leave state on the connection or
//     are not the query tool's job;
//   - user variables (@x, SELECT ... INTO @x), which outlive the call on
//     the connection; names starting with @ are refused with them;
//   - SHOW WARNINGS/ERRORS and the functions that answer about the previous
//     statement on the connection (LAST_INSERT_ID, FOUND_ROWS, ROW_COUNT) or
//     keep locks on it (GET_LOCK, RELEASE_LOCK, RELEASE_ALL_LOCKS): the
//     previous statement may have been another user's.

// statementKind is what checkStatement found: whether the statement
// returns rows (else the tool reports rows affected).
type statementKind int

const (
	returnsRows statementKind = iota
	changesRows
)

var stateFunctions = map[string]bool{
	"last_insert_id": true, "found_rows": true, "row_count": true,
	"get_lock": true, "release_lock": true, "release_all_locks": true,
	"is_free_lock": true, "is_used_lock": true,
}

// checkStatement refuses what the query tool does not run; the error is a
// MySQL error (1064 for text that is not one statement, 1235 for a
// statement of a kind the gateway does not run).
func checkStatement(q string) (statementKind, error) {
	if strings.TrimSpace(q) == "" {
		return 0, mysqlerr.Errorf(mysqlerr.ErSyntax, "the query is empty")
	}
	if w := account.Keywords(q, 2); w[0] == "REVERT" || w[0] == "EXECUTE" && w[1] == "AS" {
		return 0, refuse("%s: the gateway chooses whom a statement runs as", strings.TrimSpace(w[0]+" "+w[1]))
	}
	pieces, err := sqlparser.SplitStatementToPieces(q)
	if err == nil && len(pieces) > 1 {
		return 0, mysqlerr.Errorf(mysqlerr.ErSyntax, "exactly one statement, not %d", len(pieces))
	}
	stmt, err := sqlparser.Parse(q)
	if err != nil {
		return 0, mysqlerr.Errorf(mysqlerr.ErSyntax, "the gateway runs one statement its parser reads: %v", err)
	}
	kind, err := allowedKind(stmt)
	if err != nil {
		return 0, err
	}
	return kind, checkTokens(q)
}

func allowedKind(stmt sqlparser.Statement) (statementKind, error) {
	switch s := stmt.(type) {
	case *sqlparser.Select, *sqlparser.SetOp:
		return returnsRows, nil
	case *sqlparser.Insert, *sqlparser.Update, *sqlparser.Delete:
		return changesRows, nil
	case *sqlparser.Show:
		switch strings.ToLower(s.Type) {
		case "warnings", "errors":
			return 0, refuse("SHOW %s: they are the previous statement's on the connection", strings.ToUpper(s.Type))
		}
		return returnsRows, nil
	case *sqlparser.Explain:
		if _, err := allowedKind(s.Statement); err != nil {
			return 0, err
		}
		return returnsRows, nil
	}
	return 0, refuse("a statement of this kind (%s)", kindName(stmt))
}

// checkTokens refuses variables and the connection-state functions,
// wherever they are (executable comments included: the tokenizer reads
// them as the server does).
func checkTokens(q string) error {
	tk := sqlparser.NewStringTokenizer(q)
	for {
		typ, val := tk.Scan()
		switch {
		case typ == 0:
			return nil
		case typ == sqlparser.LEX_ERROR:
			return mysqlerr.Errorf(mysqlerr.ErSyntax, "the gateway cannot read the statement")
		case typ == '@' || typ == sqlparser.ID && strings.HasPrefix(string(val), "@"):
			return refuse("variables: they outlive the call on the connection")
		case typ != sqlparser.STRING && stateFunctions[strings.ToLower(string(val))]:
			return refuse("%s(): it reads or keeps the connection's state, which another user's call may have left", strings.ToUpper(string(val)))
		}
	}
}

func refuse(format string, args ...any) error {
	return mysqlerr.Errorf(mysqlerr.ErNotSupportedYet, "the gateway does not run "+format+
		"; it runs exactly one SELECT, TABLE, VALUES, WITH, INSERT, REPLACE, UPDATE, DELETE, SHOW, DESCRIBE or EXPLAIN", args...)
}

func kindName(stmt sqlparser.Statement) string {
	return strings.ToUpper(strings.TrimPrefix(fmt.Sprintf("%T", stmt), "*sqlparser."))
}
