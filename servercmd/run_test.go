package servercmd

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"io"
	"net"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/go-sql-driver/mysql"
)

// signalWriter collects the log and closes ready when the server says it
// is listening.
type signalWriter struct {
	mu    sync.Mutex
	b     strings.Builder
	once  sync.Once
	ready chan struct{}
}

func (w *signalWriter) Write(p []byte) (int, error) {
	w.mu.Lock()
	defer w.mu.Unlock()
	w.b.Write(p)
	if strings.Contains(w.b.String(), "authplug server listening") {
		w.once.Do(func() { close(w.ready) })
	}
	return len(p), nil
}

func (w *signalWriter) String() string {
	w.mu.Lock()
	defer w.mu.Unlock()
	return w.b.String()
}

// running is a server started by Run, as Main starts it.
type running struct {
	log    *signalWriter // Run's stderr
	cancel context.CancelFunc
	done   chan int // Run's exit code
	code   int
}

// startRun runs the server with args and waits until it listens; it fails
// the test if Run returns first.
func startRun(t *testing.T, args ...string) *running {
	t.Helper()
	r, err := tryRun(t, args...)
	if err != nil {
		t.Fatalf("Run %v returned early: %v\n%s", args, err, r.log)
	}
	t.Cleanup(func() { r.stop(t) })
	return r
}

// tryRun starts Run and returns once it listens, or with an error holding
// what Run wrote to stderr.
func tryRun(t *testing.T, args ...string) (*running, error) {
	t.Helper()
	ctx, cancel := context.WithCancel(t.Context())
	r := &running{log: &signalWriter{ready: make(chan struct{})}, cancel: cancel, done: make(chan int, 1)}
	go func() { r.done <- Run(ctx, args, io.Discard, r.log) }()
	select {
	case <-r.log.ready:
		return r, nil
	case r.code = <-r.done:
		r.done = nil
		cancel()
		return r, fmt.Errorf("exit %d: %s", r.code, strings.TrimSpace(r.log.String()))
	case <-time.After(waitLimit):
		cancel()
		t.Fatalf("Run %v neither listened nor returned within %v:\n%s", args, waitLimit, r.log)
		return nil, nil
	}
}

// waitLimit bounds every wait on a server: a hang fails the test that
// waits rather than the whole binary's timeout.
const waitLimit = 30 * time.Second

// stop shuts the server down and checks that it stopped cleanly.
func (r *running) stop(t *testing.T) {
	t.Helper()
	if r.done == nil {
		return
	}
	r.cancel()
	select {
	case code := <-r.done:
		if code != ExitOK {
			t.Fatalf("shutdown: exit %d\n%s", code, r.log)
		}
	case <-time.After(waitLimit):
		t.Fatalf("the server did not stop within %v:\n%s", waitLimit, r.log)
	}
	r.done = nil
}

var (
	addrRE     = regexp.MustCompile(`msg="authplug server listening" addr=(\S+)`)
	passwordRE = regexp.MustCompile(`generated a password for root@localhost[^\n]* password=(\S+)`)
)

func (r *running) addr(t *testing.T) string {
	t.Helper()
	m := addrRE.FindStringSubmatch(r.log.String())
	if m == nil {
		t.Fatalf("no address in the log:\n%s", r.log)
	}
	return m[1]
}

// password is the generated root password the log shows, "" for none.
func (r *running) password() string {
	if m := passwordRE.FindStringSubmatch(r.log.String()); m != nil {
		return m[1]
	}
	return ""
}

// rootLogin logs in as root@localhost over TLS (the first caching_sha2
// login needs a secure transport).
func rootLogin(addr, pw string) error {
	c := mysql.NewConfig()
	c.User, c.Passwd, c.Net, c.Addr, c.TLSConfig = "root", pw, "tcp", addr, "skip-verify"
	db, err := sql.Open("mysql", c.FormatDSN())
	if err != nil {
		return err
	}
	defer db.Close()
	return db.Ping()
}

func TestRunStartsAndStopsCleanly(t *testing.T) {
	dir := t.TempDir()
	r := startRun(t, "--addr", "127.0.0.1:0", "--data-dir", dir)
	if r.password() == "" {
		t.Errorf("first start: no generated password shown\n%s", r.log)
	}
	r.stop(t)
	if !strings.Contains(r.log.String(), "table data lives in memory") {
		t.Errorf("the log must say table data is in memory\n%s", r.log)
	}
	if _, err := os.Stat(filepath.Join(dir, "authplug.lock")); err != nil {
		t.Errorf("the data directory's lock file: %v", err)
	}
}

