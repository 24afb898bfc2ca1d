package privilege

import (
	"crypto/tls"
	"errors"
	"slices"
	"strings"
	"sync/atomic"

	"github.com/authplug/authplug/authplugin"
	"github.com/authplug/authplug/mysqlerr"
	"github.com/authplug/authplug/priv"
)

// Session is one authenticated connection's privilege context. Its plugin
// and plugin state are fixed at login: an account that later switches plugin
// affects new sessions only.
type Session struct {
	m         *Manager
	user      string // as the client sent it: USER()
	host      string // client host, for messages
	account   priv.Account
	accountID int64 // User.ID of account at login
	plugin    *authplugin.AuthPlugin
	state     any
	validator authplugin.SessionValidator // state's, resolved once at login
	connState *tls.ConnectionState

	ident atomic.Pointer[identity]
	// loginIdent is the identity the session starts with, allocated with
	// the Session itself; ident points to it until SET ROLE or EXECUTE AS.
	loginIdent identity
	view       atomic.Pointer[view]

	// sandbox: the login's password had expired (expiry.go); expiredRow is
	// the account's row then, to tell when its credential has changed.
	sandbox    atomic.Bool
	expiredRow *User
}

// identity is what the session acts as; replaced whole on SET ROLE or
// impersonation, so a concurrent check sees the old or the new one.
type identity struct {
	roles  []priv.Account // active roles of the session's own account
	target *priv.Account  // the account acted as, nil when not impersonating
}

// view caches the stored privileges of one identity in one snapshot, so that
// a check costs a few loads and map lookups.
type view struct {
	snap   *Snapshot
	ident  *identity
	grants *grantSet
	// proxyLost: the session acts as an account its own account may no
	// longer act as (PROXY revoked, either account dropped): every check
	// fails with 1227 until it reverts.
	proxyLost bool
	// gone: the session's own account was dropped or renamed (another
	// may exist under its name since): it may do nothing any more.
	gone bool
}

func (s *Session) current() *view {
	snap := s.m.store.Snapshot()
	id := s.ident.Load()
	if v := s.view.Load(); v != nil && v.snap == snap && v.ident == id {
		return v
	}
	v := &view{snap: snap, ident: id}
	if e := snap.entry(s.account); e == nil || e.user.ID != s.accountID {
		v.grants, v.gone = emptyGrants, true
	} else if id.target != nil {
		v.grants = snap.withDefaults(*id.target)
		if !snap.CanProxy(s.account, *id.target) || snap.entry(*id.target) == nil {
			v.grants, v.proxyLost = emptyGrants, true
		}
	} else {
		v.grants = snap.effective(s.account, id.roles)
	}
	s.view.Store(v)
	return v
}

// User is the user name the client logged in with (USER()).
func (s *Session) User() string { return s.user }

// ClientHost is the client's host as messages show it.
func (s *Session) ClientHost() string { return s.host }

// AuthenticatedAccount is the account the login matched.
func (s *Session) AuthenticatedAccount() priv.Account { return s.account }

// Account is the account the session acts as (CURRENT_USER()): the target
// while impersonating, else the authenticated account.
func (s *Session) Account() priv.Account {
	if t := s.ident.Load().target; t != nil {
		return *t
	}
	return s.account
}

// Impersonating returns the account acted as, if any.
func (s *Session) Impersonating() (priv.Account, bool) {
	if t := s.ident.Load().target; t != nil {
		return *t, true
	}
	return priv.Account{}, false
}

// Plugin is the plugin that authenticated the session.
func (s *Session) Plugin() *authplugin.AuthPlugin { return s.plugin }

// State is what the plugin's AuthenticateUser returned.
func (s *Session) State() any { return s.state }

// ConnState is the session's TLS state, nil without TLS.
func (s *Session) ConnState() *tls.ConnectionState { return s.connState }

// ActiveRoles are the roles active for the session's own account.
func (s *Session) ActiveRoles() []priv.Account { return slices.Clone(s.ident.Load().roles) }

