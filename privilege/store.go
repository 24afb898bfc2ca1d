package privilege

import (
	"context"
	"fmt"
	"hash/fnv"
	"maps"
	"math/rand/v2"
	"slices"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/authplug/authplug/authplugin"
	"github.com/authplug/authplug/mysqlerr"
	"github.com/authplug/authplug/priv"
)

// Store is where stored accounts and grants come from. Snapshot is called on
// every check and must be cheap: return the current immutable snapshot.
type Store interface {
	Snapshot() *Snapshot
}

// Updater is a Store that can change: Update runs fn on a transaction over a
// copy of the current snapshot and publishes the copy only if fn returns nil.
type Updater interface {
	Update(fn func(tx *Tx) error) error
}

// MemStore keeps accounts and grants in memory. Reads load a pointer; writes
// are serialized, build a new snapshot and swap it in atomically.
type MemStore struct {
	mu      sync.Mutex
	cur     atomic.Pointer[Snapshot]
	persist func(*Snapshot) error
	journal func(context.Context, Change) error
	// shared is the store shared with other front ends (WithShared), and
	// applied the id of the last of its changes this store has applied:
	// written under mu, with the snapshot, and read without it, so that
	// the lease is renewed while a change holds mu waiting for the
	// store's lock.
	shared  SharedBackend
	applied atomic.Int64
}

// StoreOption configures a MemStore.
type StoreOption func(*MemStore)

// WithPersist has every change saved by fn before it is published; an error
// from fn abandons the change, so memory never runs ahead of storage.
func WithPersist(fn func(*Snapshot) error) StoreOption {
	return func(s *MemStore) { s.persist = fn }
}

// WithJournal has every change saved by fn, as what it changed, before it
// is published; an error from fn abandons the change, as with WithPersist.
// A change that changes nothing is not passed on. Unlike WithPersist, the
// work is that of the changed accounts, not of every account.
func WithJournal(fn func(ctx context.Context, c Change) error) StoreOption {
	return func(s *MemStore) { s.journal = fn }
}

// NewMemStore returns an empty store.
func NewMemStore(opts ...StoreOption) *MemStore {
	s := &MemStore{}
	for _, o := range opts {
		o(s)
	}
	s.cur.Store(newSnapshot())
	return s
}

// Snapshot returns the current snapshot.
func (s *MemStore) Snapshot() *Snapshot { return s.cur.Load() }

// Update applies fn as one change. Names are stored as given and dynamic
// privileges are not checked against a registry: use Manager.Update for
// changes that come from users.
func (s *MemStore) Update(fn func(tx *Tx) error) error {
	return s.UpdateContext(context.Background(), fn)
}

// UpdateContext is Update with ctx passed to the journal (WithJournal).
func (s *MemStore) UpdateContext(ctx context.Context, fn func(tx *Tx) error) error {
	if s.shared != nil {
		return s.updateShared(ctx, fn)
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	tx := newTx(s.cur.Load())
	if err := fn(tx); err != nil {
		return err
	}
	next := tx.commit()
	if s.journal != nil {
		if c := tx.change(next); !c.Empty() {
			if err := s.journal(ctx, c); err != nil {
				return fmt.Errorf("saving grants: %w", err)
			}
		}
	}
	if s.persist != nil {
		if err := s.persist(next); err != nil {
			return fmt.Errorf("saving grants: %w", err)
		}
	}
	s.cur.Store(next)
	return nil
}

// Restore replaces the store's contents with d, which came from the
// store's own storage: neither WithPersist nor WithJournal sees it, as
// saving it back would only repeat what is saved. d is checked as Tx.Load
// checks it, and the store is left as it was if it fails.
func (s *MemStore) Restore(d Data) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	tx := newTx(s.cur.Load())
	if err := tx.Load(d); err != nil {
		return err
	}
	s.cur.Store(tx.commit())
	return nil
}

