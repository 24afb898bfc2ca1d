package grantstore

import (
	"context"
	"errors"
	"path/filepath"
	"runtime"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/authplug/authplug/priv"
	"github.com/authplug/authplug/privilege"
)

// frontEnd opens path as one more front end sharing it: its own
// connection, Shared and MemStore, loaded. With follow it registers and
// follows the others until the test ends; without, it is a front end that
// nobody waits for, and stays behind until it changes something.
func frontEnd(t *testing.T, path string, follow bool) (*privilege.MemStore, *Shared) {
	t.Helper()
	ctx := context.Background()
	s, err := OpenSQLite(ctx, path)
	require.NoError(t, err)
	t.Cleanup(func() { s.Close() })
	sh := NewShared(s, WithLease(time.Minute))
	d, upto, err := s.LoadAt(ctx)
	require.NoError(t, err)
	m := privilege.NewMemStore(privilege.WithShared(sh))
	require.NoError(t, m.RestoreShared(d, upto))
	if follow {
		require.NoError(t, sh.Register(ctx, upto))
		fctx, cancel := context.WithCancel(ctx)
		done := make(chan struct{})
		go func() {
			defer close(done)
			sh.Follow(fctx, m, nopFence{}, errors.New("fenced"))
		}()
		t.Cleanup(func() {
			cancel()
			<-done
		})
	}
	return m, sh
}

type nopFence struct{}

func (nopFence) SetFence(error)                    {}
func (nopFence) SetLeaseDeadline(time.Time, error) {}

// A change made on a front end whose snapshot is behind runs on the
// store's latest state: nothing another front end committed is lost, and
// the stale front end has caught up once its change returns.
func TestSharedChangeRunsOnTheLatestState(t *testing.T) {
	path := filepath.Join(t.TempDir(), "grants.db")
	ctx := context.Background()
	a, _ := frontEnd(t, path, true)
	b, _ := frontEnd(t, path, false)
	require.NoError(t, a.Update(func(tx *privilege.Tx) error { return tx.CreateUser(alice, cred("pw")) }))
	require.NoError(t, a.Update(func(tx *privilege.Tx) error {
		return tx.Grant(alice, privilege.Object{DB: "shop"}, priv.Select, false)
	}))
	_, ok := b.Snapshot().Account(alice)
	require.False(t, ok, "B is behind")

	// B's change runs on what A committed, and returns once A has it.
	require.NoError(t, b.UpdateContext(ctx, func(tx *privilege.Tx) error {
		return tx.Grant(alice, privilege.Object{DB: "shop"}, priv.Insert, false)
	}))
	want := []privilege.GrantData{{Object: privilege.Object{DB: "shop"}, Privs: priv.Select | priv.Insert}}
	for _, m := range []*privilege.MemStore{a, b} {
		got, ok := m.Snapshot().Account(alice)
		require.True(t, ok)
		assert.Equal(t, want, got.Grants)
	}
	assert.Equal(t, a.Applied(), b.Applied())
	assert.Equal(t, a.Snapshot().Data(), b.Snapshot().Data())
}

// A front end that does not renew its lease is waited for at most until
// the lease ends.
func TestDeadFrontEndIsWaitedForOneLease(t *testing.T) {
	path := filepath.Join(t.TempDir(), "grants.db")
	a, _ := frontEnd(t, path, true)
	s, err := OpenSQLite(context.Background(), path)
	require.NoError(t, err)
	t.Cleanup(func() { s.Close() })
	dead := NewShared(s, WithLease(300*time.Millisecond))
	require.NoError(t, dead.Register(context.Background(), 0))

	start := time.Now()
	require.NoError(t, a.Update(func(tx *privilege.Tx) error { return tx.CreateUser(alice, cred("pw")) }))
	assert.Less(t, time.Since(start), 3*time.Second)
}

func TestFailedLoginsAreCountedInTheStore(t *testing.T) {
	s, _ := openTemp(t)
	ctx := context.Background()
	now := time.Now()
	until := now.Add(24 * time.Hour)
	for range 2 {
		require.NoError(t, s.Failed(ctx, alice, 3, until, false))
	}
	_, blocked, err := s.Blocked(ctx, alice, 3, now)
	require.NoError(t, err)
	assert.False(t, blocked, "two failures of three")
	require.NoError(t, s.Failed(ctx, alice, 3, until, false))
	got, blocked, err := s.Blocked(ctx, alice, 3, now)
	require.NoError(t, err)
	assert.True(t, blocked)
	assert.Equal(t, until.UnixMicro(), got.UnixMicro())
	_, blocked, err = s.Blocked(ctx, alice, 3, until.Add(time.Second))
	require.NoError(t, err)
	assert.False(t, blocked, "the block runs out, and counting starts afresh")
	_, blocked, err = s.Blocked(ctx, alice, 3, now)
	require.NoError(t, err)
	assert.False(t, blocked)
}

