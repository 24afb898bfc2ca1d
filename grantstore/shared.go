package grantstore

import (
	"context"
	"crypto/rand"
	"database/sql"
	"encoding/hex"
	"errors"
	"fmt"
	"log/slog"
	"os"
	"sync"
	"time"

	"github.com/authplug/authplug/priv"
	"github.com/authplug/authplug/privilege"
)

// DefaultLease is how long a front end's lease on a shared store lasts
// after its last renewal: how long a front end that lost the store keeps
// allowing statements at most, and how long a crashed one holds the
// others' account statements at most.
const DefaultLease = 5 * time.Second

// fullReload is the number of changed accounts past which catching up
// reads every account rather than each changed one.
const fullReload = 1000

// Shared is one front end's view of a store that several front ends share:
// the privilege.SharedBackend of its MemStore, and its lease (the frontends
// table), renewed by Follow.
type Shared struct {
	s     *Store
	id    string
	lease time.Duration
	poll  time.Duration
	log   *slog.Logger

	// afterCatchUp and beforeRenew, when set (tests), run after each of
	// Follow's catch-ups and before each of its renewals.
	afterCatchUp, beforeRenew func()

	mu sync.Mutex
	// deadline is the local time from which the lease may have run out:
	// the last renewal's start + lease - margin (renewed).
	deadline time.Time
	// runSince is when the renewal that began the current unbroken run of
	// leases ended: changes committed before may not have waited for this
	// front end.
	runSince time.Time
	// caughtUp is when the last catch-up that succeeded started: the
	// snapshot has every change committed before. A front end that cannot
	// apply the store's changes (rows it cannot load) would otherwise go
	// on renewing its lease, and allowing what the others revoked.
	caughtUp time.Time
	// reported is the change last written as applied to the row.
	reported int64
}

// SharedOption configures a Shared.
type SharedOption func(*Shared)

// WithLease sets the lease (DefaultLease if not).
func WithLease(d time.Duration) SharedOption { return func(sh *Shared) { sh.lease = d } }

// WithLogger sets where lease losses and recoveries are logged.
func WithLogger(l *slog.Logger) SharedOption { return func(sh *Shared) { sh.log = l } }

// NewShared makes this process a front end of s, under a new id.
func NewShared(s *Store, opts ...SharedOption) *Shared {
	b := make([]byte, 6)
	_, _ = rand.Read(b)
	host, _ := os.Hostname()
	if len(host) > 40 {
		host = host[:40]
	}
	sh := &Shared{s: s, id: host + "-" + hex.EncodeToString(b), lease: DefaultLease, log: slog.Default()}
	for _, o := range opts {
		o(sh)
	}
	// Often enough that a change reaches every front end in tens of
	// milliseconds, and that a lease is renewed many times before it ends.
	sh.poll = min(50*time.Millisecond, sh.lease/10)
	return sh
}

// ID is this front end's row in the frontends table.
func (sh *Shared) ID() string { return sh.id }

// Lease is the lease's length.
func (sh *Shared) Lease() time.Duration { return sh.lease }

// LoadAt reads the whole store, as Load, with the id of the last change it
// reflects, in one transaction.
func (s *Store) LoadAt(ctx context.Context) (d privilege.Data, upto int64, err error) {
	d = privilege.Data{Version: privilege.DataVersion}
	err = s.inTx(ctx, func(tx *sql.Tx) error {
		if err := tx.QueryRowContext(ctx, "SELECT COALESCE(MAX(id), 0) FROM change_log").Scan(&upto); err != nil {
			return err
		}
		var err error
		if d.Accounts, err = loadAccounts(ctx, tx, ""); err != nil {
			return err
		}
		d.Definers, err = loadDefiners(ctx, tx)
		return err
	})
	if err != nil {
		return privilege.Data{}, 0, fmt.Errorf("loading grants: %w", err)
	}
	return d, upto, nil
}

