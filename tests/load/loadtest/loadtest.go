// Package loadtest runs many concurrent sessions against an in-process
// authplug server while GRANT and REVOKE churn the same accounts' grants,
// and checks that nothing fails that should not, that the server's
// goroutines go back to their baseline once the clients leave, and how much
// memory an idle session holds. `go run ./tests/load` runs it at full size;
// tests/load_test.go runs it small, under -race, in CI.
package loadtest

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"os"
	"runtime"
	"runtime/pprof"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/dolthub/go-mysql-server/memory"
	gmssql "github.com/dolthub/go-mysql-server/sql"
	"github.com/go-sql-driver/mysql"

	"github.com/authplug/authplug/examples/oauth"
	"github.com/authplug/authplug/extension"
	"github.com/authplug/authplug/server"
)

// Config sizes a run.
type Config struct {
	// Sessions is how many sessions are open at once.
	Sessions int
	// Duration is how long the sessions run statements while the grants
	// churn: longer, within churnGrace, until they have read the churned
	// table both granted and revoked.
	Duration time.Duration
	// Progress, when set, receives a line per phase.
	Progress io.Writer
}

// Result is what a run measured.
type Result struct {
	Sessions int
	// Logins counts the sessions by how they logged in.
	Logins map[string]int
	// Statements counts the workload's statements that succeeded.
	Statements int64
	// ChurnAllowed and ChurnRefused count the reads of the churned table:
	// allowed while its grant was there, 1142 while it was revoked.
	ChurnAllowed, ChurnRefused int64
	// Churns counts the GRANT and REVOKE statements the churn ran.
	Churns int64
	// Errors counts everything else that failed; FirstErrors keeps a few.
	Errors      int64
	FirstErrors []string
	// Goroutines in the process before the clients came, with every
	// session open, and once they had gone.
	GoroutinesBefore, GoroutinesOpen, GoroutinesAfter int
	// HeapPerIdleSession is HeapAlloc with the sessions open and idle,
	// minus HeapAlloc once they had closed, per session. Client and server
	// share the process, so it counts both ends of each connection.
	HeapPerIdleSession int64
}

// Print writes r as the command prints it.
func (r Result) Print(w io.Writer) {
	fmt.Fprintf(w, "sessions: %d open at once (%s)\n", r.Sessions, r.loginSummary())
	fmt.Fprintf(w, "statements: %d succeeded; churned table: %d reads allowed, %d refused with 1142; %d GRANT/REVOKE\n",
		r.Statements, r.ChurnAllowed, r.ChurnRefused, r.Churns)
	fmt.Fprintf(w, "errors: %d\n", r.Errors)
	for _, e := range r.FirstErrors {
		fmt.Fprintf(w, "  %s\n", e)
	}
	fmt.Fprintf(w, "goroutines: %d before, %d with the sessions open, %d after they closed\n",
		r.GoroutinesBefore, r.GoroutinesOpen, r.GoroutinesAfter)
	fmt.Fprintf(w, "memory per idle session: %.1f KiB (HeapAlloc delta / sessions, client and server ends)\n",
		float64(r.HeapPerIdleSession)/1024)
}

func (r Result) loginSummary() string {
	s := ""
	for _, k := range kinds {
		if s != "" {
			s += ", "
		}
		s += fmt.Sprintf("%d %s", r.Logins[k.name], k.name)
	}
	return s
}

// A kind is one way of logging in; sessions take them in turn.
type kind struct {
	name string
	user string
	tls  bool
}

var kinds = []kind{
	{"mysql_native_password", "nat", false},
	{"caching_sha2_password", "sha", false},
	{"caching_sha2_password over TLS", "sha", true},
	{"token over TLS", "tok", true},
}

const (
	rootPassword = "root-load"
	password     = "pw-load"
	kvRows       = 100
)

