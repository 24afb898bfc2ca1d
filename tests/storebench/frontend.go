package main

import (
	"context"
	"database/sql"
	"fmt"
	"io"
	"log/slog"
	"path/filepath"
	"runtime/pprof"
	"strings"
	"time"

	"github.com/dolthub/go-mysql-server/memory"
	gmssql "github.com/dolthub/go-mysql-server/sql"
	"github.com/go-sql-driver/mysql"

	"github.com/authplug/authplug/authplugin"
	"github.com/authplug/authplug/grantstore"
	"github.com/authplug/authplug/internal/mariadbtest"
	"github.com/authplug/authplug/priv"
	"github.com/authplug/authplug/privilege"
	"github.com/authplug/authplug/server"
)

const (
	rootPassword = "root"
	// The benchmark's own accounts, in every store: reader runs the point
	// selects and the start-up logins; target is what the timed GRANTs
	// change, churn what the churn changes.
	readerUser = "sb_reader"
	targetUser = "sb_target"
	churnUser  = "sb_churn"
	password   = "pw"
	tableRows  = 100
)

var (
	targetAccount = priv.Account{User: targetUser, Host: "%"}
	benchUsers    = []string{readerUser, targetUser, churnUser}
)

// frontEnd is one in-process authplug server.
type frontEnd struct {
	srv    *server.Server
	served chan error
	root   *sql.DB // root over TLS, one connection: account statements
}

// startFrontEnd starts a server on dir (backend/size/name), on the shared
// store dsn or, when dsn is "", on dir's own SQLite store.
func startFrontEnd(dir, dsn string, lease time.Duration) (*frontEnd, error) {
	srv, err := server.New(server.Config{
		Addr:         "127.0.0.1:0",
		DataDir:      dir,
		RootPassword: rootPassword,
		Databases:    []gmssql.Database{memory.NewDatabase("demo")},
		Logger:       slog.New(slog.NewTextHandler(io.Discard, nil)),
		// The benchmark's clients come from one address, quickly.
		MaxConnections:        -1,
		LoginFailureThreshold: -1,
		GrantsDSN:             dsn,
		GrantsLease:           lease,
	})
	if err != nil {
		return nil, fmt.Errorf("starting a front end on %s: %w", dir, err)
	}
	fe := &frontEnd{srv: srv, served: make(chan error, 1)}
	// Labelled, so that a CPU profile (-cpuprofile) tells the front ends
	// apart: go tool pprof -tagfocus frontend=mariadb/100000/b ...
	parts := strings.Split(filepath.ToSlash(dir), "/")
	label := pprof.Labels("frontend", strings.Join(parts[max(0, len(parts)-3):], "/"))
	go pprof.Do(context.Background(), label, func(context.Context) { fe.served <- srv.Serve() })
	return fe, nil
}

func (fe *frontEnd) close() {
	if fe.root != nil {
		fe.root.Close()
	}
	fe.srv.Close()
	<-fe.served
}

func (fe *frontEnd) config(user, pw string) *mysql.Config {
	c := mysql.NewConfig()
	c.User, c.Passwd, c.Net, c.Addr, c.DBName = user, pw, "tcp", fe.srv.Addr().String(), "demo"
	c.AllowNativePasswords = true
	c.InterpolateParams = true
	c.Timeout = 10 * time.Second
	return c
}

// login waits until the reader can log in.
func (fe *frontEnd) login(ctx context.Context) error {
	conn, err := mysql.NewConnector(fe.config(readerUser, password))
	if err != nil {
		return err
	}
	deadline := time.Now().Add(30 * time.Second)
	for {
		c, err := conn.Connect(ctx)
		if err == nil {
			return c.Close()
		}
		if time.Now().After(deadline) {
			return fmt.Errorf("no login within 30s: %w", err)
		}
		time.Sleep(time.Millisecond) // polling interval, not synchronisation
	}
}

// ready makes a started front end one to measure: its table, and root's
// session.
func (fe *frontEnd) ready(ctx context.Context) error {
	var rows strings.Builder
	for i := range tableRows {
		if i > 0 {
			rows.WriteString(", ")
		}
		fmt.Fprintf(&rows, "(%d, 'value-%d')", i, i)
	}
	for _, q := range []string{"CREATE TABLE demo.t (id INT PRIMARY KEY, v VARCHAR(32))", "INSERT INTO demo.t VALUES " + rows.String()} {
		if err := fe.srv.ExecuteSQL(ctx, q); err != nil {
			return fmt.Errorf("%s: %w", q, err)
		}
	}
	c := fe.config("root", rootPassword)
	c.TLSConfig = "skip-verify"
	conn, err := mysql.NewConnector(c)
	if err != nil {
		return err
	}
	fe.root = sql.OpenDB(conn)
	fe.root.SetMaxOpenConns(1)
	return fe.root.PingContext(ctx)
}

