// Package testrules checks the module's test files for the harness rules
// a reviewer would otherwise have to catch by eye: no sleep stands in for
// waiting on an event, a helper takes the *testing.T of its caller first,
// a subtest's function shadows its parent's t, and no goroutine a test
// starts ends the test (FailNow must run on the test's own goroutine).
// The checks read the syntax only, so they stay cheap and exact; what
// needs types (a value holding a parent's t, used in a subtest) is left to
// review.
package testrules

import (
	"fmt"
	"go/ast"
	"go/parser"
	"go/token"
	"io/fs"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
)

// root is the module root, from this package's directory.
const root = "../.."

// check returns one line per rule the test file f breaks.
func check(fset *token.FileSet, f *ast.File) []string {
	timePkg := importName(f, "time")
	testingPkg := importName(f, "testing")
	var bad []string
	report := func(n ast.Node, format string, args ...any) {
		bad = append(bad, fmt.Sprintf("%s: %s", fset.Position(n.Pos()), fmt.Sprintf(format, args...)))
	}
	isT := func(e ast.Expr) bool {
		if s, ok := e.(*ast.StarExpr); ok {
			e = s.X
		}
		sel, ok := e.(*ast.SelectorExpr)
		if !ok {
			return false
		}
		x, ok := sel.X.(*ast.Ident)
		return ok && testingPkg != "" && x.Name == testingPkg &&
			(sel.Sel.Name == "T" || sel.Sel.Name == "B" || sel.Sel.Name == "F" || sel.Sel.Name == "TB")
	}
	ast.Inspect(f, func(n ast.Node) bool {
		switch n := n.(type) {
		case *ast.FuncDecl:
			tFirst(n.Type, isT, report)
		case *ast.FuncLit:
			tFirst(n.Type, isT, report)
		case *ast.CallExpr:
			if isCall(n, timePkg, "Sleep") {
				report(n, "time.Sleep: wait for the event itself, with a bound (a channel and a timeout, require.Eventually)")
			}
			subtestShadows(n, isT, report)
		case *ast.GoStmt:
			if lit, ok := n.Call.Fun.(*ast.FuncLit); ok {
				noFailNow(lit.Body, report)
			}
		}
		return true
	})
	return bad
}

// tFirst: a function that takes a *testing.T (B, F, TB) takes it first.
func tFirst(ft *ast.FuncType, isT func(ast.Expr) bool, report func(ast.Node, string, ...any)) {
	i := 0
	for _, field := range ft.Params.List {
		if isT(field.Type) && i != 0 {
			report(field, "a helper takes its *testing.T first")
		}
		i += max(len(field.Names), 1)
	}
}

// subtestShadows: in x.Run(name, func(p *testing.T) {...}), p is named x,
// so that the body cannot reach the parent's x by mistake.
func subtestShadows(call *ast.CallExpr, isT func(ast.Expr) bool, report func(ast.Node, string, ...any)) {
	sel, ok := call.Fun.(*ast.SelectorExpr)
	if !ok || sel.Sel.Name != "Run" || len(call.Args) != 2 {
		return
	}
	x, ok := sel.X.(*ast.Ident)
	lit, ok2 := call.Args[1].(*ast.FuncLit)
	if !ok || !ok2 || len(lit.Type.Params.List) != 1 || !isT(lit.Type.Params.List[0].Type) {
		return
	}
	if names := lit.Type.Params.List[0].Names; len(names) != 1 || names[0].Name != x.Name {
		report(lit, "name the subtest's parameter %s, as its parent's: the parent's cannot be used by mistake", x.Name)
	}
}

// noFailNow: a goroutine a test starts does not end the test (FailNow,
// which Fatal, Skip and require call): testing needs that on the test's
// own goroutine, or the test goes on, or its parent fails instead.
func noFailNow(body *ast.BlockStmt, report func(ast.Node, string, ...any)) {
	ast.Inspect(body, func(n ast.Node) bool {
		call, ok := n.(*ast.CallExpr)
		if !ok {
			return true
		}
		sel, ok := call.Fun.(*ast.SelectorExpr)
		if !ok {
			return true
		}
		if x, ok := sel.X.(*ast.Ident); ok && x.Name == "require" {
			report(call, "require.%s in a goroutine: send the result to the test's goroutine (or use assert)", sel.Sel.Name)
			return true
		}
		switch sel.Sel.Name {
		case "Fatal", "Fatalf", "FailNow", "Skip", "Skipf", "SkipNow":
			report(call, "%s in a goroutine: send the result to the test's goroutine", sel.Sel.Name)
		}
		return true
	})
}

// importName is the name under which f imports path, "" if it does not.
func importName(f *ast.File, path string) string {
	for _, imp := range f.Imports {
		if p, _ := strconv.Unquote(imp.Path.Value); p == path {
			if imp.Name != nil {
				return imp.Name.Name
			}
			return path[strings.LastIndex(path, "/")+1:]
		}
	}
	return ""
}

func isCall(call *ast.CallExpr, pkg, name string) bool {
	sel, ok := call.Fun.(*ast.SelectorExpr)
	if !ok || pkg == "" || sel.Sel.Name != name {
		return false
	}
	x, ok := sel.X.(*ast.Ident)
	return ok && x.Name == pkg
}

func TestTestFilesFollowTheRules(t *testing.T) {
	fset := token.NewFileSet()
	files := 0
	err := filepath.WalkDir(root, func(path string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		if d.IsDir() {
			if name := d.Name(); path != root && (strings.HasPrefix(name, ".") || name == "testdata" || name == "node_modules") {
				return filepath.SkipDir
			}
			return nil
		}
		if !strings.HasSuffix(path, "_test.go") {
			return nil
		}
		f, err := parser.ParseFile(fset, path, nil, parser.SkipObjectResolution)
		if err != nil {
			return err
		}
		files++
		for _, v := range check(fset, f) {
			t.Error(v)
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	if files < 50 {
		t.Fatalf("read %d test files from %s: is it the module root?", files, root)
	}
}

// The checks find what they are for, and nothing in code that keeps the
// rules.
func TestTheRulesCatch(t *testing.T) {
	const src = `package x

import (
	"testing"
	tm "time"
)

func helper(name string, t *testing.T) {}

func good(t *testing.T, name string) {}

func TestX(t *testing.T) {
	tm.Sleep(tm.Millisecond)
	t.Run("a", func(st *testing.T) { helper("a", t) })
	t.Run("b", func(t *testing.T) {})
	go func() { t.Fatal("x") }()
	go func() { require.NoError(t, nil) }()
	go func() { assert.NoError(t, nil) }()
}

func BenchmarkX(b *testing.B) {
	b.Run("c", func(b *testing.B) {})
}
`
	fset := token.NewFileSet()
	f, err := parser.ParseFile(fset, "x_test.go", src, parser.SkipObjectResolution)
	if err != nil {
		t.Fatal(err)
	}
	got := strings.Join(check(fset, f), "\n")
	want := strings.Join([]string{
		"x_test.go:8:26: a helper takes its *testing.T first",
		"x_test.go:13:2: time.Sleep: wait for the event itself, with a bound (a channel and a timeout, require.Eventually)",
		"x_test.go:14:13: name the subtest's parameter t, as its parent's: the parent's cannot be used by mistake",
		"x_test.go:16:14: Fatal in a goroutine: send the result to the test's goroutine",
		"x_test.go:17:14: require.NoError in a goroutine: send the result to the test's goroutine (or use assert)",
	}, "\n")
	if got != want {
		t.Fatalf("check =\n%s\nwant\n%s", got, want)
	}
}