// Tx is a change being built. It is not safe for concurrent use.
type Tx struct {
	base  *Snapshot
	users pmap[priv.Account, *entry]
	// loading builds users in place while Load runs (nil otherwise);
	// reset says Load replaced every account, so that the base's indexes
	// no longer describe users.
	loading *pmapBuilder[priv.Account, *entry]
	reset   bool
	// touched holds every account created, copied or deleted here: what
	// commit re-indexes and change reports, so that both cost the
	// accounts changed rather than all of them.
	touched map[priv.Account]bool
	owned   map[*entry]bool // entries copied or created in this transaction

	// set by Manager.Update; nil in a raw MemStore.Update
	plugin    func(name string) *authplugin.AuthPlugin
	isDynamic func(name string) bool
	now       func() time.Time // the manager's clock, for PasswordChanged

	definers      map[DefinedObject]Definer
	definersOwned bool // copied from base in this transaction
}

func newTx(base *Snapshot) *Tx {
	return &Tx{base: base, users: base.users, touched: map[priv.Account]bool{}, owned: map[*entry]bool{}, definers: base.definers}
}

// get returns a's entry as the transaction has it, nil if a does not exist.
func (tx *Tx) get(a priv.Account) *entry {
	var e *entry
	if tx.loading != nil {
		e, _ = tx.loading.get(a)
	} else {
		e, _ = tx.users.get(a)
	}
	return e
}

func (tx *Tx) put(a priv.Account, e *entry) {
	tx.touched[a] = true
	if tx.loading != nil {
		tx.loading.set(a, e)
		return
	}
	tx.users = tx.users.set(a, e)
}

func (tx *Tx) del(a priv.Account) {
	tx.touched[a] = true
	tx.users = tx.users.del(a)
}

// clock is the time a change happens at: the manager's clock, or the
// system's in a raw MemStore.Update. It is in UTC without a monotonic
// reading, as it reads back from a saved file, so a loaded row equals the
// one saved.
func (tx *Tx) clock() time.Time {
	now := time.Now
	if tx.now != nil {
		now = tx.now
	}
	return now().UTC().Round(0)
}

// commit publishes the transaction as a snapshot. Its indexes (accounts by
// user name, holders of each role and proxy target) are those of the base
// with the touched accounts redone, unless Load replaced everything.
func (tx *Tx) commit() *Snapshot {
	s := &Snapshot{users: tx.users, definers: tx.definers}
	if tx.reset {
		s.byName, s.heldBy = indexAll(tx.users)
		return s
	}
	s.byName, s.heldBy = tx.base.byName, tx.base.heldBy
	changed := map[string][]priv.Account{}
	for a := range tx.touched {
		old, cur := tx.base.entry(a), tx.get(a)
		if old == cur {
			continue
		}
		changed[a.User] = append(changed[a.User], a)
		s.heldBy = reindexHolder(s.heldBy, a, old, cur)
	}
	for name, accounts := range changed {
		prev, _ := s.byName.get(name)
		es := make([]*entry, 0, len(prev)+len(accounts))
		for _, e := range prev {
			if !slices.Contains(accounts, e.user.Account) {
				es = append(es, e)
			}
		}
		for _, a := range accounts {
			if e := tx.get(a); e != nil {
				es = append(es, e)
			}
		}
		if len(es) == 0 {
			s.byName = s.byName.del(name)
			continue
		}
		sortByHost(es)
		s.byName = s.byName.set(name, es)
	}
	return s
}

// mutable returns a's entry, copied once per transaction; nil if a does not
// exist.
func (tx *Tx) mutable(a priv.Account) *entry {
	e := tx.get(a)
	if e == nil || tx.owned[e] {
		return e
	}
	c := *e
	c.grants = e.grants.clone()
	c.roles = maps.Clone(e.roles)
	c.defaultRoles = slices.Clone(e.defaultRoles)
	c.proxies = maps.Clone(e.proxies)
	tx.put(a, &c)
	tx.owned[&c] = true
	return &c
}

