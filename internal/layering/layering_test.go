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
	got := violations([]string{"fmt", "github.com/dolthub/vitess/go/mysql", module + "/server", module + "/serverless", module + "/privilege"})
	want := []string{"github.com/dolthub/vitess/go/mysql", module + "/server"}
	if strings.Join(got, ",") != strings.Join(want, ",") {
		t.Fatalf("violations = %v, want %v", got, want)
	}
}

func TestCoreDoesNotImportTheHost(t *testing.T) {
	goBin := filepath.Join(runtime.GOROOT(), "bin", "go")
	for _, pattern := range core {
		// -test: the core's own tests must not pull a host in either.
		cmd := exec.Command(goBin, append([]string{"list", "-deps", "-test", "-f", "{{.ImportPath}}"}, pattern)...)
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
		if bad := violations(deps); len(bad) > 0 {
			t.Errorf("%s depends on %v", pattern, bad)
		}
	}
}
