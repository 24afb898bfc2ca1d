package privilege

import (
	"context"
	"errors"
	"fmt"
	"maps"
	"math/rand/v2"
	"slices"
	"strings"
	"testing"

	"github.com/authplug/authplug/priv"
)

// The model: a naive implementation of account statements that scans
// every account on DROP USER / RENAME USER, compared with the store after
// every transaction; a follower applying the changes (batched, sometimes
// whole) and a restart (Restore of Data) must agree too.

type mAcct struct {
	roles    map[priv.Account]bool
	defaults []priv.Account
	proxies  map[priv.Account]bool
	global   priv.Mask
}

type model map[priv.Account]*mAcct

func (m model) clone() model {
	c := model{}
	for a, x := range m {
		c[a] = &mAcct{roles: maps.Clone(x.roles), defaults: slices.Clone(x.defaults), proxies: maps.Clone(x.proxies), global: x.global}
	}
	return c
}

func (m model) reaches(from, to priv.Account) bool {
	seen := map[priv.Account]bool{}
	var walk func(x priv.Account) bool
	walk = func(x priv.Account) bool {
		if x == to {
			return true
		}
		if seen[x] {
			return false
		}
		seen[x] = true
		if e := m[x]; e != nil {
			for r := range e.roles {
				if walk(r) {
					return true
				}
			}
		}
		return false
	}
	return walk(from)
}

var errM = errors.New("model refuses")

func (m model) do(op int, a, b priv.Account, flag bool) error {
	switch op {
	case 0, 1:
		if m[a] != nil {
			return errM
		}
		m[a] = &mAcct{roles: map[priv.Account]bool{}, proxies: map[priv.Account]bool{}}
	case 2:
		if m[a] == nil {
			return errM
		}
		delete(m, a)
		for _, x := range m {
			delete(x.roles, a)
			delete(x.proxies, a)
			x.defaults = slices.DeleteFunc(x.defaults, func(r priv.Account) bool { return r == a })
		}
	case 3:
		if m[a] == nil || m[b] != nil {
			return errM
		}
		m[b] = m[a]
		delete(m, a)
		for _, x := range m {
			if w, ok := x.roles[a]; ok {
				delete(x.roles, a)
				x.roles[b] = w
			}
			if w, ok := x.proxies[a]; ok {
				delete(x.proxies, a)
				x.proxies[b] = w
			}
			for i, r := range x.defaults {
				if r == a {
					x.defaults[i] = b
				}
			}
		}
	case 4: // GRANT role a TO b
		if m[a] == nil || m[b] == nil || a == b || m.reaches(a, b) {
			return errM
		}
		m[b].roles[a] = m[b].roles[a] || flag
	case 5: // REVOKE a FROM b
		if m[b] == nil {
			return errM
		}
		if _, ok := m[b].roles[a]; !ok {
			return errM
		}
		delete(m[b].roles, a)
		m[b].defaults = slices.DeleteFunc(m[b].defaults, func(r priv.Account) bool { return r == a })
	case 6: // GRANT PROXY ON a TO b
		if m[b] == nil {
			return errM
		}
		m[b].proxies[a] = m[b].proxies[a] || flag
	case 7:
		if m[b] == nil {
			return errM
		}
		if _, ok := m[b].proxies[a]; !ok {
			return errM
		}
		delete(m[b].proxies, a)
	case 8: // SET DEFAULT ROLE ALL TO a
		if m[a] == nil {
			return errM
		}
		rs := slices.SortedFunc(maps.Keys(m[a].roles), compareAccounts)
		m[a].defaults = rs
	case 9: // GRANT SELECT ON *.* TO a
		if m[a] == nil {
			return errM
		}
		m[a].global |= priv.Select
	}
	return nil
}

func (tx *Tx) do(op int, a, b priv.Account, flag bool) error {
	switch op {
	case 0:
		return tx.CreateUser(a, IdentifiedAs("p", ""))
	case 1:
		return tx.CreateRole(a)
	case 2:
		return tx.DropUser(a)
	case 3:
		return tx.RenameUser(a, b)
	case 4:
		return tx.GrantRole(a, b, flag)
	case 5:
		return tx.RevokeRole(a, b)
	case 6:
		return tx.GrantProxy(a, b, flag)
	case 7:
		return tx.RevokeProxy(a, b)
	case 8:
		e := tx.get(a)
		if e == nil {
			return tx.SetDefaultRoles(a, nil)
		}
		return tx.SetDefaultRoles(a, sortedKeys(e.roles))
	case 9:
		return tx.Grant(a, Object{}, priv.Select, false)
	}
	return nil
}

func (m model) String() string {
	var lines []string
	for a, x := range m {
		var rs, ps []string
		for _, r := range slices.SortedFunc(maps.Keys(x.roles), compareAccounts) {
			rs = append(rs, fmt.Sprintf("%s/%v", r, x.roles[r]))
		}
		for _, p := range slices.SortedFunc(maps.Keys(x.proxies), compareAccounts) {
			ps = append(ps, fmt.Sprintf("%s/%v", p, x.proxies[p]))
		}
		var ds []string
		for _, d := range x.defaults {
			ds = append(ds, d.String())
		}
		lines = append(lines, fmt.Sprintf("%s g=%d roles=%v defaults=%v proxies=%v", a, x.global, rs, ds, ps))
	}
	slices.Sort(lines)
	return strings.Join(lines, "\n")
}