// Run starts a server, runs the sessions and the churn, and returns what it
// measured. The error is non-nil when anything failed that should not
// have: an unexpected error, a churn that had no visible effect, or
// goroutines that did not go back to their baseline.
func Run(ctx context.Context, cfg Config) (Result, error) {
	res := Result{Sessions: cfg.Sessions, Logins: map[string]int{}}
	progress := func(format string, args ...any) {
		if cfg.Progress != nil {
			fmt.Fprintf(cfg.Progress, format+"\n", args...)
		}
	}
	dir, err := os.MkdirTemp("", "authplug-load-")
	if err != nil {
		return res, err
	}
	defer os.RemoveAll(dir)

	quiet := slog.New(slog.NewTextHandler(io.Discard, nil))
	dev, err := oauth.LoadDevIdP(dir + "/idp")
	if err != nil {
		return res, err
	}
	// interval 0: the file is read once; no watcher runs during the count.
	keys, err := oauth.NewFileKeys(dev.JWKSPath(), 0, quiet)
	if err != nil {
		return res, err
	}
	defer keys.Close()
	plug, err := oauth.NewPlugin(oauth.Config{Keys: keys, Audience: oauth.DefaultAudience, Issuer: oauth.DevIssuer, Logger: quiet})
	if err != nil {
		return res, err
	}
	reg := extension.NewRegistry()
	if err := reg.Register("oauth", extension.WithCustomAuthPlugins(plug)); err != nil {
		return res, err
	}
	exts, err := reg.GetExtensions()
	if err != nil {
		return res, err
	}

	srv, err := server.New(server.Config{
		Addr: "127.0.0.1:0", DataDir: dir + "/data", RootPassword: rootPassword, Extensions: exts,
		Databases: []gmssql.Database{memory.NewDatabase("loaddb")}, Logger: quiet,
		// Every session logs in at once: under -race on two cores the last
		// handshakes wait behind the others for a while.
		HandshakeTimeout: time.Minute,
		// Above the session count (the default is MySQL's 151), and no
		// login throttle: every login here is a right one, and the point is
		// the sessions, not the limits.
		MaxConnections:        cfg.Sessions + 10,
		LoginFailureThreshold: -1,
	})
	if err != nil {
		return res, err
	}
	served := make(chan error, 1)
	go func() { served <- srv.Serve() }()
	// The baseline: the server running, no client yet.
	goroutinesBefore := runtime.NumGoroutine()
	serverClosed := false
	closeServer := func() error {
		if serverClosed {
			return nil
		}
		serverClosed = true
		err := srv.Close()
		return errors.Join(err, <-served)
	}
	defer closeServer()
	addr := srv.Addr().String()

	if err := setUp(ctx, srv); err != nil {
		return res, err
	}
	token, err := dev.Mint(oauth.TokenRequest{Issuer: oauth.DevIssuer, Audience: oauth.DefaultAudience, Subject: "tok", TTL: time.Hour})
	if err != nil {
		return res, err
	}
	dsn := func(k kind) string {
		c := mysql.NewConfig()
		c.User, c.Passwd, c.Net, c.Addr, c.DBName = k.user, password, "tcp", addr, "loaddb"
		c.AllowNativePasswords = true
		c.Timeout = time.Minute
		if k.tls {
			c.TLSConfig = "skip-verify"
		}
		if k.user == "tok" {
			c.Passwd, c.AllowCleartextPasswords = token, true
		}
		return c.FormatDSN()
	}

	// One pool per kind; each session takes a connection of its own.
	pools := make([]*sql.DB, len(kinds))
	for i, k := range kinds {
		if pools[i], err = sql.Open("mysql", dsn(k)); err != nil {
			return res, err
		}
		pools[i].SetMaxIdleConns(-1) // a closed session's connection is closed, not kept
	}
	closePools := func() {
		for _, p := range pools {
			p.Close()
		}
	}
	defer closePools()

	rec := &recorder{}
	sessions := make([]*session, cfg.Sessions)
	progress("logging in %d sessions at once", cfg.Sessions)
	var wg sync.WaitGroup
	for i := range sessions {
		k := i % len(kinds)
		res.Logins[kinds[k].name]++
		wg.Add(1)
		go func() {
			defer wg.Done()
			s, err := open(ctx, pools[k], i)
			if err != nil {
				rec.fail(fmt.Errorf("session %d (%s): login: %w", i, kinds[k].name, err))
				return
			}
			sessions[i] = s
		}()
	}
	wg.Wait()
	if rec.errors.Load() > 0 {
		return rec.result(res), errors.New("logins failed")
	}
	res.GoroutinesOpen = runtime.NumGoroutine()

	progress("running statements for %s while grants churn", cfg.Duration)
	root, err := sql.Open("mysql", (&mysql.Config{User: "root", Passwd: rootPassword, Net: "tcp", Addr: addr,
		TLSConfig: "skip-verify", AllowNativePasswords: true}).FormatDSN())
	if err != nil {
		return res, err
	}
	defer root.Close()
	stop := make(chan struct{})
	churnDone := make(chan struct{})
	go func() {
		defer close(churnDone)
		churn(ctx, root, stop, rec)
	}()
	// On a loaded machine the churn's first GRANT may land after the
	// duration: the sessions go on, bounded, until they have seen it.
	deadline := time.Now().Add(cfg.Duration)
	limit := deadline.Add(churnGrace)
	for _, s := range sessions {
		wg.Add(1)
		go func() {
			defer wg.Done()
			s.work(ctx, deadline, limit, rec)
		}()
	}
	wg.Wait()
	close(stop)
	<-churnDone

	// The rows inserted are not counted afterwards: go-mysql-server's
	// in-memory engine commits a whole copy of the table per session, so
	// concurrent autocommit INSERTs overwrite each other's rows (with or
	// without authplug). Each INSERT's own result is checked instead.
	root.Close()

	// Idle sessions: everything they hold is live; what the workload left
	// behind (inserted rows) stays after they close and cancels out.
	openHeap := heapAlloc()
	progress("closing the sessions")
	for _, s := range sessions {
		s.close()
	}
	closePools()
	// The server's side of each connection ends when it reads the client's
	// close: wait for that, bounded, rather than sleeping a fixed time.
	res.GoroutinesBefore = goroutinesBefore
	res.GoroutinesAfter = waitGoroutines(goroutinesBefore, 30*time.Second)
	closedHeap := heapAlloc()
	res.HeapPerIdleSession = (int64(openHeap) - int64(closedHeap)) / int64(max(cfg.Sessions, 1))

	res = rec.result(res)
	var problems []error
	if res.Errors > 0 {
		problems = append(problems, fmt.Errorf("%d errors", res.Errors))
	}
	if res.Churns == 0 || res.ChurnAllowed == 0 || res.ChurnRefused == 0 {
		problems = append(problems, fmt.Errorf("the churn had no visible effect: %d GRANT/REVOKE, %d reads allowed, %d refused",
			res.Churns, res.ChurnAllowed, res.ChurnRefused))
	}
	if res.GoroutinesAfter > res.GoroutinesBefore {
		var buf strings.Builder
		pprof.Lookup("goroutine").WriteTo(&buf, 1)
		problems = append(problems, fmt.Errorf("%d goroutines after the sessions closed, %d before:\n%s",
			res.GoroutinesAfter, res.GoroutinesBefore, buf.String()))
	}
	return res, errors.Join(problems...)
}

