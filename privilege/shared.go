package privilege

import (
	"context"
	"errors"
	"fmt"
	"time"
)

// SharedBackend is a grant store that several front ends (processes, each
// with its own MemStore) change and read: grantstore over MySQL or
// MariaDB. It is the only way privilege reaches such a store, so that
// privilege stays free of database/sql; the store itself keeps the change
// log, the front ends' leases and the write lock.
//
// A change (MemStore.Update) goes: Begin takes the store's write lock and
// returns what other front ends committed since this one last caught up;
// the change runs on the caught-up snapshot; Commit writes it and releases
// the lock; the snapshot is published; then Acknowledged waits until every
// live front end has applied it. So no change is made on a stale snapshot
// (no lost updates), and a statement returns only once no front end still
// allows what it took away.
type SharedBackend interface {
	// Begin locks the store for one change and returns what was committed
	// after change applied. The lock is held until the SharedTx ends.
	Begin(ctx context.Context, applied int64) (SharedTx, Catchup, error)
	// Since returns what was committed after change applied, without
	// locking: how a front end follows the others.
	Since(ctx context.Context, applied int64) (Catchup, error)
	// Acknowledged returns once every live front end has applied change id
	// (or lost its lease meanwhile), or ctx ends.
	Acknowledged(ctx context.Context, id int64) error
}

// SharedTx is a change holding the shared store's write lock.
type SharedTx interface {
	// Commit writes c, logs it and commits, returning its id in the log.
	Commit(ctx context.Context, c Change) (id int64, err error)
	// Rollback releases the lock without writing.
	Rollback() error
}

// Catchup is what other front ends committed after some change: the
// current data of each account they changed (nil Data: deleted), and the
// definers, whole, if any changed.
type Catchup struct {
	// Upto is the id of the last change it covers.
	Upto     int64
	Accounts []AccountChange
	// Definers replaces every definer when DefinersChanged.
	DefinersChanged bool
	Definers        []DefinerData
	// Full is a whole reload (Accounts then lists every account): when too
	// much changed to apply account by account.
	Full bool
}

// WithShared makes the store one of several front ends of b: Update takes
// b's lock and catches up before running a change, and waits for the
// other front ends after. WithJournal and WithPersist are not used with it.
func WithShared(b SharedBackend) StoreOption {
	return func(s *MemStore) { s.shared = b }
}

// RestoreShared is Restore for a store of a SharedBackend: d is the
// store's state as of change upto, from which the store catches up.
func (s *MemStore) RestoreShared(d Data, upto int64) error {
	if err := s.Restore(d); err != nil {
		return err
	}
	s.mu.Lock()
	s.applied.Store(upto)
	s.mu.Unlock()
	return nil
}

// CatchUpError is what other front ends committed to a shared store that
// this front end cannot apply: rows it cannot make a snapshot of, such as
// a grant of a role that does not exist, written to the store by hand or
// by another release. The front end must then refuse statements rather
// than judge them on its older snapshot, and an account statement must not
// report the inner error as its own: it names accounts the statement did
// not.
type CatchUpError struct {
	// From and Upto are the first and last change of what could not be
	// applied.
	From, Upto int64
	Err        error
}

func (e *CatchUpError) Error() string {
	if e.From == e.Upto {
		return fmt.Sprintf("cannot apply change %d of the grant store: %v", e.Upto, e.Err)
	}
	return fmt.Sprintf("cannot apply changes %d to %d of the grant store: %v", e.From, e.Upto, e.Err)
}

func (e *CatchUpError) Unwrap() error { return e.Err }

// ErrUnacknowledged is a change that is saved in a shared store, but that
// some live front end has not applied when Update gives up waiting: the
// statement must not be taken for failed, and run again.
var ErrUnacknowledged = errors.New("the change is saved, but some live front ends have not applied it yet")

// Applied is the id of the last shared change the store has applied (and
// published). It does not wait for a change in progress.
func (s *MemStore) Applied() int64 { return s.applied.Load() }

