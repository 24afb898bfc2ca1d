package server

import (
	"errors"
	"regexp"
	"strconv"
	"strings"

	"github.com/dolthub/go-mysql-server/sql"
	"github.com/dolthub/vitess/go/mysql"

	"github.com/authplug/authplug/mysqlerr"
)

// The engine resolves a statement's column names while it builds the plan,
// before the plan authorizer sees it, and answers a name it cannot resolve
// with errors of its own that go-mysql-server's handler turns into 1105
// with the engine's text. Answered as they are, they tell a session that
// may not read a table which of its columns exist (SELECT nosuch FROM t is
// "column not found", SELECT a FROM t is 1142), and which tables exist
// (a missing table is 1142 too). So they count as "not found"
// (planState.explain): where the engine's own check refused a table of the
// statement, that refusal is the answer, as in MySQL, which checks table
// privileges before it resolves columns. Where nothing was refused, they
// are MySQL's errors: 1054 for an unknown column, 1052 for an ambiguous
// one.

// columnKind is one of the engine's column errors: its kind, and its text
// as a pattern, to recognise it after the handler has made it a 1105.
// column, for an unknown column, is the table (if named) and the column.
type columnKind struct {
	kind    interface{ Is(error) bool }
	pattern *regexp.Regexp
	mysql   func(args []string) *mysqlerr.Error
	column  func(args []string) (table, column string)
}

var columnKinds = []columnKind{
	newColumnKind(sql.ErrColumnNotFound, sql.ErrColumnNotFound.Message,
		func(a []string) *mysqlerr.Error { return unknownColumn(a[0]) }, qualifiedColumn),
	newColumnKind(sql.ErrTableColumnNotFound, sql.ErrTableColumnNotFound.Message,
		func(a []string) *mysqlerr.Error { return unknownColumn(a[0] + "." + a[1]) },
		func(a []string) (string, string) { return a[0], a[1] }),
	newColumnKind(sql.ErrUnknownColumn, sql.ErrUnknownColumn.Message,
		func(a []string) *mysqlerr.Error { return unknownColumn(a[0]) }, qualifiedColumn),
	newColumnKind(sql.ErrMisusedAlias, sql.ErrMisusedAlias.Message,
		func(a []string) *mysqlerr.Error { return unknownColumn(a[0]) }, qualifiedColumn),
	newColumnKind(sql.ErrAmbiguousColumnName, sql.ErrAmbiguousColumnName.Message,
		func(a []string) *mysqlerr.Error { return ambiguousColumn(a[0], "field list") }, nil),
	newColumnKind(sql.ErrAmbiguousColumnOrAliasName, sql.ErrAmbiguousColumnOrAliasName.Message,
		func(a []string) *mysqlerr.Error { return ambiguousColumn(a[0], "field list") }, nil),
	newColumnKind(sql.ErrAmbiguousColumnInOrderBy, sql.ErrAmbiguousColumnInOrderBy.Message,
		func(a []string) *mysqlerr.Error { return ambiguousColumn(a[0], "order clause") }, nil),
}

// qualifiedColumn splits a column name the engine gives as written,
// t.c or c.
func qualifiedColumn(a []string) (table, column string) {
	if i := strings.LastIndexByte(a[0], '.'); i >= 0 {
		return a[0][:i], a[0][i+1:]
	}
	return "", a[0]
}

// unknownColumn is MySQL's 1054. MySQL names the clause the column is in;
// the engine's error does not say, so it is always the field list.
func unknownColumn(name string) *mysqlerr.Error {
	return mysqlerr.Errorf(mysqlerr.ErBadField, "Unknown column '%s' in 'field list'", name)
}

func ambiguousColumn(name, where string) *mysqlerr.Error {
	return mysqlerr.Errorf(mysqlerr.ErNonUniq, "Column '%s' in %s is ambiguous", name, where)
}

// newColumnKind makes the pattern of k's text (format): its verbs become
// groups.
func newColumnKind(k interface{ Is(error) bool }, format string, m func([]string) *mysqlerr.Error, column func([]string) (string, string)) columnKind {
	var b strings.Builder
	b.WriteString("^")
	rest := format
	for {
		i := strings.IndexByte(rest, '%')
		if i < 0 || i+1 >= len(rest) {
			b.WriteString(regexp.QuoteMeta(rest))
			break
		}
		b.WriteString(regexp.QuoteMeta(rest[:i]))
		switch rest[i+1] {
		case 'q':
			b.WriteString(`("(?:[^"\\]|\\.)*")`)
		default:
			b.WriteString(`(.*)`)
		}
		rest = rest[i+2:]
	}
	b.WriteString("$")
	return columnKind{kind: k, pattern: regexp.MustCompile(b.String()), mysql: m, column: column}
}

// columnError is err as MySQL's error, if it is one of the engine's column
// errors, as the engine made it or as the handler passed it on.
func columnError(err error) (*mysqlerr.Error, bool) {
	k, args, ok := matchColumnError(err)
	if !ok {
		return nil, false
	}
	return k.mysql(args), true
}

// unknownColumnName is the column err says is unknown, and its table when
// the statement named one.
func unknownColumnName(err error) (table, column string, ok bool) {
	k, args, ok := matchColumnError(err)
	if !ok || k.column == nil {
		return "", "", false
	}
	table, column = k.column(args)
	return table, column, true
}

func matchColumnError(err error) (*columnKind, []string, bool) {
	if err == nil {
		return nil, nil, false
	}
	msg := err.Error()
	var se *mysql.SQLError
	if errors.As(err, &se) {
		if se.Num != int(mysqlerr.ErUnknownError) && se.Num != int(mysqlerr.ErBadField) {
			return nil, nil, false
		}
		msg = se.Message
	}
	for i := range columnKinds {
		k := &columnKinds[i]
		if se == nil && !k.kind.Is(err) {
			continue
		}
		m := k.pattern.FindStringSubmatch(msg)
		if m == nil {
			continue
		}
		args := m[1:]
		for i, a := range args {
			if u, err := strconv.Unquote(a); err == nil && strings.HasPrefix(a, `"`) {
				args[i] = u
			}
		}
		return k, args, true
	}
	return nil, nil, false
}