func (tx *Tx) mustExist(op string, a priv.Account) (*entry, error) {
	e := tx.mutable(a)
	if e == nil {
		return nil, mysqlerr.CannotUser(op, a.String())
	}
	return e, nil
}

// UserOption sets an account attribute in CreateUser and AlterUser.
type UserOption func(*User)

// AccountLock is ACCOUNT LOCK (true) or ACCOUNT UNLOCK (false).
func AccountLock(locked bool) UserOption { return func(u *User) { u.Locked = locked } }

// RequireSSL is REQUIRE SSL (true) or REQUIRE NONE (false).
func RequireSSL(on bool) UserOption { return func(u *User) { u.RequireSecureTransport = on } }

// FailedLoginLock is FAILED_LOGIN_ATTEMPTS attempts PASSWORD_LOCK_TIME days;
// days < 0 is UNBOUNDED; zero in either turns tracking off.
func FailedLoginLock(attempts, days int) UserOption {
	return func(u *User) { u.FailedLoginAttempts, u.PasswordLockDays = attempts, days }
}

// CreateUser is CREATE USER. It fails with 1396 if the account exists.
func (tx *Tx) CreateUser(a priv.Account, cred Credential, opts ...UserOption) error {
	if tx.get(a) != nil {
		return mysqlerr.CannotUser("CREATE USER", a.String())
	}
	s, err := tx.authString(cred)
	if err != nil {
		return err
	}
	u := &User{Account: a, ID: newAccountID(), Plugin: cred.Plugin, AuthString: s, PasswordChanged: tx.clock()}
	for _, o := range opts {
		o(u)
	}
	e := &entry{user: u, host: compileHost(a.Host), grants: &grantSet{}}
	tx.put(a, e)
	tx.owned[e] = true
	return nil
}

// newAccountID is a random positive int64: unique without coordination
// between front ends, and storable in a signed BIGINT.
func newAccountID() int64 {
	for {
		if id := int64(rand.Uint64() >> 1); id != 0 {
			return id
		}
	}
}

// savedID is the ID of an account read back from storage. A row saved
// without one (before accounts had IDs, or by an older release still
// writing to a shared store) keeps the ID the account had before this
// transaction, or else gets one made from its name: every front end
// reading the row must agree on it, or each would end the account's
// sessions on the next change another one makes.
func (tx *Tx) savedID(u User) int64 {
	if u.ID != 0 {
		return u.ID
	}
	if e := tx.base.entry(u.Account); e != nil {
		return e.user.ID
	}
	h := fnv.New64a()
	h.Write([]byte(u.Account.User))
	h.Write([]byte{0})
	h.Write([]byte(u.Account.Host))
	return int64(h.Sum64()>>1) | 1
}

// CreateRole is CREATE ROLE: a locked account without a password.
func (tx *Tx) CreateRole(a priv.Account) error {
	if tx.get(a) != nil {
		return mysqlerr.CannotUser("CREATE ROLE", a.String())
	}
	return tx.CreateUser(a, IdentifiedAs(authplugin.CachingSHA2PasswordName, ""), AccountLock(true))
}

// AlterUser changes account attributes (ALTER USER ... ACCOUNT LOCK etc.).
func (tx *Tx) AlterUser(a priv.Account, opts ...UserOption) error {
	e, err := tx.mustExist("ALTER USER", a)
	if err != nil {
		return err
	}
	e.user = alteredUser(e.user, opts...)
	return nil
}

// alteredUser copies a row before changing it: the old row may be shared
// with published snapshots, and a new row restarts failed-login counting.
func alteredUser(u *User, opts ...UserOption) *User {
	c := *u
	for _, o := range opts {
		o(&c)
	}
	return &c
}

// SetCredential is ALTER USER ... IDENTIFIED and SET PASSWORD. A new
// credential is a changed password: it is no longer expired, and its
// lifetime starts again.
func (tx *Tx) SetCredential(a priv.Account, cred Credential) error {
	if tx.get(a) == nil {
		return mysqlerr.CannotUser("ALTER USER", a.String())
	}
	s, err := tx.authString(cred)
	if err != nil {
		return err
	}
	e := tx.mutable(a)
	now := tx.clock()
	e.user = alteredUser(e.user, func(u *User) {
		u.Plugin, u.AuthString = cred.Plugin, s
		u.PasswordExpired, u.PasswordChanged = false, now
	})
	return nil
}

