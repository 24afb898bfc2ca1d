package account

import (
	"crypto/rand"
	"encoding/hex"
	"errors"
	"strings"

	"github.com/pingcap/tidb/pkg/parser"
	"github.com/pingcap/tidb/pkg/parser/ast"
	_ "github.com/pingcap/tidb/pkg/parser/test_driver" // value expressions for the parser

	"github.com/authplug/authplug/mysqlerr"
)

// IsStatement reports whether query is an account statement: one that
// authplug runs against its store rather than handing to an engine.
func IsStatement(query string) bool { return isAccountWords(Keywords(query, 3)) }

func isAccountWords(w []string) bool {
	switch w[0] {
	case "GRANT", "REVOKE":
		return true
	case "CREATE", "DROP":
		return w[1] == "USER" || w[1] == "ROLE"
	case "ALTER", "RENAME":
		return w[1] == "USER"
	case "SET":
		return w[1] == "ROLE" || w[1] == "PASSWORD" || (w[1] == "DEFAULT" && w[2] == "ROLE")
	case "SHOW":
		return w[1] == "GRANTS" || w[1] == "CREATE" && w[2] == "USER"
	case "FLUSH":
		return w[1] == "PRIVILEGES"
	}
	return false
}

// RequireCurrent is a PASSWORD REQUIRE CURRENT clause.
type RequireCurrent uint8

// The PASSWORD REQUIRE CURRENT clauses; RequireUnset is none written.
const (
	RequireUnset    RequireCurrent = iota
	RequireYes                     // PASSWORD REQUIRE CURRENT
	RequireDefault                 // PASSWORD REQUIRE CURRENT DEFAULT
	RequireOptional                // PASSWORD REQUIRE CURRENT OPTIONAL
)

// Statement is a parsed account statement: TiDB's tree, and the MySQL 8
// clauses its grammar lacks, read beside it.
type Statement struct {
	Node ast.StmtNode
	// RevokeProxy: Node is the GRANT PROXY form of a REVOKE PROXY.
	RevokeProxy bool
	// Replace is REPLACE 'current' (nil without one).
	Replace *string
	// RequireCurrent is PASSWORD REQUIRE CURRENT [DEFAULT | OPTIONAL].
	RequireCurrent RequireCurrent
	// WithAdmin is GRANT role ... WITH ADMIN OPTION.
	WithAdmin bool
	// hasOn: the statement has an ON clause, which tells REVOKE ALL
	// PRIVILEGES, GRANT OPTION FROM (all of an account's privileges) from
	// REVOKE ALL, GRANT OPTION ON *.* (its global ones).
	hasOn bool
	// random stands in Node for RANDOM PASSWORD: a literal no client can
	// guess, so a password written by the client is never taken for it.
	random string
}

// IsRandom reports whether an IDENTIFIED BY or SET PASSWORD value stands for
// RANDOM PASSWORD.
func (s *Statement) IsRandom(authString string) bool {
	return s != nil && s.random != "" && authString == s.random
}

// parseOne parses exactly one statement with TiDB's parser. Its value
// expressions (the test_driver package) panic on some literals, a number of
// more digits than their decimal holds: a statement it cannot take is not
// one, never a dropped connection.
func parseOne(sql string) (node ast.StmtNode, ok bool) {
	defer func() {
		if recover() != nil {
			node, ok = nil, false
		}
	}()
	stmts, _, err := parser.New().Parse(sql, "", "")
	if err != nil || len(stmts) != 1 {
		return nil, false
	}
	return stmts[0], true
}

// Parse parses one account statement. Errors are MySQL's syntax error,
// whose text never holds a secret of the statement.
func Parse(query string) (*Statement, error) {
	st, rewritten, err := rewrite(query)
	if errors.Is(err, errTwoReplace) || errors.Is(err, errRemovedSyntax) {
		return nil, syntaxError(query)
	}
	if err != nil {
		return nil, err
	}
	node, ok := parseOne(rewritten)
	if !ok {
		return nil, syntaxError(query)
	}
	st.Node = node
	if st.RevokeProxy {
		g, ok := st.Node.(*ast.GrantProxyStmt)
		if !ok || g.WithGrant {
			return nil, syntaxError(query)
		}
	}
	return st, nil
}

