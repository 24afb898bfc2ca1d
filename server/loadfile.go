package server

import (
	"fmt"
	"io"
	"os"
	"path/filepath"

	"github.com/dolthub/go-mysql-server/sql"
	"github.com/dolthub/go-mysql-server/sql/expression"
	"github.com/dolthub/go-mysql-server/sql/types"

	"github.com/authplug/authplug/priv"
)

// loadFile is the host's LOAD_FILE, in place of the engine's: the engine
// may evaluate a constant expression while it analyzes a statement, before
// the plan authorizer sees it, so the function checks FILE itself when it
// runs. A file outside secure_file_priv, or reached through a symbolic link
// that leaves it, reads as NULL, as in MySQL.
type loadFile struct {
	expression.UnaryExpression
	s *Server
}

var _ sql.FunctionExpression = (*loadFile)(nil)

func newLoadFile(s *Server) sql.Function {
	return sql.Function1{Name: "load_file", Fn: func(arg sql.Expression) sql.Expression {
		return &loadFile{UnaryExpression: expression.UnaryExpression{Child: arg}, s: s}
	}}
}

func (l *loadFile) FunctionName() string { return "load_file" }
func (l *loadFile) Description() string  { return "returns a file's contents as a string" }
func (l *loadFile) Type() sql.Type       { return types.LongBlob }
func (l *loadFile) IsNullable() bool     { return true }
func (l *loadFile) String() string       { return fmt.Sprintf("LOAD_FILE(%s)", l.Child) }

func (l *loadFile) CollationCoercibility(*sql.Context) (sql.CollationID, byte) {
	return sql.Collation_binary, 5
}

func (l *loadFile) WithChildren(children ...sql.Expression) (sql.Expression, error) {
	if len(children) != 1 {
		return nil, sql.ErrInvalidChildrenNumber.New(l, len(children), 1)
	}
	return &loadFile{UnaryExpression: expression.UnaryExpression{Child: children[0]}, s: l.s}, nil
}

func (l *loadFile) Eval(ctx *sql.Context, row sql.Row) (any, error) {
	if cn := l.s.conn(ctx.Session.ID()); cn != nil {
		if err := cn.plan.current(cn).verify("", "", "", priv.File); err != nil {
			return nil, toSQLError(err)
		}
	} else if ctx.Session.ID() != internalSession {
		return nil, nil
	}
	v, err := l.Child.Eval(ctx, row)
	if err != nil || v == nil {
		return nil, err
	}
	name, ok := v.(string)
	if !ok {
		name = fmt.Sprint(v)
	}
	path, ok := l.s.secureFile(name)
	if !ok {
		return nil, nil
	}
	f, err := os.Open(path)
	if err != nil {
		return nil, nil
	}
	defer f.Close()
	limit := maxAllowedPacket(ctx)
	data, err := io.ReadAll(io.LimitReader(f, limit+1))
	if err != nil || int64(len(data)) > limit {
		return nil, nil // too big: NULL, as in MySQL
	}
	return data, nil
}

// secureFile resolves name, symbolic links included, and reports whether
// the file it names is a regular file inside secure_file_priv.
func (s *Server) secureFile(name string) (string, bool) {
	if s.secureFiles == "" || !filepath.IsAbs(name) {
		return "", false
	}
	real, err := filepath.EvalSymlinks(filepath.Clean(name))
	if err != nil {
		return "", false
	}
	rel, err := filepath.Rel(s.secureFiles, real)
	if err != nil || rel == ".." || len(rel) > 2 && rel[:3] == ".."+string(filepath.Separator) || filepath.IsAbs(rel) {
		return "", false
	}
	if fi, err := os.Stat(real); err != nil || !fi.Mode().IsRegular() {
		return "", false
	}
	return real, true
}
