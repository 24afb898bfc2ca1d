package privilege

import (
	"slices"

	"github.com/authplug/authplug/priv"
)

// Reads inside a transaction see its own changes and cost a map lookup:
// account statements check what they change as they go, and must not
// rebuild a snapshot to do it.

// User returns account a's row as the transaction has it.
func (tx *Tx) User(a priv.Account) (User, bool) {
	e := tx.get(a)
	if e == nil {
		return User{}, false
	}
	return *e.user, true
}

// GrantedRoles lists the roles granted to a, sorted.
func (tx *Tx) GrantedRoles(a priv.Account) []priv.Account {
	if e := tx.get(a); e != nil {
		return sortedKeys(e.roles)
	}
	return nil
}

// DefaultRoles lists a's default roles.
func (tx *Tx) DefaultRoles(a priv.Account) []priv.Account {
	if e := tx.get(a); e != nil {
		return slices.Clone(e.defaultRoles)
	}
	return nil
}
