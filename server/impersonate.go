package server

import (
	"context"
	"errors"
	"strings"
	"sync"

	"github.com/dolthub/go-mysql-server/memory"
	"github.com/dolthub/go-mysql-server/sql"
	"github.com/dolthub/go-mysql-server/sql/expression/function"
	"github.com/dolthub/go-mysql-server/sql/types"
	"github.com/dolthub/vitess/go/mysql"

	"github.com/authplug/authplug/account"
	"github.com/authplug/authplug/mysqlerr"
	"github.com/authplug/authplug/priv"
)

// Impersonation statements (authplug's, after ClickHouse's):
//
//	EXECUTE AS 'user'[@'host'] <statement>   one statement as the account
//	EXECUTE AS 'user'[@'host']               the session, until REVERT
//	REVERT
//
// The prefix is read by a strict grammar: one account name, nothing else.
// The statement after it goes to the engine unchanged (its trailing clauses
// stay its own); nothing is spliced into SQL text. Every check made while
// acting as the account, nested queries included, goes through the same
// privilege.Session, which then answers with the account's stored grants
// AND the caller's own session limits.

var errExecuteAsSyntax = errors.New("EXECUTE AS takes one account name: EXECUTE AS 'user'[@'host'] [statement]")

// parseExecuteAs splits "EXECUTE AS account [statement]". ok is false when
// query is not an EXECUTE AS statement at all.
func parseExecuteAs(query string) (target priv.Account, stmt string, ok bool, err error) {
	w := account.Keywords(query, 2)
	if w[0] != "EXECUTE" || w[1] != "AS" {
		return priv.Account{}, "", false, nil
	}
	rest := skipWordsCI(query, "EXECUTE", "AS")
	user, rest, err := accountPart(rest)
	if err != nil {
		return priv.Account{}, "", true, err
	}
	host := "%"
	if strings.HasPrefix(rest, "@") {
		if host, rest, err = accountPart(rest[1:]); err != nil {
			return priv.Account{}, "", true, err
		}
	}
	// The account must be followed by nothing, or by white space and a
	// statement that starts with a word or a parenthesis.
	trimmed := strings.TrimSpace(strings.TrimRight(strings.TrimSpace(rest), ";"))
	if trimmed == "" {
		return priv.Account{User: user, Host: host}, "", true, nil
	}
	if rest == "" || !isSpace(rest[0]) {
		return priv.Account{}, "", true, errExecuteAsSyntax
	}
	stmt = strings.TrimSpace(rest)
	if c := stmt[0]; !(c == '(' || c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z') {
		return priv.Account{}, "", true, errExecuteAsSyntax
	}
	return priv.Account{User: user, Host: host}, stmt, true, nil
}

func isSpace(c byte) bool { return c == ' ' || c == '\t' || c == '\r' || c == '\n' }

// skipWordsCI drops the leading words (and comments and white space) of q.
func skipWordsCI(q string, words ...string) string {
	for _, w := range words {
		q = skipComments(q)
		q = q[len(w):]
	}
	return skipComments(q)
}

func skipComments(q string) string {
	for {
		q = strings.TrimLeft(q, " \t\r\n")
		switch {
		case strings.HasPrefix(q, "/*"):
			if end := strings.Index(q, "*/"); end >= 0 {
				q = q[end+2:]
				continue
			}
		case strings.HasPrefix(q, "--") || strings.HasPrefix(q, "#"):
			if end := strings.IndexByte(q, '\n'); end >= 0 {
				q = q[end+1:]
				continue
			}
		}
		return q
	}
}

// accountPart reads a quoted ('...', "...", `...`, with doubled quotes and
// backslash escapes) or plain (letters, digits, _ $ . -) name.
func accountPart(s string) (name, rest string, err error) {
	if s == "" {
		return "", "", errExecuteAsSyntax
	}
	if q := s[0]; q == '\'' || q == '"' || q == '`' {
		var b strings.Builder
		for i := 1; i < len(s); i++ {
			c := s[i]
			switch {
			case c == '\\' && q != '`' && i+1 < len(s):
				i++
				b.WriteByte(s[i])
			case c == q && i+1 < len(s) && s[i+1] == q:
				i++
				b.WriteByte(q)
			case c == q:
				return b.String(), s[i+1:], nil
			default:
				b.WriteByte(c)
			}
		}
		return "", "", errExecuteAsSyntax
	}
	end := strings.IndexFunc(s, func(r rune) bool {
		return !(r == '_' || r == '$' || r == '.' || r == '-' || r >= '0' && r <= '9' || r >= 'a' && r <= 'z' || r >= 'A' && r <= 'Z')
	})
	if end < 0 {
		end = len(s)
	}
	if end == 0 {
		return "", "", errExecuteAsSyntax
	}
	return s[:end], s[end:], nil
}

