package privilege_test

import (
	"context"
	"errors"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/authplug/authplug/priv"
	"github.com/authplug/authplug/privilege"
)

// journaled is a MemStore whose every change is recorded.
type journaled struct {
	*privilege.MemStore
	changes []privilege.Change
	fail    error
}

func newJournaled(t *testing.T) *journaled {
	t.Helper()
	j := &journaled{}
	j.MemStore = privilege.NewMemStore(privilege.WithJournal(func(_ context.Context, c privilege.Change) error {
		if j.fail != nil {
			return j.fail
		}
		j.changes = append(j.changes, c)
		return nil
	}))
	return j
}

// do runs fn and returns the one change it journaled.
func (j *journaled) do(t *testing.T, fn func(tx *privilege.Tx) error) privilege.Change {
	t.Helper()
	n := len(j.changes)
	require.NoError(t, j.Update(fn))
	require.Len(t, j.changes, n+1, "one change journaled")
	return j.changes[n]
}

func cred() privilege.Credential { return privilege.IdentifiedAs(native, "") }

// changed lists the accounts a change names, with whether each was
// deleted.
func changed(c privilege.Change) map[priv.Account]bool {
	out := map[priv.Account]bool{}
	for _, ac := range c.Accounts {
		out[ac.Account] = ac.Data == nil
	}
	return out
}

// data is the account's data in the change; the test fails if it is not
// there as a write.
func data(t *testing.T, c privilege.Change, a priv.Account) privilege.AccountData {
	t.Helper()
	for _, ac := range c.Accounts {
		if ac.Account == a {
			require.NotNil(t, ac.Data, "%s deleted", a)
			return *ac.Data
		}
	}
	t.Fatalf("%s not in the change %+v", a, c)
	return privilege.AccountData{}
}

func TestChangeListsOnlyWhatChanged(t *testing.T) {
	j := newJournaled(t)
	c := j.do(t, func(tx *privilege.Tx) error {
		return errors.Join(tx.CreateUser(alice, cred()), tx.CreateUser(bob, cred()), tx.CreateRole(analyst), tx.CreateUser(gateway, cred()))
	})
	assert.Equal(t, map[priv.Account]bool{alice: false, bob: false, analyst: false, gateway: false}, changed(c))
	assert.True(t, data(t, c, analyst).Locked)

	c = j.do(t, func(tx *privilege.Tx) error {
		return tx.Grant(alice, privilege.Object{DB: "d", Table: "t", Column: "c"}, priv.Update, true)
	})
	assert.Equal(t, map[priv.Account]bool{alice: false}, changed(c), "a grant changes its grantee only")
	assert.Equal(t, []privilege.GrantData{
		{Object: privilege.Object{DB: "d", Table: "t"}, Privs: priv.GrantOption},
		{Object: privilege.Object{DB: "d", Table: "t", Column: "c"}, Privs: priv.Update},
	}, data(t, c, alice).Grants, "the account's whole data, not the difference")

	c = j.do(t, func(tx *privilege.Tx) error { return tx.GrantDynamic(bob, "backup_admin", false) })
	assert.Equal(t, []privilege.DynamicGrant{{Name: "BACKUP_ADMIN"}}, data(t, c, bob).Dynamic)

	c = j.do(t, func(tx *privilege.Tx) error {
		return tx.Revoke(alice, privilege.Object{DB: "d", Table: "t", Column: "c"}, priv.Update)
	})
	assert.Equal(t, map[priv.Account]bool{alice: false}, changed(c))

	// The edge is the grantee's: the role itself is not changed.
	c = j.do(t, func(tx *privilege.Tx) error {
		return errors.Join(tx.GrantRole(analyst, alice, true), tx.SetDefaultRoles(alice, []priv.Account{analyst}))
	})
	assert.Equal(t, map[priv.Account]bool{alice: false}, changed(c))
	assert.Equal(t, []privilege.RoleGrant{{Role: analyst, WithAdmin: true}}, data(t, c, alice).Roles)
	assert.Equal(t, []priv.Account{analyst}, data(t, c, alice).DefaultRoles)

	c = j.do(t, func(tx *privilege.Tx) error { return tx.GrantProxy(bob, gateway, true) })
	assert.Equal(t, []privilege.ProxyGrant{{Target: bob, WithGrant: true}}, data(t, c, gateway).Proxies)

	c = j.do(t, func(tx *privilege.Tx) error { return tx.AlterUser(bob, privilege.PasswordExpireNow()) })
	assert.Equal(t, map[priv.Account]bool{bob: false}, changed(c))
	assert.True(t, data(t, c, bob).PasswordExpired)
}

