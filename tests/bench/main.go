// Command bench measures authplug's host against go-mysql-server's own
// authentication and authorization, in one run, on the same engine version
// and identical data, and reports ratios:
//
//	go run ./tests/bench
//
// Rounds alternate between the servers so that noise on a shared machine
// falls on all of them alike.
package main

import (
	"context"
	"crypto/tls"
	"database/sql"
	"database/sql/driver"
	"flag"
	"fmt"
	"io"
	"log/slog"
	"net"
	"os"
	"path/filepath"
	"runtime/pprof"
	"slices"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	sqle "github.com/dolthub/go-mysql-server"
	"github.com/dolthub/go-mysql-server/memory"
	gmsserver "github.com/dolthub/go-mysql-server/server"
	gmssql "github.com/dolthub/go-mysql-server/sql"
	"github.com/dolthub/go-mysql-server/sql/mysql_db"
	"github.com/go-sql-driver/mysql"
	"github.com/sirupsen/logrus"

	"github.com/authplug/authplug/server"
)

const rows = 1000

func main() {
	logins := flag.Int("logins", 2000, "logins per server per round")
	duration := flag.Duration("duration", 2*time.Second, "time per statement and server per round, run in interleaved slices of 200ms")
	rounds := flag.Int("rounds", 5, "rounds")
	workers := flag.Int("workers", 4, "concurrent connections running point selects")
	conns := flag.Int("conns", 200, "connections in the concurrency check")
	loginsOnly := flag.Bool("logins-only", false, "measure the login ratios only")
	cpuProfile := flag.String("cpuprofile", "", "write a CPU profile of the run's clients to this file, and one of each server process to this file with .<server> appended")
	serveKind := flag.String("serve", "", "run one server of the comparison (authplug-native, authplug-sha2, gms-auth, gms-off): the bench starts these itself")
	dataDir := flag.String("dir", "", "with -serve: the server's data directory")
	certDir := flag.String("cert-dir", "", "with -serve gms-auth: the directory of the TLS certificate and key it serves")
	cases := flag.String("cases", "native,default,tls,switch", "the login cases measured, a comma-separated subset of native, default, tls and switch (to profile one alone; none for none)")
	flag.Parse()
	logrus.SetOutput(io.Discard)
	if *cpuProfile != "" {
		f, err := os.Create(*cpuProfile)
		if err != nil {
			fmt.Fprintln(os.Stderr, "bench:", err)
			os.Exit(1)
		}
		if err := pprof.StartCPUProfile(f); err != nil {
			fmt.Fprintln(os.Stderr, "bench:", err)
			os.Exit(1)
		}
		defer pprof.StopCPUProfile()
	}
	var err error
	if *serveKind != "" {
		err = serve(*serveKind, *dataDir, *certDir)
	} else {
		err = run(*logins, *rounds, *workers, *conns, *duration, *loginsOnly, strings.Split(*cases, ","), *cpuProfile)
	}
	if err != nil {
		pprof.StopCPUProfile()
		fmt.Fprintln(os.Stderr, "bench:", err)
		os.Exit(1)
	}
}

type target struct {
	name string
	dsn  func(user, pw string) *mysql.Config
	user string
	pw   string
}

