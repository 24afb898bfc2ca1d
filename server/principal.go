package server

import (
	"strings"

	"github.com/authplug/authplug/mysqlerr"
	"github.com/authplug/authplug/priv"
	"github.com/authplug/authplug/privilege"
)

// principal is whose rights a part of a plan runs with: the session (stored
// grants AND its plugin) for what the client wrote, or a definer (stored
// grants only) for the body of a trigger or routine.
type principal interface {
	verify(db, table, column string, p priv.Mask) error
	verifyDynamic(name string) error
	// anyOn is MySQL's rule for seeing a database or table at all.
	anyOn(db, table string) bool
	// columnGrants reports whether a failed table-level check may still be
	// met column by column.
	columnGrants() bool
	// columnsAllow reports whether some column of db.table is allowed p.
	columnsAllow(db, table string, p priv.Mask) bool
	account() priv.Account
	// named is who a refusal names: the login user and client host, as
	// MySQL's errors do (the account acted as while impersonating).
	named() priv.Account
}

type sessionPrincipal struct{ sess *privilege.Session }

func (p sessionPrincipal) verify(db, table, column string, m priv.Mask) error {
	return p.sess.RequestVerification(db, table, column, m)
}

func (p sessionPrincipal) verifyDynamic(name string) error {
	return p.sess.RequestDynamicVerification(name, false)
}

func (p sessionPrincipal) anyOn(db, table string) bool { return p.sess.HasAnyPrivilege(db, table) }
func (p sessionPrincipal) columnGrants() bool          { return p.sess.HasColumnGrants() }
func (p sessionPrincipal) columnsAllow(db, table string, m priv.Mask) bool {
	return p.sess.HasColumnPrivilege(db, table, m)
}
func (p sessionPrincipal) account() priv.Account { return p.sess.Account() }

func (p sessionPrincipal) named() priv.Account {
	if a, ok := p.sess.Impersonating(); ok {
		return a
	}
	return priv.Account{User: p.sess.User(), Host: p.sess.ClientHost()}
}

// definerPrincipal is a trigger's or routine's definer: its stored grants
// decide, and no plugin is asked (the definer is not logged in).
type definerPrincipal struct {
	m *privilege.Manager
	a priv.Account
}

func (p definerPrincipal) verify(db, table, column string, m priv.Mask) error {
	return p.m.RequestVerificationWithUser(p.a, db, table, column, m)
}

func (p definerPrincipal) verifyDynamic(name string) error {
	return p.m.RequestDynamicVerificationWithUser(p.a, name, false)
}

func (p definerPrincipal) anyOn(db, table string) bool {
	for _, m := range priv.AllTable.Split() {
		if p.m.RequestVerificationWithUser(p.a, db, table, "", m) == nil {
			return true
		}
	}
	return false
}

func (p definerPrincipal) columnGrants() bool { return p.m.HasColumnGrantsWithUser(p.a) }
func (p definerPrincipal) columnsAllow(db, table string, m priv.Mask) bool {
	return p.m.HasColumnPrivilegeWithUser(p.a, db, table, m)
}
func (p definerPrincipal) account() priv.Account { return p.a }
func (p definerPrincipal) named() priv.Account   { return p.a }

// verifyEach asks who for every privilege of p on db.table (empty names for
// wider levels), each on its own, so that a refusal names the missing one
// (REPLACE needs INSERT and DELETE).
func verifyEach(who principal, db, table string, p priv.Mask) error {
	for _, one := range p.Split() {
		if err := who.verify(db, table, "", one); err != nil {
			return err
		}
	}
	return nil
}

// parseDefiner reads a DEFINER as the engine keeps it: `user`@`host`,
// 'user'@'host' or user@host.
func parseDefiner(s string) (priv.Account, bool) {
	s = strings.TrimSpace(s)
	i := strings.LastIndex(s, "@")
	if i <= 0 {
		return priv.Account{}, false
	}
	unquote := func(p string) string {
		p = strings.TrimSpace(p)
		if len(p) >= 2 && (p[0] == '`' || p[0] == '\'' || p[0] == '"') && p[len(p)-1] == p[0] {
			p = p[1 : len(p)-1]
		}
		return p
	}
	a := priv.Account{User: unquote(s[:i]), Host: strings.ToLower(unquote(s[i+1:]))}
	return a, a.User != ""
}

// errNotClassified is the refusal for anything the authorizer does not know:
// a plan node, expression or function of an engine version it was not
// written for. Nothing unclassified runs.
func errNotClassified(what string) error {
	return mysqlerr.Errorf(mysqlerr.ErNotSupportedYet,
		"This version of authplug doesn't yet support '%s'", what)
}
