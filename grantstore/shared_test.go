package grantstore

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"log/slog"
	"path/filepath"
	"runtime"
	"strings"
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
			recv(t, done, 10*time.Second, "the follower to stop")
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

// recv returns the next value from ch (or its close), failing t after d: a
// goroutine a bug stops then fails its test instead of hanging the suite.
func recv[T any](t *testing.T, ch <-chan T, d time.Duration, what string) T {
	t.Helper()
	select {
	case v := <-ch:
		return v
	case <-time.After(d):
		t.Fatalf("timed out after %s waiting for %s", d, what)
		var zero T
		return zero
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
		recv(t, done, 10*time.Second, "the follower to stop")
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

// fenceState is a Fence that records whether it is fenced.
type fenceState struct {
	mu     sync.Mutex
	fenced bool
}

func (f *fenceState) SetFence(err error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.fenced = err != nil
}

func (f *fenceState) SetLeaseDeadline(time.Time, error) {}

func (f *fenceState) isFenced() bool {
	f.mu.Lock()
	defer f.mu.Unlock()
	return f.fenced
}

// syncBuffer is a log destination the follower's goroutines may share.
type syncBuffer struct {
	mu sync.Mutex
	b  strings.Builder
}

func (b *syncBuffer) Write(p []byte) (int, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.b.Write(p)
}

func (b *syncBuffer) String() string {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.b.String()
}

// writeChange commits, as a store administrator would by hand, one change
// of the accounts listed, made by stmts; it returns the change's id.
func writeChange(t *testing.T, s *Store, accounts []priv.Account, stmts ...string) int64 {
	t.Helper()
	ctx := context.Background()
	var id int64
	require.NoError(t, s.inTx(ctx, func(tx *sql.Tx) error {
		for _, q := range stmts {
			if _, err := tx.ExecContext(ctx, q); err != nil {
				return err
			}
		}
		res, err := tx.ExecContext(ctx, "INSERT INTO change_log (changed_at, definers) VALUES (0, 0)")
		if err != nil {
			return err
		}
		if id, err = res.LastInsertId(); err != nil {
			return err
		}
		for _, a := range accounts {
			if _, err := tx.ExecContext(ctx, "INSERT INTO change_log_accounts (change_id, user_name, host) VALUES (?, ?, ?)", id, a.User, a.Host); err != nil {
				return err
			}
		}
		return nil
	}))
	return id
}

// A front end that cannot apply a change of the store (here, a grant of a
// role that does not exist, written by hand with a revoke) is fenced within
// a lease, as one that cannot reach the store, rather than go on allowing
// what the store revoked; it stops renewing its lease, so that the others
// stop waiting for it; it logs which change; and it resumes by itself once
// the rows are repaired. A change made meanwhile on any front end fails as
// the fence does, not with an error about another account.
func TestFrontEndThatCannotApplyIsFenced(t *testing.T) {
	path := filepath.Join(t.TempDir(), "grants.db")
	ctx := context.Background()
	v, m := priv.Account{User: "v", Host: "%"}, priv.Account{User: "m", Host: "%"}
	shop := privilege.Object{DB: "shop"}

	s, err := OpenSQLite(ctx, path)
	require.NoError(t, err)
	t.Cleanup(func() { s.Close() })
	var logs syncBuffer
	sh := NewShared(s, WithLease(300*time.Millisecond), WithLogger(slog.New(slog.NewTextHandler(&logs, nil))))
	d, upto, err := s.LoadAt(ctx)
	require.NoError(t, err)
	a := privilege.NewMemStore(privilege.WithShared(sh))
	require.NoError(t, a.RestoreShared(d, upto))
	require.NoError(t, sh.Register(ctx, upto))
	fence := &fenceState{}
	fctx, cancel := context.WithCancel(ctx)
	done := make(chan struct{})
	go func() {
		defer close(done)
		sh.Follow(fctx, a, fence, errors.New("fenced"))
	}()
	t.Cleanup(func() {
		cancel()
		recv(t, done, 10*time.Second, "the follower to stop")
	})

	w, _ := frontEnd(t, path, false)
	require.NoError(t, w.Update(func(tx *privilege.Tx) error {
		return errors.Join(tx.CreateUser(v, cred("pw")), tx.Grant(v, shop, priv.Select, false), tx.CreateUser(m, cred("pw")))
	}))
	hasSelect := func() bool {
		ad, ok := a.Snapshot().Account(v)
		return ok && len(ad.Grants) > 0
	}
	poll(t, 10*time.Second, "A to apply v's grant", hasSelect)

	admin, err := OpenSQLite(ctx, path)
	require.NoError(t, err)
	t.Cleanup(func() { admin.Close() })
	bad := writeChange(t, admin, []priv.Account{v, m},
		"DELETE FROM grants WHERE user_name = 'v'",
		"INSERT INTO role_grants (user_name, host, role_user, role_host, with_admin) VALUES ('m', '%', 'ghost', '%', 0)")
	poll(t, 10*time.Second, "A to be fenced", fence.isFenced)
	assert.True(t, hasSelect(), "A has not applied the revoke, and must therefore refuse")
	assert.Contains(t, logs.String(), fmt.Sprintf("cannot apply change %d of the grant store", bad))
	poll(t, 10*time.Second, "A's lease to end in the store", func() bool {
		var live int
		require.NoError(t, admin.db.QueryRow("SELECT COUNT(*) FROM frontends WHERE id = ? AND lease_until > "+admin.dialect.nowMicros, sh.ID()).Scan(&live))
		return live == 0
	})

	err = w.Update(func(tx *privilege.Tx) error { return tx.CreateUser(priv.Account{User: "z", Host: "%"}, cred("pw")) })
	var cu *privilege.CatchUpError
	require.ErrorAs(t, err, &cu)
	assert.Equal(t, bad, cu.Upto)

	writeChange(t, admin, []priv.Account{m}, "DELETE FROM role_grants WHERE user_name = 'm'")
	poll(t, 10*time.Second, "A to resume", func() bool { return !fence.isFenced() })
	assert.False(t, hasSelect(), "resumed without the revoke")
}