// SetActiveRoles is SET ROLE: every role must be granted to the session's
// account (3530). Roles revoked later stop counting at once. While the
// session acts as another account it is refused (1221): the roles are the
// session's own account's, so they would be checked against the caller and
// come into force only after REVERT, switched on by a statement run for
// someone else.
func (s *Session) SetActiveRoles(roles []priv.Account) error {
	if _, acting := s.Impersonating(); acting {
		return mysqlerr.WrongUsage("SET ROLE", "EXECUTE AS")
	}
	e := s.m.store.Snapshot().entry(s.account)
	for _, r := range roles {
		if e == nil || !hasKey(e.roles, r) {
			return mysqlerr.RoleNotGranted(r.Backquoted(), s.account.Backquoted())
		}
	}
	for {
		old := s.ident.Load()
		if old.target != nil {
			return mysqlerr.WrongUsage("SET ROLE", "EXECUTE AS")
		}
		next := &identity{roles: slices.Clone(roles)}
		if s.ident.CompareAndSwap(old, next) {
			return nil
		}
	}
}

// RequestVerification checks the session's own request for privilege p on
// db.table.column (empty names for wider levels): the stored grants must
// allow it, and then the session's plugin. While impersonating, the stored
// grants are the target's and the plugin still judges with the caller's
// session state, so impersonation never widens what the caller's
// credentials allow. In sandbox mode it is 1820 (PasswordExpired).
func (s *Session) RequestVerification(db, table, column string, p priv.Mask) error {
	// A backstop for hosts that do not gate statements on the fence.
	if f := s.m.fence.Load(); f != nil {
		return *f
	}
	v := s.current()
	if err := s.validate(v); err != nil {
		return err
	}
	// A backstop for hosts that do not gate statements on PasswordExpired;
	// one load while not in sandbox mode.
	if s.sandbox.Load() {
		if err := s.PasswordExpired(); err != nil {
			return err
		}
	}
	db, table, column = strings.ToLower(db), strings.ToLower(table), strings.ToLower(column)
	if v.grants.allows(db, table, column, p) {
		ok, err := s.pluginAllows(v, db, table, column, p)
		if ok {
			return nil
		}
		if err != nil {
			return err // the plugin panicked: refused, with 1105
		}
	}
	if v.proxyLost {
		return mysqlerr.SpecificAccessDenied("PROXY")
	}
	return s.denied(db, table, column, p)
}

// RequestSelfChange asks whether the session may make change to its own
// account, which needs no privilege: the session's plugin decides, through
// its state's authplugin.SelfServiceGate, and allows when it has none. A
// refusal that is not a MySQL error is answered with 1227 naming CREATE
// USER, the privilege that would allow the change on any account; a gate
// that panics refuses, with 1105.
func (s *Session) RequestSelfChange(change authplugin.SelfChange) error {
	if err := s.Validate(); err != nil {
		return err
	}
	g, ok := s.state.(authplugin.SelfServiceGate)
	if !ok {
		return nil
	}
	err := s.allowSelfChange(g, change)
	if err == nil {
		return nil
	}
	var me *mysqlerr.Error
	if errors.As(err, &me) {
		return err
	}
	return mysqlerr.SpecificAccessDenied(priv.CreateUser.Names()...)
}

// Validate is the refusal of a session that may no longer be used: its
// account dropped or renamed since it logged in (1045, even when an account
// of the same name exists again), or its plugin's refusal (its state's
// authplugin.SessionValidator: a token past its expiry; 1105 if it
// panics); nil while it is valid. Every check asks it; a host asks it
// before commands that need no check.
func (s *Session) Validate() error { return s.validate(s.current()) }

// validate is Validate on the view a check already holds.
func (s *Session) validate(v *view) error {
	if v.gone {
		return s.gone()
	}
	if s.validator != nil {
		return s.validateState()
	}
	return nil
}

// gone is the error of a session whose account went; apart from validate,
// which every check runs, so that validate stays small enough to inline.
func (s *Session) gone() error { return mysqlerr.AccountGone(s.user, s.host) }

// ActingAllowed reports, while the session acts as another account,
// whether its own account may still do so (1227 naming PROXY if not): a
// host asks it before each statement, as every check does.
func (s *Session) ActingAllowed() error {
	if s.current().proxyLost {
		return mysqlerr.SpecificAccessDenied("PROXY")
	}
	return nil
}

// pluginAllows asks the session's plugin's VerifyPrivilege, if it has
// one; a panic is a refusal, with a non-nil err (pluginguard.go).
func (s *Session) pluginAllows(v *view, db, table, column string, p priv.Mask) (ok bool, err error) {
	f := s.plugin.VerifyPrivilege
	if f == nil {
		return true, nil
	}
	return s.verify("VerifyPrivilege", f, &authplugin.AuthorizeRequest{
		User: s.user, ClientHost: s.host, DB: db, Table: table, Column: column, Priv: p,
		ConnState: s.connState, ActiveRoles: v.ident.roles, SessionState: s.state,
	})
}