// DropUser is DROP USER (and DROP ROLE): the account goes, and so does every
// grant of it as a role, as a default role and as a proxy target, so that an
// account created later under the same name inherits nothing.
func (tx *Tx) DropUser(a priv.Account) error {
	if tx.get(a) == nil {
		return mysqlerr.CannotUser("DROP USER", a.String())
	}
	if kind, ok := tx.defines(a); ok {
		return mysqlerr.UserIsDefiner("DROP USER", a.String(), kind)
	}
	tx.del(a)
	for _, other := range tx.holders(a) {
		m := tx.mutable(other)
		delete(m.roles, a)
		delete(m.proxies, a)
		m.defaultRoles = slices.DeleteFunc(m.defaultRoles, func(r priv.Account) bool { return r == a })
	}
	return nil
}

// Grant adds privs on o to a (WITH GRANT OPTION when withGrant). A privilege
// that does not exist at o's level is refused as MySQL does: 1221 at
// database level, 1144 at table and column level.
func (tx *Tx) Grant(a priv.Account, o Object, privs priv.Mask, withGrant bool) error {
	o = o.normalized()
	if err := checkLevel(o.Level(), privs); err != nil {
		return err
	}
	e, err := tx.mustExist("GRANT", a)
	if err != nil {
		return err
	}
	e.grants.set(o, e.grants.at(o)|privs)
	if withGrant {
		// A column grant's GRANT OPTION lives on its table, as in MySQL.
		t := o
		t.Column = ""
		e.grants.set(t, e.grants.at(t)|priv.GrantOption)
	}
	return nil
}

func checkLevel(l priv.Level, privs priv.Mask) error {
	if privs&^l.Valid() == 0 {
		return nil
	}
	if l == priv.Database {
		return mysqlerr.WrongUsage("DB GRANT", "GLOBAL PRIVILEGES")
	}
	return mysqlerr.IllegalGrantForTable()
}

// Revoke removes privs on o from a. Revoking at a database, table or column
// where a holds nothing is 1141, as in MySQL; at global level it is a no-op.
func (tx *Tx) Revoke(a priv.Account, o Object, privs priv.Mask) error {
	o = o.normalized()
	if err := checkLevel(o.Level(), privs); err != nil {
		return err
	}
	e, err := tx.mustExist("REVOKE", a)
	if err != nil {
		return err
	}
	held := e.grants.at(o)
	if held == 0 && o.Level() != priv.Global {
		return mysqlerr.NonexistingGrant(a.User, a.Host)
	}
	e.grants.set(o, held&^privs)
	return nil
}

// RevokeAll is REVOKE ALL PRIVILEGES, GRANT OPTION FROM a: every static and
// dynamic privilege at every level. Roles and proxy grants stay.
func (tx *Tx) RevokeAll(a priv.Account) error {
	e, err := tx.mustExist("REVOKE", a)
	if err != nil {
		return err
	}
	e.grants = &grantSet{}
	return nil
}

// GrantDynamic grants a dynamic privilege (global only, as in MySQL).
func (tx *Tx) GrantDynamic(a priv.Account, name string, withGrant bool) error {
	name = strings.ToUpper(name)
	if tx.isDynamic != nil && !tx.isDynamic(name) {
		return mysqlerr.UnknownPrivilege(name)
	}
	e, err := tx.mustExist("GRANT", a)
	if err != nil {
		return err
	}
	if e.grants.dynamic == nil {
		e.grants.dynamic = map[string]bool{}
	}
	e.grants.dynamic[name] = e.grants.dynamic[name] || withGrant
	return nil
}