// allows reports whether the front end's privilege manager, in memory,
// lets the timed GRANT's account read demo.t.
func (fe *frontEnd) allows() bool {
	return fe.srv.Manager().RequestVerificationWithUser(targetAccount, "demo", "t", "", priv.Select) == nil
}

// timedStart starts a front end and returns how long until a client could
// log in, then stops it.
func timedStart(ctx context.Context, dir, dsn string, lease time.Duration) (time.Duration, error) {
	begin := time.Now()
	fe, err := startFrontEnd(dir, dsn, lease)
	if err != nil {
		return 0, err
	}
	defer fe.close()
	if err := fe.login(ctx); err != nil {
		return 0, err
	}
	return time.Since(begin), nil
}

// benchAccounts are n accounts: the benchmark's own, and others shaped as
// privilege's benchmark makes them (a database grant and a table grant
// each).
func benchAccounts(n int) ([]privilege.AccountData, error) {
	hash, ok := authplugin.NativePassword().GenerateAuthString(password)
	if !ok {
		return nil, fmt.Errorf("no mysql_native_password hash")
	}
	now := time.Now().UTC()
	user := func(name string) privilege.User {
		return privilege.User{Account: priv.Account{User: name, Host: "%"}, Plugin: authplugin.NativePasswordName,
			AuthString: hash, PasswordChanged: now}
	}
	out := make([]privilege.AccountData, 0, n)
	for _, name := range benchUsers {
		ad := privilege.AccountData{User: user(name)}
		if name == readerUser {
			ad.Grants = []privilege.GrantData{{Object: privilege.Object{DB: "demo"}, Privs: priv.Select}}
		}
		out = append(out, ad)
	}
	for i := range n - len(benchUsers) {
		out = append(out, privilege.AccountData{User: user(fmt.Sprintf("user%d", i)), Grants: []privilege.GrantData{
			{Object: privilege.Object{DB: fmt.Sprintf("db%d", i%100)}, Privs: priv.Select | priv.Insert},
			{Object: privilege.Object{DB: "shared", Table: fmt.Sprintf("t%d", i)}, Privs: priv.Select},
		}})
	}
	return out, nil
}

// populate adds n accounts to the store through its own import, in one
// transaction: a hundred thousand CREATE USER statements would take
// longer than everything measured.
func populate(ctx context.Context, gs *grantstore.Store, n int) error {
	d, err := gs.Load(ctx)
	if err != nil {
		return err
	}
	more, err := benchAccounts(n)
	if err != nil {
		return err
	}
	d.Accounts = append(d.Accounts, more...)
	if err := gs.Import(ctx, d); err != nil {
		return fmt.Errorf("importing %d accounts: %w", n, err)
	}
	return nil
}

// prepareSQLite makes a data directory whose store holds root and n
// accounts, and returns how long writing the accounts took. A first start
// makes root, as it would for a user, and the directory's keys.
func prepareSQLite(ctx context.Context, dir string, n int) (time.Duration, error) {
	fe, err := startFrontEnd(dir, "", 0)
	if err != nil {
		return 0, err
	}
	fe.close()
	begin := time.Now()
	gs, err := grantstore.OpenSQLite(ctx, dir+"/grants.db")
	if err != nil {
		return 0, err
	}
	defer gs.Close()
	if err := populate(ctx, gs, n); err != nil {
		return 0, err
	}
	return time.Since(begin), nil
}

// prepareMariaDB makes a database on m holding root and n accounts, and
// returns its DSN and how long writing the accounts took. A first front
// end, on dir/probe, makes root and the tables.
func prepareMariaDB(ctx context.Context, m *mariadbtest.Server, dir string, n int, lease time.Duration) (string, time.Duration, error) {
	admin, err := sql.Open("mysql", m.DSN("root", "", ""))
	if err != nil {
		return "", 0, err
	}
	defer admin.Close()
	name := fmt.Sprintf("grants_%d", n)
	if _, err := admin.ExecContext(ctx, "CREATE DATABASE "+name); err != nil {
		return "", 0, fmt.Errorf("creating database %s: %w", name, err)
	}
	dsn := m.DSN("root", "", name)
	fe, err := startFrontEnd(dir+"/probe", dsn, lease)
	if err != nil {
		return "", 0, err
	}
	fe.close()
	begin := time.Now()
	gs, err := grantstore.OpenMySQL(ctx, dsn)
	if err != nil {
		return "", 0, err
	}
	defer gs.Close()
	if err := populate(ctx, gs, n); err != nil {
		return "", 0, err
	}
	return dsn, time.Since(begin), nil
}
