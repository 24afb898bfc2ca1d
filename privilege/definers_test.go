package privilege_test

import (
	"encoding/json"
	"errors"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/authplug/authplug/priv"
	"github.com/authplug/authplug/privilege"
)

func TestDefinersAreKeptWithTheGrants(t *testing.T) {
	s := privilege.NewMemStore()
	root := priv.Account{User: "root", Host: "localhost"}
	v := privilege.DefinedObject{Kind: privilege.KindView, DB: "Shop", Name: "V_Items"}
	tr := privilege.DefinedObject{Kind: privilege.KindTrigger, DB: "shop", Name: "audit"}
	other := privilege.DefinedObject{Kind: privilege.KindRoutine, DB: "hr", Name: "p"}
	require.NoError(t, s.Update(func(tx *privilege.Tx) error {
		tx.SetDefiner(v, privilege.Definer{Account: root})
		tx.SetDefiner(tr, privilege.Definer{Account: root, Invoker: true})
		tx.SetDefiner(other, privilege.Definer{Account: root})
		return nil
	}))
	snap := s.Snapshot()
	d, ok := snap.Definer(privilege.DefinedObject{Kind: privilege.KindView, DB: "shop", Name: "v_items"})
	require.True(t, ok, "names are compared case-insensitively")
	assert.Equal(t, privilege.Definer{Account: root}, d)
	_, ok = snap.Definer(privilege.DefinedObject{Kind: privilege.KindTrigger, DB: "shop", Name: "v_items"})
	assert.False(t, ok, "the kind is part of the name")

	// A failed change leaves the published records alone.
	err := s.Update(func(tx *privilege.Tx) error {
		tx.DropDefinersIn("shop")
		return errors.New("no")
	})
	require.Error(t, err)
	_, ok = s.Snapshot().Definer(tr)
	assert.True(t, ok)

	// Saved and loaded with the grants.
	b, err := json.Marshal(s.Snapshot().Data())
	require.NoError(t, err)
	var data privilege.Data
	require.NoError(t, json.Unmarshal(b, &data))
	loaded := privilege.NewMemStore()
	require.NoError(t, loaded.Update(func(tx *privilege.Tx) error { return tx.Load(data) }))
	d, ok = loaded.Snapshot().Definer(tr)
	require.True(t, ok)
	assert.True(t, d.Invoker)

	require.NoError(t, loaded.Update(func(tx *privilege.Tx) error { tx.DropDefinersIn("SHOP"); return nil }))
	_, ok = loaded.Snapshot().Definer(v)
	assert.False(t, ok)
	_, ok = loaded.Snapshot().Definer(other)
	assert.True(t, ok, "other databases keep theirs")
}