// RevokeDynamic revokes a dynamic privilege; revoking one not held is a
// no-op, as for global privileges.
func (tx *Tx) RevokeDynamic(a priv.Account, name string) error {
	name = strings.ToUpper(name)
	if tx.isDynamic != nil && !tx.isDynamic(name) {
		return mysqlerr.UnknownPrivilege(name)
	}
	e, err := tx.mustExist("REVOKE", a)
	if err != nil {
		return err
	}
	delete(e.grants.dynamic, name)
	return nil
}

// GrantRole grants role to a. Both must exist (3523), and the grant may not
// close a loop of roles (4027).
func (tx *Tx) GrantRole(role, a priv.Account, withAdmin bool) error {
	for _, x := range []priv.Account{role, a} {
		if tx.get(x) == nil {
			return mysqlerr.UnknownAuthID(x.Backquoted())
		}
	}
	if role == a || tx.reaches(role, a) {
		return mysqlerr.RoleGrantedToItself(a.Backquoted(), role.Backquoted())
	}
	e := tx.mutable(a)
	if e.roles == nil {
		e.roles = map[priv.Account]bool{}
	}
	e.roles[role] = e.roles[role] || withAdmin
	return nil
}

// reaches reports whether from already holds to through granted roles.
func (tx *Tx) reaches(from, to priv.Account) bool {
	seen := map[priv.Account]bool{}
	var walk func(x priv.Account) bool
	walk = func(x priv.Account) bool {
		if x == to {
			return true
		}
		if seen[x] {
			return false
		}
		seen[x] = true
		if e := tx.get(x); e != nil {
			for r := range e.roles {
				if walk(r) {
					return true
				}
			}
		}
		return false
	}
	return walk(from)
}

// RevokeRole revokes role from a (3530 if it was not granted). A default
// role that is revoked stops being a default.
func (tx *Tx) RevokeRole(role, a priv.Account) error {
	if tx.get(a) == nil {
		return mysqlerr.UnknownAuthID(a.Backquoted())
	}
	if _, ok := tx.get(a).roles[role]; !ok {
		return mysqlerr.RoleNotGranted(role.Backquoted(), a.Backquoted())
	}
	e := tx.mutable(a)
	delete(e.roles, role)
	e.defaultRoles = slices.DeleteFunc(e.defaultRoles, func(r priv.Account) bool { return r == role })
	return nil
}

// SetDefaultRoles is SET DEFAULT ROLE ... TO a; each role must be granted to
// a (3530). An empty list is SET DEFAULT ROLE NONE.
func (tx *Tx) SetDefaultRoles(a priv.Account, roles []priv.Account) error {
	e := tx.get(a)
	if e == nil {
		return mysqlerr.UnknownAuthID(a.Backquoted())
	}
	for _, r := range roles {
		if _, ok := e.roles[r]; !ok {
			return mysqlerr.RoleNotGranted(r.Backquoted(), a.Backquoted())
		}
	}
	e = tx.mutable(a)
	e.defaultRoles = slices.Clone(roles)
	return nil
}

// GrantProxy is GRANT PROXY ON target TO proxy: proxy may act as target.
func (tx *Tx) GrantProxy(target, proxy priv.Account, withGrant bool) error {
	e, err := tx.mustExist("GRANT", proxy)
	if err != nil {
		return err
	}
	if e.proxies == nil {
		e.proxies = map[priv.Account]bool{}
	}
	e.proxies[target] = e.proxies[target] || withGrant
	return nil
}

// RevokeProxy is REVOKE PROXY ON target FROM proxy (1141 if never granted).
func (tx *Tx) RevokeProxy(target, proxy priv.Account) error {
	if e := tx.get(proxy); e == nil || !hasKey(e.proxies, target) {
		return mysqlerr.NonexistingGrant(proxy.User, proxy.Host)
	}
	delete(tx.mutable(proxy).proxies, target)
	return nil
}

func hasKey(m map[priv.Account]bool, k priv.Account) bool {
	_, ok := m[k]
	return ok
}
