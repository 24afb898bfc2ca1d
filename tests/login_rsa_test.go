package tests

import (
	"context"
	"net"
	"os"
	osexec "os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// Clients without TLS log in to caching_sha2_password and sha256_password
// accounts whose password is not cached by asking for the server's RSA
// public key and sending the password encrypted with it, as with MySQL 8.

func TestRSAPasswordExchangeWithGoDriverDefaults(t *testing.T) {
	dir := t.TempDir()
	e := start(t, nil, dir)
	exec(t, e.root(),
		"CREATE USER carol IDENTIFIED BY 'carol-pw'",
		"CREATE USER sam IDENTIFIED WITH sha256_password BY 'sam-pw'",
	)
	// go-sql-driver's default DSN: no tls parameter, no server key.
	for _, u := range [][2]string{{"carol", "carol-pw"}, {"sam", "sam-pw"}} {
		c := e.conn(u[0], u[1])
		rows, err := query(c, "SELECT CURRENT_USER()")
		require.NoError(t, err)
		assert.Equal(t, u[0]+"@%", rows[0][0])

		_, err = e.tryConn(u[0], "wrong")
		assert.EqualValues(t, 1045, code(err), "wrong password for %s: %v", u[0], err)
	}
	// An unknown user goes through the same exchange and gets the same 1045
	// (not a client-side error half way through).
	_, err := e.tryConn("nobody", "carol-pw")
	assert.EqualValues(t, 1045, code(err), "%v", err)

	// The key pair is in the data directory, the private half private.
	st, err := os.Stat(filepath.Join(dir, "private_key.pem"))
	require.NoError(t, err)
	assert.Equal(t, os.FileMode(0o600), st.Mode().Perm())
	pub, err := os.ReadFile(filepath.Join(dir, "public_key.pem"))
	require.NoError(t, err)
	rows, err := query(e.conn("carol", "carol-pw"), "SHOW STATUS LIKE 'Caching_sha2_password_rsa_public_key'")
	require.NoError(t, err)
	require.Len(t, rows, 1)
	assert.Equal(t, string(pub), rows[0][1])
	assert.Contains(t, rows[0][1], "-----BEGIN PUBLIC KEY-----")

	// After a restart nothing is cached: root logs in over plain TCP, with
	// the same key.
	e.stop()
	e = start(t, nil, dir)
	c := e.conn("root", rootPassword)
	rows, err = query(c, "SHOW GLOBAL STATUS LIKE 'Caching_sha2_password_rsa_public_key'")
	require.NoError(t, err)
	require.Len(t, rows, 1)
	assert.Equal(t, string(pub), rows[0][1])
}

func TestLongUserNamesAreNotEchoed(t *testing.T) {
	e := start(t, nil, "")
	long := strings.Repeat("n", 20000)
	_, err := e.tryConn(long, "pw")
	require.Error(t, err)
	assert.NotContains(t, err.Error(), strings.Repeat("n", 33))
	assert.NotContains(t, e.logs.String(), strings.Repeat("n", 33))
}

func TestRSAPasswordExchangeWithMariaDBClient(t *testing.T) {
	bin, err := osexec.LookPath("mariadb")
	if err != nil {
		if clientsRequired() {
			t.Fatal("the mariadb client must be installed (see .ci/run)")
		}
		t.Skip("mariadb client not installed")
	}
	e := start(t, nil, "")
	exec(t, e.root(), "CREATE USER carol IDENTIFIED BY 'carol-pw'")
	host, port, _ := net.SplitHostPort(e.addr)
	run := func(user, pw string) (string, error) {
		ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
		defer cancel()
		// --skip-ssl: plain TCP. The client asks for the key by itself;
		// no --server-public-key option is needed.
		out, err := osexec.CommandContext(ctx, bin, "--no-defaults", "--skip-ssl", "--protocol=TCP", "-h", host, "-P", port,
			"-u", user, "-p"+pw, "--batch", "--skip-column-names", "-e", "SELECT CURRENT_USER()").CombinedOutput()
		return string(out), err
	}
	out, err := run("carol", "carol-pw")
	require.NoError(t, err, out)
	assert.Equal(t, "carol@%\n", out)
	out, err = run("carol", "wrong")
	assert.Error(t, err)
	assert.Contains(t, out, "ERROR 1045 (28000)")
	out, err = run("nobody", "wrong")
	assert.Error(t, err)
	assert.Contains(t, out, "ERROR 1045 (28000)")
}

// TestRSAPasswordExchangeWithNodeMySQL2 runs tests/node/login.js: mysql2
// with its default options. It is skipped when node or mysql2 is missing,
// unless AUTHPLUG_REQUIRE_CLIENTS is set (as .ci/run does).
func TestRSAPasswordExchangeWithNodeMySQL2(t *testing.T) {
	node, err := osexec.LookPath("node")
	if err == nil {
		_, err = os.Stat(filepath.Join("node", "node_modules", "mysql2", "package.json"))
	}
	if err != nil {
		if clientsRequired() {
			t.Fatalf("node and mysql2 are required (npm ci in tests/node): %v", err)
		}
		t.Skipf("node or mysql2 not installed (npm ci in tests/node): %v", err)
	}
	dir := t.TempDir()
	e := start(t, nil, dir)
	exec(t, e.root(), "CREATE USER carol IDENTIFIED BY 'carol-pw'")
	host, port, _ := net.SplitHostPort(e.addr)
	run := func(user, pw string) (string, error) {
		ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
		defer cancel()
		out, err := osexec.CommandContext(ctx, node, filepath.Join("node", "login.js"), host, port, user, pw).CombinedOutput()
		return string(out), err
	}
	out, err := run("carol", "carol-pw")
	require.NoError(t, err, out)
	assert.Contains(t, out, `"who":"carol@%"`)
	out, err = run("carol", "wrong")
	assert.Error(t, err)
	assert.Contains(t, out, "ERROR 1045")
	out, err = run("nobody", "wrong")
	assert.Error(t, err)
	assert.Contains(t, out, "ERROR 1045")

	// root after a restart: nothing cached.
	e.stop()
	e = start(t, nil, dir)
	host, port, _ = net.SplitHostPort(e.addr)
	out, err = run("root", rootPassword)
	require.NoError(t, err, out)
	assert.Contains(t, out, `"who":"root@localhost"`)
}