// setUp creates the tables and the accounts: one per login kind, each
// with the grants the workload needs. The churn adds and removes others.
func setUp(ctx context.Context, srv *server.Server) error {
	stmts := []string{
		"CREATE TABLE loaddb.kv (k INT PRIMARY KEY, v VARCHAR(32))",
		"CREATE TABLE loaddb.events (id INT PRIMARY KEY AUTO_INCREMENT, session INT, n INT)",
		"CREATE TABLE loaddb.churn (k INT PRIMARY KEY)",
		"INSERT INTO loaddb.churn VALUES (1)",
	}
	ins := "INSERT INTO loaddb.kv VALUES "
	for i := range kvRows {
		if i > 0 {
			ins += ","
		}
		ins += fmt.Sprintf("(%d, 'v%d')", i, i)
	}
	for _, q := range append(stmts, ins) {
		if err := srv.ExecuteSQL(ctx, q); err != nil {
			return fmt.Errorf("%s: %w", q, err)
		}
	}
	root, err := sql.Open("mysql", (&mysql.Config{User: "root", Passwd: rootPassword, Net: "tcp",
		Addr: srv.Addr().String(), TLSConfig: "skip-verify", AllowNativePasswords: true}).FormatDSN())
	if err != nil {
		return err
	}
	defer root.Close()
	for _, q := range []string{
		"CREATE USER nat IDENTIFIED WITH mysql_native_password BY '" + password + "'",
		"CREATE USER sha IDENTIFIED BY '" + password + "'",
		`CREATE USER tok IDENTIFIED WITH authentication_oauth AS '{"issuer":"` + oauth.DevIssuer + `","scopes":"optional"}'`,
	} {
		if _, err := root.ExecContext(ctx, q); err != nil {
			return fmt.Errorf("%s: %w", q, err)
		}
	}
	for _, u := range accounts {
		for _, q := range []string{
			"GRANT SELECT ON loaddb.kv TO " + u,
			"GRANT SELECT, INSERT ON loaddb.events TO " + u,
		} {
			if _, err := root.ExecContext(ctx, q); err != nil {
				return fmt.Errorf("%s: %w", q, err)
			}
		}
	}
	return nil
}