func run(loginsPerRound, rounds, workers, conns int, duration time.Duration, loginsOnly bool, cases []string, profile string) error {
	ctx := context.Background()
	dir, err := os.MkdirTemp("", "authplug-bench-")
	if err != nil {
		return err
	}
	defer os.RemoveAll(dir)

	// Every server in a process of its own (serve.go), each login case
	// with its own pair: authplug offering mysql_native_password in the
	// handshake, as go-mysql-server does, or on its default
	// (caching_sha2_password); go-mysql-server with its own accounts (for
	// the TLS case serving authplug's certificate, so that both servers pay
	// the same handshake); and go-mysql-server without authorization for
	// the statement rates.
	var servers []*serverProcess
	defer func() {
		for _, p := range servers {
			p.Close()
		}
	}()
	start := func(name, kind, certDir string) (string, error) {
		p, err := startServer(ctx, name, kind, filepath.Join(dir, name), certDir, profile)
		if err != nil {
			return "", err
		}
		servers = append(servers, p)
		return p.addr, nil
	}
	// A login case: the handshake plugin authplug offers, the account, and
	// whether the logins use TLS.
	type login struct {
		key, name    string
		authplugKind string
		user         string
		tls          bool
	}
	logins := []login{
		{"native", "mysql_native_password accounts, both servers offering it in the handshake", serveAuthplugNative, "bench", false},
		{"default", "default-plugin accounts (CREATE USER ... IDENTIFIED BY): authplug's caching_sha2_password fast path / the peer's mysql_native_password", serveAuthplugSHA2, "dflt", false},
		{"tls", "the same over TLS", serveAuthplugSHA2, "dflt", true},
		{"switch", "a native account on authplug's default handshake offer, caching_sha2_password (one auth-switch round trip more) / go-mysql-server's native logins", serveAuthplugSHA2, "bench", false},
	}
	var loginCases []loginCase
	for _, l := range logins {
		if !slices.Contains(cases, l.key) {
			continue
		}
		ap, err := start(l.key+"-authplug", l.authplugKind, "")
		if err != nil {
			return err
		}
		certDir := ""
		if l.tls {
			certDir = filepath.Join(dir, l.key+"-authplug")
		}
		gms, err := start(l.key+"-gms", serveGMSAuth, certDir)
		if err != nil {
			return err
		}
		c := loginCase{l.key, l.name, target{"authplug", cfgFor(ap), l.user, "pw"}, target{"go-mysql-server auth", cfgFor(gms), l.user, "pw"}}
		if l.tls {
			c.authplug.dsn, c.peer.dsn = withTLS(c.authplug.dsn), withTLS(c.peer.dsn)
		}
		loginCases = append(loginCases, c)
	}
	if len(loginCases) > 0 {
		if err := loginRatios(ctx, loginCases, cases, loginsPerRound, rounds); err != nil {
			return err
		}
	}
	if loginsOnly {
		return nil
	}
	apAddr, err := start("statements-authplug", serveAuthplugNative, "")
	if err != nil {
		return err
	}
	gmsAuth, err := start("statements-gms", serveGMSAuth, "")
	if err != nil {
		return err
	}
	gmsOff, err := start("statements-off", serveGMSOff, "")
	if err != nil {
		return err
	}
	targets := []target{
		{"authplug", cfgFor(apAddr), "bench", "pw"},
		{"go-mysql-server auth", cfgFor(gmsAuth), "bench", "pw"},
		{"authorization off", cfgFor(gmsOff), "root", ""},
	}

	// Statement throughput: a session with table grants and one with
	// column grants only, against go-mysql-server's own authorization
	// (equivalent grants) and against authorization off; point selects
	// and a three-table join.
	// The column-grant session has a server of its own, so that every
	// server but go-mysql-server's serves the same series.
	colAddr, err := start("statements-authplug-columns", serveAuthplugNative, "")
	if err != nil {
		return err
	}
	colTarget := target{"authplug, column grants", cfgFor(colAddr), "colbench", "pw"}
	point := []*series{{t: targets[0], query: pointSelect}, {t: colTarget, query: pointSelect}, {t: targets[1], query: pointSelect}, {t: targets[2], query: pointSelect}}
	join := []*series{{t: targets[0], query: joinSelect}, {t: colTarget, query: joinSelect}, {t: targets[2], query: joinSelect}}
	if err := statementRates(ctx, append(slices.Clone(point), join...), workers, duration, rounds); err != nil {
		return err
	}
	fmt.Printf("point selects/s (%d connections): authplug %.0f, authplug with column grants %.0f, go-mysql-server auth %.0f, authorization off %.0f\n",
		workers, point[0].rate(), point[1].rate(), point[2].rate(), point[3].rate())
	fmt.Printf("ratio point selects authplug / go-mysql-server auth: %.2f (target >= 1.0)\n", point[0].rate()/point[2].rate())
	fmt.Printf("ratio point selects authplug / authorization off: %.2f; with column grants: %.2f (target >= 0.95)\n", point[0].rate()/point[3].rate(), point[1].rate()/point[3].rate())
	fmt.Printf("three-table joins/s: authplug %.0f, authplug with column grants %.0f, authorization off %.0f\n", join[0].rate(), join[1].rate(), join[2].rate())
	fmt.Printf("ratio three-table joins authplug / authorization off: %.2f; with column grants: %.2f (target >= 0.95)\n", join[0].rate()/join[2].rate(), join[1].rate()/join[2].rate())

	if err := tokenLogins(ctx, loginsPerRound/2, rounds); err != nil {
		return err
	}

	errs, stmts := concurrent(ctx, targets[0], conns, 20)
	fmt.Printf("%d concurrent connections, each logging in and running 20 statements: %d statements, %d errors\n", conns, stmts, errs)
	if errs != 0 {
		return fmt.Errorf("%d errors with %d concurrent connections", errs, conns)
	}
	return nil
}

