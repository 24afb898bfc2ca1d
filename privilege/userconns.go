package privilege

import (
	"sync"

	"github.com/authplug/authplug/mysqlerr"
	"github.com/authplug/authplug/priv"
)

// UserConnections counts the open sessions of each account, for MySQL's
// MAX_USER_CONNECTIONS (CREATE/ALTER USER ... WITH MAX_USER_CONNECTIONS n)
// and the global max_user_connections that applies to accounts without
// one of their own.
//
// It is the core's and not one host's, since the limit is an account's
// stored property that every host must honour; but only the host knows
// when a connection ends, so the host opens a session's count after the
// login and releases it when the connection closes. As in MySQL, sessions
// are counted per account (the row the login matched, not the client's
// host), and the limit is read when a session opens: lowering it ends no
// open session.
type UserConnections struct {
	global int
	mu     sync.Mutex
	open   map[priv.Account]int
}

// NewUserConnections returns a counter with the global
// max_user_connections; 0 means no global limit (MySQL's default).
func NewUserConnections(global int) *UserConnections {
	return &UserConnections{global: max(global, 0), open: map[priv.Account]int{}}
}

// Open counts sess against its account's limit and returns the function
// that releases the count, which may be called more than once. A session
// over the limit is refused with 1226 (the account's own limit) or 1203
// (the global one) and not counted.
func (u *UserConnections) Open(sess *Session) (release func(), err error) {
	a := sess.AuthenticatedAccount()
	limit, own := u.global, false
	if e := sess.m.Snapshot().entry(a); e != nil && e.user.MaxUserConnections > 0 {
		limit, own = e.user.MaxUserConnections, true
	}
	u.mu.Lock()
	defer u.mu.Unlock()
	if limit > 0 && u.open[a] >= limit {
		if own {
			return nil, mysqlerr.UserLimitReached(a.User, limit)
		}
		return nil, mysqlerr.TooManyUserConnections(a.User)
	}
	u.open[a]++
	var once sync.Once
	return func() { once.Do(func() { u.release(a) }) }, nil
}

func (u *UserConnections) release(a priv.Account) {
	u.mu.Lock()
	defer u.mu.Unlock()
	// Accounts without sessions leave the map, so that it holds no more
	// entries than there are sessions.
	if u.open[a]--; u.open[a] <= 0 {
		delete(u.open, a)
	}
}

// Count is how many sessions account a has open.
func (u *UserConnections) Count(a priv.Account) int {
	u.mu.Lock()
	defer u.mu.Unlock()
	return u.open[a]
}

// Total is how many sessions are counted, over all accounts.
func (u *UserConnections) Total() int {
	u.mu.Lock()
	defer u.mu.Unlock()
	n := 0
	for _, c := range u.open {
		n += c
	}
	return n
}
