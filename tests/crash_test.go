package tests

import (
	"context"
	"database/sql"
	"fmt"
	"os"
	osexec "os/exec"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/go-sql-driver/mysql"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// The crash tests run examples/server as a child process, which they kill
// with SIGKILL: a crash, in which nothing of the process runs again.

const (
	crashRootPassword = "crash-root"
	// crashClients run GRANTs at once, so that some are in flight when
	// the server is killed.
	crashClients = 4
)

// buildServer builds examples/server into the test's temporary directory.
func buildServer(t *testing.T) string {
	t.Helper()
	goCmd, err := osexec.LookPath("go")
	require.NoError(t, err, "the go command builds the server the crash tests kill")
	bin := filepath.Join(t.TempDir(), "authplug-server")
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	out, err := osexec.CommandContext(ctx, goCmd, "build", "-o", bin, "github.com/authplug/authplug/examples/server").CombinedOutput()
	require.NoError(t, err, "go build: %s", out)
	return bin
}

// child is examples/server running as a child process.
type child struct {
	cmd  *osexec.Cmd
	out  *childOutput
	addr string
	done chan struct{} // closed once the process has exited
}

// childOutput collects a child's log and reports the address it listens
// on.
type childOutput struct {
	syncBuffer
	found bool // written by Write only, which exec calls from one goroutine
	ready chan string
}

var listeningRE = regexp.MustCompile(`msg="authplug server listening" addr=(\S+)`)

func (o *childOutput) Write(p []byte) (int, error) {
	n, err := o.syncBuffer.Write(p)
	if !o.found {
		if m := listeningRE.FindStringSubmatch(o.String()); m != nil {
			o.found = true
			o.ready <- m[1]
		}
	}
	return n, err
}

// startChild runs the server bin with args (and env added to its
// environment) on a free loopback port, and returns once it listens. It is
// killed, if still running, when the test ends.
func startChild(t *testing.T, bin string, env []string, args ...string) *child {
	t.Helper()
	out := &childOutput{ready: make(chan string, 1)}
	cmd := osexec.Command(bin, append([]string{"--addr", "127.0.0.1:0", "--login-failure-threshold", "0"}, args...)...)
	cmd.Env = append(os.Environ(), env...)
	cmd.Stdout, cmd.Stderr = out, out
	require.NoError(t, cmd.Start())
	c := &child{cmd: cmd, out: out, done: make(chan struct{})}
	go func() {
		_ = cmd.Wait()
		close(c.done)
	}()
	t.Cleanup(func() {
		_ = cmd.Process.Kill()
		<-c.done
	})
	select {
	case c.addr = <-out.ready:
		return c
	case <-c.done:
		t.Fatalf("the server exited before listening:\n%s", out.String())
	case <-time.After(30 * time.Second):
		t.Fatalf("the server did not listen within 30s:\n%s", out.String())
	}
	return nil
}

// kill ends the process with SIGKILL. It may be called from any goroutine.
func (c *child) kill() { _ = c.cmd.Process.Kill() }

// wait returns once the process has exited.
func (c *child) wait(t *testing.T) {
	t.Helper()
	select {
	case <-c.done:
	case <-time.After(10 * time.Second):
		t.Fatal("the killed server did not exit within 10s")
	}
}

// root is a session as root on the child.
func (c *child) root(t *testing.T) *sql.Conn {
	t.Helper()
	return dsnConn(t, rootDSN(c.addr, "root", crashRootPassword))
}

// grantBurst is GRANTs run by several clients on one front end until it
// dies.
type grantBurst struct {
	mu    sync.Mutex
	acked []string // statements that returned OK
	sent  []string // every statement sent
	// failedBeforeKill are errors other than the kill's.
	failedBeforeKill []error
	// unanswered is how many clients' last statement got no answer: in
	// flight when the process died, or sent after.
	unanswered int
}

// burstUser is the account client i grants to.
func burstUser(i int) string { return fmt.Sprintf("burst%d", i) }

// shownGrant is the line SHOW GRANTS shows for GRANT SELECT ON db.* to
// burstUser(i).
func shownGrant(i int, db string) string {
	return fmt.Sprintf("GRANT SELECT ON `%s`.* TO `%s`@`%%`", db, burstUser(i))
}

// runGrantBurst has crashClients clients, each on its own session on c,
// run GRANTs (each on a database of its own, to burstUser(client)) until
// c dies, and kills c with SIGKILL once killAfter GRANTs have returned OK:
// the others are then in flight. It returns once every client has seen
// the process die.
func runGrantBurst(t *testing.T, c *child, killAfter int) *grantBurst {
	t.Helper()
	b := &grantBurst{}
	var (
		acked  atomic.Int64
		killed atomic.Bool
		once   sync.Once
		wg     sync.WaitGroup
	)
	sessions := make([]*sql.Conn, crashClients)
	for i := range sessions {
		sessions[i] = c.root(t)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	for i, s := range sessions {
		wg.Go(func() {
			for n := 0; ; n++ {
				db := fmt.Sprintf("c%d_n%d", i, n)
				b.mu.Lock()
				b.sent = append(b.sent, shownGrant(i, db))
				b.mu.Unlock()
				_, err := s.ExecContext(ctx, fmt.Sprintf("GRANT SELECT ON %s.* TO %s", db, burstUser(i)))
				b.mu.Lock()
				switch {
				case err == nil:
					b.acked = append(b.acked, shownGrant(i, db))
				case killed.Load():
					b.unanswered++
				default:
					b.failedBeforeKill = append(b.failedBeforeKill, fmt.Errorf("client %d, GRANT %d: %w", i, n, err))
				}
				b.mu.Unlock()
				if err != nil {
					return
				}
				if acked.Add(1) == int64(killAfter) {
					once.Do(func() {
						killed.Store(true)
						c.kill()
					})
				}
			}
		})
	}
	wg.Wait()
	c.wait(t)
	require.Empty(t, b.failedBeforeKill, "GRANTs failed before the server was killed")
	require.True(t, killed.Load(), "the server was killed")
	t.Logf("%d GRANTs acknowledged, %d sent; the last GRANT of %d clients got no answer",
		len(b.acked), len(b.sent), b.unanswered)
	return b
}

// check asserts that every acknowledged GRANT is held, as SHOW GRANTS on
// root shows it, and that nothing never sent is.
func (b *grantBurst) check(t *testing.T, root *sql.Conn, where string) {
	t.Helper()
	held := map[string]bool{}
	for i := range crashClients {
		rows, err := query(root, "SHOW GRANTS FOR "+burstUser(i))
		require.NoError(t, err)
		for _, r := range rows {
			if strings.HasPrefix(r[0], "GRANT SELECT ON `c") {
				held[r[0]] = true
			}
		}
	}
	var lost []string
	for _, g := range b.acked {
		if !held[g] {
			lost = append(lost, g)
		}
	}
	assert.Empty(t, lost, "%s: acknowledged GRANTs lost (%d of %d)", where, len(lost), len(b.acked))
	sent := map[string]bool{}
	for _, g := range b.sent {
		sent[g] = true
	}
	for g := range held {
		assert.True(t, sent[g], "%s: a GRANT never sent is held: %s", where, g)
	}
}

// createBurstUsers makes the accounts the burst grants to.
func createBurstUsers(t *testing.T, root *sql.Conn) {
	t.Helper()
	for i := range crashClients {
		exec(t, root, "CREATE USER "+burstUser(i)+" IDENTIFIED BY 'pw'")
	}
}

// TestCrash kills servers with SIGKILL in the middle of account changes.
// The server is built once for its subtests.
func TestCrash(t *testing.T) {
	bin := buildServer(t)
	t.Run("EmbeddedStoreKeepsAcknowledgedGrants", func(t *testing.T) { crashEmbeddedStore(t, bin) })
	t.Run("SharedStoreFrontEnd", func(t *testing.T) { crashSharedStoreFrontEnd(t, bin) })
}

// The embedded store (SQLite in the data directory) keeps every GRANT that
// returned OK when the server is killed (SIGKILL) during a burst of them,
// and is usable after a restart.
func crashEmbeddedStore(t *testing.T, bin string) {
	dir := filepath.Join(t.TempDir(), "data")
	a := startChild(t, bin, nil, "--data-dir", dir, "--root-password", crashRootPassword)
	createBurstUsers(t, a.root(t))
	b := runGrantBurst(t, a, 150)

	again := startChild(t, bin, nil, "--data-dir", dir)
	root := again.root(t)
	b.check(t, root, "after a restart")
	exec(t, root, "GRANT SELECT ON after_crash.* TO "+burstUser(0), "CREATE USER fresh IDENTIFIED BY 'pw'")
	rows, err := query(root, "SHOW GRANTS FOR "+burstUser(0))
	require.NoError(t, err)
	assert.Contains(t, flattenRows(rows), shownGrant(0, "after_crash"))
	require.NoError(t, pingDSN(rootDSN(again.addr, "fresh", "pw")), "an account made after the crash logs in")
}

// A front end killed (SIGKILL) during a burst of GRANTs on a shared store
// loses none it acknowledged: each is in force on the surviving front end.
// The survivor's account statements wait for the dead one at most its
// lease, and its row in the store goes some time after. The store's DSN
// is given through a file to one front end and through the environment to
// the other: its password shows on neither's command line nor in a log.
func crashSharedStoreFrontEnd(t *testing.T, bin string) {
	m := startMariaDB(t)
	const (
		storePassword = "Store-S3cret"
		lease         = time.Second
	)
	admin := m.conn(t, "root", "")
	exec(t, admin, "CREATE DATABASE crash",
		"CREATE USER ap@'127.0.0.1' IDENTIFIED BY '"+storePassword+"'",
		"GRANT ALL ON crash.* TO ap@'127.0.0.1'")
	cfg := mysql.NewConfig()
	cfg.User, cfg.Passwd, cfg.Net, cfg.Addr, cfg.DBName = "ap", storePassword, "tcp", m.addr, "crash"
	cfg.Timeout = 2 * time.Second
	dsn := cfg.FormatDSN()
	dsnFile := filepath.Join(t.TempDir(), "grants.dsn")
	require.NoError(t, os.WriteFile(dsnFile, []byte(dsn+"\n"), 0o600))

	leaseArgs := []string{"--grants-lease", lease.String()}
	a := startChild(t, bin, nil, append(leaseArgs, "--data-dir", t.TempDir(), "--root-password", crashRootPassword, "--grants-dsn-file", dsnFile)...)
	b := startChild(t, bin, []string{"AUTHPLUG_GRANTS_DSN=" + dsn}, append(leaseArgs, "--data-dir", t.TempDir())...)
	for _, c := range []*child{a, b} {
		cmdline, err := os.ReadFile(filepath.Join("/proc", strconv.Itoa(c.cmd.Process.Pid), "cmdline"))
		if err == nil {
			assert.NotContains(t, string(cmdline), storePassword, "the store's password is on the command line")
		}
	}
	createBurstUsers(t, a.root(t))
	survivor := b.root(t)

	burst := runGrantBurst(t, a, 40)
	killed := time.Now()
	// The first account statement after the crash waits for the dead
	// front end only until its lease ends: at most a lease after its last
	// renewal, plus a few of the survivor's polls.
	exec(t, survivor, "GRANT SELECT ON after_crash.* TO "+burstUser(0))
	waited := time.Since(killed)
	t.Logf("the survivor's first GRANT returned %s after the kill", waited)
	assert.Less(t, waited, lease+time.Second, "the survivor's account statement was held past the dead front end's lease")
	burst.check(t, survivor, "on the surviving front end")

	// The dead front end's row goes once its lease has been over for a
	// lease.
	waitFor(t, 10*lease, "the dead front end's row to leave the store", func() bool {
		rows, err := query(admin, "SELECT COUNT(*) FROM crash.frontends")
		require.NoError(t, err)
		return rows[0][0] == "1"
	})
	for _, c := range []*child{a, b} {
		assert.NotContains(t, c.out.String(), storePassword, "a log shows the store's password")
	}
}