func cfgFor(addr string) func(user, pw string) *mysql.Config {
	return func(user, pw string) *mysql.Config {
		c := mysql.NewConfig()
		c.User, c.Passwd, c.Net, c.Addr, c.DBName = user, pw, "tcp", addr, "bench"
		c.AllowNativePasswords = true
		c.InterpolateParams = true
		return c
	}
}

const (
	pointSelect = "SELECT v FROM bench.kv WHERE k = ?"
	joinSelect  = "SELECT CONCAT(a.v, b.v, c.v) FROM bench.a JOIN bench.b ON a.b_id = b.id JOIN bench.c ON b.c_id = c.id WHERE a.id = ?"
)

var seed = []string{
	"CREATE TABLE bench.kv (k INT PRIMARY KEY, v VARCHAR(32))",
	"CREATE TABLE bench.a (id INT PRIMARY KEY, b_id INT, v VARCHAR(32), secret INT)",
	"CREATE TABLE bench.b (id INT PRIMARY KEY, c_id INT, v VARCHAR(32), secret INT)",
	"CREATE TABLE bench.c (id INT PRIMARY KEY, v VARCHAR(32), secret INT)",
}

// The column-grant account reads every column the queries use, and none
// of the others.
var colGrants = []string{
	"GRANT SELECT (k, v) ON bench.kv TO colbench",
	"GRANT SELECT (id, b_id, v) ON bench.a TO colbench",
	"GRANT SELECT (id, c_id, v) ON bench.b TO colbench",
	"GRANT SELECT (id, v) ON bench.c TO colbench",
}

func insertRows() []string {
	var kv, a, b, c strings.Builder
	kv.WriteString("INSERT INTO bench.kv VALUES ")
	a.WriteString("INSERT INTO bench.a VALUES ")
	b.WriteString("INSERT INTO bench.b VALUES ")
	c.WriteString("INSERT INTO bench.c VALUES ")
	for i := 0; i < rows; i++ {
		sep := ","
		if i == 0 {
			sep = ""
		}
		fmt.Fprintf(&kv, "%s(%d, 'value-%d')", sep, i, i)
		fmt.Fprintf(&a, "%s(%d, %d, 'a%d', 0)", sep, i, (i*7)%rows, i)
		fmt.Fprintf(&b, "%s(%d, %d, 'b%d', 0)", sep, i, (i*13)%rows, i)
		fmt.Fprintf(&c, "%s(%d, 'c%d', 0)", sep, i, i)
	}
	return []string{kv.String(), a.String(), b.String(), c.String()}
}

func startAuthplug(ctx context.Context, dir, handshakePlugin string) (*server.Server, error) {
	s, err := server.New(server.Config{
		Addr: "127.0.0.1:0", DataDir: dir, RootPassword: "root", DefaultAuthPlugin: handshakePlugin,
		Databases: []gmssql.Database{memory.NewDatabase("bench")},
		Logger:    slog.New(slog.NewTextHandler(io.Discard, nil)),
		// As the peer: no connection limit (the concurrency check opens
		// more than the default 151) and no login throttle.
		MaxConnections: -1, LoginFailureThreshold: -1,
	})
	if err != nil {
		return nil, err
	}
	for _, q := range append(seed, insertRows()...) {
		if err := s.ExecuteSQL(ctx, q); err != nil {
			return nil, err
		}
	}
	go s.Serve()
	db, err := sql.Open("mysql", cfgFor(s.Addr().String())("root", "root").FormatDSN()+"&tls=skip-verify")
	if err != nil {
		return nil, err
	}
	defer db.Close()
	for _, q := range append([]string{
		"CREATE USER bench IDENTIFIED WITH mysql_native_password BY 'pw'",
		"GRANT SELECT ON bench.* TO bench",
		"CREATE USER colbench IDENTIFIED WITH mysql_native_password BY 'pw'",
		// authplug's default plugin (caching_sha2_password).
		"CREATE USER dflt IDENTIFIED BY 'pw'",
		"GRANT SELECT ON bench.* TO dflt",
	}, colGrants...) {
		if _, err := db.ExecContext(ctx, q); err != nil {
			return nil, err
		}
	}
	return s, nil
}

