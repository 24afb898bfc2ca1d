package tests

import (
	"context"
	"net"
	osexec "os/exec"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// mariadb runs Debian's mariadb command-line client, a client nobody here
// wrote, against the server.
func mariadb(t *testing.T, e *env, user, pw string, sql string) (string, error) {
	t.Helper()
	bin, err := osexec.LookPath("mariadb")
	if err != nil {
		if clientsRequired() {
			t.Fatal("CI must install mariadb-client (see .ci/run)")
		}
		t.Skip("mariadb client not installed")
	}
	host, port, _ := net.SplitHostPort(e.addr)
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	cmd := osexec.CommandContext(ctx, bin, "--no-defaults", "--protocol=TCP", "-h", host, "-P", port,
		"-u", user, "-p"+pw, "--batch", "--skip-column-names", "-e", sql)
	out, err := cmd.CombinedOutput()
	return string(out), err
}

func TestMariaDBClient(t *testing.T) {
	e := start(t, nil, "")
	e.seed()
	exec(t, e.root(),
		"CREATE USER cli IDENTIFIED WITH mysql_native_password BY 'cli-pw'",
		"GRANT SELECT ON demo.t TO cli",
	)

	out, err := mariadb(t, e, "cli", "cli-pw", "SELECT a FROM demo.t ORDER BY id")
	require.NoError(t, err, out)
	assert.Equal(t, "10\n20\n", out)

	out, err = mariadb(t, e, "cli", "cli-pw", "INSERT INTO demo.t VALUES (3, 30, 300)")
	assert.Error(t, err)
	assert.Contains(t, out, "ERROR 1142 (42000)")
	assert.Contains(t, out, "INSERT command denied to user 'cli'@'localhost' for table 't'")

	out, err = mariadb(t, e, "cli", "wrong", "SELECT 1")
	assert.Error(t, err)
	assert.True(t, strings.Contains(out, "ERROR 1045 (28000): Access denied for user 'cli'@'localhost'"), out)
}
