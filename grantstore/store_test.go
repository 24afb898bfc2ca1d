package grantstore

import (
	"context"
	"database/sql"
	"database/sql/driver"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"sync/atomic"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/authplug/authplug/authplugin"
	"github.com/authplug/authplug/priv"
	"github.com/authplug/authplug/privilege"
)

var (
	alice   = priv.Account{User: "alice", Host: "%"}
	bob     = priv.Account{User: "bob", Host: "10.0.0.%"}
	gateway = priv.Account{User: "gateway", Host: "localhost"}
	r1      = priv.Account{User: "r1", Host: "%"}
	r2      = priv.Account{User: "r2", Host: "%"}
)

func cred(s string) privilege.Credential {
	return privilege.IdentifiedAs(authplugin.NativePasswordName, s)
}

func openTemp(t *testing.T) (*Store, string) {
	t.Helper()
	path := filepath.Join(t.TempDir(), "grants.db")
	s, err := OpenSQLite(context.Background(), path)
	require.NoError(t, err)
	t.Cleanup(func() { s.Close() })
	return s, path
}

// journaled is a MemStore that saves every change to s.
func journaled(s *Store) *privilege.MemStore {
	return privilege.NewMemStore(privilege.WithJournal(s.Apply))
}

// reloaded is what a restart sees: s loaded into a new MemStore.
func reloaded(t *testing.T, s *Store) privilege.Data {
	t.Helper()
	d, err := s.Load(context.Background())
	require.NoError(t, err)
	m := privilege.NewMemStore()
	require.NoError(t, m.Restore(d))
	return m.Snapshot().Data()
}

// everything makes an account of every kind and a grant of every kind.
func everything(tx *privilege.Tx) error {
	return errors.Join(
		tx.CreateUser(alice, cred("*A4B6157319038724E3560894F7F932C8886EBFCF"),
			privilege.RequireSSL(true), privilege.FailedLoginLock(3, -1), privilege.PasswordLifetime(90),
			privilege.PasswordRequireCurrent(privilege.RequireCurrentOptional), privilege.PasswordExpireNow(),
			func(u *privilege.User) { u.MaxUserConnections = 7 }),
		tx.CreateUser(bob, privilege.IdentifiedAs(authplugin.CachingSHA2PasswordName, "$A$005$salt\x00bytes'\"quoted"), privilege.FailedLoginLock(5, 2)),
		tx.CreateUser(gateway, cred("")),
		tx.CreateRole(r1),
		tx.CreateRole(r2),
		tx.Grant(alice, privilege.Object{}, priv.Select|priv.Process, true),
		tx.Grant(alice, privilege.Object{DB: "d_%"}, priv.Insert|priv.Delete, false),
		tx.Grant(alice, privilege.Object{DB: "d", Table: "t"}, priv.Update|priv.Index, false),
		tx.Grant(alice, privilege.Object{DB: "d", Table: "t", Column: "c1"}, priv.Select|priv.References, true),
		tx.Grant(alice, privilege.Object{DB: "d", Table: "t", Column: "c2"}, priv.Insert, false),
		tx.GrantDynamic(alice, "BACKUP_ADMIN", true),
		tx.GrantDynamic(alice, "SYSTEM_USER", false),
		tx.Grant(r1, privilege.Object{DB: "sales"}, priv.Select, false),
		tx.GrantRole(r1, alice, true),
		tx.GrantRole(r2, alice, false),
		// Not sorted: the order is the account's.
		tx.SetDefaultRoles(alice, []priv.Account{r2, r1}),
		tx.GrantProxy(alice, gateway, true),
		tx.GrantProxy(bob, gateway, false),
		tx.AlterUser(r2, privilege.PasswordLifetime(-1)),
	)
}

func TestRoundTripOfEveryFieldAndGrant(t *testing.T) {
	s, _ := openTemp(t)
	m := journaled(s)
	require.NoError(t, m.Update(func(tx *privilege.Tx) error {
		tx.SetDefiner(privilege.DefinedObject{Kind: privilege.KindView, DB: "D", Name: "V"}, privilege.Definer{Account: alice})
		tx.SetDefiner(privilege.DefinedObject{Kind: privilege.KindTrigger, DB: "d", Name: "tr"}, privilege.Definer{Account: bob, Invoker: true})
		tx.SetDefiner(privilege.DefinedObject{Kind: privilege.KindRoutine, DB: "e", Name: "p"}, privilege.Definer{Account: gateway})
		return everything(tx)
	}))
	want := m.Snapshot().Data()
	a, _ := m.Snapshot().Account(alice)
	require.False(t, a.PasswordChanged.IsZero())
	require.Equal(t, []priv.Account{r2, r1}, a.DefaultRoles)
	assert.Equal(t, want, reloaded(t, s))

	// Changes after the first replace what they change, and only that.
	steps := []func(tx *privilege.Tx) error{
		func(tx *privilege.Tx) error {
			return tx.Revoke(alice, privilege.Object{DB: "d", Table: "t", Column: "c1"}, priv.References)
		},
		func(tx *privilege.Tx) error { return tx.RevokeDynamic(alice, "SYSTEM_USER") },
		func(tx *privilege.Tx) error {
			return tx.SetCredential(bob, cred("*0000000000000000000000000000000000000000"))
		},
		func(tx *privilege.Tx) error { return tx.DropUser(r2) },
		func(tx *privilege.Tx) error { return tx.RenameUser(alice, priv.Account{User: "alice2", Host: "h"}) },
		func(tx *privilege.Tx) error { tx.DropDefinersIn("d"); return nil },
		func(tx *privilege.Tx) error { return tx.RevokeAll(gateway) },
	}
	for i, step := range steps {
		require.NoError(t, m.Update(step), "step %d", i)
		assert.Equal(t, m.Snapshot().Data(), reloaded(t, s), "after step %d", i)
	}
}

