package privilege_test

import (
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/authplug/authplug/priv"
	"github.com/authplug/authplug/privilege"
)

// An account's ID is made by CREATE USER and kept by everything that
// changes the same account, saving and loading included; an account made
// again under the same name gets another.
func TestAccountIDs(t *testing.T) {
	s := privilege.NewMemStore()
	u, v := priv.Account{User: "u", Host: "%"}, priv.Account{User: "v", Host: "%"}
	id := func(a priv.Account) int64 {
		t.Helper()
		row, ok := s.Snapshot().User(a)
		require.True(t, ok, "%s exists", a)
		return row.ID
	}
	do := func(fn func(tx *privilege.Tx) error) {
		t.Helper()
		require.NoError(t, s.Update(fn))
	}
	do(func(tx *privilege.Tx) error { return tx.CreateUser(u, privilege.IdentifiedAs("p", "")) })
	first := id(u)
	assert.Positive(t, first)

	do(func(tx *privilege.Tx) error { return tx.AlterUser(u, privilege.AccountLock(true)) })
	do(func(tx *privilege.Tx) error { return tx.Grant(u, privilege.Object{DB: "d"}, priv.Select, false) })
	assert.Equal(t, first, id(u), "ALTER USER and GRANT keep the account")

	do(func(tx *privilege.Tx) error { return tx.RenameUser(u, v) })
	assert.Equal(t, first, id(v), "RENAME USER keeps the account")

	do(func(tx *privilege.Tx) error { return tx.CreateUser(u, privilege.IdentifiedAs("p", "")) })
	assert.NotEqual(t, first, id(u), "an account created again under the name is another")

	d := s.Snapshot().Data()
	loaded := privilege.NewMemStore()
	require.NoError(t, loaded.Restore(d))
	assert.Equal(t, d, loaded.Snapshot().Data(), "IDs are saved and loaded")

	// Rows saved without an ID (before accounts had one, or by an older
	// release on a shared store): an account loaded already keeps its ID,
	// and a new one gets the same ID on every front end that reads it.
	kept := loaded.Snapshot().Data()
	for i := range d.Accounts {
		d.Accounts[i].ID = 0
	}
	require.NoError(t, loaded.Restore(d))
	assert.Equal(t, kept, loaded.Snapshot().Data(), "IDs kept when the rows lose them")
	one, other := privilege.NewMemStore(), privilege.NewMemStore()
	require.NoError(t, one.Restore(d))
	require.NoError(t, other.Restore(d))
	for _, row := range one.Snapshot().Users() {
		assert.Positive(t, row.ID, "%s loaded without an ID gets one", row.Account)
	}
	assert.Equal(t, one.Snapshot().Data(), other.Snapshot().Data(), "two front ends reading rows without IDs agree")
}
