// Package errnums checks that the MySQL errors of the module's code are
// made in one place: every error number and SQL state is a named constant
// of mysqlerr, whose table pairs each number with its state, and an
// authplug error becomes vitess' *mysql.SQLError only through server's
// toSQLError, called where an error leaves the host (the exported methods
// vitess and the engine call), never in a helper on the way.
package errnums

import (
	"fmt"
	"go/ast"
	"go/parser"
	"go/token"
	"io/fs"
	"os"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"testing"
)

const (
	mysqlerrPath = "github.com/authplug/authplug/mysqlerr"
	vitessMySQL  = "github.com/dolthub/vitess/go/mysql"
	// converter is the one function that may make a *mysql.SQLError.
	converter = "toSQLError"
)

// sqlState looks like an SQLSTATE: five characters of class and subclass,
// with a digit (HY000, 42S02, 08S01), which no privilege name has.
var sqlState = regexp.MustCompile(`^[0-9A-Z]{5}$`)

func isSQLState(e ast.Expr) bool {
	s, ok := stringLit(e)
	return ok && sqlState.MatchString(s) && strings.ContainsAny(s, "0123456789")
}

func stringLit(e ast.Expr) (string, bool) {
	lit, ok := ast.Unparen(e).(*ast.BasicLit)
	if !ok || lit.Kind != token.STRING {
		return "", false
	}
	s, err := strconv.Unquote(lit.Value)
	return s, err == nil
}

func isIntLit(e ast.Expr) bool {
	lit, ok := ast.Unparen(e).(*ast.BasicLit)
	return ok && lit.Kind == token.INT
}

// isNumberLit is an integer literal that can be an error number: 0 is
// Code's "no MySQL error".
func isNumberLit(e ast.Expr) bool {
	return isIntLit(e) && ast.Unparen(e).(*ast.BasicLit).Value != "0"
}

// vitessErrorConst is vitess' names for error numbers and states
// (ERNoSuchTable, ErNoReferencedRow2, SSUnknownSQLState, CRServerLost).
var vitessErrorConst = regexp.MustCompile(`^(ER|Er|SS|CR)[A-Z0-9]`)

// file is one parsed source file and the names its imports go by.
type file struct {
	fset    *token.FileSet
	ast     *ast.File
	imports map[string]string // local name -> import path
}

// pkgSel reports whether e is name.sel with name an import of path.
func (f *file) pkgSel(e ast.Expr, path string) (sel string, ok bool) {
	s, isSel := e.(*ast.SelectorExpr)
	if !isSel {
		return "", false
	}
	id, isIdent := s.X.(*ast.Ident)
	if !isIdent || f.imports[id.Name] != path {
		return "", false
	}
	return s.Sel.Name, true
}

// errorNumber reports whether e reads an error's number: mysqlerr.Code(err),
// a vitess SQLError's Num or Number(), a go-sql-driver MySQLError's Number.
func (f *file) errorNumber(e ast.Expr) bool {
	e = ast.Unparen(e)
	if c, ok := e.(*ast.CallExpr); ok {
		if sel, ok := f.pkgSel(c.Fun, mysqlerrPath); ok && sel == "Code" {
			return true
		}
		e = c.Fun
	}
	s, ok := e.(*ast.SelectorExpr)
	return ok && (s.Sel.Name == "Num" || s.Sel.Name == "Number")
}

// errorState reports whether e reads an error's SQL state.
func errorState(e ast.Expr) bool {
	e = ast.Unparen(e)
	if c, ok := e.(*ast.CallExpr); ok {
		e = c.Fun
	}
	s, ok := e.(*ast.SelectorExpr)
	return ok && (s.Sel.Name == "SQLState" || s.Sel.Name == "State")
}

