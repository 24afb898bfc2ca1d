package privilege

import (
	"cmp"
	"slices"
	"sync"
	"time"

	"github.com/authplug/authplug/priv"
)

// User is an account's own row: how it authenticates and whether it may.
// A role is an account too (created locked, so it cannot log in).
type User struct {
	Account priv.Account `json:"account"`
	// ID tells this account from another created later under the same
	// name: set by CREATE USER, kept by ALTER USER and RENAME USER. A
	// session belongs to the account it logged in to, not to its name.
	// Zero in data saved before it existed (Load gives one).
	ID         int64  `json:"id,omitempty"`
	Plugin     string `json:"plugin"`
	AuthString string `json:"auth_string,omitempty"`
	Locked     bool   `json:"locked,omitempty"`
	// RequireSecureTransport is REQUIRE SSL: logins without TLS are refused.
	RequireSecureTransport bool `json:"require_ssl,omitempty"`
	// FailedLoginAttempts and PasswordLockDays are MySQL 8's
	// FAILED_LOGIN_ATTEMPTS and PASSWORD_LOCK_TIME; both must be non-zero for
	// tracking. PasswordLockDays < 0 is UNBOUNDED.
	FailedLoginAttempts int `json:"failed_login_attempts,omitempty"`
	PasswordLockDays    int `json:"password_lock_days,omitempty"`
	// PasswordExpired is PASSWORD EXPIRE: the password must be changed
	// before the account can do anything else. Changing it clears this.
	PasswordExpired bool `json:"password_expired,omitempty"`
	// PasswordLifetimeDays is PASSWORD EXPIRE DEFAULT (0: the manager's
	// default lifetime), NEVER (-1) or INTERVAL n DAY (n > 0), counted from
	// PasswordChanged.
	PasswordLifetimeDays int `json:"password_lifetime,omitempty"`
	// PasswordChanged is when the credential was last set. Rows saved
	// before it existed count as changed when they were loaded.
	PasswordChanged time.Time `json:"password_changed,omitzero"`
	// RequireCurrent is PASSWORD REQUIRE CURRENT [DEFAULT | OPTIONAL].
	RequireCurrent RequireCurrent `json:"password_require_current,omitempty"`
	// MaxUserConnections is WITH MAX_USER_CONNECTIONS n: how many sessions
	// of the account may be open at once; 0 is no limit of its own.
	MaxUserConnections int `json:"max_user_connections,omitempty"`
}

// entry is one account in a snapshot. Every field is immutable once the
// snapshot is published; a transaction copies what it changes.
type entry struct {
	user         *User
	host         hostMatcher
	grants       *grantSet
	roles        map[priv.Account]bool // roles granted to this account -> WITH ADMIN OPTION
	defaultRoles []priv.Account
	proxies      map[priv.Account]bool // accounts this one may act as -> WITH GRANT OPTION
}

// Snapshot is an immutable view of every account and grant. Checks read one
// snapshot from start to end, so a check never sees half of a change.
type Snapshot struct {
	users pmap[priv.Account, *entry]
	// byName holds, for each user name, its accounts most specific host
	// first; anonymous accounts (user '') are under "".
	byName pmap[string, []*entry]
	heldBy holderIndex
	// defaults caches the privileges of an account with its default roles,
	// for checks on behalf of a user without a session (definers, targets).
	defaults sync.Map // *entry -> *grantSet
	// definers: whose rights views, triggers and routines run with.
	definers map[DefinedObject]Definer
}

func newSnapshot() *Snapshot {
	return &Snapshot{
		users:  newPmap[priv.Account, *entry](),
		byName: newPmap[string, []*entry](),
		heldBy: newPmap[priv.Account, pmap[priv.Account, struct{}]](),
	}
}

// entry returns a's entry, nil if a does not exist.
func (s *Snapshot) entry(a priv.Account) *entry {
	e, _ := s.users.get(a)
	return e
}

// User returns the account's row.
func (s *Snapshot) User(a priv.Account) (User, bool) {
	e := s.entry(a)
	if e == nil {
		return User{}, false
	}
	return *e.user, true
}

