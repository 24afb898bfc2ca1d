package privilege

import (
	"fmt"
	"time"

	"github.com/authplug/authplug/mysqlerr"
	"github.com/authplug/authplug/priv"
)

// Password expiry and the verification-required policy are MySQL 8's
// (Password Management; Server Handling of Expired Passwords): a login
// whose password has expired gets a session in "sandbox mode", which may
// only change its own password, until it does.

// RequireCurrent is an account's PASSWORD REQUIRE CURRENT setting: whether
// changing its own password must name the current one (REPLACE).
type RequireCurrent uint8

// The PASSWORD REQUIRE CURRENT settings.
const (
	RequireCurrentDefault  RequireCurrent = iota // the manager's default (WithPasswordRequireCurrent)
	RequireCurrentYes                            // PASSWORD REQUIRE CURRENT
	RequireCurrentOptional                       // PASSWORD REQUIRE CURRENT OPTIONAL
)

// PasswordExpireNow is PASSWORD EXPIRE: the account's next login gets a
// session in sandbox mode.
func PasswordExpireNow() UserOption { return func(u *User) { u.PasswordExpired = true } }

// PasswordLifetime is PASSWORD EXPIRE DEFAULT (0), NEVER (< 0) or
// INTERVAL days DAY (> 0).
func PasswordLifetime(days int) UserOption {
	return func(u *User) { u.PasswordLifetimeDays = max(days, -1) }
}

// PasswordRequireCurrent is PASSWORD REQUIRE CURRENT [DEFAULT | OPTIONAL].
func PasswordRequireCurrent(r RequireCurrent) UserOption {
	return func(u *User) { u.RequireCurrent = r }
}

// MaxUserConnections is WITH MAX_USER_CONNECTIONS n (0: no limit).
func MaxUserConnections(n int) UserOption { return func(u *User) { u.MaxUserConnections = n } }

// WithDefaultPasswordLifetime is MySQL's default_password_lifetime: the
// lifetime in days of passwords whose account says PASSWORD EXPIRE DEFAULT.
// 0, the default, is for ever.
func WithDefaultPasswordLifetime(days int) Option {
	return func(m *Manager) error {
		if days < 0 {
			return fmt.Errorf("default password lifetime %d: want 0 (never) or more days", days)
		}
		m.passwordLifetime = days
		return nil
	}
}

// WithPasswordRequireCurrent is MySQL's password_require_current: whether
// accounts with PASSWORD REQUIRE CURRENT DEFAULT must name their current
// password to change it. Off by default, as in MySQL.
func WithPasswordRequireCurrent(on bool) Option {
	return func(m *Manager) error { m.requireCurrent = on; return nil }
}

// passwordExpired reports whether u's password has expired at now: marked
// expired, or older than its lifetime.
func (m *Manager) passwordExpired(u *User, now time.Time) bool {
	if u.PasswordExpired {
		return true
	}
	days := u.PasswordLifetimeDays
	if days == 0 {
		days = m.passwordLifetime
	}
	// CreateUser, SetCredential and Load stamp every row; one built
	// otherwise has no age to go by and does not expire by lifetime.
	if days <= 0 || u.PasswordChanged.IsZero() {
		return false
	}
	return !now.Before(u.PasswordChanged.AddDate(0, 0, days))
}

// RequiresCurrentPassword reports whether a change of u's password by its
// own account must name the current password: u's PASSWORD REQUIRE
// CURRENT, whose DEFAULT is WithPasswordRequireCurrent. It takes the row,
// so that a transaction can ask about the row it sees.
func (m *Manager) RequiresCurrentPassword(u User) bool {
	switch u.RequireCurrent {
	case RequireCurrentYes:
		return true
	case RequireCurrentOptional:
		return false
	}
	return m.requireCurrent
}

// NeedsCurrentPassword reports whether the session must name target's
// current password to change it (SET PASSWORD ... REPLACE, ALTER USER ...
// REPLACE). As in MySQL, the policy is for users changing their own
// password without privileges: a change of another account needs none, and
// neither does one by a session that may change any account's password
// (CREATE USER, or UPDATE on the mysql schema), its own included. Sandbox
// mode does not make a privileged session unprivileged here: it must still
// be able to leave it.
func (s *Session) NeedsCurrentPassword(target priv.Account) bool {
	if _, acting := s.Impersonating(); acting || target != s.account {
		return false
	}
	v := s.current()
	if e := v.snap.entry(target); e == nil || !s.m.RequiresCurrentPassword(*e.user) {
		return false
	}
	privileged := func(db string, p priv.Mask) bool {
		if !v.grants.allows(db, "", "", p) {
			return false
		}
		ok, _ := s.pluginAllows(v, db, "", "", p) // a panic, logged, is a refusal
		return ok
	}
	return !privileged("", priv.CreateUser) && !privileged("mysql", priv.Update)
}

// PasswordExpired is MySQL's 1820 while the session is in sandbox mode (it
// logged in with an expired password), nil otherwise. The session leaves
// sandbox mode once its account's credential has changed since the login,
// by this session or any other. A host asks it before every statement but
// those that change one's own password; RequestVerification asks it too.
func (s *Session) PasswordExpired() error {
	if !s.sandbox.Load() {
		return nil
	}
	if e := s.m.store.Snapshot().entry(s.account); e != nil && credentialChanged(s.expiredRow, e.user) {
		s.sandbox.Store(false)
		return nil
	}
	return mysqlerr.MustChangePassword()
}

// credentialChanged reports whether now's credential was set after
// before's: SetCredential stamps a new change time, and a plugin that
// salts makes a new string even for the same password.
func credentialChanged(before, now *User) bool {
	return !now.PasswordChanged.Equal(before.PasswordChanged) ||
		now.AuthString != before.AuthString || now.Plugin != before.Plugin
}