func TestNewerSchemaIsRefused(t *testing.T) {
	s, path := openTemp(t)
	_, err := s.db.Exec("UPDATE schema_version SET version = ?", SchemaVersion+1)
	require.NoError(t, err)
	require.NoError(t, s.Close())

	_, err = OpenSQLite(context.Background(), path)
	require.ErrorIs(t, err, ErrNewerSchema)
	assert.ErrorContains(t, err, fmt.Sprintf("version %d", SchemaVersion+1))
}

func TestSchemaVersionIsCreatedOnce(t *testing.T) {
	s, path := openTemp(t)
	require.NoError(t, s.Close())
	s, err := OpenSQLite(context.Background(), path)
	require.NoError(t, err)
	defer s.Close()
	var n, v int
	require.NoError(t, s.db.QueryRow("SELECT COUNT(*), MAX(version) FROM schema_version").Scan(&n, &v))
	assert.Equal(t, []int{1, SchemaVersion}, []int{n, v})
}

func TestNotADatabaseIsAnError(t *testing.T) {
	path := filepath.Join(t.TempDir(), "grants.db")
	require.NoError(t, os.WriteFile(path, []byte("this is not an SQLite file, but long enough to look at: "+fmt.Sprint(make([]int, 100))), 0o600))
	_, err := OpenSQLite(context.Background(), path)
	require.Error(t, err)
}

func TestFailingApplyLeavesTheStoreAsItWas(t *testing.T) {
	s, _ := openTemp(t)
	m := journaled(s)
	require.NoError(t, m.Update(everything))
	before := reloaded(t, s)
	logged := countRows(t, s, "change_log")

	carol := priv.Account{User: "carol", Host: "%"}
	ok := privilege.AccountData{User: privilege.User{Account: carol, Plugin: authplugin.NativePasswordName}}
	// The same row twice: the second insert breaks the primary key, after
	// carol and alice's deletion were written.
	bad := privilege.AccountData{User: privilege.User{Account: alice, Plugin: authplugin.NativePasswordName},
		Dynamic: []privilege.DynamicGrant{{Name: "X"}, {Name: "X"}}}
	err := s.Apply(context.Background(), privilege.Change{Accounts: []privilege.AccountChange{
		{Account: carol, Data: &ok}, {Account: alice, Data: &bad},
	}})
	require.Error(t, err)
	assert.Equal(t, before, reloaded(t, s))
	assert.Equal(t, logged, countRows(t, s, "change_log"))
}

func TestImportReplacesEverythingAndInitializes(t *testing.T) {
	src, _ := openTemp(t)
	m := journaled(src)
	require.NoError(t, m.Update(everything))
	want := m.Snapshot().Data()

	s, _ := openTemp(t)
	ok, err := s.Initialized(context.Background())
	require.NoError(t, err)
	assert.False(t, ok, "a new store")
	// Something to be replaced.
	require.NoError(t, journaled(s).Update(func(tx *privilege.Tx) error { return tx.CreateUser(priv.Account{User: "x", Host: "%"}, cred("")) }))
	require.NoError(t, s.Import(context.Background(), want))
	assert.Equal(t, want, reloaded(t, s))
	ok, err = s.Initialized(context.Background())
	require.NoError(t, err)
	assert.True(t, ok)
}

func TestChangeLogNamesTheChangedAccounts(t *testing.T) {
	now := time.Date(2030, 1, 2, 3, 4, 5, 6, time.UTC)
	path := filepath.Join(t.TempDir(), "grants.db")
	s, err := OpenSQLite(context.Background(), path, WithClock(func() time.Time { return now }))
	require.NoError(t, err)
	defer s.Close()
	m := journaled(s)
	require.NoError(t, m.Update(everything))
	require.NoError(t, m.Update(func(tx *privilege.Tx) error { return tx.DropUser(r1) }))

	var id, at int64
	require.NoError(t, s.db.QueryRow("SELECT id, changed_at FROM change_log ORDER BY id DESC LIMIT 1").Scan(&id, &at))
	assert.Equal(t, now.UnixNano(), at)
	rows, err := s.db.Query("SELECT user_name, host FROM change_log_accounts WHERE change_id = ? ORDER BY user_name, host", id)
	require.NoError(t, err)
	defer rows.Close()
	var got []priv.Account
	for rows.Next() {
		var a priv.Account
		require.NoError(t, rows.Scan(&a.User, &a.Host))
		got = append(got, a)
	}
	assert.Equal(t, []priv.Account{alice, r1}, got, "r1 dropped, alice lost it as a role")
}

