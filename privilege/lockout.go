package privilege

import (
	"sync"
	"time"
)

// lockout is MySQL 8's FAILED_LOGIN_ATTEMPTS / PASSWORD_LOCK_TIME: after N
// consecutive failed logins the account is blocked for D days (or until
// unlocked). State is per account row: any ALTER USER makes a new row and so
// starts counting afresh, as ACCOUNT UNLOCK does in MySQL.
type lockout struct {
	mu    sync.Mutex
	state map[*User]*failures
}

type failures struct {
	count   int
	until   time.Time
	forever bool
}

func (l *lockout) init() { l.state = map[*User]*failures{} }

func tracked(u *User) bool { return u.FailedLoginAttempts > 0 && u.PasswordLockDays != 0 }

func (l *lockout) blocked(u *User, now time.Time) (time.Time, bool) {
	if !tracked(u) {
		return time.Time{}, false
	}
	l.mu.Lock()
	defer l.mu.Unlock()
	f := l.state[u]
	switch {
	case f == nil || f.count < u.FailedLoginAttempts:
		return time.Time{}, false
	case f.forever || now.Before(f.until):
		return f.until, true
	}
	delete(l.state, u) // the lock has run out: count afresh
	return time.Time{}, false
}

func (l *lockout) failed(u *User, now time.Time) {
	if !tracked(u) {
		return
	}
	l.mu.Lock()
	defer l.mu.Unlock()
	f := l.state[u]
	if f == nil {
		f = &failures{}
		l.state[u] = f
	}
	f.count++
	if f.count >= u.FailedLoginAttempts {
		f.forever = u.PasswordLockDays < 0
		f.until = now.AddDate(0, 0, u.PasswordLockDays)
	}
}

func (l *lockout) succeeded(u *User) {
	if !tracked(u) {
		return
	}
	l.mu.Lock()
	defer l.mu.Unlock()
	delete(l.state, u)
}