func isRevert(query string) bool {
	w := account.Keywords(query, 2)
	return w[0] == "REVERT" && strings.TrimSpace(strings.TrimRight(strings.TrimSpace(skipWordsCI(query, "REVERT")), ";")) == ""
}

// impersonation is a connection's session-level EXECUTE AS. Reverting
// always returns to the session's own account (privilege.Session.Revert):
// impersonation does not nest, so there is no earlier state to restore.
type impersonation struct {
	mu      sync.Mutex
	restore func()
}

func (im *impersonation) set(restore func()) {
	im.mu.Lock()
	defer im.mu.Unlock()
	im.restore = restore
}

func (im *impersonation) revert() {
	im.mu.Lock()
	defer im.mu.Unlock()
	if im.restore != nil {
		im.restore()
		im.restore = nil
	}
}

// executeAs runs EXECUTE AS or REVERT; handled is false for other queries.
func (h *handler) executeAs(ctx context.Context, c *mysql.Conn, cn *conn, query string, callback mysql.ResultSpoolFn) (handled bool, err error) {
	if isRevert(query) {
		cn.acting.revert()
		return true, callback(okResult, false)
	}
	target, stmt, ok, err := parseExecuteAs(query)
	if !ok {
		return false, nil
	}
	if err != nil {
		return true, mysqlerr.Errorf(mysqlerr.ErSyntax, "%v", err)
	}
	if kind := sessionStatement(stmt); kind != "" {
		return true, mysqlerr.WrongUsage(kind, "EXECUTE AS")
	}
	restore, err := cn.sess.Impersonate(target)
	h.s.obs.Impersonation(err == nil)
	if err != nil {
		h.stmtEvent(cn, c, query, 0, err)
		return true, err
	}
	if stmt == "" {
		cn.acting.set(restore)
		return true, callback(okResult, false)
	}
	defer restore() // on every path, panics included
	return true, h.ComQuery(ctx, c, stmt, callback)
}

// sessionStatement names the kind of stmt when its effect is the session it
// runs on rather than data or accounts: after the one-statement EXECUTE AS
// form that effect would stay on the caller's session, set by a statement
// run for another account (on a gateway's pooled connection, for the next
// user's statement to inherit). SET ROLE would even change the caller's own
// roles. "" for every other statement. Account statements (SET PASSWORD,
// SET DEFAULT ROLE) change the account acted as, under its grants, and are
// not session state.
func sessionStatement(stmt string) string {
	w := account.Keywords(stmt, 3)
	switch w[0] {
	case "SET":
		switch {
		case w[1] == "PASSWORD" || w[1] == "DEFAULT" && w[2] == "ROLE":
			return ""
		case w[1] == "ROLE":
			return "SET ROLE"
		}
		return "SET"
	case "USE", "BEGIN", "COMMIT", "ROLLBACK", "SAVEPOINT", "RELEASE", "XA", "LOCK", "UNLOCK",
		"PREPARE", "EXECUTE", "DEALLOCATE", "REVERT", "HANDLER":
		return w[0]
	case "START":
		if w[1] == "TRANSACTION" {
			return "START TRANSACTION"
		}
	case "CREATE", "DROP":
		if w[1] == "TEMPORARY" || w[0] == "DROP" && w[1] == "PREPARE" {
			return w[0] + " " + w[1]
		}
	}
	return ""
}

// provider answers CURRENT_USER() with the account a session acts as (the
// matched account; the target while impersonating), as MySQL does; USER()
// stays the engine's: the login. LOAD_FILE is the host's (loadfile.go).
type provider struct {
	*memory.DbProvider
	s *Server
}

var _ sql.FunctionProvider = provider{}

func (p provider) Function(ctx *sql.Context, name string) (sql.Function, bool) {
	if strings.EqualFold(name, "load_file") {
		return counted("load_file", newLoadFile(p.s)), true
	}
	if strings.EqualFold(name, "current_user") {
		return counted("current_user", sql.NewFunction0("current_user", func() sql.Expression {
			return currentUser{NoArgFunc: function.NoArgFunc{Name: "current_user", SQLType: types.LongText}, s: p.s}
		})), true
	}
	return builtin(name) // builtins.go
}

type currentUser struct {
	function.NoArgFunc
	s *Server
}

func (currentUser) CollationCoercibility(*sql.Context) (sql.CollationID, byte) {
	return sql.Collation_utf8mb3_general_ci, 3
}

func (cu currentUser) Eval(ctx *sql.Context, _ sql.Row) (any, error) {
	if c := cu.s.conn(ctx.Session.ID()); c != nil {
		a := c.sess.Account()
		return a.User + "@" + a.Host, nil
	}
	client := ctx.Session.Client()
	return client.User + "@" + client.Address, nil
}

func (cu currentUser) WithChildren(children ...sql.Expression) (sql.Expression, error) {
	return function.NoArgFuncWithChildren(cu, children)
}
