package tests

import (
	"context"
	"database/sql"
	"fmt"
	"log/slog"
	"os"
	"sync"
	"testing"
	"time"

	"github.com/go-sql-driver/mysql"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/authplug/authplug/grantstore"
	"github.com/authplug/authplug/server"
)

// Front ends starting at once on a new shared store.
func TestSharedStoreFirstStart(t *testing.T) {
	m := startMariaDB(t)
	admin := m.conn(t, "root", "")
	n := 0
	// store makes a new database and returns its DSN.
	store := func(t *testing.T) (name, dsn string) {
		n++
		name = fmt.Sprintf("first%d", n)
		exec(t, admin, "CREATE DATABASE "+name)
		c := mysql.NewConfig()
		c.User, c.Net, c.Addr, c.DBName = "root", "tcp", m.addr, name
		c.Timeout = 2 * time.Second
		return name, c.FormatDSN()
	}
	t.Run("SchemaIsMadeOnce", func(t *testing.T) { firstStartSchema(t, admin, store) })
	t.Run("OneRoot", func(t *testing.T) { firstStartOneRoot(t, admin, store) })
}

// Each of several front ends opening a new store at once either makes its
// tables or finds them made; none fails.
func firstStartSchema(t *testing.T, admin *sql.Conn, store func(*testing.T) (string, string)) {
	for range 10 {
		db, dsn := store(t)
		errs := make([]error, 4)
		ctx, cancel := context.WithTimeout(context.Background(), waitLimit)
		var wg sync.WaitGroup
		for i := range errs {
			wg.Go(func() {
				s, err := grantstore.OpenMySQL(ctx, dsn)
				if err == nil {
					err = s.Close()
				}
				errs[i] = err
			})
		}
		wg.Wait()
		cancel()
		for i, err := range errs {
			assert.NoError(t, err, "front end %d", i)
		}
		made := columnOf(t, admin, "SELECT COUNT(*) FROM information_schema.TABLES WHERE TABLE_SCHEMA = '"+db+"'", 0)
		assert.NotEqual(t, []string{"0"}, made, "the store's tables were made")
	}
}

// Root is made once: one front end generates (and would print) a
// password, which logs in on every front end; the others generate none.
func firstStartOneRoot(t *testing.T, admin *sql.Conn, store func(*testing.T) (string, string)) {
	const frontEnds = 2
	for round := range 3 {
		db, dsn := store(t)

		srvs := make([]*server.Server, frontEnds)
		errs := make([]error, frontEnds)
		dirs := make([]string, frontEnds)
		begin := make(chan struct{})
		var wg sync.WaitGroup
		for i := range srvs {
			dirs[i] = t.TempDir()
			wg.Go(func() {
				<-begin
				srvs[i], errs[i] = server.New(server.Config{
					Addr: "127.0.0.1:0", DataDir: dirs[i], GrantsDSN: dsn, GrantsLease: testLease,
					Logger: slog.New(slog.NewTextHandler(&syncBuffer{}, nil)),
				})
			})
		}
		close(begin)
		started := make(chan struct{})
		go func() {
			wg.Wait()
			close(started)
		}()
		recv(t, started, "the front ends to start") // not stuck on each other's lock
		for i, srv := range srvs {
			require.NoError(t, errs[i], "round %d: front end %d", round, i)
			served := make(chan error, 1)
			go func() { served <- srv.Serve() }()
			t.Cleanup(func() {
				srv.Close()
				recv(t, served, "Serve to return after Close")
			})
		}

		var passwords []string
		files := 0
		for i, srv := range srvs {
			if pw := srv.GeneratedRootPassword(); pw != "" {
				passwords = append(passwords, pw)
			}
			if _, err := os.Stat(srv.RootPasswordFile()); err == nil {
				files++
			} else {
				require.ErrorIs(t, err, os.ErrNotExist, "round %d: front end %d", round, i)
			}
		}
		require.Len(t, passwords, 1, "round %d: root passwords generated", round)
		assert.Equal(t, 1, files, "round %d: root password files", round)
		rows, err := query(admin, "SELECT user_name, host FROM "+db+".accounts")
		require.NoError(t, err)
		assert.Equal(t, [][]string{{"root", "localhost"}}, rows, "round %d: accounts in the store", round)
		for i, srv := range srvs {
			assert.NoError(t, pingDSN(rootDSN(srv.Addr().String(), "root", passwords[0])), "round %d: root logs in on front end %d with the password shown", round, i)
		}
	}
}