// CatchUp applies what other front ends committed since the store last
// caught up, and returns the id of the last change it has applied.
func (s *MemStore) CatchUp(ctx context.Context) (int64, error) {
	if s.shared == nil {
		return 0, errors.New("privilege: CatchUp on a store that is not shared")
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	c, err := s.shared.Since(ctx, s.applied.Load())
	if err != nil {
		return s.applied.Load(), err
	}
	if err := s.apply(c); err != nil {
		return s.applied.Load(), err
	}
	return s.applied.Load(), nil
}

// apply publishes the store's snapshot with c applied. s.mu is held.
func (s *MemStore) apply(c Catchup) error {
	if c.Upto <= s.applied.Load() {
		return nil
	}
	tx := newTx(s.cur.Load())
	if err := tx.catchUp(c); err != nil {
		return &CatchUpError{From: s.applied.Load() + 1, Upto: c.Upto, Err: err}
	}
	s.cur.Store(tx.commit())
	s.applied.Store(c.Upto)
	return nil
}

// updateShared is UpdateContext for a shared store.
func (s *MemStore) updateShared(ctx context.Context, fn func(tx *Tx) error) error {
	id, err := s.commitShared(ctx, fn)
	if err != nil || id == 0 {
		return err
	}
	// Outside the lock: the other front ends apply the change meanwhile,
	// and this one's follower must be able to catch up.
	if err := s.shared.Acknowledged(ctx, id); err != nil {
		return fmt.Errorf("%w: %w", ErrUnacknowledged, err)
	}
	return nil
}

// commitShared runs fn on the caught-up snapshot under the store's lock,
// commits and publishes it; id is 0 if nothing changed.
func (s *MemStore) commitShared(ctx context.Context, fn func(tx *Tx) error) (id int64, err error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	stx, missed, err := s.shared.Begin(ctx, s.applied.Load())
	if err != nil {
		return 0, fmt.Errorf("saving grants: %w", err)
	}
	defer func() {
		if err != nil {
			err = errors.Join(err, stx.Rollback())
		}
	}()
	if err := s.apply(missed); err != nil {
		return 0, err
	}
	tx := newTx(s.cur.Load())
	if err := fn(tx); err != nil {
		return 0, err
	}
	next := tx.commit()
	c := tx.change(next)
	if c.Empty() {
		return 0, stx.Rollback()
	}
	if id, err = stx.Commit(ctx, c); err != nil {
		// Not published: if the commit did happen after all, the change
		// comes back through catching up, like another front end's.
		return 0, fmt.Errorf("saving grants: %w", err)
	}
	s.cur.Store(next)
	s.applied.Store(id)
	return id, nil
}

// catchUp applies c to tx: each changed account is made again from its
// data, in two passes (rows, then grants of roles and proxies), since a
// role an account holds may be one of the changed accounts.
func (tx *Tx) catchUp(c Catchup) error {
	if c.Full {
		d := Data{Version: DataVersion, Definers: c.Definers}
		for _, ac := range c.Accounts {
			d.Accounts = append(d.Accounts, *ac.Data)
		}
		return tx.Load(d)
	}
	for _, ac := range c.Accounts {
		if tx.get(ac.Account) != nil {
			tx.del(ac.Account)
		}
		if ac.Data == nil {
			continue
		}
		ad := ac.Data
		if err := tx.CreateUser(ad.Account, IdentifiedAs(ad.Plugin, ad.AuthString)); err != nil {
			return fmt.Errorf("account %s: %w", ad.Account, err)
		}
		u := ad.User
		u.ID = tx.savedID(u)
		tx.get(ad.Account).user = &u
	}
	var errs []error
	for _, ac := range c.Accounts {
		if ac.Data != nil {
			errs = tx.grantAll(errs, *ac.Data)
		}
	}
	for _, ac := range c.Accounts {
		if ac.Data != nil {
			errs = append(errs, tx.SetDefaultRoles(ac.Account, ac.Data.DefaultRoles))
		}
	}
	if c.DefinersChanged {
		tx.definers, tx.definersOwned = map[DefinedObject]Definer{}, true
		for _, dd := range c.Definers {
			tx.SetDefiner(dd.DefinedObject, dd.Definer)
		}
	}
	return errors.Join(errs...)
}

// SetFence makes every statement of every session fail with err (a front
// end that has lost its lease on a shared store), or, with nil, lifts it.
// It costs RequestVerification one atomic load.
func (m *Manager) SetFence(err error) {
	if err == nil {
		m.fence.Store(nil)
		return
	}
	m.fence.Store(&err)
}

type leaseEnd struct {
	at  time.Time
	err error
}

// SetLeaseDeadline makes Fence return err from at on, whether or not
// SetFence is called by then: the watchdog that calls it is a goroutine,
// and a process paused past its lease (SIGSTOP, a VM frozen) runs its
// sessions' statements before the watchdog once it resumes. at must be
// of time.Now (it is compared on the monotonic clock).
func (m *Manager) SetLeaseDeadline(at time.Time, err error) {
	m.lease.Store(&leaseEnd{at: at, err: err})
}

// Fence is the error SetFence set, or that of SetLeaseDeadline once its
// deadline has passed; nil when statements are allowed. It reads the
// clock, so hosts call it once a statement, not once a privilege check.
func (m *Manager) Fence() error {
	if p := m.fence.Load(); p != nil {
		return *p
	}
	if l := m.lease.Load(); l != nil && !time.Now().Before(l.at) {
		return l.err
	}
	return nil
}

// Fence is the manager's fence (Manager.SetFence): a host checks it
// before each statement.
func (s *Session) Fence() error { return s.m.Fence() }
