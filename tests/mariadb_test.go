package tests

import (
	"bytes"
	"context"
	"database/sql"
	"fmt"
	"net"
	"os"
	osexec "os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/go-sql-driver/mysql"
	"github.com/stretchr/testify/require"
)

// mariaDBServer is Debian's mariadb-server (mariadbd) running for one test,
// on a loopback port with a temporary data directory: the reference the
// differential test compares authplug with.
type mariaDBServer struct {
	addr string
	dir  string
	log  string // the server's error log
}

// mariaDBBinaries finds mariadbd and mariadb-install-db. When they are
// missing the test is skipped, or fails under CI (which installs them, see
// .ci/run).
func mariaDBBinaries(t *testing.T) (server, installDB string) {
	t.Helper()
	find := func(name string, dirs ...string) string {
		if p, err := osexec.LookPath(name); err == nil {
			return p
		}
		for _, d := range dirs {
			p := filepath.Join(d, name)
			if st, err := os.Stat(p); err == nil && !st.IsDir() && st.Mode()&0o111 != 0 {
				return p
			}
		}
		return ""
	}
	server = find("mariadbd", "/usr/sbin", "/usr/libexec", "/usr/local/sbin")
	installDB = find("mariadb-install-db", "/usr/bin", "/usr/local/bin")
	if server == "" || installDB == "" {
		msg := "mariadb-server is not installed (mariadbd and mariadb-install-db not found): apt-get install mariadb-server"
		if clientsRequired() {
			t.Fatal("CI must install mariadb-server (see .ci/run): " + msg)
		}
		t.Skip(msg)
	}
	return server, installDB
}

// startMariaDB initializes a data directory and starts mariadbd on a free
// loopback port; root@127.0.0.1 has no password. The server is killed when
// the test ends.
func startMariaDB(t *testing.T) *mariaDBServer {
	t.Helper()
	server, installDB := mariaDBBinaries(t)
	dir := t.TempDir()
	data := filepath.Join(dir, "data")

	ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
	defer cancel()
	args := []string{"--no-defaults", "--datadir=" + data, "--auth-root-authentication-method=normal", "--skip-test-db", "--skip-name-resolve"}
	if os.Geteuid() == 0 {
		args = append(args, "--user=root")
	}
	out, err := osexec.CommandContext(ctx, installDB, args...).CombinedOutput()
	require.NoError(t, err, "mariadb-install-db: %s", out)

	// The port is found free and then handed to mariadbd, which another
	// process could take in between: a failed bind is retried on a new port.
	for attempt := 1; ; attempt++ {
		m, exited, err := runMariaDB(t, server, dir, data)
		if err == nil {
			return m
		}
		if attempt == 3 || !exited || !strings.Contains(readTail(m.log), "bind") {
			t.Fatalf("mariadbd did not start: %v\n%s", err, readTail(m.log))
		}
	}
}

// runMariaDB starts mariadbd once and waits, with a deadline, until root
// can log in. exited reports whether the server process ended by itself.
func runMariaDB(t *testing.T, server, dir, data string) (m *mariaDBServer, exited bool, err error) {
	t.Helper()
	l, err := net.Listen("tcp", "127.0.0.1:0")
	require.NoError(t, err)
	port := l.Addr().(*net.TCPAddr).Port
	require.NoError(t, l.Close())

	m = &mariaDBServer{
		addr: net.JoinHostPort("127.0.0.1", strconv.Itoa(port)),
		dir:  dir,
		log:  filepath.Join(dir, fmt.Sprintf("error-%d.log", port)),
	}
	args := []string{
		"--no-defaults",
		"--datadir=" + data,
		"--socket=" + filepath.Join(dir, "mariadb.sock"),
		"--port=" + strconv.Itoa(port),
		"--bind-address=127.0.0.1",
		"--skip-grant-tables=OFF",
		"--skip-name-resolve",
		"--skip-log-bin",
		"--pid-file=" + filepath.Join(dir, "mariadb.pid"),
		"--log-error=" + m.log,
		"--innodb-buffer-pool-size=32M",
	}
	if os.Geteuid() == 0 {
		args = append(args, "--user=root")
	}
	cmd := osexec.Command(server, args...)
	var stderr bytes.Buffer
	cmd.Stdout, cmd.Stderr = &stderr, &stderr
	require.NoError(t, cmd.Start(), "start %s", server)
	done := make(chan error, 1)
	go func() { done <- cmd.Wait() }()
	t.Cleanup(func() {
		_ = cmd.Process.Kill()
		<-done
	})

	db, err := sql.Open("mysql", m.dsn("root", ""))
	require.NoError(t, err)
	defer db.Close()
	deadline := time.Now().Add(30 * time.Second)
	tick := time.NewTicker(50 * time.Millisecond)
	defer tick.Stop()
	for {
		pctx, cancel := context.WithTimeout(context.Background(), time.Second)
		err = db.PingContext(pctx)
		cancel()
		if err == nil {
			return m, false, nil
		}
		if time.Now().After(deadline) {
			return m, false, fmt.Errorf("not ready after 30s: %w (%s)", err, stderr.String())
		}
		select {
		case werr := <-done:
			done <- werr // for the cleanup
			return m, true, fmt.Errorf("mariadbd exited: %v (%s)", werr, stderr.String())
		case <-tick.C:
		}
	}
}

func readTail(path string) string {
	b, _ := os.ReadFile(path)
	if len(b) > 4000 {
		b = b[len(b)-4000:]
	}
	return string(b)
}

func (m *mariaDBServer) dsn(user, pw string) string {
	c := mysql.NewConfig()
	c.User, c.Passwd, c.Net, c.Addr = user, pw, "tcp", m.addr
	c.AllowNativePasswords = true
	c.Timeout = 5 * time.Second
	return c.FormatDSN()
}

// conn opens one session; the test fails if the login fails.
func (m *mariaDBServer) conn(t *testing.T, user, pw string) *sql.Conn {
	t.Helper()
	c, err := m.tryConn(t, user, pw)
	require.NoError(t, err, "mariadb login as %s", user)
	return c
}

func (m *mariaDBServer) tryConn(t *testing.T, user, pw string) (*sql.Conn, error) {
	t.Helper()
	db, err := sql.Open("mysql", m.dsn(user, pw))
	if err != nil {
		return nil, err
	}
	t.Cleanup(func() { db.Close() })
	c, err := db.Conn(context.Background())
	if err != nil {
		return nil, err
	}
	t.Cleanup(func() { c.Close() })
	return c, nil
}