// rewrite turns the MySQL 8 clauses TiDB's grammar lacks into forms it
// reads, recording them in the Statement:
//
//	REVOKE PROXY ON a FROM b        GRANT PROXY ON a TO b
//	IDENTIFIED BY RANDOM PASSWORD   IDENTIFIED BY '<random>'
//	SET PASSWORD ... TO RANDOM      SET PASSWORD ... = '<random>'
//	REPLACE 'current'               (dropped)
//	PASSWORD REQUIRE CURRENT ...    (dropped)
//	GRANT role ... WITH ADMIN OPTION (dropped)
//
// Only bare words count, so a quoted name is never taken for a clause.
func rewrite(query string) (*Statement, string, error) {
	ts := lex(query)
	sig := significant(ts)
	st := &Statement{}
	word := func(k int) string {
		if k >= 0 && k < len(sig) {
			return ts[sig[k]].upper()
		}
		return ""
	}
	drop := func(from, to int) { // significant tokens [from, to)
		for k := from; k < to; k++ {
			ts[sig[k]].text = " "
		}
	}
	setPassword := word(0) == "SET" && word(1) == "PASSWORD"
	if word(0) == "REVOKE" && word(1) == "PROXY" {
		st.RevokeProxy = true
		ts[sig[0]].text = "GRANT"
	}
	for i, t := range ts {
		if t.kind == tokSkipped {
			ts[i].text = " "
		}
	}
	for k := 0; k < len(sig); k++ {
		switch word(k) {
		case "ON":
			st.hasOn = true
		case "FROM":
			if st.RevokeProxy {
				ts[sig[k]].text = "TO"
			}
		case "RANDOM":
			if word(k-1) == "BY" && word(k+1) == "PASSWORD" || setPassword && word(k-1) == "TO" {
				if st.random == "" {
					st.random = "authplug-random-" + nonce()
				}
				ts[sig[k]].text = "'" + st.random + "'"
				if word(k-1) == "TO" {
					ts[sig[k-1]].text = "="
				} else {
					drop(k+1, k+2)
				}
			}
		case "REPLACE":
			if k+1 < len(sig) && ts[sig[k+1]].kind == tokString {
				if st.Replace != nil {
					return nil, "", errTwoReplace
				}
				s := unquote(ts[sig[k+1]].text)
				st.Replace = &s
				drop(k, k+2)
			}
		case "ADMIN":
			if word(0) == "GRANT" && word(k-1) == "WITH" && word(k+1) == "OPTION" && k+2 == len(sig) {
				st.WithAdmin = true
				drop(k-1, k+2)
			}
		case "RETAIN":
			if word(k+1) == "CURRENT" && word(k+2) == "PASSWORD" {
				return nil, "", notSupported("RETAIN CURRENT PASSWORD")
			}
		case "PASSWORD":
			if setPassword && k > 1 && k+1 < len(sig) && ts[sig[k+1]].text == "(" {
				// PASSWORD('x'): removed in MySQL 8.
				return nil, "", errRemovedSyntax
			}
			if word(k+1) == "REQUIRE" && word(k+2) == "CURRENT" {
				n := 3
				switch word(k + 3) {
				case "DEFAULT":
					st.RequireCurrent, n = RequireDefault, 4
				case "OPTIONAL":
					st.RequireCurrent, n = RequireOptional, 4
				default:
					st.RequireCurrent = RequireYes
				}
				drop(k, k+n)
			}
		}
	}
	return st, join(ts), nil
}

// errTwoReplace: a statement names REPLACE twice. rewrite must not build
// the syntax error itself: that redacts the text, which rewrites it again.
var errTwoReplace = errors.New("two REPLACE clauses")

// errRemovedSyntax: MySQL 5.7 syntax that MySQL 8 no longer reads.
var errRemovedSyntax = errors.New("syntax removed in MySQL 8")

func nonce() string {
	b := make([]byte, 16)
	_, _ = rand.Read(b) // crypto/rand.Read never fails (Go 1.24)
	return hex.EncodeToString(b)
}

// unquote reads a '...' or "..." literal as MySQL does: doubled quotes and
// backslash escapes.
func unquote(lit string) string {
	if len(lit) < 2 {
		return ""
	}
	q, body := lit[0], lit[1:len(lit)-1]
	var b strings.Builder
	for i := 0; i < len(body); i++ {
		c := body[i]
		switch {
		case c == '\\' && i+1 < len(body):
			i++
			switch body[i] {
			case 'n':
				b.WriteByte('\n')
			case 't':
				b.WriteByte('\t')
			case 'r':
				b.WriteByte('\r')
			case '0':
				b.WriteByte(0)
			case 'Z':
				b.WriteByte(26)
			case 'b':
				b.WriteByte('\b')
			default:
				b.WriteByte(body[i])
			}
		case c == q && i+1 < len(body) && body[i+1] == q:
			i++
			b.WriteByte(q)
		default:
			b.WriteByte(c)
		}
	}
	return b.String()
}

func syntaxError(query string) error {
	query = Redact(query)
	if len(query) > 80 {
		query = query[:80]
	}
	return mysqlerr.Errorf(mysqlerr.ErSyntax, "You have an error in your SQL syntax near '%s'", query)
}

func notSupported(what string) error {
	return mysqlerr.Errorf(mysqlerr.ErNotSupportedYet, "This version of authplug doesn't yet support '%s'", what)
}
