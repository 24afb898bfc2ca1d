package server

import (
	"go/ast"
	"go/parser"
	"go/token"
	"io/fs"
	"os"
	"os/exec"
	"path/filepath"
	"reflect"
	"sort"
	"strings"
	"testing"

	"github.com/dolthub/go-mysql-server/sql"
	"github.com/dolthub/go-mysql-server/sql/expression"
	"github.com/dolthub/go-mysql-server/sql/expression/function"
	"github.com/dolthub/go-mysql-server/sql/types"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// These tests read the engine's own source and registries, so that an
// engine upgrade that adds a plan node, an expression, a function or a
// statement kind fails here until it is classified (planrules.go,
// exprrules.go, functions.go, statements.go). At run time an unclassified
// one is refused; these make sure nobody learns that from a user.

func moduleDir(t *testing.T, mod string) string {
	t.Helper()
	out, err := exec.Command("go", "list", "-m", "-f", "{{.Dir}}", mod).Output()
	require.NoError(t, err, "go list -m %s", mod)
	dir := strings.TrimSpace(string(out))
	require.DirExists(t, dir)
	return dir
}

// receivers lists, per package directory under root, the type names that
// declare a method named method whose parameters match params (as written
// in the source).
func receivers(t *testing.T, root, method string, match func(*ast.FuncDecl) bool) map[string]bool {
	t.Helper()
	found := map[string]bool{}
	err := filepath.WalkDir(root, func(path string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		if d.IsDir() {
			switch d.Name() {
			case "enginetest", "testdata", "_example", "_scripts", "memo":
				return filepath.SkipDir
			}
			return nil
		}
		if !strings.HasSuffix(path, ".go") || strings.HasSuffix(path, "_test.go") {
			return nil
		}
		f, err := parser.ParseFile(token.NewFileSet(), path, nil, parser.SkipObjectResolution)
		if err != nil {
			return err
		}
		for _, decl := range f.Decls {
			fd, ok := decl.(*ast.FuncDecl)
			if !ok || fd.Recv == nil || fd.Name.Name != method || !match(fd) {
				continue
			}
			typ := fd.Recv.List[0].Type
			if s, ok := typ.(*ast.StarExpr); ok {
				typ = s.X
			}
			if ix, ok := typ.(*ast.IndexExpr); ok {
				typ = ix.X
			}
			if id, ok := typ.(*ast.Ident); ok {
				rel, _ := filepath.Rel(root, filepath.Dir(path))
				found[filepath.ToSlash(rel)+"."+id.Name] = true
			}
		}
		return nil
	})
	require.NoError(t, err)
	return found
}

func params(fd *ast.FuncDecl) string {
	var b strings.Builder
	for _, p := range fd.Type.Params.List {
		b.WriteString(types2string(p.Type))
		b.WriteByte(',')
	}
	return b.String()
}

func types2string(e ast.Expr) string {
	switch x := e.(type) {
	case *ast.Ident:
		return x.Name
	case *ast.SelectorExpr:
		return types2string(x.X) + "." + x.Sel.Name
	case *ast.StarExpr:
		return "*" + types2string(x.X)
	case *ast.Ellipsis:
		return "..." + types2string(x.Elt)
	case *ast.ArrayType:
		return "[]" + types2string(x.Elt)
	}
	return "?"
}

// classifiedNames is every type the rules name, as "pkgdir.Type" relative to
// the engine module.
func classifiedNames(ts ...map[reflect.Type]bool) map[string]bool {
	out := map[string]bool{}
	for _, m := range ts {
		for t := range m {
			if t.Kind() == reflect.Pointer {
				t = t.Elem()
			}
			pkg := strings.TrimPrefix(t.PkgPath(), "github.com/dolthub/go-mysql-server")
			out[strings.TrimPrefix(pkg, "/")+"."+t.Name()] = true
		}
	}
	return out
}

func keys[V any](m map[reflect.Type]V) map[reflect.Type]bool {
	out := map[reflect.Type]bool{}
	for k := range m {
		out[k] = true
	}
	return out
}

func missing(want, have map[string]bool) []string {
	var out []string
	for n := range want {
		if !have[n] {
			out = append(out, n)
		}
	}
	sort.Strings(out)
	return out
}

func TestEveryEngineNodeIsClassified(t *testing.T) {
	root := moduleDir(t, "github.com/dolthub/go-mysql-server")
	nodes := receivers(t, root, "WithChildren", func(fd *ast.FuncDecl) bool {
		p := params(fd)
		return p == "...sql.Node," || p == "...Node,"
	})
	require.Greater(t, len(nodes), 150, "the engine's plan nodes were not found")
	have := classifiedNames(keys(nodeRules))
	assert.Empty(t, missing(nodes, have), "plan nodes with no rule in planrules.go")
}

func TestEveryEngineExpressionIsClassified(t *testing.T) {
	root := moduleDir(t, "github.com/dolthub/go-mysql-server")
	exprs := receivers(t, root, "WithChildren", func(fd *ast.FuncDecl) bool {
		p := params(fd)
		return p == "...sql.Expression," || p == "...Expression,"
	})
	require.Greater(t, len(exprs), 100, "the engine's expressions were not found")
	// Functions are classified by name (TestEveryEngineFunctionIsClassified):
	// leave out the types of the function packages.
	for n := range exprs {
		if strings.HasPrefix(n, "sql/expression/function") {
			delete(exprs, n)
		}
	}
	refused := map[reflect.Type]bool{}
	for t := range refusedExpressions {
		refused[t] = true
	}
	have := classifiedNames(pureExpressions, refused)
	assert.Empty(t, missing(exprs, have), "expressions with no classification in exprrules.go")
}

// TestEveryEngineFunctionIsClassified builds each of the engine's built-in
// functions and checks the name its expression answers to.
func TestEveryEngineFunctionIsClassified(t *testing.T) {
	var unclassified []string
	for _, f := range function.BuiltIns {
		e := instance(f)
		if e == nil {
			// Built only from a specific argument type: its registry name
			// must be classified.
			if !pureFunctions[f.FunctionName()] && !fileFunctions[f.FunctionName()] {
				unclassified = append(unclassified, f.FunctionName())
			}
			continue
		}
		fe, ok := e.(sql.FunctionExpression)
		if !ok {
			if !pureExpressions[reflect.TypeOf(e)] {
				unclassified = append(unclassified, f.FunctionName()+" ("+reflect.TypeOf(e).String()+")")
			}
			continue
		}
		name := strings.ToLower(fe.FunctionName())
		if !pureFunctions[name] && !fileFunctions[name] {
			unclassified = append(unclassified, f.FunctionName()+" -> "+name)
		}
	}
	assert.Empty(t, unclassified, "functions missing from functions.go")
	assert.False(t, pureFunctions["load_file"], "LOAD_FILE reads server files: it needs FILE")
}

func instance(f sql.Function) sql.Expression {
	for n := 0; n <= 4; n++ {
		args := make([]sql.Expression, n)
		for i := range args {
			args[i] = expression.NewLiteral("1", types.LongText)
		}
		if e, err := safeInstance(f, args); err == nil && e != nil {
			return e
		}
	}
	return nil
}

func safeInstance(f sql.Function, args []sql.Expression) (e sql.Expression, err error) {
	defer func() {
		if recover() != nil {
			e, err = nil, os.ErrInvalid
		}
	}()
	return f.NewInstance(args)
}

func TestEveryStatementKindIsClassified(t *testing.T) {
	root := moduleDir(t, "github.com/dolthub/vitess")
	stmts := receivers(t, filepath.Join(root, "go", "vt", "sqlparser"), "iStatement", func(*ast.FuncDecl) bool { return true })
	require.Greater(t, len(stmts), 40, "the parser's statement kinds were not found")
	var unclassified []string
	for n := range stmts {
		if statementKinds[n[strings.LastIndexByte(n, '.')+1:]] == "" {
			unclassified = append(unclassified, n)
		}
	}
	assert.Empty(t, unclassified, "statement kinds missing from statements.go")
}