// A store of version 1 gets the tables of version 2 when opened.
func TestVersion1IsMigrated(t *testing.T) {
	s, path := openTemp(t)
	for _, tb := range tablesV2 {
		_, err := s.db.Exec("DROP TABLE " + tb.name)
		require.NoError(t, err)
	}
	_, err := s.db.Exec("UPDATE schema_version SET version = 1")
	require.NoError(t, err)
	require.NoError(t, s.Close())

	s, err = OpenSQLite(context.Background(), path)
	require.NoError(t, err)
	defer s.Close()
	var v, locks int
	require.NoError(t, s.db.QueryRow("SELECT version FROM schema_version").Scan(&v))
	require.NoError(t, s.db.QueryRow("SELECT COUNT(*) FROM store_lock").Scan(&locks))
	assert.Equal(t, []int{SchemaVersion, 1}, []int{v, locks})
	require.NoError(t, s.Failed(context.Background(), alice, 3, time.Now(), false))
}

// unfenceRecorder is a Fence that records whether store had account when
// the fence was lifted.
type unfenceRecorder struct {
	store   *privilege.MemStore
	account priv.Account
	mu      sync.Mutex
	fenced  bool
	lifted  int
	hadIt   bool
}

func (r *unfenceRecorder) SetFence(err error) {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.fenced = err != nil
	if err == nil {
		r.lifted++
		_, r.hadIt = r.store.Snapshot().Account(r.account)
	}
}

func (r *unfenceRecorder) SetLeaseDeadline(time.Time, error) {}

func (r *unfenceRecorder) state() (fenced bool, lifted int, hadIt bool) {
	r.mu.Lock()
	defer r.mu.Unlock()
	return r.fenced, r.lifted, r.hadIt
}

// poll waits for cond, failing the test after d.
func poll(t *testing.T, d time.Duration, what string, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(d)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("timed out after %s waiting for %s", d, what)
		}
		runtime.Gosched()
	}
}

// A front end whose lease ran out lifts its fence only after a catch-up
// that started after the renewal: a change committed between its catch-up
// and its renewal (which did not wait for it, its lease having run out) is
// applied before it allows anything again.
func TestUnfenceCatchesUpAfterTheRenewal(t *testing.T) {
	path := filepath.Join(t.TempDir(), "grants.db")
	ctx := context.Background()
	s, err := OpenSQLite(ctx, path)
	require.NoError(t, err)
	t.Cleanup(func() { s.Close() })
	sh := NewShared(s, WithLease(300*time.Millisecond))
	d, upto, err := s.LoadAt(ctx)
	require.NoError(t, err)
	m := privilege.NewMemStore(privilege.WithShared(sh))
	require.NoError(t, m.RestoreShared(d, upto))
	require.NoError(t, sh.Register(ctx, upto))

	// The hooks stop the follower, as a paused process would be: its
	// catch-up once it has read the store, and its renewals.
	var paused atomic.Bool
	entered, release := make(chan struct{}), make(chan struct{})
	var enterOnce, releaseOnce sync.Once
	sh.afterCatchUp = func() {
		if paused.Load() {
			enterOnce.Do(func() { close(entered) })
			<-release
		}
	}
	sh.beforeRenew = func() {
		if paused.Load() {
			<-release
		}
	}
	rec := &unfenceRecorder{store: m, account: alice}
	fctx, cancel := context.WithCancel(ctx)
	done := make(chan struct{})
	go func() {
		defer close(done)
		sh.Follow(fctx, m, rec, errors.New("fenced"))
	}()
	t.Cleanup(func() {
		cancel()
		releaseOnce.Do(func() { close(release) })
		<-done
	})

	paused.Store(true)
	select {
	case <-entered:
	case <-time.After(10 * time.Second):
		t.Fatal("the follower never caught up")
	}
	poll(t, 10*time.Second, "the watchdog to fence", func() bool { f, _, _ := rec.state(); return f })
	// Committed after the stopped follower's catch-up; it waits for the
	// follower only until the follower's lease ends in the store.
	other, _ := frontEnd(t, path, false)
	require.NoError(t, other.Update(func(tx *privilege.Tx) error { return tx.CreateUser(alice, cred("pw")) }))
	releaseOnce.Do(func() { close(release) })
	paused.Store(false)

	poll(t, 10*time.Second, "the fence to be lifted", func() bool { _, n, _ := rec.state(); return n > 0 })
	_, _, hadIt := rec.state()
	assert.True(t, hadIt, "unfenced before applying a change committed while the lease had run out")
}