// Users lists every account, sorted by user then host.
func (s *Snapshot) Users() []User {
	out := make([]User, 0, s.users.len())
	for _, e := range s.users.all() {
		out = append(out, *e.user)
	}
	slices.SortFunc(out, func(a, b User) int { return compareAccounts(a.Account, b.Account) })
	return out
}

// Len is the number of accounts, roles included.
func (s *Snapshot) Len() int { return s.users.len() }

// GrantedRoles lists the roles granted to a, sorted.
func (s *Snapshot) GrantedRoles(a priv.Account) []priv.Account {
	e := s.entry(a)
	if e == nil {
		return nil
	}
	return sortedKeys(e.roles)
}

// DefaultRoles lists a's default roles.
func (s *Snapshot) DefaultRoles(a priv.Account) []priv.Account {
	if e := s.entry(a); e != nil {
		return slices.Clone(e.defaultRoles)
	}
	return nil
}

// CanProxy reports whether proxy was granted PROXY ON target.
func (s *Snapshot) CanProxy(proxy, target priv.Account) bool {
	e := s.entry(proxy)
	if e == nil {
		return false
	}
	_, ok := e.proxies[target]
	return ok
}

func compareAccounts(a, b priv.Account) int {
	return cmp.Or(cmp.Compare(a.User, b.User), cmp.Compare(a.Host, b.Host))
}

func sortedKeys(m map[priv.Account]bool) []priv.Account {
	out := make([]priv.Account, 0, len(m))
	for a := range m {
		out = append(out, a)
	}
	slices.SortFunc(out, compareAccounts)
	return out
}

// match finds the account a login as user from c uses: MySQL's rule, the
// first match in the table sorted by host specificity, and for equal hosts a
// named user before the anonymous one.
func (s *Snapshot) match(user string, c client) *entry {
	es, _ := s.byName.get(user)
	named := firstMatch(es, c)
	if user == "" {
		return named
	}
	anons, _ := s.byName.get("")
	anon := firstMatch(anons, c)
	switch {
	case named == nil:
		return anon
	case anon == nil:
		return named
	case anon.host.rank() < named.host.rank():
		return anon
	}
	return named
}

func firstMatch(es []*entry, c client) *entry {
	for _, e := range es {
		if e.host.matches(c) {
			return e
		}
	}
	return nil
}

// effective returns the stored privileges of account a with roles active:
// its own grants and those of each active role still granted to it, and of
// the roles granted to those roles.
func (s *Snapshot) effective(a priv.Account, roles []priv.Account) *grantSet {
	e := s.entry(a)
	if e == nil {
		return emptyGrants
	}
	if len(roles) == 0 {
		// Most sessions (every login without default roles): their own
		// grants, without building the walk below.
		return e.grants
	}
	var active []*entry
	seen := map[priv.Account]bool{a: true}
	var walk func(r priv.Account)
	walk = func(r priv.Account) {
		if seen[r] {
			return
		}
		seen[r] = true
		re := s.entry(r)
		if re == nil {
			return
		}
		active = append(active, re)
		for sub := range re.roles {
			walk(sub)
		}
	}
	for _, r := range roles {
		if _, granted := e.roles[r]; granted {
			walk(r)
		}
	}
	if len(active) == 0 {
		return e.grants
	}
	g := e.grants.clone()
	for _, re := range active {
		g.union(re.grants)
	}
	return g
}

// withDefaults is effective(a, a's default roles), cached per snapshot.
func (s *Snapshot) withDefaults(a priv.Account) *grantSet {
	e := s.entry(a)
	if e == nil {
		return emptyGrants
	}
	if g, ok := s.defaults.Load(e); ok {
		return g.(*grantSet)
	}
	g := s.effective(a, e.defaultRoles)
	s.defaults.Store(e, g)
	return g
}

func sortByHost(es []*entry) {
	slices.SortFunc(es, func(a, b *entry) int {
		return cmp.Or(cmp.Compare(a.host.rank(), b.host.rank()),
			cmp.Compare(a.user.Account.Host, b.user.Account.Host))
	})
}