func (s *Session) denied(db, table, column string, p priv.Mask) error {
	a := s.Account()
	user, host := s.user, s.host
	if _, ok := s.Impersonating(); ok {
		user, host = a.User, a.Host
	}
	return denied(user, host, db, table, column, p)
}

// HasAnyPrivilege reports whether the stored grants give the session any
// privilege on db (table empty) or db.table: MySQL's rule for seeing a
// database or table at all (USE, SHOW DATABASES, SHOW TABLES).
func (s *Session) HasAnyPrivilege(db, table string) bool {
	return s.current().grants.anyOn(strings.ToLower(db), strings.ToLower(table))
}

// HasColumnPrivilege reports whether the stored grants give the session p
// on some column of db.table, so that a host refuses an unknown column of
// it as it refuses a column it may not use (1143), not as it refuses the
// table (1142), which would tell the two apart.
func (s *Session) HasColumnPrivilege(db, table string, p priv.Mask) bool {
	return s.current().grants.anyColumnAllows(strings.ToLower(db), strings.ToLower(table), p)
}

// HasColumnGrants reports whether the session's stored grants include any
// column-level grant, so a host can skip column checks for the others.
func (s *Session) HasColumnGrants() bool { return len(s.current().grants.column) > 0 }

// RequestDynamicVerification checks a dynamic privilege (WITH GRANT OPTION
// when withGrant), stored grants first, then the plugin; a plugin that
// panics refuses, with 1105.
func (s *Session) RequestDynamicVerification(name string, withGrant bool) error {
	v := s.current()
	if err := s.validate(v); err != nil {
		return err
	}
	name = strings.ToUpper(name)
	if v.proxyLost {
		return mysqlerr.SpecificAccessDenied("PROXY")
	}
	if s.m.dynamic[name] && v.grants.allowsDynamic(name, withGrant) {
		f := s.plugin.VerifyDynamicPrivilege
		if f == nil {
			return nil
		}
		ok, err := s.verify("VerifyDynamicPrivilege", f, &authplugin.AuthorizeRequest{
			User: s.user, ClientHost: s.host, PrivName: name, WithGrant: withGrant,
			ConnState: s.connState, ActiveRoles: v.ident.roles, SessionState: s.state,
		})
		if ok {
			return nil
		}
		if err != nil {
			return err
		}
	}
	return mysqlerr.SpecificAccessDenied(name)
}

// CanImpersonate reports whether the session's authenticated account was
// granted PROXY ON target (error 1227 naming PROXY if not). It asks the
// caller's own grants, never those of an account being acted as, so
// impersonation does not chain.
func (s *Session) CanImpersonate(target priv.Account) error {
	snap := s.m.store.Snapshot()
	if !snap.CanProxy(s.account, target) || snap.entry(target) == nil {
		return mysqlerr.SpecificAccessDenied("PROXY")
	}
	// Acting as an account that holds SYSTEM_USER needs SYSTEM_USER of
	// one's own: it would otherwise change system accounts by proxy.
	if snap.withDefaults(target).allowsDynamic("SYSTEM_USER", false) &&
		!snap.effective(s.account, s.ident.Load().roles).allowsDynamic("SYSTEM_USER", false) {
		return mysqlerr.SpecificAccessDenied("SYSTEM_USER")
	}
	return nil
}

// Impersonate makes the session act as target until Revert. Acting as one
// account while acting as another is refused (1221): impersonation does
// not nest, so there is never an earlier state to go back to but the
// session's own account. The returned function is Revert.
func (s *Session) Impersonate(target priv.Account) (revert func(), err error) {
	if _, acting := s.Impersonating(); acting {
		return nil, mysqlerr.WrongUsage("EXECUTE AS", "EXECUTE AS")
	}
	if err := s.CanImpersonate(target); err != nil {
		return nil, err
	}
	for {
		old := s.ident.Load()
		t := target
		if s.ident.CompareAndSwap(old, &identity{roles: old.roles, target: &t}) {
			return s.Revert, nil
		}
	}
}

// Revert returns the session to its own account, keeping its active roles,
// whatever it was acting as; it may be called more than once.
func (s *Session) Revert() {
	for {
		old := s.ident.Load()
		if old.target == nil || s.ident.CompareAndSwap(old, &identity{roles: old.roles}) {
			return
		}
	}
}
