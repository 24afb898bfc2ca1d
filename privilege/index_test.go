package privilege

import (
	"context"
	"fmt"
	"math/rand/v2"
	"slices"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/authplug/authplug/priv"
)

// TestIndexesFollowChanges runs random account statements, a few per
// transaction, and checks after each commit that the indexes a change
// updates in place (accounts by name, holders of roles and proxy targets)
// are those built from scratch, and that the change reported is what
// differs between the two snapshots.
func TestIndexesFollowChanges(t *testing.T) {
	rng := rand.New(rand.NewPCG(1, 2))
	var names []priv.Account
	for _, u := range []string{"a", "b", "c", ""} {
		for _, h := range []string{"%", "localhost", "10.%"} {
			names = append(names, priv.Account{User: u, Host: h})
		}
	}
	pick := func() priv.Account { return names[rng.IntN(len(names))] }
	var changes []Change
	s := NewMemStore(WithJournal(func(_ context.Context, c Change) error {
		changes = append(changes, c)
		return nil
	}))
	for round := range 3000 {
		before := s.Snapshot()
		changes = changes[:0]
		_ = s.Update(func(tx *Tx) error {
			for range 1 + rng.IntN(3) {
				a, b := pick(), pick()
				switch rng.IntN(9) {
				case 0, 1:
					_ = tx.CreateUser(a, IdentifiedAs("p", ""))
				case 2:
					_ = tx.DropUser(a)
				case 3:
					_ = tx.RenameUser(a, b)
				case 4:
					_ = tx.GrantRole(a, b, rng.IntN(2) == 0)
				case 5:
					_ = tx.RevokeRole(a, b)
				case 6:
					_ = tx.GrantProxy(a, b, false)
				case 7:
					_ = tx.RevokeProxy(a, b)
				case 8:
					_ = tx.SetDefaultRoles(a, tx.GrantedRoles(a))
				}
			}
			if rng.IntN(10) == 0 {
				return fmt.Errorf("abandoned")
			}
			return nil
		})
		after := s.Snapshot()
		byName, heldBy := indexAll(after.users)
		require.Equal(t, flatNames(byName), flatNames(after.byName), "round %d: accounts by name", round)
		require.Equal(t, flatHolders(heldBy), flatHolders(after.heldBy), "round %d: holders", round)
		for a, e := range after.users.all() {
			for r := range e.roles {
				require.NotNil(t, after.entry(r), "round %d: %s holds role %s, which does not exist", round, a, r)
			}
			for _, r := range e.defaultRoles {
				require.Contains(t, e.roles, r, "round %d: %s has default role %s, not granted", round, a, r)
			}
		}
		if after == before {
			continue
		}
		// Every account that differs is reported, with its new data; an
		// account copied and left as it was may be reported too.
		reported := map[priv.Account]bool{}
		for _, c := range changes {
			for _, ac := range c.Accounts {
				reported[ac.Account] = true
				ad, ok := after.Account(ac.Account)
				if !ok {
					require.Nil(t, ac.Data, "round %d: %s reported with data, but deleted", round, ac.Account)
					continue
				}
				require.NotNil(t, ac.Data, "round %d: %s reported deleted", round, ac.Account)
				require.Equal(t, ad, *ac.Data, "round %d: %s reported with other data", round, ac.Account)
			}
		}
		for _, a := range diff(before, after) {
			require.True(t, reported[a], "round %d: %s changed but not reported", round, a)
		}
	}
}

func flatNames(p pmap[string, []*entry]) map[string][]priv.Account {
	out := map[string][]priv.Account{}
	for name, es := range p.all() {
		for _, e := range es {
			out[name] = append(out[name], e.user.Account)
		}
	}
	return out
}

func flatHolders(p holderIndex) map[priv.Account][]priv.Account {
	out := map[priv.Account][]priv.Account{}
	for r, set := range p.all() {
		for a := range set.all() {
			out[r] = append(out[r], a)
		}
		slices.SortFunc(out[r], compareAccounts)
	}
	return out
}

// diff lists the accounts whose data differs between two snapshots.
func diff(before, after *Snapshot) []priv.Account {
	var out []priv.Account
	seen := map[priv.Account]bool{}
	for _, s := range []*Snapshot{before, after} {
		for a := range s.users.all() {
			if seen[a] {
				continue
			}
			seen[a] = true
			x, okx := before.Account(a)
			y, oky := after.Account(a)
			if okx != oky || fmt.Sprint(x) != fmt.Sprint(y) {
				out = append(out, a)
			}
		}
	}
	slices.SortFunc(out, compareAccounts)
	return out
}