// Register enters this front end in the frontends table, holding a lease,
// as having applied change applied: from now on, a change returns only
// once this front end has applied it too (or lost its lease). Changes
// committed before it returns may not have waited for this front end: it
// catches up after registering, before it allows anything.
func (sh *Shared) Register(ctx context.Context, applied int64) error {
	var start time.Time
	var err error
	// The transaction is rolled back whole when it loses a deadlock, as
	// several front ends starting at once do: it is simply run again.
	for attempt := 0; ; attempt++ {
		start = time.Now()
		err = sh.s.inTx(ctx, func(tx *sql.Tx) error {
			if _, err := tx.ExecContext(ctx, "DELETE FROM frontends WHERE id = ?", sh.id); err != nil {
				return err
			}
			_, err := tx.ExecContext(ctx, "INSERT INTO frontends (id, lease_until, applied_change_id) VALUES (?, "+
				sh.s.dialect.nowMicros+" + ?, ?)", sh.id, sh.lease.Microseconds(), applied)
			return err
		})
		if err == nil || attempt == 4 || sh.s.dialect.isRetryable == nil || !sh.s.dialect.isRetryable(err) || ctx.Err() != nil {
			break
		}
	}
	if err != nil {
		return fmt.Errorf("registering front end %s: %w", sh.id, err)
	}
	sh.mu.Lock()
	if sh.caughtUp.IsZero() {
		// The first registration is of what was just loaded; a later one
		// (the row was removed) leaves the catch-up's time as it was.
		sh.caughtUp = start
	}
	sh.mu.Unlock()
	sh.renewed(start, time.Now(), applied, true)
	return nil
}

// Deregister removes this front end's row: the others stop waiting for it
// at once rather than at the end of its lease.
func (sh *Shared) Deregister(ctx context.Context) error {
	if _, err := sh.s.db.ExecContext(ctx, "DELETE FROM frontends WHERE id = ?", sh.id); err != nil {
		return fmt.Errorf("deregistering front end %s: %w", sh.id, err)
	}
	return nil
}

// renewed records a renewal that started at start, ended at done and
// reported applied. It counts from the start, on this machine's clock, so
// the lease runs out here no later than the row's lease_until on the
// database's, with a margin of two polls for a slow tick. fresh (a new
// row), or a renewal that ended after the lease may have run out, begins a
// new run of leases: the others may have stopped waiting for this front
// end meanwhile, so only a catch-up started after done may lift the fence.
// It reports whether it began a new run.
func (sh *Shared) renewed(start, done time.Time, applied int64, fresh bool) (lapsed bool) {
	sh.mu.Lock()
	defer sh.mu.Unlock()
	lapsed = fresh || !done.Before(sh.deadlineLocked())
	if lapsed {
		sh.runSince = done
	}
	if d := start.Add(sh.lease - 2*sh.poll); d.After(sh.deadline) {
		sh.deadline = d
	}
	sh.reported = applied
	return lapsed
}

// leaseState is the lease's deadline (when this front end must consider
// itself fenced) and since when it has held the lease without a break.
func (sh *Shared) leaseState() (deadline, since time.Time) {
	sh.mu.Lock()
	defer sh.mu.Unlock()
	return sh.deadlineLocked(), sh.runSince
}

// deadlineLocked is the renewal's deadline, or earlier that of the last
// catch-up that succeeded: a front end that has not applied the store's
// changes for a lease is fenced as one that cannot reach it. sh.mu is
// held.
func (sh *Shared) deadlineLocked() time.Time {
	if d := sh.catchUpDeadlineLocked(); d.Before(sh.deadline) {
		return d
	}
	return sh.deadline
}

func (sh *Shared) catchUpDeadlineLocked() time.Time {
	return sh.caughtUp.Add(sh.lease - 2*sh.poll)
}

// caughtUpAt records a catch-up that started at start and succeeded.
func (sh *Shared) caughtUpAt(start time.Time) {
	sh.mu.Lock()
	defer sh.mu.Unlock()
	if start.After(sh.caughtUp) {
		sh.caughtUp = start
	}
}

// behind reports whether this front end has failed to catch up for a
// lease: it must then stop renewing its lease, so that the others stop
// waiting for it as for a front end that lost the store.
func (sh *Shared) behind(now time.Time) bool {
	sh.mu.Lock()
	defer sh.mu.Unlock()
	return !now.Before(sh.catchUpDeadlineLocked())
}

// expired reports whether this front end's lease may have run out: the
// others may then no longer wait for it, so it must not allow anything.
func (sh *Shared) expired(now time.Time) bool {
	deadline, _ := sh.leaseState()
	return !now.Before(deadline)
}