func snapModel(s *Snapshot) string {
	m := model{}
	for a, e := range s.users.all() {
		x := &mAcct{roles: maps.Clone(e.roles), defaults: slices.Clone(e.defaultRoles), proxies: maps.Clone(e.proxies), global: e.grants.global}
		if x.roles == nil {
			x.roles = map[priv.Account]bool{}
		}
		if x.proxies == nil {
			x.proxies = map[priv.Account]bool{}
		}
		m[a] = x
	}
	return m.String()
}

// TestModelFollowerRestart runs random account statements on a store, a
// follower applying its changes, and a naive model, and checks after every
// transaction that the three agree, and a restart too.
func TestModelFollowerRestart(t *testing.T) {
	for seed := range uint64(10) {
		modelRun(t, seed)
	}
}

func modelRun(t *testing.T, seed uint64) {
	rng := rand.New(rand.NewPCG(seed, 99))
	var names []priv.Account
	for _, u := range []string{"a", "b", "c", "d"} {
		for _, h := range []string{"%", "h"} {
			names = append(names, priv.Account{User: u, Host: h})
		}
	}
	pick := func() priv.Account { return names[rng.IntN(len(names))] }
	var changes []Change
	s := NewMemStore(WithJournal(func(_ context.Context, c Change) error {
		changes = append(changes, c)
		return nil
	}))
	follower := NewMemStore()
	var pending []Change
	m := model{}
	var upto int64
	var log []string
	ok := 0
	defer func() { t.Logf("seed %d: %d committed", seed, ok) }()
	for round := range 2000 {
		changes = changes[:0]
		mm := m.clone()
		var steps []string
		abandon := rng.IntN(12) == 0
		err := s.Update(func(tx *Tx) error {
			for range 1 + rng.IntN(6) {
				op, a, b, flag := rng.IntN(10), pick(), pick(), rng.IntN(2) == 0
				errT := tx.do(op, a, b, flag)
				errMo := mm.do(op, a, b, flag)
				steps = append(steps, fmt.Sprintf("op%d(%s,%s,%v)=%v", op, a, b, flag, errT))
				if (errT == nil) != (errMo == nil) {
					return fmt.Errorf("divergence at %s: store %v, model %v", steps[len(steps)-1], errT, errMo)
				}
				if errT != nil && rng.IntN(4) == 0 {
					// statement fails: whole tx abandoned, as a statement would be
					return errT
				}
			}
			if abandon {
				return errors.New("abandoned")
			}
			return nil
		})
		if err != nil && strings.Contains(err.Error(), "divergence") {
			t.Fatalf("seed %d round %d: %v\nhistory:\n%s", seed, round, err, strings.Join(log, "\n"))
		}
		if err == nil {
			m = mm
			ok++
			log = append(log, strings.Join(steps, "; "))
		}
		if got, want := snapModel(s.Snapshot()), m.String(); got != want {
			t.Fatalf("seed %d round %d: store != model\nstore:\n%s\nmodel:\n%s\nhistory:\n%s", seed, round, got, want, strings.Join(log, "\n"))
		}
		pending = append(pending, changes...)
		// The follower catches up now and then, several changes at once
		// (the latest data of each account, as grantstore.since reads).
		if rng.IntN(3) == 0 && len(pending) > 0 {
			upto++
			latest := map[priv.Account]*AccountData{}
			for _, c := range pending {
				for _, ac := range c.Accounts {
					latest[ac.Account] = ac.Data
				}
			}
			cu := Catchup{Upto: upto}
			if rng.IntN(8) == 0 {
				cu.Full = true
				for _, ad := range s.Snapshot().Data().Accounts {
					cu.Accounts = append(cu.Accounts, AccountChange{Account: ad.Account, Data: &ad})
				}
			} else {
				// grantstore reads the accounts as they are now, in no
				// particular order.
				keys := slices.Collect(maps.Keys(latest))
				rng.Shuffle(len(keys), func(i, j int) { keys[i], keys[j] = keys[j], keys[i] })
				for _, a := range keys {
					ad, ok := s.Snapshot().Account(a)
					ac := AccountChange{Account: a}
					if ok {
						ac.Data = &ad
					}
					cu.Accounts = append(cu.Accounts, ac)
				}
			}
			follower.mu.Lock()
			err := follower.apply(cu)
			follower.mu.Unlock()
			if err != nil {
				t.Fatalf("seed %d round %d: follower: %v\nhistory:\n%s", seed, round, err, strings.Join(log, "\n"))
			}
			pending = nil
			if got, want := snapModel(follower.Snapshot()), m.String(); got != want {
				t.Fatalf("seed %d round %d: follower != model\nfollower:\n%s\nmodel:\n%s\nhistory:\n%s", seed, round, got, want, strings.Join(log, "\n"))
			}
			fs := follower.Snapshot()
			byName, heldBy := indexAll(fs.users)
			if fmt.Sprint(flatNames(byName)) != fmt.Sprint(flatNames(fs.byName)) || fmt.Sprint(flatHolders(heldBy)) != fmt.Sprint(flatHolders(fs.heldBy)) {
				t.Fatalf("seed %d round %d: follower indexes differ", seed, round)
			}
		}
		if rng.IntN(20) == 0 {
			r := NewMemStore()
			if err := r.Restore(s.Snapshot().Data()); err != nil {
				t.Fatalf("seed %d round %d: restore: %v\nhistory:\n%s", seed, round, err, strings.Join(log, "\n"))
			}
			if got, want := snapModel(r.Snapshot()), m.String(); got != want {
				t.Fatalf("seed %d round %d: restart != model\nrestart:\n%s\nmodel:\n%s", seed, round, got, want)
			}
		}
	}
}