var accounts = []string{"nat", "sha", "tok"}

// churn grants and revokes, on the sessions' own accounts, until stop:
// SELECT on loaddb.churn, which the sessions read expecting either outcome,
// and privileges on the whole database and on the tables the workload
// uses that it does not need, which must change nothing it sees.
func churn(ctx context.Context, root *sql.DB, stop <-chan struct{}, rec *recorder) {
	steps := []string{
		"GRANT SELECT ON loaddb.churn TO %s",
		"GRANT UPDATE ON loaddb.* TO %s",
		"GRANT DELETE ON loaddb.kv TO %s",
		"REVOKE SELECT ON loaddb.churn FROM %s",
		"REVOKE UPDATE ON loaddb.* FROM %s",
		"REVOKE DELETE ON loaddb.kv FROM %s",
	}
	for i := 0; ; i++ {
		select {
		case <-stop:
			return
		default:
		}
		for _, u := range accounts {
			q := fmt.Sprintf(steps[i%len(steps)], u)
			if _, err := root.ExecContext(ctx, q); err != nil {
				rec.fail(fmt.Errorf("churn %q: %w", q, err))
				return
			}
			rec.churns.Add(1)
		}
	}
}

// session is one client connection with its prepared statement.
type session struct {
	id   int
	conn *sql.Conn
	stmt *sql.Stmt
}

func open(ctx context.Context, pool *sql.DB, id int) (*session, error) {
	c, err := pool.Conn(ctx)
	if err != nil {
		return nil, err
	}
	st, err := c.PrepareContext(ctx, "SELECT v FROM loaddb.kv WHERE k = ?")
	if err != nil {
		c.Close()
		return nil, fmt.Errorf("prepare: %w", err)
	}
	return &session{id: id, conn: c, stmt: st}, nil
}

func (s *session) close() {
	if s == nil {
		return
	}
	s.stmt.Close()
	s.conn.Close()
}

// churnGrace bounds how long past its duration a run waits for its
// sessions to see the churned grant both allowed and refused.
const churnGrace = time.Minute

