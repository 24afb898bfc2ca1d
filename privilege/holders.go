package privilege

import (
	"iter"

	"github.com/authplug/authplug/priv"
)

// holderIndex maps an account to the accounts holding it as a role or as a
// proxy target, so that DROP USER and RENAME USER rewrite those accounts
// without reading every other one. Default roles need no entry of their
// own: an account's default roles are among its granted roles.
type holderIndex = pmap[priv.Account, pmap[priv.Account, struct{}]]

// refs iterates the accounts e holds as a role or a proxy target.
func refs(e *entry) iter.Seq[priv.Account] {
	return func(yield func(priv.Account) bool) {
		if e == nil {
			return
		}
		for r := range e.roles {
			if !yield(r) {
				return
			}
		}
		for t := range e.proxies {
			if _, dup := e.roles[t]; !dup && !yield(t) {
				return
			}
		}
	}
}

func holds(e *entry, a priv.Account) bool {
	return e != nil && (hasKey(e.roles, a) || hasKey(e.proxies, a))
}

// reindexHolder records that account a's entry went from old to cur
// (either nil for an account created or deleted).
func reindexHolder(h holderIndex, a priv.Account, old, cur *entry) holderIndex {
	for r := range refs(old) {
		if !holds(cur, r) {
			set, _ := h.get(r)
			if set = set.del(a); set.len() == 0 {
				h = h.del(r)
			} else {
				h = h.set(r, set)
			}
		}
	}
	for r := range refs(cur) {
		if !holds(old, r) {
			set, ok := h.get(r)
			if !ok {
				set = newPmap[priv.Account, struct{}]()
			}
			h = h.set(r, set.set(a, struct{}{}))
		}
	}
	return h
}

// indexAll builds both indexes of a snapshot from its accounts: after
// Load, where every account is new.
func indexAll(users pmap[priv.Account, *entry]) (pmap[string, []*entry], holderIndex) {
	names := map[string][]*entry{}
	held := map[priv.Account][]priv.Account{}
	for a, e := range users.all() {
		names[a.User] = append(names[a.User], e)
		for r := range refs(e) {
			held[r] = append(held[r], a)
		}
	}
	byName := newPmapBuilder[string, []*entry]()
	for name, es := range names {
		sortByHost(es)
		byName.set(name, es)
	}
	heldBy := newPmapBuilder[priv.Account, pmap[priv.Account, struct{}]]()
	for r, as := range held {
		set := newPmapBuilder[priv.Account, struct{}]()
		for _, a := range as {
			set.set(a, struct{}{})
		}
		heldBy.set(r, set.pmap())
	}
	return byName.pmap(), heldBy.pmap()
}

// holders lists the accounts holding a as a role, a default role or a
// proxy target, as the transaction has them: the base's index, checked
// against the accounts changed since, and those changed accounts.
func (tx *Tx) holders(a priv.Account) []priv.Account {
	seen := map[priv.Account]bool{}
	var out []priv.Account
	add := func(x priv.Account) {
		if !seen[x] && refersTo(tx.get(x), a) {
			seen[x] = true
			out = append(out, x)
		}
	}
	if tx.reset {
		// Load replaced every account; the base's index says nothing.
		for x := range tx.users.all() {
			add(x)
		}
		return out
	}
	if set, ok := tx.base.heldBy.get(a); ok {
		for x := range set.all() {
			add(x)
		}
	}
	for x := range tx.touched {
		add(x)
	}
	return out
}
