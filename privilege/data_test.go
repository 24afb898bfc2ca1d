package privilege_test

import (
	"encoding/json"
	"errors"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/authplug/authplug/plugintest"
	"github.com/authplug/authplug/priv"
	"github.com/authplug/authplug/privilege"
)

func TestDataRoundTrip(t *testing.T) {
	k := plugintest.New(t)
	k.Must(func(tx *privilege.Tx) error {
		return errors.Join(
			tx.CreateUser(alice, privilege.IdentifiedBy(native, "pw"), privilege.FailedLoginLock(3, -1), privilege.RequireSSL(true)),
			tx.CreateUser(gateway, privilege.IdentifiedBy(native, "pw")),
			tx.CreateRole(analyst),
			tx.Grant(alice, privilege.Object{}, priv.Select, true),
			tx.Grant(alice, privilege.Object{DB: "d"}, priv.Insert, false),
			tx.Grant(alice, privilege.Object{DB: "d", Table: "t"}, priv.Update, false),
			tx.Grant(alice, privilege.Object{DB: "d", Table: "t", Column: "c"}, priv.References, false),
			tx.GrantDynamic(alice, "BACKUP_ADMIN", true),
			tx.Grant(analyst, privilege.Object{DB: "sales"}, priv.Select, false),
			tx.GrantRole(analyst, alice, true),
			tx.SetDefaultRoles(alice, []priv.Account{analyst}),
			tx.GrantProxy(alice, gateway, false),
		)
	})
	want := k.Manager.Snapshot().Data()
	b, err := json.Marshal(want)
	require.NoError(t, err)
	assert.Contains(t, string(b), `"privs":["SELECT","GRANT OPTION"]`, "privileges are stored by name")

	var got privilege.Data
	require.NoError(t, json.Unmarshal(b, &got))
	fresh := privilege.NewMemStore()
	require.NoError(t, fresh.Update(func(tx *privilege.Tx) error { return tx.Load(got) }))
	assert.Equal(t, want, fresh.Snapshot().Data())
	assert.True(t, fresh.Snapshot().CanProxy(gateway, alice))
}

func TestLoadRefusesBrokenData(t *testing.T) {
	cases := map[string]privilege.Data{
		"wrong version": {Version: 99},
		"role that does not exist": {Version: privilege.DataVersion, Accounts: []privilege.AccountData{{
			User:  privilege.User{Account: alice, Plugin: native},
			Roles: []privilege.RoleGrant{{Role: analyst}},
		}}},
		"privilege at the wrong level": {Version: privilege.DataVersion, Accounts: []privilege.AccountData{{
			User:   privilege.User{Account: alice, Plugin: native},
			Grants: []privilege.GrantData{{Object: privilege.Object{DB: "d"}, Privs: priv.Super}},
		}}},
	}
	for name, d := range cases {
		s := privilege.NewMemStore()
		err := s.Update(func(tx *privilege.Tx) error { return tx.Load(d) })
		assert.Error(t, err, name)
		assert.Zero(t, s.Snapshot().Len(), "%s: nothing is loaded", name)
	}
	var m priv.Mask
	assert.Error(t, json.Unmarshal([]byte(`["SELECT","FLY"]`), &m))
}

func TestFailedSaveLeavesTheOldSnapshot(t *testing.T) {
	fail := false
	saved := 0
	s := privilege.NewMemStore(privilege.WithPersist(func(*privilege.Snapshot) error {
		if fail {
			return errors.New("disk full")
		}
		saved++
		return nil
	}))
	require.NoError(t, s.Update(func(tx *privilege.Tx) error {
		return tx.CreateUser(alice, privilege.IdentifiedAs(native, ""))
	}))
	before := s.Snapshot()
	fail = true
	err := s.Update(func(tx *privilege.Tx) error { return tx.Grant(alice, privilege.Object{}, priv.Select, false) })
	assert.ErrorContains(t, err, "disk full")
	assert.Same(t, before, s.Snapshot(), "a change that could not be saved is not published")
	assert.Equal(t, 1, saved)
}
