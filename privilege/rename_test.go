package privilege_test

import (
	"errors"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/authplug/authplug/mysqlerr"
	"github.com/authplug/authplug/plugintest"
	"github.com/authplug/authplug/priv"
	"github.com/authplug/authplug/privilege"
)

var (
	view    = privilege.DefinedObject{Kind: privilege.KindView, DB: "d", Name: "v"}
	trigger = privilege.DefinedObject{Kind: privilege.KindTrigger, DB: "d", Name: "tr"}
)

// renameFixture: alice holds grants, a role (WITH ADMIN, as default), may
// act as bob, may be acted as by gateway, and defines a view; bob defines a
// trigger.
func renameFixture(t *testing.T) *plugintest.Kit {
	t.Helper()
	k := plugintest.New(t)
	k.Must(func(tx *privilege.Tx) error {
		tx.SetDefiner(view, privilege.Definer{Account: alice})
		tx.SetDefiner(trigger, privilege.Definer{Account: bob, Invoker: true})
		return errors.Join(
			tx.CreateUser(alice, privilege.IdentifiedBy(native, "pw"), privilege.RequireSSL(false)),
			tx.CreateUser(bob, privilege.IdentifiedBy(native, "pw")),
			tx.CreateUser(gateway, privilege.IdentifiedBy(native, "pw")),
			tx.CreateRole(analyst),
			tx.Grant(analyst, privilege.Object{DB: "sales"}, priv.Select, false),
			tx.Grant(alice, privilege.Object{DB: "d"}, priv.Select|priv.Insert, false),
			tx.Grant(alice, privilege.Object{DB: "d", Table: "t", Column: "c"}, priv.Update, true),
			tx.GrantDynamic(alice, "BACKUP_ADMIN", true),
			tx.GrantRole(analyst, alice, true),
			tx.SetDefaultRoles(alice, []priv.Account{analyst}),
			tx.GrantProxy(bob, alice, true),
			tx.GrantProxy(alice, gateway, false),
		)
	})
	return k
}

func TestRenameUserMovesEverything(t *testing.T) {
	k := renameFixture(t)
	published := k.Manager.Snapshot()
	old, _ := published.Account(alice)
	alice2 := priv.Account{User: "alice2", Host: "localhost"}
	k.Must(func(tx *privilege.Tx) error { return tx.RenameUser(alice, alice2) })
	again, _ := published.Account(alice)
	assert.Equal(t, old, again, "a published snapshot is never changed")
	assert.True(t, published.CanProxy(gateway, alice))
	d, _ := published.Definer(view)
	assert.Equal(t, alice, d.Account)

	snap := k.Manager.Snapshot()
	_, ok := snap.User(alice)
	assert.False(t, ok, "the old name is gone")
	got, ok := snap.Account(alice2)
	require.True(t, ok)
	want := old
	want.Account = alice2
	assert.Equal(t, want, got, "row, grants, roles, default roles and proxies move")
	assert.True(t, snap.CanProxy(gateway, alice2), "a proxy grant naming it follows")
	assert.False(t, snap.CanProxy(gateway, alice))
	d, _ = snap.Definer(view)
	assert.Equal(t, alice2, d.Account, "its definer records follow")
	d, _ = snap.Definer(trigger)
	assert.Equal(t, privilege.Definer{Account: bob, Invoker: true}, d, "others' stay")
	assert.Equal(t, 4, snap.Len())

	// Logins find the new name at its new host, with the default role.
	s, err := k.Login("alice2", plugintest.Password("pw"))
	require.NoError(t, err)
	assert.Equal(t, alice2, s.AuthenticatedAccount())
	assert.NoError(t, s.RequestVerification("d", "t", "", priv.Insert))
	assert.NoError(t, s.RequestVerification("sales", "x", "", priv.Select))
	assert.NoError(t, s.CanImpersonate(bob))
	_, err = k.Login("alice2", plugintest.Password("pw"), plugintest.FromIP("10.0.0.9"))
	assert.Error(t, err, "'localhost' only")
	_, err = k.Login("alice", plugintest.Password("pw"))
	assert.Error(t, err)
}