func (sh *Shared) lastReported() int64 {
	sh.mu.Lock()
	defer sh.mu.Unlock()
	return sh.reported
}

// renew records that this front end has applied change applied and holds
// its lease for another lease from now (the database's now). lapsed is
// renewed's.
func (sh *Shared) renew(ctx context.Context, applied int64) (lapsed bool, err error) {
	start := time.Now()
	// applied_change_id never goes back: a change of this front end's own
	// may have written a later one since applied was read.
	res, err := sh.s.db.ExecContext(ctx, "UPDATE frontends SET lease_until = "+sh.s.dialect.nowMicros+
		" + ?, applied_change_id = CASE WHEN applied_change_id < ? THEN ? ELSE applied_change_id END WHERE id = ?",
		sh.lease.Microseconds(), applied, applied, sh.id)
	if err != nil {
		return false, err
	}
	if n, err := res.RowsAffected(); err != nil {
		return false, err
	} else if n == 0 {
		// Removed (by hand, or an operator's clean-up of dead rows): the
		// front end enters again, and was waited for by nobody meanwhile.
		return true, sh.Register(ctx, applied)
	}
	return sh.renewed(start, time.Now(), applied, false), nil
}

// sweep removes the rows of front ends whose lease ended a lease ago or
// more: front ends that died without leaving (a crash, SIGKILL), which
// nobody waits for any more, and whose rows would otherwise stay forever.
// Each row is deleted by its key, and only if still expired, so a front
// end renewing meanwhile keeps its row and the others' rows are not
// locked. One removed while alive after all (paused past its lease)
// registers again at its next renewal, fenced until it has caught up.
func (sh *Shared) sweep(ctx context.Context) error {
	expired := "lease_until < " + sh.s.dialect.nowMicros + " - ?"
	rows, err := sh.s.db.QueryContext(ctx, "SELECT id FROM frontends WHERE id <> ? AND "+expired, sh.id, sh.lease.Microseconds())
	if err != nil {
		return err
	}
	var dead []string
	for rows.Next() {
		var id string
		if err := rows.Scan(&id); err != nil {
			rows.Close()
			return err
		}
		dead = append(dead, id)
	}
	if err := errors.Join(rows.Err(), rows.Close()); err != nil {
		return err
	}
	for _, id := range dead {
		res, err := sh.s.db.ExecContext(ctx, "DELETE FROM frontends WHERE id = ? AND "+expired, id, sh.lease.Microseconds())
		if err != nil {
			return err
		}
		if n, err := res.RowsAffected(); err == nil && n > 0 {
			sh.log.Info("removed a dead front end from the grant store", "frontend", sh.id, "dead", id)
		}
	}
	return nil
}

// Fence is what Follow fences: privilege.Manager.
type Fence interface {
	// SetFence refuses every statement with err, or lifts that with nil.
	SetFence(err error)
	// SetLeaseDeadline refuses every statement with err from at on.
	SetLeaseDeadline(at time.Time, err error)
}

