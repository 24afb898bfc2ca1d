package servercmd

import (
	"net"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// secret is the store password of these tests' DSNs: it must show in no
// error and no log line.
const secret = "Store-S3cret"

// closedPortDSN is a DSN of a store nothing listens for.
func closedPortDSN(t *testing.T) string {
	t.Helper()
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	addr := l.Addr().String()
	l.Close()
	return "authplug:" + secret + "@tcp(" + addr + ")/grants"
}

func writeDSN(t *testing.T, dsn string, mode os.FileMode) string {
	t.Helper()
	p := filepath.Join(t.TempDir(), "grants.dsn")
	if err := os.WriteFile(p, []byte(dsn+"\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	if err := os.Chmod(p, mode); err != nil {
		t.Fatal(err)
	}
	return p
}

func TestGrantsDSNFromOneSource(t *testing.T) {
	const dsn = "u:" + secret + "@tcp(127.0.0.1:3306)/grants"
	file := writeDSN(t, dsn, 0o600)
	for _, c := range []struct {
		name, flag, file, env string
		want                  string
		errWants              []string
	}{
		{name: "none"},
		{name: "flag", flag: dsn, want: dsn},
		{name: "file", file: file, want: dsn},
		{name: "env", env: dsn, want: dsn},
		{name: "flag and env", flag: dsn, env: dsn, errWants: []string{"--grants-dsn and " + grantsDSNEnv, "one way only"}},
		{name: "file and env", file: file, env: dsn, errWants: []string{"--grants-dsn-file and " + grantsDSNEnv}},
		{name: "all three", flag: dsn, file: file, env: dsn, errWants: []string{"--grants-dsn and --grants-dsn-file and " + grantsDSNEnv}},
		{name: "open file", file: writeDSN(t, dsn, 0o644), errWants: []string{"mode 0644", "chmod 600"}},
	} {
		got, err := grantsDSNFrom(c.flag, c.file, c.env)
		if c.errWants == nil {
			if err != nil || got != c.want {
				t.Errorf("%s: got %q, %v; want %q", c.name, got, err, c.want)
			}
			continue
		}
		if err == nil {
			t.Errorf("%s: got %q, want an error", c.name, got)
			continue
		}
		for _, w := range c.errWants {
			if !strings.Contains(err.Error(), w) {
				t.Errorf("%s: error %q does not say %q", c.name, err, w)
			}
		}
		if strings.Contains(err.Error(), secret) {
			t.Errorf("%s: the error shows the password: %v", c.name, err)
		}
	}
}

// The command refuses two DSNs before it starts, and a DSN from a file or
// the environment reaches the store: here one nothing listens for, whose
// error, and the log, show the DSN's address but never its password.
func TestRunTakesTheGrantsDSNFromAFileOrTheEnvironment(t *testing.T) {
	dsn := closedPortDSN(t)
	addr := dsn[strings.Index(dsn, "(")+1 : strings.Index(dsn, ")")]
	check := func(name string, r *running, err error) {
		t.Helper()
		if err == nil {
			t.Fatalf("%s: the server started on a store nothing listens for", name)
		}
		if !strings.Contains(err.Error(), addr) {
			t.Errorf("%s: the error does not name the store's address %s: %v", name, addr, err)
		}
		if strings.Contains(err.Error(), secret) || strings.Contains(r.log.String(), secret) {
			t.Errorf("%s: the password is shown:\n%v\n%s", name, err, r.log)
		}
	}
	r, err := tryRun(t, "--addr", "127.0.0.1:0", "--data-dir", t.TempDir(), "--grants-dsn-file", writeDSN(t, dsn, 0o600))
	check("--grants-dsn-file", r, err)
	r, err = tryRun(t, "--addr", "127.0.0.1:0", "--data-dir", t.TempDir(), "--grants-dsn", dsn)
	check("--grants-dsn", r, err)

	t.Setenv(grantsDSNEnv, dsn)
	r, err = tryRun(t, "--addr", "127.0.0.1:0", "--data-dir", t.TempDir())
	check(grantsDSNEnv, r, err)
	_, err = tryRun(t, "--addr", "127.0.0.1:0", "--data-dir", t.TempDir(), "--grants-dsn", dsn)
	if err == nil || !strings.Contains(err.Error(), "--grants-dsn and "+grantsDSNEnv) {
		t.Errorf("a DSN in the environment and on the command line: got %v, want a refusal naming both", err)
	}
}