// check returns the file's violations, each as "path:line: what".
func (f *file) check() []string {
	for _, imp := range f.ast.Imports {
		path, _ := strconv.Unquote(imp.Path.Value)
		name := path[strings.LastIndex(path, "/")+1:]
		if imp.Name != nil {
			name = imp.Name.Name
		}
		f.imports[name] = path
	}
	var out []string
	report := func(n ast.Node, format string, args ...any) {
		p := f.fset.Position(n.Pos())
		out = append(out, fmt.Sprintf("%s:%d: %s", p.Filename, p.Line, fmt.Sprintf(format, args...)))
	}
	visit := func(fn *ast.FuncDecl) func(ast.Node) bool {
		return func(n ast.Node) bool {
			switch n := n.(type) {
			case *ast.CallExpr:
				f.checkCall(fn, n, report)
			case *ast.CompositeLit:
				if _, ok := f.pkgSel(n.Type, mysqlerrPath); ok && n.Type.(*ast.SelectorExpr).Sel.Name == "Error" {
					report(n, "a mysqlerr.Error built by hand: use mysqlerr.Errorf or a constructor")
				}
				if sel, ok := f.pkgSel(n.Type, vitessMySQL); ok && sel == "SQLError" {
					report(n, "a mysql.SQLError built by hand: return a *mysqlerr.Error and let %s convert it", converter)
				}
			case *ast.SelectorExpr:
				if sel, ok := f.pkgSel(n, vitessMySQL); ok && vitessErrorConst.MatchString(sel) {
					report(n, "vitess' mysql.%s: name the error in mysqlerr", sel)
				}
			case *ast.BinaryExpr:
				if n.Op != token.EQL && n.Op != token.NEQ {
					break
				}
				if (isNumberLit(n.X) && f.errorNumber(n.Y)) || (isNumberLit(n.Y) && f.errorNumber(n.X)) {
					report(n, "an error number compared with a literal: use mysqlerr's constant")
				}
				if (isSQLState(n.X) && errorState(n.Y)) || (isSQLState(n.Y) && errorState(n.X)) {
					report(n, "an SQL state compared with a literal: compare error numbers")
				}
			case *ast.SwitchStmt:
				if n.Tag == nil || !f.errorNumber(n.Tag) {
					break
				}
				for _, c := range n.Body.List {
					for _, e := range c.(*ast.CaseClause).List {
						if isNumberLit(e) {
							report(e, "an error number compared with a literal: use mysqlerr's constant")
						}
					}
				}
			}
			return true
		}
	}
	for _, d := range f.ast.Decls {
		fn, _ := d.(*ast.FuncDecl)
		ast.Inspect(d, visit(fn))
	}
	return out
}

func (f *file) checkCall(fn *ast.FuncDecl, c *ast.CallExpr, report func(ast.Node, string, ...any)) {
	fnName := "package level"
	if fn != nil {
		fnName = fn.Name.Name
	}
	var name string
	switch fun := c.Fun.(type) {
	case *ast.Ident:
		name = fun.Name
	case *ast.SelectorExpr:
		name = fun.Sel.Name
		if _, ok := f.pkgSel(fun, mysqlerrPath); ok && name == "Errorf" && len(c.Args) >= 2 {
			if isIntLit(c.Args[0]) {
				report(c, "mysqlerr.Errorf with a literal error number: use mysqlerr's constant")
			}
			if isSQLState(c.Args[1]) {
				report(c, "mysqlerr.Errorf with an SQL state: the state comes from mysqlerr's table")
			}
		}
	}
	switch name {
	case "NewSQLError":
		if fnName != converter {
			report(c, "NewSQLError in %s: convert to the wire only in %s", fnName, converter)
		}
		for _, a := range c.Args[:min(2, len(c.Args))] {
			if isIntLit(a) || isSQLState(a) {
				report(c, "NewSQLError with a literal error number or SQL state")
				break
			}
		}
	case converter:
		if _, isIdent := c.Fun.(*ast.Ident); !isIdent {
			break
		}
		if fn == nil || fn.Recv == nil || !fn.Name.IsExported() {
			report(c, "%s in %s: convert only in the exported methods vitess and the engine call; helpers return *mysqlerr.Error", converter, fnName)
		}
	}
}

// checkSource checks one file's source; path names it in the report.
func checkSource(path string, src any) ([]string, error) {
	fset := token.NewFileSet()
	af, err := parser.ParseFile(fset, path, src, parser.SkipObjectResolution)
	if err != nil {
		return nil, err
	}
	f := &file{fset: fset, ast: af, imports: map[string]string{}}
	return f.check(), nil
}

