// Package layering checks the arrows between the module's packages. The
// embeddable core (priv, mysqlerr, authplugin, privilege, account,
// grantstore, extension) and the plugin test kit (plugintest) each import
// only the authplug packages the table below allows them, and never a host:
// a builder with their own MySQL-protocol server must be able to take the
// core without go-mysql-server or vitess, and a plugin author the test kit
// without the extension registry or a server.
package layering

import (
	"bytes"
	"fmt"
	"os/exec"
	"path/filepath"
	"runtime"
	"slices"
	"strings"
	"testing"
)

const module = "github.com/authplug/authplug"

// rule is what one constrained package may import of the module, by path
// relative to the module root. A package may always import itself (an
// external test package does).
type rule struct {
	// imports are allowed to the package's own code.
	imports []string
	// tests are allowed, on top of imports, to its tests (internal and
	// external test packages): a test may drive the package from above,
	// e.g. through the test kit.
	tests []string
}

// allowed is the table. The arrow points down: priv and mysqlerr are the
// vocabulary, authplugin the plugin contract, privilege the decisions over
// them; account, grantstore and extension build on privilege; plugintest
// drives a manager and stops at privilege. A package of the module that is
// neither here nor under unconstrained fails the test: add it to one.
var allowed = map[string]rule{
	"priv":       {},
	"mysqlerr":   {},
	"authplugin": {imports: []string{"priv"}, tests: []string{"mysqlerr", "privilege"}},
	"privilege":  {imports: []string{"authplugin", "mysqlerr", "priv"}, tests: []string{"plugintest"}},
	"account":    {imports: []string{"authplugin", "mysqlerr", "priv", "privilege"}, tests: []string{"plugintest"}},
	"grantstore": {imports: []string{"mysqlerr", "priv", "privilege"}, tests: []string{"authplugin"}},
	"extension":  {imports: []string{"authplugin", "mysqlerr", "priv", "privilege"}},
	// The kit imports nothing above privilege; its scenario tests check
	// that it runs the plugins of a set of extensions.
	"plugintest": {imports: []string{"authplugin", "priv", "privilege"}, tests: []string{"extension", "mysqlerr"}},
	// The pool helper for applications: a client, it knows no server.
	"oauthclient": {},
}

// unconstrained are the hosts, examples and tests (with their
// sub-packages): they may import anything, and no package of the table may
// import them.
var unconstrained = []string{"server", "servercmd", "examples", "tests", "internal"}

// forbiddenPrefixes are the engines and wire protocols no package of the
// table may depend on, even through a third-party package or in a test.
var forbiddenPrefixes = []string{
	"github.com/dolthub/go-mysql-server",
	"github.com/dolthub/vitess",
	"vitess.io/vitess",
}

// pkg is one package of the module as go list sees it.
type pkg struct {
	path                 string // relative to the module root
	imports, testImports []string
	forbiddenDeps        []string // forbidden dependencies, direct or not, tests included
}

func hasPrefix(path, prefix string) bool {
	return path == prefix || strings.HasPrefix(path, prefix+"/")
}

func isUnconstrained(rel string) bool {
	return slices.ContainsFunc(unconstrained, func(p string) bool { return hasPrefix(rel, p) })
}

func isForbidden(path string) bool {
	return slices.ContainsFunc(forbiddenPrefixes, func(p string) bool { return hasPrefix(path, p) })
}

// rel returns path relative to the module, and whether it is in the module.
func rel(path string) (string, bool) {
	if path == module {
		return ".", true
	}
	r, ok := strings.CutPrefix(path, module+"/")
	return r, ok
}

// violations checks pkgs against table and returns one line per import the
// table does not allow, per package it does not know, and per table entry
// with no package.
func violations(table map[string]rule, pkgs []pkg) []string {
	var bad []string
	seen := map[string]bool{}
	for _, p := range pkgs {
		seen[p.path] = true
		r, ok := table[p.path]
		if !ok {
			if !isUnconstrained(p.path) {
				bad = append(bad, fmt.Sprintf("%s: in neither the table nor the unconstrained packages", p.path))
			}
			continue
		}
		check := func(imports []string, ok []string, what string) {
			for _, imp := range imports {
				if isForbidden(imp) {
					bad = append(bad, fmt.Sprintf("%s: %s imports %s", p.path, what, imp))
					continue
				}
				r, in := rel(imp)
				if !in || r == p.path || slices.Contains(ok, r) {
					continue
				}
				bad = append(bad, fmt.Sprintf("%s: %s imports %s, which the table does not allow", p.path, what, r))
			}
		}
		check(p.imports, r.imports, "code")
		check(p.testImports, append(slices.Clone(r.imports), r.tests...), "test")
		for _, d := range p.forbiddenDeps {
			bad = append(bad, fmt.Sprintf("%s: depends on %s", p.path, d))
		}
	}
	var stale []string
	for path := range table {
		if !seen[path] {
			stale = append(stale, fmt.Sprintf("%s: in the table but not a package", path))
		}
	}
	slices.Sort(stale)
	return append(bad, stale...)
}