func TestChangeOfDropUserIncludesTheAccountsThatReferredToIt(t *testing.T) {
	j := newJournaled(t)
	j.do(t, func(tx *privilege.Tx) error {
		return errors.Join(tx.CreateUser(alice, cred()), tx.CreateUser(bob, cred()), tx.CreateRole(analyst), tx.CreateUser(gateway, cred()),
			tx.GrantRole(analyst, alice, false), tx.SetDefaultRoles(alice, []priv.Account{analyst}),
			tx.GrantProxy(analyst, gateway, false))
	})
	c := j.do(t, func(tx *privilege.Tx) error { return tx.DropUser(analyst) })
	assert.Equal(t, map[priv.Account]bool{analyst: true, alice: false, gateway: false}, changed(c))
	assert.Empty(t, data(t, c, alice).Roles)
	assert.Empty(t, data(t, c, alice).DefaultRoles)
	assert.Empty(t, data(t, c, gateway).Proxies)
}

func TestChangeOfRenameUserIsDeleteAndWrite(t *testing.T) {
	j := newJournaled(t)
	view := privilege.DefinedObject{Kind: privilege.KindView, DB: "D", Name: "V"}
	j.do(t, func(tx *privilege.Tx) error {
		tx.SetDefiner(view, privilege.Definer{Account: alice})
		return errors.Join(tx.CreateUser(alice, cred()), tx.CreateUser(gateway, cred()), tx.CreateUser(bob, cred()),
			tx.Grant(alice, privilege.Object{DB: "d"}, priv.Select, false), tx.GrantProxy(alice, gateway, false))
	})
	alice2 := priv.Account{User: "alice2", Host: "%"}
	c := j.do(t, func(tx *privilege.Tx) error { return tx.RenameUser(alice, alice2) })
	assert.Equal(t, map[priv.Account]bool{alice: true, alice2: false, gateway: false}, changed(c))
	assert.Equal(t, alice2, data(t, c, alice2).Account)
	assert.Equal(t, []privilege.GrantData{{Object: privilege.Object{DB: "d"}, Privs: priv.Select}}, data(t, c, alice2).Grants)
	assert.Equal(t, []privilege.ProxyGrant{{Target: alice2}}, data(t, c, gateway).Proxies)
	key := privilege.DefinedObject{Kind: privilege.KindView, DB: "d", Name: "v"}
	assert.Equal(t, []privilege.DefinerChange{{Object: key, Definer: &privilege.Definer{Account: alice2}}}, c.Definers)
}

func TestChangeOfDefiners(t *testing.T) {
	j := newJournaled(t)
	v1 := privilege.DefinedObject{Kind: privilege.KindView, DB: "d", Name: "v1"}
	v2 := privilege.DefinedObject{Kind: privilege.KindView, DB: "d", Name: "v2"}
	r := privilege.DefinedObject{Kind: privilege.KindRoutine, DB: "e", Name: "r"}
	c := j.do(t, func(tx *privilege.Tx) error {
		tx.SetDefiner(v1, privilege.Definer{Account: alice})
		tx.SetDefiner(v2, privilege.Definer{Account: bob, Invoker: true})
		tx.SetDefiner(r, privilege.Definer{Account: bob})
		return nil
	})
	assert.Empty(t, c.Accounts)
	assert.Len(t, c.Definers, 3)

	c = j.do(t, func(tx *privilege.Tx) error {
		tx.DropDefinersIn("D")
		tx.SetDefiner(v1, privilege.Definer{Account: alice}) // as it was: not a change
		return nil
	})
	assert.Equal(t, []privilege.DefinerChange{{Object: v2}}, c.Definers)
}

func TestNoChangeNoJournal(t *testing.T) {
	j := newJournaled(t)
	require.NoError(t, j.Update(func(*privilege.Tx) error { return nil }))
	// Created and dropped in one transaction: nothing to save.
	require.NoError(t, j.Update(func(tx *privilege.Tx) error {
		return errors.Join(tx.CreateUser(alice, cred()), tx.DropUser(alice))
	}))
	assert.Empty(t, j.changes)
}

func TestJournalErrorAbandonsTheChange(t *testing.T) {
	j := newJournaled(t)
	j.do(t, func(tx *privilege.Tx) error { return tx.CreateUser(alice, cred()) })
	before := j.Snapshot()
	j.fail = errors.New("disk full")
	err := j.Update(func(tx *privilege.Tx) error { return tx.Grant(alice, privilege.Object{}, priv.Select, false) })
	require.ErrorIs(t, err, j.fail)
	assert.Same(t, before, j.Snapshot(), "memory stays as it was")
}

func TestRestoreIsNotJournaled(t *testing.T) {
	src := newJournaled(t)
	src.do(t, func(tx *privilege.Tx) error {
		return errors.Join(tx.CreateUser(alice, cred()), tx.Grant(alice, privilege.Object{DB: "d"}, priv.Select, false))
	})
	j := newJournaled(t)
	require.NoError(t, j.Restore(src.Snapshot().Data()))
	assert.Empty(t, j.changes)
	assert.Equal(t, src.Snapshot().Data(), j.Snapshot().Data())

	bad := privilege.Data{Version: privilege.DataVersion + 1}
	require.Error(t, j.Restore(bad))
	assert.Equal(t, 1, j.Snapshot().Len(), "a failed Restore changes nothing")
}
