package account

import (
	"strings"

	"github.com/pingcap/tidb/pkg/parser/ast"
)

// Redacted stands for a statement that may hold a secret and could not be
// parsed to say where.
const Redacted = "<statement redacted: it could not be parsed and may hold a password>"

const blank = "'<redacted>'"

// Redact is an account statement's text for logs, audit lines and error
// texts, with no password, hash or token in it. Every literal that can
// hold a secret (after BY, AS, REPLACE, the = or ( of SET PASSWORD) is
// blanked where the client wrote it, comments and version comments
// included, keeping the statement readable; then the parser, not the
// tokens, decides: the blanked text is parsed again and if any secret of
// the statement is still there, the parser's own secret-free rendering is
// used instead. Text that cannot be parsed and mentions IDENTIFIED,
// PASSWORD or REPLACE is replaced whole, and so is a PREPARE that does (it
// may prepare an account statement).
func Redact(query string) string {
	mayHoldSecret := MayHoldSecret(query)
	if !mayHoldSecret {
		return query
	}
	node, st := parseForRedaction(query)
	switch n := node.(type) {
	case nil, *ast.PrepareStmt:
		return Redacted
	case ast.SensitiveStmtNode:
		blanked := blankSecrets(query)
		if again, st2 := parseForRedaction(blanked); again == nil || hasSecret(again, st2) {
			return n.SecureText()
		}
		_ = st
		return blanked
	}
	return query
}

// MayHoldSecret reports whether query mentions a word that introduces a
// secret in some account statement.
func MayHoldSecret(query string) bool {
	return containsFold(query, "identified") || containsFold(query, "password") || containsFold(query, "replace")
}

func parseForRedaction(query string) (ast.StmtNode, *Statement) {
	st, rewritten, err := rewrite(query)
	if err != nil {
		return nil, nil
	}
	node, ok := parseOne(rewritten)
	if !ok {
		return nil, nil
	}
	return node, st
}

// blankSecrets replaces every string or hex literal that follows BY, AS,
// REPLACE, = or ( with a blank, and empties version comments for a later
// server.
func blankSecrets(query string) string {
	ts := lex(query)
	for i, t := range ts {
		if t.kind == tokSkipped { // not code, but may hold anything
			ts[i].text = "/* */"
		}
	}
	sig := significant(ts)
	for k := 1; k < len(sig); k++ {
		t := ts[sig[k]]
		if t.kind != tokString && !(t.kind == tokWord && isHexLiteral(t.text)) {
			continue
		}
		prev := ts[sig[k-1]]
		switch {
		case prev.upper() == "BY" || prev.upper() == "AS" || prev.upper() == "REPLACE" || prev.text == "=" || prev.text == "(":
			ts[sig[k]].text = blank
		case prev.upper() == "X" || prev.upper() == "B" || prev.upper() == "_BINARY" || strings.HasPrefix(prev.text, "_"):
			// x'...' and _charset'...': the literal's prefix is its own word.
			if k >= 2 {
				if pp := ts[sig[k-2]]; pp.upper() == "BY" || pp.upper() == "AS" || pp.upper() == "REPLACE" || pp.text == "=" || pp.text == "(" {
					ts[sig[k-1]].text = ""
					ts[sig[k]].text = blank
				}
			}
		}
	}
	return join(ts)
}

func isHexLiteral(w string) bool {
	return len(w) > 2 && (w[:2] == "0x" || w[:2] == "0X" || w[:2] == "0b" || w[:2] == "0B")
}

// hasSecret reports whether a parsed account statement still carries a
// password or hash other than the blank.
func hasSecret(n ast.StmtNode, st *Statement) bool {
	const b = "<redacted>"
	if st != nil && st.Replace != nil && *st.Replace != b {
		return true
	}
	auth := func(o *ast.AuthOption) bool {
		if o == nil {
			return false
		}
		return o.ByAuthString && o.AuthString != b && !st.IsRandom(o.AuthString) ||
			o.ByHashString && o.HashString != b
	}
	specs := func(us []*ast.UserSpec) bool {
		for _, u := range us {
			if auth(u.AuthOpt) {
				return true
			}
		}
		return false
	}
	switch s := n.(type) {
	case *ast.CreateUserStmt:
		return specs(s.Specs)
	case *ast.AlterUserStmt:
		return specs(s.Specs) || auth(s.CurrentAuth)
	case *ast.SetPwdStmt:
		return s.Password != b && !st.IsRandom(s.Password)
	case *ast.GrantStmt:
		return specs(s.Users)
	}
	return false
}

func containsFold(s, sub string) bool {
	n := len(sub)
	for i := 0; i+n <= len(s); i++ {
		if strings.EqualFold(s[i:i+n], sub) {
			return true
		}
	}
	return false
}