func TestViolationsSeesImportsOutsideTheTable(t *testing.T) {
	table := map[string]rule{
		"low":  {},
		"mid":  {imports: []string{"low"}, tests: []string{"kit"}},
		"kit":  {imports: []string{"low", "mid"}},
		"gone": {},
	}
	got := violations(table, []pkg{
		{path: "low", imports: []string{"fmt", "github.com/other/lib"}},
		// mid may import low, and its tests kit; not up to a host.
		{path: "mid", imports: []string{"fmt", module + "/low", module + "/kit", module + "/server"},
			testImports: []string{module + "/mid", module + "/kit", module + "/low", module + "/examples/x"}},
		// A test may not pull an engine in either, nor may a dependency.
		{path: "kit", imports: []string{module + "/low", module + "/mid"},
			testImports:   []string{"github.com/dolthub/vitess/go/mysql"},
			forbiddenDeps: []string{"vitess.io/vitess/go/mysql"}},
		// A new package must be placed.
		{path: "mid/sub", imports: []string{module + "/low"}},
		// Hosts are free; a look-alike of a host's name is not one.
		{path: "server", imports: []string{module + "/mid", "github.com/dolthub/go-mysql-server/sql"}},
		{path: "serverless"},
		{path: "internal/tool", imports: []string{module + "/server"}},
	})
	want := []string{
		"mid: code imports kit, which the table does not allow",
		"mid: code imports server, which the table does not allow",
		"mid: test imports examples/x, which the table does not allow",
		"kit: test imports github.com/dolthub/vitess/go/mysql",
		"kit: depends on vitess.io/vitess/go/mysql",
		"mid/sub: in neither the table nor the unconstrained packages",
		"serverless: in neither the table nor the unconstrained packages",
		"gone: in the table but not a package",
	}
	if strings.Join(got, "\n") != strings.Join(want, "\n") {
		t.Fatalf("violations =\n%s\nwant\n%s", strings.Join(got, "\n"), strings.Join(want, "\n"))
	}
}

// goList runs go list from the module root.
func goList(t *testing.T, args ...string) []string {
	t.Helper()
	goBin := filepath.Join(runtime.GOROOT(), "bin", "go")
	cmd := exec.Command(goBin, append([]string{"list"}, args...)...)
	cmd.Dir = "../.."
	var stderr bytes.Buffer
	cmd.Stderr = &stderr
	out, err := cmd.Output()
	if err != nil {
		t.Fatalf("go list %v: %v\n%s", args, err, stderr.String())
	}
	lines := strings.Split(strings.TrimSpace(string(out)), "\n")
	if len(lines) == 0 || lines[0] == "" {
		t.Fatalf("go list %v listed nothing", args)
	}
	return lines
}

// goListDeps lists what the packages of pattern depend on, their tests
// included.
func goListDeps(t *testing.T, pattern string) []string {
	t.Helper()
	return goList(t, "-deps", "-test", "-f", "{{.ImportPath}}", pattern)
}

// modulePackages lists the module's packages with their imports and, for
// those of the table, their forbidden dependencies.
func modulePackages(t *testing.T) []pkg {
	t.Helper()
	var pkgs []pkg
	for _, line := range goList(t, "-f", "{{.ImportPath}}|{{join .Imports \" \"}}|{{join .TestImports \" \"}} {{join .XTestImports \" \"}}", "./...") {
		f := strings.Split(line, "|")
		if len(f) != 3 {
			t.Fatalf("go list: unexpected line %q", line)
		}
		r, ok := rel(f[0])
		if !ok {
			t.Fatalf("go list: %s is not in %s", f[0], module)
		}
		p := pkg{path: r, imports: strings.Fields(f[1]), testImports: strings.Fields(f[2])}
		if _, ok := allowed[r]; ok {
			// -test: the package's own tests must not pull a host in
			// either, nor may anything it imports.
			for _, d := range goListDeps(t, "./"+r) {
				if isForbidden(d) {
					p.forbiddenDeps = append(p.forbiddenDeps, d)
				}
			}
		}
		pkgs = append(pkgs, p)
	}
	return pkgs
}

func TestImportsFollowTheTable(t *testing.T) {
	for _, v := range violations(allowed, modulePackages(t)) {
		t.Error(v)
	}
}

// The host library (servercmd) sits above the host (server): server must
// not import it, or a builder embedding server would get a command line.
func TestServerDoesNotImportServercmd(t *testing.T) {
	for _, d := range goListDeps(t, "./server/...") {
		if hasPrefix(d, module+"/servercmd") {
			t.Errorf("./server/... depends on %s", d)
		}
	}
}
