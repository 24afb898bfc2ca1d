package privilege

import (
	"slices"

	"github.com/authplug/authplug/mysqlerr"
	"github.com/authplug/authplug/priv"
)

// RenameUser is RENAME USER from TO to: 1396 naming from if from does not
// exist or to does. The account keeps everything under its new name: its
// row, grants, the roles it holds, its default roles and the accounts it
// may act as. Every grant of it to other accounts (as a role, a default
// role, a proxy target) and every recorded definer naming it follow, so
// that an account created later under the old name inherits nothing.
//
// MySQL 8.0.22+ instead refuses to rename a definer unless the user has
// SET_USER_ID (and then leaves the object naming the old account); moving
// the definer keeps the object working and leaves nothing for a later
// account of the old name to take over.
//
// Failed-login tracking (lockout.go) is per row, and the renamed account
// gets a new row: counting starts afresh under the new name, as after any
// ALTER USER, and the old row's count can reach no account again.
func (tx *Tx) RenameUser(from, to priv.Account) error {
	if tx.get(from) == nil || tx.get(to) != nil {
		return mysqlerr.CannotUser("RENAME USER", from.String())
	}
	e := tx.mutable(from) // a copy owned by tx
	tx.del(from)
	u := *e.user
	u.Account = to
	e.user = &u
	e.host = compileHost(to.Host)
	tx.put(to, e)

	for _, a := range tx.holders(from) {
		renameRefs(tx.mutable(a), from, to)
	}

	// The loop reads the map it started with; ownDefiners gives the
	// transaction its own copy to write, once, on the first match.
	for o, d := range tx.definers {
		if d.Account == from {
			tx.ownDefiners()
			d.Account = to
			tx.definers[o] = d
		}
	}
	return nil
}

// refersTo reports whether e (nil for no account) holds a as a role, a
// default role or a proxy target.
func refersTo(e *entry, a priv.Account) bool {
	return e != nil && (hasKey(e.roles, a) || hasKey(e.proxies, a) || slices.Contains(e.defaultRoles, a))
}

// renameRefs rewrites e's references to from as references to to, keeping
// WITH ADMIN / WITH GRANT OPTION and the order of default roles. e must be
// owned by the transaction.
func renameRefs(e *entry, from, to priv.Account) {
	if withAdmin, ok := e.roles[from]; ok {
		delete(e.roles, from)
		e.roles[to] = withAdmin
	}
	if withGrant, ok := e.proxies[from]; ok {
		delete(e.proxies, from)
		e.proxies[to] = withGrant
	}
	for i, r := range e.defaultRoles {
		if r == from {
			e.defaultRoles[i] = to
		}
	}
}