// startGMS runs plain go-mysql-server: with its own users and grants
// (withAuth), or with none, when it checks nothing.
func startGMS(ctx context.Context, withAuth bool, tlsConfig *tls.Config) (string, func(), error) {
	db := memory.NewDatabase("bench")
	pro := memory.NewDBProvider(db)
	engine := sqle.NewDefault(pro)
	if withAuth {
		m := engine.Analyzer.Catalog.MySQLDb
		m.SetPersister(&mysql_db.NoopPersister{})
		m.SetEnabled(true)
		m.AddRootAccount()
	}
	sctx := gmssql.NewContext(ctx, gmssql.WithSession(memory.NewSession(gmssql.NewBaseSession(), pro)))
	stmts := append(seed, insertRows()...)
	if withAuth {
		stmts = append(stmts,
			"CREATE USER bench IDENTIFIED WITH mysql_native_password BY 'pw'",
			"GRANT SELECT ON bench.* TO bench",
			// go-mysql-server's default plugin (mysql_native_password).
			"CREATE USER dflt IDENTIFIED BY 'pw'",
			"GRANT SELECT ON bench.* TO dflt")
	}
	sctx.Session.SetClient(gmssql.Client{User: "root", Address: "localhost"})
	for _, q := range stmts {
		_, iter, _, err := engine.Query(sctx, q)
		if err != nil {
			return "", nil, fmt.Errorf("%s: %w", q, err)
		}
		if _, err := gmssql.RowIterToRows(sctx, iter); err != nil {
			return "", nil, err
		}
	}
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return "", nil, err
	}
	s, err := gmsserver.NewServer(gmsserver.Config{Protocol: "tcp", Address: l.Addr().String(), Listener: l, TLSConfig: tlsConfig}, engine, gmssql.NewContext, memory.NewSessionBuilder(pro), nil)
	if err != nil {
		return "", nil, err
	}
	go s.Start()
	return l.Addr().String(), func() { s.Close() }, nil
}

func loginRound(ctx context.Context, t target, n int) (time.Duration, error) {
	connector, err := mysql.NewConnector(t.dsn(t.user, t.pw))
	if err != nil {
		return 0, err
	}
	begin := time.Now()
	for i := 0; i < n; i++ {
		c, err := connector.Connect(ctx)
		if err != nil {
			return 0, err
		}
		c.Close()
	}
	return time.Since(begin), nil
}

func mustConnector(c *mysql.Config) driver.Connector {
	conn, err := mysql.NewConnector(c)
	if err != nil {
		panic(err)
	}
	return conn
}

// concurrent opens conns connections at once, each logging in and running
// stmts point selects; it returns the errors and the statements run.
func concurrent(ctx context.Context, t target, conns, stmts int) (errs, done int64) {
	var e, ok atomic.Int64
	var wg sync.WaitGroup
	start := make(chan struct{})
	for c := 0; c < conns; c++ {
		wg.Add(1)
		go func(c int) {
			defer wg.Done()
			<-start
			db := sql.OpenDB(mustConnector(t.dsn(t.user, t.pw)))
			defer db.Close()
			db.SetMaxOpenConns(1)
			var v string
			for i := 0; i < stmts; i++ {
				if err := db.QueryRowContext(ctx, "SELECT v FROM bench.kv WHERE k = ?", (c*stmts+i)%rows).Scan(&v); err != nil {
					e.Add(1)
					continue
				}
				ok.Add(1)
			}
		}(c)
	}
	close(start)
	wg.Wait()
	return e.Load(), ok.Load()
}