func countRows(t *testing.T, s *Store, table string) int {
	t.Helper()
	var n int
	require.NoError(t, s.db.QueryRow("SELECT COUNT(*) FROM "+table).Scan(&n))
	return n
}

// A GRANT writes as much with 10 000 accounts as with 10: the statements
// the driver runs, and the rows in them, are counted.
func TestGrantWorkDoesNotGrowWithAccounts(t *testing.T) {
	work := func(accounts int) (stmts, args int64) {
		c := &counter{}
		db := sql.OpenDB(c.connector(t, filepath.Join(t.TempDir(), "grants.db")))
		db.SetMaxOpenConns(1)
		defer db.Close()
		ctx := context.Background()
		s, err := Open(ctx, db, SQLite)
		require.NoError(t, err)

		d := privilege.Data{Version: privilege.DataVersion}
		for i := range accounts {
			a := priv.Account{User: fmt.Sprintf("u%d", i), Host: "%"}
			d.Accounts = append(d.Accounts, privilege.AccountData{
				User:   privilege.User{Account: a, Plugin: authplugin.NativePasswordName, PasswordChanged: time.Unix(1, 0).UTC()},
				Grants: []privilege.GrantData{{Object: privilege.Object{DB: "d"}, Privs: priv.Select | priv.Insert}},
			})
		}
		require.NoError(t, s.Import(ctx, d))
		m := privilege.NewMemStore(privilege.WithJournal(s.Apply))
		require.NoError(t, m.Restore(d))

		c.stmts.Store(0)
		c.args.Store(0)
		require.NoError(t, m.Update(func(tx *privilege.Tx) error {
			return tx.Grant(priv.Account{User: "u3", Host: "%"}, privilege.Object{DB: "d", Table: "t"}, priv.Update, false)
		}))
		return c.stmts.Load(), c.args.Load()
	}
	s10, a10 := work(10)
	s10k, a10k := work(10_000)
	assert.Positive(t, s10)
	assert.Equal(t, s10, s10k, "statements per GRANT")
	assert.Equal(t, a10, a10k, "values written per GRANT")
}

// counter wraps the SQLite driver to count the statements run and the
// values bound to them.
type counter struct{ stmts, args atomic.Int64 }

func (c *counter) connector(t *testing.T, path string) driver.Connector {
	dsn, err := sqliteDSN(path)
	require.NoError(t, err)
	probe, err := sql.Open("sqlite", dsn)
	require.NoError(t, err)
	defer probe.Close()
	return countingConnector{c: c, d: probe.Driver(), dsn: dsn}
}

type countingConnector struct {
	c   *counter
	d   driver.Driver
	dsn string
}

func (cc countingConnector) Connect(context.Context) (driver.Conn, error) {
	conn, err := cc.d.Open(cc.dsn)
	if err != nil {
		return nil, err
	}
	return countingConn{Conn: conn, c: cc.c}, nil
}

func (cc countingConnector) Driver() driver.Driver { return cc.d }

type countingConn struct {
	driver.Conn
	c *counter
}

func (c countingConn) ExecContext(ctx context.Context, q string, args []driver.NamedValue) (driver.Result, error) {
	c.c.stmts.Add(1)
	c.c.args.Add(int64(len(args)))
	return c.Conn.(driver.ExecerContext).ExecContext(ctx, q, args)
}

func (c countingConn) QueryContext(ctx context.Context, q string, args []driver.NamedValue) (driver.Rows, error) {
	c.c.stmts.Add(1)
	return c.Conn.(driver.QueryerContext).QueryContext(ctx, q, args)
}

func (c countingConn) BeginTx(ctx context.Context, opts driver.TxOptions) (driver.Tx, error) {
	return c.Conn.(driver.ConnBeginTx).BeginTx(ctx, opts)
}

// A store of version 2 had no account IDs: opening it adds the column and
// gives every account one, which then stays.
func TestVersion2StoreGetsAccountIDs(t *testing.T) {
	s, path := openTemp(t)
	require.NoError(t, journaled(s).Update(everything))
	_, err := s.db.Exec("ALTER TABLE accounts DROP COLUMN account_id")
	require.NoError(t, err)
	_, err = s.db.Exec("UPDATE schema_version SET version = 2")
	require.NoError(t, err)
	require.NoError(t, s.Close())

	s, err = OpenSQLite(context.Background(), path)
	require.NoError(t, err)
	defer s.Close()
	var v int
	require.NoError(t, s.db.QueryRow("SELECT version FROM schema_version").Scan(&v))
	assert.Equal(t, SchemaVersion, v)
	first := reloaded(t, s)
	require.NotEmpty(t, first.Accounts)
	seen := map[int64]bool{}
	for _, a := range first.Accounts {
		assert.Positive(t, a.ID, "%s", a.Account)
		assert.False(t, seen[a.ID], "%s shares an ID", a.Account)
		seen[a.ID] = true
	}
	assert.Equal(t, first, reloaded(t, s), "the IDs given stay")
}
