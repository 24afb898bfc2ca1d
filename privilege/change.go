package privilege

import (
	"cmp"
	"slices"

	"github.com/authplug/authplug/priv"
)

// Change is what one committed transaction changed, for a store that saves
// changes rather than whole snapshots (WithJournal). Its size is that of
// the changed accounts' data, whatever the number of accounts.
type Change struct {
	// Accounts lists each account whose data changed, sorted: its new data,
	// or a deletion. An account changed in any way (a row, a grant, a role,
	// a reference rewritten by DROP USER or RENAME USER) is listed whole, so
	// a store can replace its rows without reading them first.
	Accounts []AccountChange
	// Definers lists each recorded definer set or dropped, sorted.
	Definers []DefinerChange
}

// Empty reports whether the change changes nothing.
func (c Change) Empty() bool { return len(c.Accounts) == 0 && len(c.Definers) == 0 }

// AccountChange is one account's new data; Data is nil when the account
// was deleted (DROP USER, or the old name of RENAME USER).
type AccountChange struct {
	Account priv.Account
	Data    *AccountData
}

// DefinerChange is one object's new definer; Definer is nil when the
// record was dropped. Object is in the lower-cased form Data uses.
type DefinerChange struct {
	Object  DefinedObject
	Definer *Definer
}

// change computes what tx changed against its base, next being tx's
// committed snapshot. It reads only the accounts tx touched.
func (tx *Tx) change(next *Snapshot) Change {
	var c Change
	for a := range tx.touched {
		old, cur := tx.base.entry(a), next.entry(a)
		switch {
		case cur == nil && old != nil:
			c.Accounts = append(c.Accounts, AccountChange{Account: a})
		case cur != nil && cur != old:
			ad := next.accountData(cur)
			c.Accounts = append(c.Accounts, AccountChange{Account: a, Data: &ad})
		}
	}
	slices.SortFunc(c.Accounts, func(x, y AccountChange) int { return compareAccounts(x.Account, y.Account) })

	// The transaction copies the definers only to change them, and copying
	// is already a pass over all of them, as is this comparison.
	if tx.definersOwned {
		for o, d := range tx.definers {
			if old, ok := tx.base.definers[o]; !ok || old != d {
				c.Definers = append(c.Definers, DefinerChange{Object: o, Definer: &d})
			}
		}
		for o := range tx.base.definers {
			if _, ok := tx.definers[o]; !ok {
				c.Definers = append(c.Definers, DefinerChange{Object: o})
			}
		}
		slices.SortFunc(c.Definers, func(x, y DefinerChange) int {
			return cmp.Or(cmp.Compare(x.Object.Kind, y.Object.Kind), cmp.Compare(x.Object.DB, y.Object.DB), cmp.Compare(x.Object.Name, y.Object.Name))
		})
	}
	return c
}