// The generated password is shown at every start until root has used it:
// a first start that fails after creating root (here: the port is taken)
// does not lock root out.
func TestRootPasswordShownUntilRootLogsIn(t *testing.T) {
	dir := t.TempDir()
	busy, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer busy.Close()
	_, err = tryRun(t, "--addr", busy.Addr().String(), "--data-dir", dir)
	if err == nil || !strings.Contains(err.Error(), "already in use") || !strings.Contains(err.Error(), busy.Addr().String()) {
		t.Fatalf("start on a port in use: got %v, want an error naming %s as already in use", err, busy.Addr())
	}
	if _, err := os.Stat(filepath.Join(dir, "grants.db")); err != nil {
		t.Fatalf("the failed start should have created root: %v", err)
	}

	r := startRun(t, "--addr", "127.0.0.1:0", "--data-dir", dir)
	pw := r.password()
	if pw == "" {
		t.Fatalf("the start after a failed first start must show root's password\n%s", r.log)
	}
	if err := rootLogin(r.addr(t), pw); err != nil {
		t.Fatalf("root login with the shown password: %v", err)
	}
	if _, err := os.Stat(filepath.Join(dir, "initial-root-password")); !errors.Is(err, os.ErrNotExist) {
		t.Errorf("initial-root-password after root logged in: %v, want it removed", err)
	}
	r.stop(t)

	r = startRun(t, "--addr", "127.0.0.1:0", "--data-dir", dir)
	if got := r.password(); got != "" {
		t.Errorf("password shown after root logged in once\n%s", r.log)
	}
	if err := rootLogin(r.addr(t), pw); err != nil {
		t.Errorf("root login after restart: %v", err)
	}
}

func TestSecondServerOnTheSameDataDirIsRefused(t *testing.T) {
	dir := t.TempDir()
	first := startRun(t, "--addr", "127.0.0.1:0", "--data-dir", dir, "--root-password", "pw")
	_, err := tryRun(t, "--addr", "127.0.0.1:0", "--data-dir", dir)
	if err == nil || !strings.Contains(err.Error(), dir) || !strings.Contains(err.Error(), "another authplug") {
		t.Fatalf("second server on %s: got %v, want a refusal naming the directory", dir, err)
	}
	if err := rootLogin(first.addr(t), "pw"); err != nil {
		t.Errorf("the first server must keep serving: %v", err)
	}
}

// resetRootPassword runs the reset-root-password command in-process.
func resetRootPassword(t *testing.T, args ...string) (stdout string, err error) {
	t.Helper()
	var out, errOut strings.Builder
	if code := Run(t.Context(), append([]string{"reset-root-password"}, args...), &out, &errOut); code != ExitOK {
		return out.String(), fmt.Errorf("exit %d: %s", code, errOut.String())
	}
	return out.String(), nil
}

func TestResetRootPassword(t *testing.T) {
	dir := t.TempDir()
	r := startRun(t, "--addr", "127.0.0.1:0", "--data-dir", dir, "--root-password", "old")
	_, err := resetRootPassword(t, "--data-dir", dir)
	if err == nil || !strings.Contains(err.Error(), "another authplug") {
		t.Fatalf("reset while the server runs: got %v, want a refusal", err)
	}
	r.stop(t)

	// Offline, generated: printed, and shown again at the next start.
	out, err := resetRootPassword(t, "--data-dir", dir)
	if err != nil {
		t.Fatal(err)
	}
	m := regexp.MustCompile(`new password: (\S+)`).FindStringSubmatch(out)
	if m == nil {
		t.Fatalf("no new password printed: %q", out)
	}
	r = startRun(t, "--addr", "127.0.0.1:0", "--data-dir", dir)
	if got := r.password(); got != m[1] {
		t.Errorf("start after a reset shows %q, want the new password %q", got, m[1])
	}
	if err := rootLogin(r.addr(t), "old"); err == nil {
		t.Error("the old password still logs in")
	}
	if err := rootLogin(r.addr(t), m[1]); err != nil {
		t.Fatalf("root login with the new password: %v", err)
	}
	r.stop(t)

	// Offline, chosen.
	if _, err := resetRootPassword(t, "--data-dir", dir, "--root-password", "chosen"); err != nil {
		t.Fatal(err)
	}
	r = startRun(t, "--addr", "127.0.0.1:0", "--data-dir", dir)
	if r.password() != "" {
		t.Errorf("a chosen password is not shown\n%s", r.log)
	}
	if err := rootLogin(r.addr(t), "chosen"); err != nil {
		t.Errorf("root login with the chosen password: %v", err)
	}
}

func TestResetRootPasswordNeedsADataDirectory(t *testing.T) {
	_, err := resetRootPassword(t, "--data-dir", t.TempDir())
	if err == nil || !strings.Contains(err.Error(), "nothing to reset") {
		t.Errorf("reset on an empty directory: got %v", err)
	}
	missing := filepath.Join(t.TempDir(), "missing")
	if _, err := resetRootPassword(t, "--data-dir", missing); err == nil {
		t.Error("reset on a directory that does not exist succeeded")
	}
	if _, err := os.Stat(missing); !errors.Is(err, os.ErrNotExist) {
		t.Errorf("reset created the directory it was given: %v", err)
	}
}