// Follow keeps store, a MemStore over sh, caught up with the other front
// ends and the lease renewed, until ctx ends. f's lease deadline follows
// the lease; f is fenced with fenceErr when the lease may have run out
// (store unreachable), or when no catch-up has succeeded for a lease
// (rows this front end cannot apply): then the lease is no longer renewed
// either, so that the others stop waiting for this front end. It is
// unfenced once the lease is renewed and a catch-up that started after
// the renewal has succeeded.
func (sh *Shared) Follow(ctx context.Context, store *privilege.MemStore, f Fence, fenceErr error) {
	var (
		mu     sync.Mutex
		fenced bool
		// catchUpErr is the last catch-up's error, nil once one
		// succeeded: why the front end is behind.
		catchUpErr error
	)
	setFence := func(on bool, why func() bool) {
		mu.Lock()
		defer mu.Unlock()
		// why is judged under mu: a lapsed renewal records it before it
		// fences, so a catch-up that judged the lease before cannot lift
		// the fence after.
		if on == fenced || !why() {
			return
		}
		fenced = on
		if !on {
			f.SetFence(nil)
			sh.log.Info("grant store reachable again: caught up, statements allowed", "frontend", sh.id)
			return
		}
		if cu := (*privilege.CatchUpError)(nil); errors.As(catchUpErr, &cu) {
			sh.log.Warn("grant store: refusing statements until this front end can apply the store's changes", "frontend", sh.id, "change", cu.From)
		} else {
			sh.log.Warn("grant store lease lost: refusing statements until the store is reachable again", "frontend", sh.id, "lease", sh.lease, "err", catchUpErr)
		}
		f.SetFence(fenceErr)
	}
	always := func() bool { return true }
	isFenced := func() bool {
		mu.Lock()
		defer mu.Unlock()
		return fenced
	}
	setDeadline := func() {
		// Under mu, so that of the catch-up's and the renewal's, the one
		// that read the later deadline does not store it first.
		mu.Lock()
		defer mu.Unlock()
		deadline, _ := sh.leaseState()
		f.SetLeaseDeadline(deadline, fenceErr)
	}
	setDeadline()

	var wg sync.WaitGroup
	defer wg.Wait()
	// The watchdog fences on time alone, so a renewal blocked on a dead
	// connection, or a catch-up blocked or failing, does not keep the
	// front end open past its lease. (The lease deadline fences statements
	// even before it runs.)
	wg.Go(func() {
		tick := time.NewTicker(sh.poll / 2)
		defer tick.Stop()
		for {
			select {
			case <-ctx.Done():
				return
			case now := <-tick.C:
				if sh.expired(now) {
					setFence(true, always)
				}
			}
		}
	})

	// The catch-up runs apart from the renewal: it waits for the store's
	// mutex, which a change holds while it waits for the store's lock, and
	// a busy store must not cost the front ends their leases.
	news := make(chan struct{}, 1)
	wg.Go(func() {
		tick := time.NewTicker(sh.poll)
		defer tick.Stop()
		for {
			select {
			case <-ctx.Done():
				return
			case <-tick.C:
			}
			step, cancel := context.WithTimeout(ctx, sh.lease/2)
			started := time.Now()
			before := store.Applied()
			applied, err := store.CatchUp(step)
			cancel()
			if sh.afterCatchUp != nil {
				sh.afterCatchUp()
			}
			mu.Lock()
			prev := catchUpErr
			catchUpErr = err
			mu.Unlock()
			if cu := (*privilege.CatchUpError)(nil); errors.As(err, &cu) {
				// Neither the store's fault nor the network's: someone
				// must repair its rows, and the log must say which change,
				// once, whether or not the front end is fenced already.
				if old := (*privilege.CatchUpError)(nil); !errors.As(prev, &old) || old.From != cu.From || old.Upto != cu.Upto {
					sh.log.Error("grant store: this front end cannot apply the store's changes; it refuses statements from a lease after its last catch-up until the rows are repaired",
						"frontend", sh.id, "change", cu.From, "upto", cu.Upto, "err", err)
				}
				continue
			}
			if errors.Is(err, ErrLogRewound) {
				if !errors.Is(prev, ErrLogRewound) {
					sh.log.Error("grant store: this front end refuses statements from a lease after its last catch-up", "frontend", sh.id, "err", err)
				}
				continue
			}
			if err != nil {
				if ctx.Err() == nil {
					sh.log.Debug("grant store catch-up", "frontend", sh.id, "err", err)
				}
				continue
			}
			sh.caughtUpAt(started)
			// Statements are refused on time (SetLeaseDeadline) even if the
			// watchdog is late, so the deadline moves with the catch-up.
			setDeadline()
			if applied != before {
				// The waiting front ends hear of it now, not at the next
				// tick.
				select {
				case news <- struct{}{}:
				default:
				}
			}
			// Only a catch-up that started after the lease was regained
			// has every change that did not wait for this front end.
			setFence(false, func() bool {
				_, since := sh.leaseState()
				return started.After(since) && !sh.expired(time.Now())
			})
		}
	})

	// Dead front ends' rows are removed apart from the renewal too, which
	// must not wait for it.
	wg.Go(func() {
		tick := time.NewTicker(sh.lease)
		defer tick.Stop()
		for {
			select {
			case <-ctx.Done():
				return
			case <-tick.C:
			}
			step, cancel := context.WithTimeout(ctx, sh.lease/2)
			err := sh.sweep(step)
			cancel()
			if err != nil && ctx.Err() == nil {
				sh.log.Debug("grant store: removing dead front ends", "frontend", sh.id, "err", err)
			}
		}
	})

	// The row is written when there is news for the waiting front ends,
	// when fenced, and a few times a lease otherwise; never while behind,
	// which would keep the others waiting for a change this front end
	// cannot apply, and let it hold a lease on grants it does not have.
	tick := time.NewTicker(sh.poll)
	defer tick.Stop()
	var lastRenew time.Time
	for {
		select {
		case <-ctx.Done():
			return
		case <-tick.C:
		case <-news:
		}
		applied := store.Applied()
		if !isFenced() && applied == sh.lastReported() && time.Since(lastRenew) < sh.lease/4 {
			continue
		}
		if sh.behind(time.Now()) {
			continue
		}
		if sh.beforeRenew != nil {
			sh.beforeRenew()
		}
		step, cancel := context.WithTimeout(ctx, sh.lease/2)
		lapsed, err := sh.renew(step, applied)
		cancel()
		if err != nil {
			if ctx.Err() == nil {
				sh.log.Debug("grant store lease renewal", "frontend", sh.id, "err", err)
			}
			continue
		}
		lastRenew = time.Now()
		if lapsed {
			// Fenced before the new deadline lets statements through: the
			// snapshot may miss changes that did not wait for this front
			// end, until the next catch-up.
			setFence(true, always)
		}
		setDeadline()
	}
}