// work runs the statement mix until deadline, and past it until the
// churned grant has been seen both allowed and refused or limit passes,
// checking every answer.
func (s *session) work(ctx context.Context, deadline, limit time.Time, rec *recorder) {
	for n := 0; ; n++ {
		if now := time.Now(); !now.Before(limit) || !now.Before(deadline) && rec.churnSeen() {
			return
		}
		k := (s.id + n) % kvRows
		want := "v" + strconv.Itoa(k)
		var err error
		switch n % 5 {
		case 0: // a text-protocol SELECT
			var v string
			if err = s.conn.QueryRowContext(ctx, "SELECT v FROM loaddb.kv WHERE k = "+strconv.Itoa(k)).Scan(&v); err == nil && v != want {
				err = fmt.Errorf("SELECT k=%d returned %q", k, v)
			}
		case 1: // the prepared statement, binary protocol
			var v string
			if err = s.stmt.QueryRowContext(ctx, k).Scan(&v); err == nil && v != want {
				err = fmt.Errorf("prepared SELECT k=%d returned %q", k, v)
			}
		case 2:
			var r sql.Result
			r, err = s.conn.ExecContext(ctx, fmt.Sprintf("INSERT INTO loaddb.events (session, n) VALUES (%d, %d)", s.id, n))
			if err == nil {
				if a, _ := r.RowsAffected(); a != 1 {
					err = fmt.Errorf("INSERT affected %d rows", a)
				}
			}
		case 3:
			err = s.showTables(ctx)
		case 4: // the churned grant: either outcome, and nothing else
			var c int
			switch err = s.conn.QueryRowContext(ctx, "SELECT COUNT(*) FROM loaddb.churn").Scan(&c); {
			case err == nil && c == 1:
				rec.churnAllowed.Add(1)
			case err == nil:
				rec.fail(fmt.Errorf("session %d: loaddb.churn has %d rows", s.id, c))
			case code(err) == 1142:
				rec.churnRefused.Add(1)
			default:
				rec.fail(fmt.Errorf("session %d: SELECT FROM loaddb.churn: %w", s.id, err))
			}
			continue
		}
		if err != nil {
			rec.fail(fmt.Errorf("session %d: %w", s.id, err))
			continue
		}
		rec.statements.Add(1)
	}
}

// showTables checks that SHOW TABLES lists the tables the session may see:
// kv and events always, churn only while granted.
func (s *session) showTables(ctx context.Context) error {
	rows, err := s.conn.QueryContext(ctx, "SHOW TABLES")
	if err != nil {
		return err
	}
	defer rows.Close()
	seen := map[string]bool{}
	for rows.Next() {
		var t string
		if err := rows.Scan(&t); err != nil {
			return err
		}
		seen[t] = true
	}
	if err := rows.Err(); err != nil {
		return err
	}
	if !seen["kv"] || !seen["events"] {
		return fmt.Errorf("SHOW TABLES listed %v", seen)
	}
	return nil
}

func code(err error) uint16 {
	var me *mysql.MySQLError
	if errors.As(err, &me) {
		return me.Number
	}
	return 0
}

// recorder counts outcomes across the sessions.
type recorder struct {
	statements, inserts        atomic.Int64
	churnAllowed, churnRefused atomic.Int64 // see churnSeen
	churns, errors             atomic.Int64
	mu                         sync.Mutex
	first                      []string
}

const keptErrors = 10

// churnSeen reports whether the sessions have read the churned table
// both while granted and while revoked.
func (r *recorder) churnSeen() bool {
	return r.churnAllowed.Load() > 0 && r.churnRefused.Load() > 0
}

func (r *recorder) fail(err error) {
	r.errors.Add(1)
	r.mu.Lock()
	defer r.mu.Unlock()
	if len(r.first) < keptErrors {
		r.first = append(r.first, err.Error())
	}
}

func (r *recorder) result(res Result) Result {
	res.Statements = r.statements.Load()
	res.ChurnAllowed, res.ChurnRefused = r.churnAllowed.Load(), r.churnRefused.Load()
	res.Churns, res.Errors = r.churns.Load(), r.errors.Load()
	r.mu.Lock()
	res.FirstErrors = append([]string(nil), r.first...)
	r.mu.Unlock()
	return res
}

// heapAlloc is the live heap after a full collection.
func heapAlloc() uint64 {
	runtime.GC()
	var m runtime.MemStats
	runtime.ReadMemStats(&m)
	return m.HeapAlloc
}

// waitGoroutines polls until at most want goroutines are left or the
// timeout passes, and returns the last count.
func waitGoroutines(want int, timeout time.Duration) int {
	deadline := time.Now().Add(timeout)
	for {
		n := runtime.NumGoroutine()
		if n <= want || time.Now().After(deadline) {
			return n
		}
		time.Sleep(10 * time.Millisecond)
	}
}
