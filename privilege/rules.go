package privilege

import (
	"github.com/authplug/authplug/mysqlerr"
	"github.com/authplug/authplug/priv"
)

// The grantor rules: who may change which account, and hand on what. They
// are MySQL 8's (GRANT, REVOKE, DROP ROLE, "Account Categories", "Proxy
// Users"), decided here so that every host applies the same ones. Each asks
// the session's own checks, so a token's scopes narrow them as they narrow
// everything else; the facts about other accounts they need are single map
// lookups in the published snapshot.

// MayGrant reports whether the session may grant (or revoke) p on o: it
// needs GRANT OPTION on o and p itself there. A column privilege is held on
// the column or on anything wider.
func (s *Session) MayGrant(o Object, p priv.Mask) error {
	o = o.normalized()
	if err := s.RequestVerification(o.DB, o.Table, "", priv.GrantOption); err != nil {
		return err
	}
	if p &^= priv.GrantOption; p == 0 {
		return nil
	}
	return s.RequestVerification(o.DB, o.Table, o.Column, p)
}

// MayGrantDynamic reports whether the session may grant (or revoke) the
// dynamic privilege name: it must hold it WITH GRANT OPTION.
func (s *Session) MayGrantDynamic(name string) error {
	return s.RequestDynamicVerification(name, true)
}

// MayManageAccounts reports whether the session may create, alter, drop or
// rename accounts at all: CREATE USER, as in MySQL.
func (s *Session) MayManageAccounts() error {
	return s.RequestVerification("", "", "", priv.CreateUser)
}

// GuardSystemAccount reports whether the session may change account a in
// any way (its grants, roles, proxies, password or attributes, dropping or
// renaming it): an account holding SYSTEM_USER, directly or through its
// default roles, can be changed only by a session that holds SYSTEM_USER
// too. a's privileges are its stored ones; no plugin is asked about a.
func (s *Session) GuardSystemAccount(a priv.Account) error {
	if !s.m.store.Snapshot().withDefaults(a).allowsDynamic(systemUser, false) {
		return nil
	}
	return s.RequestDynamicVerification(systemUser, false)
}

const systemUser = "SYSTEM_USER"

// MayDropAccount reports whether the session may drop account a with DROP
// USER (asRole false) or DROP ROLE (asRole true). CREATE USER drops any
// account; the DROP ROLE privilege drops roles only, which MySQL tells from
// login accounts by their lock: a login account cannot be dropped with it.
func (s *Session) MayDropAccount(a priv.Account, asRole bool) error {
	if err := s.MayManageAccounts(); err != nil {
		if !asRole || s.RequestVerification("", "", "", priv.DropRole) != nil {
			return err
		}
		if e := s.m.store.Snapshot().entry(a); e != nil && !e.user.Locked {
			return err
		}
	}
	return s.GuardSystemAccount(a)
}

// MayCreateAccount reports whether the session may create accounts with
// CREATE USER (asRole false) or CREATE ROLE (asRole true), which the
// CREATE ROLE privilege allows too.
func (s *Session) MayCreateAccount(asRole bool) error {
	err := s.MayManageAccounts()
	if err != nil && asRole && s.RequestVerification("", "", "", priv.CreateRole) == nil {
		return nil
	}
	return err
}

// MayGrantRole reports whether the session may grant role r (or revoke it):
// ROLE_ADMIN, or r granted to the session's account WITH ADMIN OPTION. A
// role that holds SYSTEM_USER needs SYSTEM_USER too (stricter than MySQL):
// granting it would hand its holder a system account's privileges, and
// ROLE_ADMIN alone would then reach everything SYSTEM_USER protects.
func (s *Session) MayGrantRole(r priv.Account) error {
	if s.RequestDynamicVerification("ROLE_ADMIN", false) != nil {
		e := s.m.store.Snapshot().entry(s.Account())
		if e == nil || !e.roles[r] {
			return mysqlerr.SpecificAccessDenied("ROLE_ADMIN")
		}
		if err := s.Validate(); err != nil {
			return err
		}
	}
	return s.GuardSystemAccount(r)
}

// MayGrantProxy reports whether the session may grant (or revoke) PROXY on
// target: its own account must be target, or hold PROXY on target WITH
// GRANT OPTION (MySQL 8), never while acting as another account. authplug
// has no wildcard proxy grant (MySQL's ”@” for root): an administrator
// with CREATE USER and GRANT OPTION globally and SYSTEM_USER stands in for
// it. A target holding SYSTEM_USER needs SYSTEM_USER as well.
func (s *Session) MayGrantProxy(target priv.Account) error {
	if err := s.Validate(); err != nil {
		return err
	}
	if !s.holdsProxyGrant(target) &&
		(s.RequestVerification("", "", "", priv.CreateUser|priv.GrantOption) != nil ||
			s.RequestDynamicVerification(systemUser, false) != nil) {
		return mysqlerr.SpecificAccessDenied("PROXY")
	}
	return s.GuardSystemAccount(target)
}

func (s *Session) holdsProxyGrant(target priv.Account) bool {
	if _, acting := s.Impersonating(); acting || s.current().gone {
		return false
	}
	if target == s.account {
		return true
	}
	e := s.m.store.Snapshot().entry(s.account)
	return e != nil && e.proxies[target]
}

// IsOwnAccount reports whether a is the account the session logged in as,
// for the changes one may make to oneself without privileges (a password,
// default roles), which the session's plugin still judges
// (RequestSelfChange). Never while acting as another account: acting as an
// account is not owning it.
func (s *Session) IsOwnAccount(a priv.Account) bool {
	_, acting := s.Impersonating()
	return !acting && a == s.account && !s.current().gone
}

// MayActAs reports whether the session may act as target (EXECUTE AS):
// CanImpersonate.
func (s *Session) MayActAs(target priv.Account) error { return s.CanImpersonate(target) }
