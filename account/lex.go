package account

import (
	"strconv"
	"strings"
)

// A small MySQL tokenizer. TiDB's parser decides what an account statement
// means; the tokens are for what it cannot do: MySQL 8 clauses its grammar
// lacks (REVOKE PROXY, RANDOM PASSWORD, REPLACE, PASSWORD REQUIRE CURRENT
// OPTIONAL) and finding, for redaction, the literals that hold secrets
// wherever comments put them.

type tokenKind uint8

const (
	tokSpace   tokenKind = iota // white space, comments, version-comment marks
	tokWord                     // keywords, plain names, numbers, 0x literals
	tokString                   // '...' or "..."
	tokQuoted                   // `...`
	tokPunct                    // any other byte
	tokSkipped                  // a version comment for a later server: a comment
)

// serverVersion is the MySQL version authplug answers as, for version
// comments: /*!80100 ... */ is code for it, /*!90000 ... */ a comment.
const serverVersion = 80099

type token struct {
	kind tokenKind
	text string
}

// upper is a word's text in upper case, "" for other tokens.
func (t token) upper() string {
	if t.kind != tokWord {
		return ""
	}
	return strings.ToUpper(t.text)
}

// lex splits q into tokens whose texts, joined, are q again.
func lex(q string) []token {
	var out []token
	var l lexer
	for t, ok := l.next(q); ok; t, ok = l.next(q) {
		out = append(out, t)
	}
	return out
}

// lexer reads one token at a time, so that reading a statement's first
// words (on every statement's path) does not tokenize all of it. The text
// of a version comment (/*!80000 ... */) is code to MySQL and to TiDB's
// parser, so it is lexed as code; its marks are space. An unterminated
// quote or comment runs to the end of q.
type lexer struct {
	i         int
	inVersion bool
}

func (l *lexer) next(q string) (token, bool) {
	i := l.i
	if i >= len(q) {
		return token{}, false
	}
	c := q[i]
	kind := tokPunct
	switch {
	case c == ' ' || c == '\t' || c == '\r' || c == '\n' || c == '\f' || c == '\v':
		for i < len(q) && strings.IndexByte(" \t\r\n\f\v", q[i]) >= 0 {
			i++
		}
		kind = tokSpace
	case strings.HasPrefix(q[i:], "/*!"):
		i += 3
		digits := i
		for i < len(q) && q[i] >= '0' && q[i] <= '9' {
			i++
		}
		if v, err := strconv.Atoi(q[digits:i]); err == nil && i-digits >= 5 && v > serverVersion {
			if end := strings.Index(q[i:], "*/"); end >= 0 {
				i += end + 2
			} else {
				i = len(q)
			}
			kind = tokSkipped
			break
		}
		kind, l.inVersion = tokSpace, true
	case l.inVersion && strings.HasPrefix(q[i:], "*/"):
		i += 2
		kind, l.inVersion = tokSpace, false
	case strings.HasPrefix(q[i:], "/*"):
		if end := strings.Index(q[i+2:], "*/"); end >= 0 {
			i += 2 + end + 2
		} else {
			i = len(q)
		}
		kind = tokSpace
	case c == '#' || c == '-' && i+1 < len(q) && q[i+1] == '-' && (i+2 == len(q) || strings.IndexByte(" \t\r\n\f\v", q[i+2]) >= 0):
		if end := strings.IndexByte(q[i:], '\n'); end >= 0 {
			i += end + 1
		} else {
			i = len(q)
		}
		kind = tokSpace
	case c == '\'' || c == '"':
		i = endOfQuoted(q, i, true)
		kind = tokString
	case c == '`':
		i = endOfQuoted(q, i, false)
		kind = tokQuoted
	case isWordByte(c):
		for i < len(q) && isWordByte(q[i]) {
			i++
		}
		kind = tokWord
	default:
		i++
	}
	t := token{kind: kind, text: q[l.i:i]}
	l.i = i
	return t, true
}

func isWordByte(c byte) bool {
	return c == '_' || c == '$' || c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c >= '0' && c <= '9' || c >= 0x80
}

// endOfQuoted returns the index just past the quoted text starting at i:
// a doubled quote is one quote, and in strings a backslash escapes the
// next byte.
func endOfQuoted(q string, i int, escapes bool) int {
	quote := q[i]
	for i++; i < len(q); i++ {
		switch {
		case escapes && q[i] == '\\':
			i++
		case q[i] == quote && i+1 < len(q) && q[i+1] == quote:
			i++
		case q[i] == quote:
			return i + 1
		}
	}
	return len(q)
}

// significant returns the indexes of the tokens that are not space.
func significant(ts []token) []int {
	var out []int
	for i, t := range ts {
		if t.kind != tokSpace && t.kind != tokSkipped {
			out = append(out, i)
		}
	}
	return out
}

func join(ts []token) string {
	var b strings.Builder
	for _, t := range ts {
		b.WriteString(t.text)
	}
	return b.String()
}

// Keywords returns the first n words of a statement in upper case, looking
// past white space, comments and opening parentheses; missing words are "".
func Keywords(query string, n int) []string {
	out := make([]string, n)
	var l lexer
	for i := 0; i < n; {
		t, ok := l.next(query)
		switch {
		case !ok:
			return out
		case t.kind == tokSpace || t.kind == tokSkipped || t.text == "(":
		case t.kind == tokWord:
			out[i] = t.upper()
			i++
		default:
			return out
		}
	}
	return out
}
