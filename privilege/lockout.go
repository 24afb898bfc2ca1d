package privilege

import (
	"context"
	"log/slog"
	"sync"
	"time"

	"github.com/authplug/authplug/priv"
)

// lockout is MySQL 8's FAILED_LOGIN_ATTEMPTS / PASSWORD_LOCK_TIME: after N
// consecutive failed logins the account is blocked for D days (or until
// unlocked). State is per account row: any ALTER USER makes a new row and so
// starts counting afresh, as ACCOUNT UNLOCK does in MySQL.
type lockout struct {
	mu    sync.Mutex
	state map[*User]*failures
	// shared, when set, counts instead, so that failures spread over front
	// ends sharing a grant store add up (WithFailureCounter).
	shared FailureCounter
}

// FailureCounter keeps FAILED_LOGIN_ATTEMPTS counts outside the process:
// in the grant store that several front ends share. The store resets an
// account's count whenever the account changes, as a new row does here.
type FailureCounter interface {
	// Failed counts a failed login of a; at the attempts-th in a row the
	// account is blocked until until, or for good when forever.
	Failed(ctx context.Context, a priv.Account, attempts int, until time.Time, forever bool) error
	// Blocked reports whether a is blocked at now, and until when; a
	// block that has run out is forgotten.
	Blocked(ctx context.Context, a priv.Account, attempts int, now time.Time) (until time.Time, blocked bool, err error)
	// Succeeded forgets a's failures.
	Succeeded(ctx context.Context, a priv.Account) error
}

// WithFailureCounter counts failed logins in c rather than in the process.
// When c fails (its store unreachable), the process counts meanwhile: the
// host fences a front end that has lost its store anyway.
func WithFailureCounter(c FailureCounter) Option {
	return func(m *Manager) error { m.lockout.shared = c; return nil }
}

// sharedTimeout bounds a FailureCounter call: a login is not held longer
// for want of a count.
const sharedTimeout = 2 * time.Second

func sharedCtx() (context.Context, context.CancelFunc) {
	return context.WithTimeout(context.Background(), sharedTimeout)
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
	if l.shared != nil {
		ctx, cancel := sharedCtx()
		defer cancel()
		until, blocked, err := l.shared.Blocked(ctx, u.Account, u.FailedLoginAttempts, now)
		if err == nil {
			return until, blocked
		}
		slog.Warn("failed-login count unavailable; counting in this process", "account", u.Account.String(), "err", err)
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
	if l.shared != nil {
		ctx, cancel := sharedCtx()
		defer cancel()
		err := l.shared.Failed(ctx, u.Account, u.FailedLoginAttempts, now.AddDate(0, 0, u.PasswordLockDays), u.PasswordLockDays < 0)
		if err == nil {
			return
		}
		slog.Warn("failed-login count unavailable; counting in this process", "account", u.Account.String(), "err", err)
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
	if l.shared != nil {
		ctx, cancel := sharedCtx()
		defer cancel()
		if err := l.shared.Succeeded(ctx, u.Account); err != nil {
			slog.Warn("failed-login count unavailable", "account", u.Account.String(), "err", err)
		}
	}
	l.mu.Lock()
	defer l.mu.Unlock()
	delete(l.state, u)
}
