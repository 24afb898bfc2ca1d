package grantstore

import (
	"context"
	"database/sql"
	"path/filepath"
	"slices"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/authplug/authplug/privilege"
)

// openPooled opens the SQLite store at path with a pool of connections,
// as OpenMySQL's is: Initialize keeps one for its lock.
func openPooled(t *testing.T, path string) *Store {
	t.Helper()
	dsn, err := sqliteDSN(path)
	require.NoError(t, err)
	db, err := sql.Open("sqlite", dsn)
	require.NoError(t, err)
	t.Cleanup(func() { db.Close() })
	s, err := Open(context.Background(), db, SQLite)
	require.NoError(t, err)
	t.Cleanup(func() { s.Close() })
	return s
}

// Of two front ends starting on a new store, the first to ask finds it
// new and keeps it locked until its first change; the other waits, then
// finds that change: only one makes the first accounts.
func TestInitializeFindsANewStoreOnce(t *testing.T) {
	path := filepath.Join(t.TempDir(), "grants.db")
	ctx := context.Background()
	first, second := NewShared(openPooled(t, path)), NewShared(openPooled(t, path))

	isNew, err := first.Initialize(ctx)
	require.NoError(t, err)
	require.True(t, isNew, "an empty store is new")
	again, err := first.Initialize(ctx)
	require.NoError(t, err)
	assert.True(t, again, "asked again, the front end that holds the lock")

	type result struct {
		isNew bool
		err   error
	}
	waited := make(chan result, 1)
	go func() {
		isNew, err := second.Initialize(ctx)
		waited <- result{isNew, err}
	}()

	m := privilege.NewMemStore(privilege.WithShared(first))
	require.NoError(t, m.RestoreShared(privilege.Data{Version: privilege.DataVersion}, 0))
	require.NoError(t, m.Update(func(tx *privilege.Tx) error { return tx.CreateUser(alice, cred("pw")) }))

	r := recv(t, waited, 10*time.Second, "the second front end's Initialize, once the first made its change")
	require.NoError(t, r.err)
	assert.False(t, r.isNew, "the second front end finds the first one's change")
	isNew, err = NewShared(openPooled(t, path)).Initialize(ctx)
	require.NoError(t, err)
	assert.False(t, isNew, "a later start")
}

// A front end that found the store new and closes it before its first
// change (a start that failed) leaves the store new for the next one.
func TestClosingBeforeTheFirstChangeLeavesTheStoreNew(t *testing.T) {
	path := filepath.Join(t.TempDir(), "grants.db")
	ctx := context.Background()
	s := openPooled(t, path)
	isNew, err := NewShared(s).Initialize(ctx)
	require.NoError(t, err)
	require.True(t, isNew)
	require.NoError(t, s.Close())

	isNew, err = NewShared(openPooled(t, path)).Initialize(ctx)
	require.NoError(t, err)
	assert.True(t, isNew)
}

// The row of a front end that died without leaving (SIGKILL) is removed
// once its lease has been over for a lease; live front ends keep theirs.
func TestDeadFrontEndsAreRemoved(t *testing.T) {
	path := filepath.Join(t.TempDir(), "grants.db")
	ctx := context.Background()
	const lease = 200 * time.Millisecond
	s, err := OpenSQLite(ctx, path)
	require.NoError(t, err)
	t.Cleanup(func() { s.Close() })
	dead := NewShared(s, WithLease(lease))
	require.NoError(t, dead.Register(ctx, 0))
	_, err = s.db.ExecContext(ctx, "INSERT INTO frontends (id, lease_until, applied_change_id) VALUES ('long-dead', ?, 0), ('far-lease', ?, 0)",
		time.Now().Add(-time.Hour).UnixMicro(), time.Now().Add(time.Hour).UnixMicro())
	require.NoError(t, err)

	fs, err := OpenSQLite(ctx, path)
	require.NoError(t, err)
	t.Cleanup(func() { fs.Close() })
	live := NewShared(fs, WithLease(lease))
	m := privilege.NewMemStore(privilege.WithShared(live))
	require.NoError(t, m.RestoreShared(privilege.Data{Version: privilege.DataVersion}, 0))
	require.NoError(t, live.Register(ctx, 0))
	fctx, cancel := context.WithCancel(ctx)
	done := make(chan struct{})
	go func() {
		defer close(done)
		live.Follow(fctx, m, nopFence{}, nil)
	}()
	t.Cleanup(func() {
		cancel()
		recv(t, done, 10*time.Second, "the follower to stop")
	})

	want := []string{"far-lease", live.ID()}
	slices.Sort(want)
	var got []string
	deadline := time.Now().Add(20 * lease)
	tick := time.NewTicker(lease / 10)
	defer tick.Stop()
	for {
		got = frontEndIDs(t, s)
		if slices.Equal(got, want) || time.Now().After(deadline) {
			break
		}
		<-tick.C
	}
	assert.Equal(t, want, got, "the dead front ends' rows are removed, the live ones' kept")
}

func frontEndIDs(t *testing.T, s *Store) []string {
	t.Helper()
	rows, err := s.db.Query("SELECT id FROM frontends ORDER BY id")
	require.NoError(t, err)
	defer rows.Close()
	var ids []string
	for rows.Next() {
		var id string
		require.NoError(t, rows.Scan(&id))
		ids = append(ids, id)
	}
	require.NoError(t, rows.Err())
	return ids
}
