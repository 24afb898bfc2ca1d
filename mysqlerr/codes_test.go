package mysqlerr

import (
	"go/ast"
	"go/constant"
	"go/parser"
	"go/token"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
)

// erConsts parses the package's sources for its Er constants' values.
func erConsts(t *testing.T) map[string]uint16 {
	t.Helper()
	paths, err := filepath.Glob("*.go")
	if err != nil {
		t.Fatal(err)
	}
	out := map[string]uint16{}
	fset := token.NewFileSet()
	for _, p := range paths {
		if strings.HasSuffix(p, "_test.go") {
			continue
		}
		f, err := parser.ParseFile(fset, p, nil, parser.SkipObjectResolution)
		if err != nil {
			t.Fatal(err)
		}
		for _, d := range f.Decls {
			g, ok := d.(*ast.GenDecl)
			if !ok || g.Tok != token.CONST {
				continue
			}
			for _, s := range g.Specs {
				vs := s.(*ast.ValueSpec)
				for i, n := range vs.Names {
					if !strings.HasPrefix(n.Name, "Er") || i >= len(vs.Values) {
						continue
					}
					lit, ok := vs.Values[i].(*ast.BasicLit)
					if !ok || lit.Kind != token.INT {
						t.Fatalf("%s is not a number", n.Name)
					}
					v, _ := constant.Uint64Val(constant.MakeFromLiteral(lit.Value, lit.Kind, 0))
					out[n.Name] = uint16(v)
				}
			}
		}
	}
	return out
}

// Every error number has its SQL state and MySQL's symbol in the table, so
// Errorf never falls back to HY000 for one of authplug's.
func TestEveryNumberHasItsState(t *testing.T) {
	consts := erConsts(t)
	if len(consts) != len(specs) {
		t.Errorf("%d Er constants, %d numbers in specs", len(consts), len(specs))
	}
	state := regexp.MustCompile(`^[0-9A-Z]{2}[0-9A-Z]{3}$`)
	symbols := map[string]string{}
	for name, code := range consts {
		s, ok := specs[code]
		if !ok {
			t.Errorf("%s (%d) has no entry in specs", name, code)
			continue
		}
		if !state.MatchString(s.state) {
			t.Errorf("%s: SQL state %q", name, s.state)
		}
		if !strings.HasPrefix(s.symbol, "ER_") {
			t.Errorf("%s: symbol %q", name, s.symbol)
		}
		if other, dup := symbols[s.symbol]; dup {
			t.Errorf("%s and %s are both %s", name, other, s.symbol)
		}
		symbols[s.symbol] = name
	}
}

func TestErrorfTakesTheStateFromTheTable(t *testing.T) {
	e := Errorf(ErConCount, "Too many connections")
	if e.Code != 1040 || e.SQLState != "08004" {
		t.Errorf("Errorf(ErConCount) = %d %s, want 1040 08004", e.Code, e.SQLState)
	}
	if got := Errorf(ErNoSuchTable, "Table '%s.%s' doesn't exist", "d", "t"); got.SQLState != "42S02" || got.Message != "Table 'd.t' doesn't exist" {
		t.Errorf("Errorf(ErNoSuchTable) = %+v", got)
	}
	// A number outside the table (a plugin's own) gets MySQL's general state.
	if s := Errorf(3999, "x").SQLState; s != "HY000" {
		t.Errorf("an unknown number's state = %q, want HY000", s)
	}
}