func TestRenameUserRefusals(t *testing.T) {
	k := renameFixture(t)
	before := k.Manager.Snapshot().Data()
	for name, tc := range map[string]struct{ from, to priv.Account }{
		"no such account": {writer, plugintest.Account("w2")},
		"target exists":   {alice, bob},
		"onto itself":     {alice, alice},
	} {
		err := k.Exec(func(tx *privilege.Tx) error { return tx.RenameUser(tc.from, tc.to) })
		var me *mysqlerr.Error
		require.ErrorAs(t, err, &me, name)
		assert.Equal(t, uint16(1396), me.Code, name)
		assert.Equal(t, "Operation RENAME USER failed for "+tc.from.String(), me.Message, name)
	}
	assert.Equal(t, before, k.Manager.Snapshot().Data(), "nothing changed")
}

func TestRenamedRoleStaysHeld(t *testing.T) {
	k := renameFixture(t)
	analysts := plugintest.Account("analysts")
	k.Must(func(tx *privilege.Tx) error { return tx.RenameUser(analyst, analysts) })
	snap := k.Manager.Snapshot()
	assert.Equal(t, []priv.Account{analysts}, snap.GrantedRoles(alice))
	assert.Equal(t, []priv.Account{analysts}, snap.DefaultRoles(alice))
	ad, _ := snap.Account(alice)
	assert.Equal(t, []privilege.RoleGrant{{Role: analysts, WithAdmin: true}}, ad.Roles, "WITH ADMIN OPTION is kept")
	s := login(t, k, "alice")
	assert.NoError(t, s.RequestVerification("sales", "x", "", priv.Select))
	assert.NoError(t, s.SetActiveRoles([]priv.Account{analysts}))
}

func TestOldNameCanBeCreatedAfresh(t *testing.T) {
	k := renameFixture(t)
	k.Must(func(tx *privilege.Tx) error {
		return tx.AlterUser(alice, privilege.FailedLoginLock(2, -1))
	})
	for range 2 {
		_, err := k.Login("alice", plugintest.Password("bad"))
		require.Error(t, err)
	}
	_, err := k.Login("alice", plugintest.Password("pw"))
	require.Error(t, err, "alice is blocked")

	alice2 := plugintest.Account("alice2")
	analysts := plugintest.Account("analysts")
	k.Must(func(tx *privilege.Tx) error {
		return errors.Join(tx.RenameUser(alice, alice2), tx.RenameUser(analyst, analysts))
	})
	k.Must(func(tx *privilege.Tx) error {
		return errors.Join(
			tx.CreateUser(alice, privilege.IdentifiedBy(native, "pw"), privilege.FailedLoginLock(2, -1)),
			tx.CreateRole(analyst),
		)
	})
	snap := k.Manager.Snapshot()
	fresh, _ := snap.Account(alice)
	assert.Empty(t, fresh.Grants)
	assert.Empty(t, fresh.Dynamic)
	assert.Empty(t, fresh.Roles)
	assert.Empty(t, fresh.DefaultRoles)
	assert.Empty(t, fresh.Proxies)
	assert.False(t, snap.CanProxy(gateway, alice), "the new alice is not impersonable through the old grant")
	d, _ := snap.Definer(view)
	assert.Equal(t, alice2, d.Account, "nor does it define the old alice's view")
	assert.Equal(t, []priv.Account{analysts}, snap.GrantedRoles(alice2), "the new analyst role is granted to no one")

	s, err := k.Login("alice", plugintest.Password("pw"))
	require.NoError(t, err, "the old account's failed logins do not block the new one")
	assert.Error(t, s.RequestVerification("d", "t", "", priv.Select))
	_, err = k.Login("alice2", plugintest.Password("pw"))
	assert.NoError(t, err, "the renamed account counts failed logins afresh, as after any ALTER USER")
}
