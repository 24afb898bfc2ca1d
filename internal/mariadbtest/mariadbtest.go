// Package mariadbtest runs Debian's mariadb-server (mariadbd) on a loopback
// port with a data directory of its own, for the tests and benchmarks that
// need a real MariaDB: the differential test's reference, and the shared
// grant store's database. root@127.0.0.1 has no password.
package mariadbtest

import (
	"bytes"
	"context"
	"database/sql"
	"errors"
	"fmt"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"time"

	"github.com/go-sql-driver/mysql"
)

// ErrNotInstalled is Binaries' error when mariadbd or mariadb-install-db
// cannot be found.
var ErrNotInstalled = errors.New("mariadb-server is not installed (mariadbd and mariadb-install-db not found): apt-get install mariadb-server")

// Binaries finds mariadbd and mariadb-install-db on PATH or where Debian
// and source builds put them.
func Binaries() (server, installDB string, err error) {
	find := func(name string, dirs ...string) string {
		if p, err := exec.LookPath(name); err == nil {
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
		return "", "", ErrNotInstalled
	}
	return server, installDB, nil
}

// Server is a running mariadbd.
type Server struct {
	Addr string // host:port on 127.0.0.1
	Dir  string // holds the data directory, socket, pid file and logs
	Log  string // the server's error log

	cmd  *exec.Cmd
	done chan error // cmd.Wait's result, sent once
}

// Start initializes a data directory under dir (which must exist) and
// starts mariadbd on a free loopback port, waiting until root can log in.
// extraArgs are appended to mariadbd's arguments, so they override the
// defaults (a larger --innodb-buffer-pool-size, say). The caller closes
// the server.
func Start(dir string, extraArgs ...string) (*Server, error) {
	server, installDB, err := Binaries()
	if err != nil {
		return nil, err
	}
	data := filepath.Join(dir, "data")
	// A temporary directory of its own: mariadbd removes every #sql file
	// it finds in its tmpdir at start, which in a shared /tmp are the
	// temporary tables of servers bootstrapping beside it.
	tmp := filepath.Join(dir, "tmp")
	if err := os.Mkdir(tmp, 0o700); err != nil {
		return nil, err
	}
	ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
	defer cancel()
	args := []string{"--no-defaults", "--datadir=" + data, "--tmpdir=" + tmp, "--auth-root-authentication-method=normal", "--skip-test-db", "--skip-name-resolve"}
	if os.Geteuid() == 0 {
		args = append(args, "--user=root")
	}
	if out, err := exec.CommandContext(ctx, installDB, args...).CombinedOutput(); err != nil {
		return nil, fmt.Errorf("mariadb-install-db: %w: %s", err, out)
	}

	// The port is found free and then handed to mariadbd, which another
	// process could take in between: a failed bind is retried on a new port.
	for attempt := 1; ; attempt++ {
		s, exited, err := run(server, dir, data, extraArgs)
		if err == nil {
			return s, nil
		}
		if attempt == 3 || !exited || !strings.Contains(s.LogTail(), "bind") {
			return nil, fmt.Errorf("mariadbd did not start: %w\n%s", err, s.LogTail())
		}
	}
}

// run starts mariadbd once and waits, with a deadline, until root can log
// in. exited reports whether the server process ended by itself. On error
// the process is gone, and s is only good for its log.
func run(server, dir, data string, extraArgs []string) (s *Server, exited bool, err error) {
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return &Server{}, false, err
	}
	port := l.Addr().(*net.TCPAddr).Port
	if err := l.Close(); err != nil {
		return &Server{}, false, err
	}

	s = &Server{
		Addr: net.JoinHostPort("127.0.0.1", strconv.Itoa(port)),
		Dir:  dir,
		Log:  filepath.Join(dir, fmt.Sprintf("error-%d.log", port)),
		done: make(chan error, 1),
	}
	args := []string{
		"--no-defaults",
		"--datadir=" + data,
		"--tmpdir=" + filepath.Join(dir, "tmp"),
		"--socket=" + filepath.Join(dir, "mariadb.sock"),
		"--port=" + strconv.Itoa(port),
		"--bind-address=127.0.0.1",
		"--skip-grant-tables=OFF",
		"--skip-name-resolve",
		"--skip-log-bin",
		"--pid-file=" + filepath.Join(dir, "mariadb.pid"),
		"--log-error=" + s.Log,
		"--innodb-buffer-pool-size=32M",
	}
	if os.Geteuid() == 0 {
		args = append(args, "--user=root")
	}
	s.cmd = exec.Command(server, append(args, extraArgs...)...)
	var stderr bytes.Buffer
	s.cmd.Stdout, s.cmd.Stderr = &stderr, &stderr
	if err := s.cmd.Start(); err != nil {
		return s, false, fmt.Errorf("start %s: %w", server, err)
	}
	go func() { s.done <- s.cmd.Wait() }()

	db, err := sql.Open("mysql", s.DSN("root", "", ""))
	if err != nil {
		s.Close()
		return s, false, err
	}
	defer db.Close()
	deadline := time.Now().Add(30 * time.Second)
	tick := time.NewTicker(50 * time.Millisecond)
	defer tick.Stop()
	for {
		pctx, cancel := context.WithTimeout(context.Background(), time.Second)
		err = db.PingContext(pctx)
		cancel()
		if err == nil {
			return s, false, nil
		}
		if time.Now().After(deadline) {
			s.Close()
			return s, false, fmt.Errorf("not ready after 30s: %w (%s)", err, stderr.String())
		}
		select {
		case werr := <-s.done:
			s.done <- werr // for Close
			return s, true, fmt.Errorf("mariadbd exited: %v (%s)", werr, stderr.String())
		case <-tick.C:
		}
	}
}

// Close kills the server and waits for it to end: its data is throwaway,
// so it is not shut down cleanly. It may be called more than once.
func (s *Server) Close() {
	if s.cmd == nil || s.cmd.Process == nil {
		return
	}
	_ = s.cmd.Process.Kill() // fails only when it has already ended
	werr := <-s.done
	s.done <- werr // for the next Close
}

// LogTail is the end of the server's error log, for error messages.
func (s *Server) LogTail() string {
	if s.Log == "" {
		return ""
	}
	b, _ := os.ReadFile(s.Log)
	if len(b) > 4000 {
		b = b[len(b)-4000:]
	}
	return string(b)
}

// DSN is go-sql-driver/mysql's DSN for user with password pw, on database
// db ("" for none).
func (s *Server) DSN(user, pw, db string) string {
	c := mysql.NewConfig()
	c.User, c.Passwd, c.Net, c.Addr, c.DBName = user, pw, "tcp", s.Addr, db
	c.AllowNativePasswords = true
	c.Timeout = 5 * time.Second
	return c.FormatDSN()
}