// Begin implements privilege.SharedBackend: a transaction holding the
// store's one lock row, and what was committed after applied. The first
// change after Initialize found the store new runs in the transaction that
// has held the lock since.
func (sh *Shared) Begin(ctx context.Context, applied int64) (privilege.SharedTx, privilege.Catchup, error) {
	tx := sh.s.takeFirst()
	if tx == nil {
		var err error
		if tx, err = sh.s.lock(ctx, ctx); err != nil {
			return nil, privilege.Catchup{}, err
		}
	}
	c, err := since(ctx, tx, applied)
	if err != nil {
		return nil, privilege.Catchup{}, errors.Join(err, tx.Rollback())
	}
	return &sharedTx{sh: sh, tx: tx}, c, nil
}

// lock begins a change's transaction, on txCtx, and takes the store's lock
// in it.
func (s *Store) lock(txCtx, ctx context.Context) (*sql.Tx, error) {
	tx, err := s.db.BeginTx(txCtx, &sql.TxOptions{Isolation: s.dialect.writeIsolation})
	if err != nil {
		return nil, err
	}
	var one int
	if err := tx.QueryRowContext(ctx, "SELECT id FROM store_lock WHERE id = 1"+s.dialect.forUpdate).Scan(&one); err != nil {
		return nil, errors.Join(fmt.Errorf("locking the grant store: %w", err), tx.Rollback())
	}
	return tx, nil
}

// Initialize reports whether the store is new (no change was ever
// applied), deciding it for one front end only when several start at once
// on a new store: the one that finds it new keeps the store's lock until
// its first change, which makes the first accounts, ends (Begin); the
// others wait for the lock here and then find the store initialized. A
// front end that dies before its first change drops the lock with its
// connection, and the next one finds the store new. The lock is held on a
// connection of its own, so the database must allow more than one
// (OpenMySQL's does; OpenSQLite's, one, does not).
func (sh *Shared) Initialize(ctx context.Context) (isNew bool, err error) {
	if sh.s.holdsFirst() {
		// Called again: the lock it holds would be waited for.
		return true, nil
	}
	// An initialized store, the usual case, is told without the lock, so
	// a start does not queue behind changes.
	if done, err := sh.s.Initialized(ctx); err != nil || done {
		return false, err
	}
	for attempt := 0; ; attempt++ {
		isNew, err = sh.s.lockIfNew(ctx)
		// A front end that holds the lock long (a slow first start)
		// makes the wait time out: it is simply waited for again.
		if err == nil || attempt == 4 || sh.s.dialect.isRetryable == nil || !sh.s.dialect.isRetryable(err) || ctx.Err() != nil {
			break
		}
	}
	if err != nil {
		return false, fmt.Errorf("initializing the grant store: %w", err)
	}
	return isNew, nil
}

