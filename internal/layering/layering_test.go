// Package layering checks that the embeddable core never depends on a host:
// a builder with their own MySQL-protocol server must be able to take
// extension, authplugin, privilege, account and grantstore without
// go-mysql-server or vitess.
package layering

import (
	"bytes"
	"os/exec"
	"path/filepath"
	"runtime"
	"strings"
	"testing"
)

const module = "github.com/authplug/authplug"

// core lists the core packages; "/..." covers their sub-packages (the test
// kit included).
var core = []string{"./account/...", "./extension/...", "./authplugin/...", "./privilege/...", "./priv/...", "./mysqlerr/...", "./grantstore/..."}

var forbiddenPrefixes = []string{
	"github.com/dolthub/go-mysql-server",
	"github.com/dolthub/vitess",
	"vitess.io/vitess",
	module + "/server",
	// servercmd is a host too: it may import server, never the reverse.
	module + "/servercmd",
	module + "/examples",
	module + "/tests",
}

// violations returns the deps of a core package that it must not have.
func violations(deps []string) []string {
	var bad []string
	for _, d := range deps {
		for _, p := range forbiddenPrefixes {
			if d == p || strings.HasPrefix(d, p+"/") {
				bad = append(bad, d)
			}
		}
	}
	return bad
}

func TestViolationsSeesForbiddenImports(t *testing.T) {
	got := violations([]string{"fmt", "github.com/dolthub/vitess/go/mysql", module + "/server", module + "/serverless", module + "/servercmd", module + "/privilege"})
	want := []string{"github.com/dolthub/vitess/go/mysql", module + "/server", module + "/servercmd"}
	if strings.Join(got, ",") != strings.Join(want, ",") {
		t.Fatalf("violations = %v, want %v", got, want)
	}
}

// The host library (servercmd) sits above the host (server): server must
// not import it, or a builder embedding server would get a command line.
func TestServerDoesNotImportServercmd(t *testing.T) {
	deps := goListDeps(t, "./server/...")
	for _, d := range deps {
		if d == module+"/servercmd" || strings.HasPrefix(d, module+"/servercmd/") {
			t.Errorf("./server/... depends on %s", d)
		}
	}
}

// goListDeps lists what the packages of pattern import, their tests
// included.
func goListDeps(t *testing.T, pattern string) []string {
	t.Helper()
	goBin := filepath.Join(runtime.GOROOT(), "bin", "go")
	cmd := exec.Command(goBin, "list", "-deps", "-test", "-f", "{{.ImportPath}}", pattern)
	cmd.Dir = "../.."
	var stderr bytes.Buffer
	cmd.Stderr = &stderr
	out, err := cmd.Output()
	if err != nil {
		t.Fatalf("go list %s: %v\n%s", pattern, err, stderr.String())
	}
	deps := strings.Fields(string(out))
	if len(deps) == 0 {
		t.Fatalf("go list %s listed nothing", pattern)
	}
	return deps
}

func TestCoreDoesNotImportTheHost(t *testing.T) {
	for _, pattern := range core {
		// -test: the core's own tests must not pull a host in either.
		if bad := violations(goListDeps(t, pattern)); len(bad) > 0 {
			t.Errorf("%s depends on %v", pattern, bad)
		}
	}
}