// checkTree checks every non-test Go file under root but mysqlerr's own.
func checkTree(t *testing.T, root string) (violations []string, files int) {
	t.Helper()
	err := filepath.WalkDir(root, func(path string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		rel, _ := filepath.Rel(root, path)
		if d.IsDir() {
			name := d.Name()
			if rel == "mysqlerr" || name == "testdata" || name == "node_modules" ||
				(rel != "." && (strings.HasPrefix(name, ".") || strings.HasPrefix(name, "bazel-"))) {
				return filepath.SkipDir
			}
			return nil
		}
		if !strings.HasSuffix(path, ".go") || strings.HasSuffix(path, "_test.go") {
			return nil
		}
		src, err := os.ReadFile(path)
		if err != nil {
			return err
		}
		v, err := checkSource(rel, src)
		if err != nil {
			return err
		}
		files++
		violations = append(violations, v...)
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	return violations, files
}

func TestErrorsAreNamedInMysqlerr(t *testing.T) {
	v, files := checkTree(t, "../..")
	if files < 50 {
		t.Fatalf("checked %d files: the walk missed the module's sources", files)
	}
	for _, s := range v {
		t.Error(s)
	}
}

// The check finds each kind of violation, and passes what the module
// writes instead.
func TestCheckFindsLiterals(t *testing.T) {
	const src = `package p

import (
	"errors"

	vmysql "github.com/dolthub/vitess/go/mysql"
	driver "github.com/go-sql-driver/mysql"
	"github.com/authplug/authplug/mysqlerr"
)

func literalNumber() error { return mysqlerr.Errorf(1142, "denied") }

func stateAsFormat() error { return mysqlerr.Errorf(mysqlerr.ErSyntax, "42000", "near %s", "x") }

func named() error { return mysqlerr.Errorf(mysqlerr.ErSyntax, "near %s", "SUPER") }

func byHand() error { return &mysqlerr.Error{Code: mysqlerr.ErSyntax} }

func vitessByHand() error { return &vmysql.SQLError{} }

func vitessConst(se *vmysql.SQLError) bool { return se.Num == vmysql.ERNoSuchTable }

func compared(err error) bool { return mysqlerr.Code(err) == 1045 }

func comparedNamed(err error) bool { return mysqlerr.Code(err) == mysqlerr.ErAccessDenied || mysqlerr.Code(err) != 0 }

func driverNumber(err error) bool {
	var me *driver.MySQLError
	return errors.As(err, &me) && 1062 == me.Number
}

func switched(se *vmysql.SQLError) bool {
	switch se.Number() {
	case 1146, mysqlerr.ErBadDB:
		return true
	}
	return false
}

func state(e *mysqlerr.Error) bool { return e.SQLState != "HY000" }

func toSQLError(err error) error { return vmysql.NewSQLError(int(mysqlerr.Code(err)), "", "%v", err) }

func elsewhere() error { return vmysql.NewSQLError(1105, "HY000", "x") }

type h struct{}

func (h) ComQuery() error { return toSQLError(mysqlerr.AccessDenied("u", "h", false)) }

func (h) helper() error { return toSQLError(mysqlerr.AccessDenied("u", "h", false)) }

func plain() error { return toSQLError(nil) }

var lengths = []int{1024, 2048}
`
	got, err := checkSource("p.go", src)
	if err != nil {
		t.Fatal(err)
	}
	want := []string{
		"p.go:11: mysqlerr.Errorf with a literal error number: use mysqlerr's constant",
		"p.go:13: mysqlerr.Errorf with an SQL state: the state comes from mysqlerr's table",
		"p.go:17: a mysqlerr.Error built by hand: use mysqlerr.Errorf or a constructor",
		"p.go:19: a mysql.SQLError built by hand: return a *mysqlerr.Error and let toSQLError convert it",
		"p.go:21: vitess' mysql.ERNoSuchTable: name the error in mysqlerr",
		"p.go:23: an error number compared with a literal: use mysqlerr's constant",
		"p.go:29: an error number compared with a literal: use mysqlerr's constant",
		"p.go:34: an error number compared with a literal: use mysqlerr's constant",
		"p.go:40: an SQL state compared with a literal: compare error numbers",
		"p.go:44: NewSQLError in elsewhere: convert to the wire only in toSQLError",
		"p.go:44: NewSQLError with a literal error number or SQL state",
		"p.go:50: toSQLError in helper: convert only in the exported methods vitess and the engine call; helpers return *mysqlerr.Error",
		"p.go:52: toSQLError in plain: convert only in the exported methods vitess and the engine call; helpers return *mysqlerr.Error",
	}
	if strings.Join(got, "\n") != strings.Join(want, "\n") {
		t.Fatalf("violations =\n%s\nwant\n%s", strings.Join(got, "\n"), strings.Join(want, "\n"))
	}
}