// lockIfNew takes the store's lock and, if the store is new, keeps it
// until the first change (Begin) or Close.
func (s *Store) lockIfNew(ctx context.Context) (bool, error) {
	// The transaction outlives ctx: it ends with the first change.
	tx, err := s.lock(context.WithoutCancel(ctx), ctx)
	if err != nil {
		return false, err
	}
	done, err := initialized(ctx, tx)
	if err != nil {
		return false, errors.Join(err, tx.Rollback())
	}
	if done {
		return false, tx.Rollback()
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	s.first = tx
	return true, nil
}

func (s *Store) holdsFirst() bool {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.first != nil
}

// takeFirst hands over the transaction Initialize kept, nil if none.
func (s *Store) takeFirst() *sql.Tx {
	s.mu.Lock()
	defer s.mu.Unlock()
	tx := s.first
	s.first = nil
	return tx
}

// Since implements privilege.SharedBackend.
func (sh *Shared) Since(ctx context.Context, applied int64) (privilege.Catchup, error) {
	var c privilege.Catchup
	// One transaction, so that the log and the rows are of one state
	// (InnoDB's repeatable read; SQLite's one connection).
	err := sh.s.inTx(ctx, func(tx *sql.Tx) error {
		var err error
		c, err = since(ctx, tx, applied)
		return err
	})
	return c, err
}

// since reads, in tx, what was committed after change applied.
// ErrLogRewound is the error of a change log that went back past what a
// front end has applied: emptied by an operator, or restored from a backup.
var ErrLogRewound = errors.New("the grant store's change log went back")

func since(ctx context.Context, tx *sql.Tx, applied int64) (privilege.Catchup, error) {
	c := privilege.Catchup{Upto: applied}
	if err := tx.QueryRowContext(ctx, "SELECT COALESCE(MAX(id), 0) FROM change_log").Scan(&c.Upto); err != nil {
		return c, fmt.Errorf("reading the change log: %w", err)
	}
	switch {
	case c.Upto < applied:
		// Emptied, or restored from a backup: the changes this front end
		// would have to follow are not there to read, and new ones may
		// reuse the ids it has applied. Nothing it holds can be trusted.
		return privilege.Catchup{Upto: applied}, fmt.Errorf("%w: it ends at change %d, this front end has applied up to %d; restart the front ends", ErrLogRewound, c.Upto, applied)
	case c.Upto == applied:
		return c, nil
	}
	var definers int64
	if err := tx.QueryRowContext(ctx, "SELECT COALESCE(SUM(definers), 0) FROM change_log WHERE id > ?", applied).Scan(&definers); err != nil {
		return c, fmt.Errorf("reading the change log: %w", err)
	}
	var changed []priv.Account
	err := each(ctx, tx, "SELECT DISTINCT user_name, host FROM change_log_accounts WHERE change_id > ? AND change_id <= ?", func(r *sql.Rows) error {
		var a priv.Account
		if err := r.Scan(&a.User, &a.Host); err != nil {
			return err
		}
		changed = append(changed, a)
		return nil
	}, applied, c.Upto)
	if err != nil {
		return c, fmt.Errorf("reading the change log: %w", err)
	}
	if len(changed) > fullReload {
		ads, err := loadAccounts(ctx, tx, "")
		if err != nil {
			return c, err
		}
		c.Full, c.DefinersChanged = true, true
		for i := range ads {
			c.Accounts = append(c.Accounts, privilege.AccountChange{Account: ads[i].Account, Data: &ads[i]})
		}
		c.Definers, err = loadDefiners(ctx, tx)
		return c, err
	}
	for _, a := range changed {
		ads, err := loadAccounts(ctx, tx, " WHERE user_name = ? AND host = ?", a.User, a.Host)
		if err != nil {
			return c, err
		}
		ac := privilege.AccountChange{Account: a}
		if len(ads) == 1 {
			ac.Data = &ads[0]
		}
		c.Accounts = append(c.Accounts, ac)
	}
	if definers > 0 {
		c.DefinersChanged = true
		if c.Definers, err = loadDefiners(ctx, tx); err != nil {
			return c, err
		}
	}
	return c, nil
}

type sharedTx struct {
	sh *Shared
	tx *sql.Tx
}

// Commit writes c, logs it, and records that this front end has applied
// it, in the one transaction.
func (t *sharedTx) Commit(ctx context.Context, c privilege.Change) (int64, error) {
	id, err := t.sh.s.write(ctx, t.tx, c)
	if err == nil {
		_, err = t.tx.ExecContext(ctx, "UPDATE frontends SET applied_change_id = ? WHERE id = ?", id, t.sh.id)
	}
	if err != nil {
		return 0, errors.Join(err, t.tx.Rollback())
	}
	if err := t.tx.Commit(); err != nil {
		return 0, err
	}
	return id, nil
}

func (t *sharedTx) Rollback() error {
	if err := t.tx.Rollback(); err != nil && !errors.Is(err, sql.ErrTxDone) {
		return err
	}
	return nil
}

// Acknowledged implements privilege.SharedBackend: it polls until no
// other front end with a live lease is behind change id. A front end that
// stops renewing drops out when its lease ends, so the wait is bounded by
// the lease; it gives up at three leases (the change stays committed).
func (sh *Shared) Acknowledged(ctx context.Context, id int64) error {
	ctx, cancel := context.WithTimeout(ctx, 3*sh.lease)
	defer cancel()
	wait := time.Millisecond
	for {
		var behind int
		err := sh.s.db.QueryRowContext(ctx, "SELECT COUNT(*) FROM frontends WHERE id <> ? AND applied_change_id < ? AND lease_until > "+
			sh.s.dialect.nowMicros, sh.id, id).Scan(&behind)
		if err == nil && behind == 0 {
			return nil
		}
		t := time.NewTimer(wait)
		select {
		case <-ctx.Done():
			t.Stop()
			return fmt.Errorf("waiting for the live front ends to apply change %d: %w", id, errors.Join(ctx.Err(), err))
		case <-t.C:
		}
		wait = min(2*wait, sh.poll/2)
	}
}

// Failed implements privilege.FailureCounter.
func (s *Store) Failed(ctx context.Context, a priv.Account, attempts int, until time.Time, forever bool) error {
	err := s.failed(ctx, a, attempts, until, forever)
	if s.dialect.isDuplicate(err) {
		// Another front end counted the first failure at the same time.
		err = s.failed(ctx, a, attempts, until, forever)
	}
	return err
}

func (s *Store) failed(ctx context.Context, a priv.Account, attempts int, until time.Time, forever bool) error {
	return s.inTx(ctx, func(tx *sql.Tx) error {
		res, err := tx.ExecContext(ctx, "UPDATE failed_logins SET failures = failures + 1 WHERE user_name = ? AND host = ?", a.User, a.Host)
		if err != nil {
			return err
		}
		if n, err := res.RowsAffected(); err != nil {
			return err
		} else if n == 0 {
			if _, err := tx.ExecContext(ctx, "INSERT INTO failed_logins (user_name, host, failures, locked_until, forever) VALUES (?, ?, 1, 0, 0)",
				a.User, a.Host); err != nil {
				return err
			}
		}
		// Blocked once, at the attempts-th failure: a further failure
		// while blocked does not extend it.
		_, err = tx.ExecContext(ctx, "UPDATE failed_logins SET locked_until = ?, forever = ? WHERE user_name = ? AND host = ? AND failures >= ? AND locked_until = 0",
			until.UnixMicro(), flag(forever), a.User, a.Host, attempts)
		return err
	})
}

// Blocked implements privilege.FailureCounter.
func (s *Store) Blocked(ctx context.Context, a priv.Account, attempts int, now time.Time) (time.Time, bool, error) {
	var failures int
	var until int64
	var forever bool
	err := s.db.QueryRowContext(ctx, "SELECT failures, locked_until, forever FROM failed_logins WHERE user_name = ? AND host = ?", a.User, a.Host).
		Scan(&failures, &until, &forever)
	switch {
	case errors.Is(err, sql.ErrNoRows):
		return time.Time{}, false, nil
	case err != nil:
		return time.Time{}, false, err
	case failures < attempts:
		return time.Time{}, false, nil
	case forever || (until != 0 && now.UnixMicro() < until):
		return time.UnixMicro(until), true, nil
	}
	// The block has run out: count afresh.
	return time.Time{}, false, s.Succeeded(ctx, a)
}

// Succeeded implements privilege.FailureCounter.
func (s *Store) Succeeded(ctx context.Context, a priv.Account) error {
	_, err := s.db.ExecContext(ctx, "DELETE FROM failed_logins WHERE user_name = ? AND host = ?", a.User, a.Host)
	return err
}
