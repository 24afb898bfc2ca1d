package server

import (
	"encoding/json"
	"errors"
	"os"
	"path/filepath"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/authplug/authplug/authplugin"
	"github.com/authplug/authplug/priv"
	"github.com/authplug/authplug/privilege"
)

var (
	alice = priv.Account{User: "alice", Host: "%"}
	bob   = priv.Account{User: "bob", Host: "%"}
)

func newTestServer(t *testing.T, dir string) (*Server, error) {
	t.Helper()
	s, err := New(Config{Addr: "127.0.0.1:0", DataDir: dir, RootPassword: "pw"})
	if err == nil {
		t.Cleanup(func() { s.Close() })
	}
	return s, err
}

// writeLegacyJSON writes the grants.json an earlier release kept: alice
// with a grant, and no root.
func writeLegacyJSON(t *testing.T, dir string) privilege.Data {
	t.Helper()
	m := privilege.NewMemStore()
	require.NoError(t, m.Update(func(tx *privilege.Tx) error {
		tx.SetDefiner(privilege.DefinedObject{Kind: privilege.KindView, DB: "d", Name: "v"}, privilege.Definer{Account: alice})
		return errors.Join(
			tx.CreateUser(alice, privilege.IdentifiedAs(authplugin.NativePasswordName, "*A4B6157319038724E3560894F7F932C8886EBFCF")),
			tx.Grant(alice, privilege.Object{DB: "d"}, priv.Select, true),
		)
	}))
	d := m.Snapshot().Data()
	b, err := json.Marshal(d)
	require.NoError(t, err)
	require.NoError(t, os.WriteFile(filepath.Join(dir, grantsJSON), b, 0o600))
	return d
}

func TestGrantsJSONIsImportedOnceAndKept(t *testing.T) {
	dir := t.TempDir()
	want := writeLegacyJSON(t, dir)
	jsonBytes, err := os.ReadFile(filepath.Join(dir, grantsJSON))
	require.NoError(t, err)

	s, err := newTestServer(t, dir)
	require.NoError(t, err)
	assert.Equal(t, want, s.Manager().Snapshot().Data(), "the file's accounts, and no root made as on a first start")
	assert.NoFileExists(t, filepath.Join(dir, grantsJSON))
	backup, err := os.ReadFile(filepath.Join(dir, grantsJSON+importedSuffix))
	require.NoError(t, err, "the file is kept as a backup")
	assert.Equal(t, jsonBytes, backup)
	assert.FileExists(t, filepath.Join(dir, grantsDB))

	require.NoError(t, s.Manager().Update(func(tx *privilege.Tx) error {
		// alice's view goes first: its definer may not be dropped (4006).
		tx.DropDefiner(privilege.DefinedObject{Kind: privilege.KindView, DB: "d", Name: "v"})
		return errors.Join(tx.CreateUser(bob, privilege.IdentifiedAs(authplugin.NativePasswordName, "")), tx.DropUser(alice))
	}))
	require.NoError(t, s.Close())

	// The backup is not read again: the store has the changes since.
	s, err = newTestServer(t, dir)
	require.NoError(t, err)
	_, hasBob := s.Manager().Snapshot().User(bob)
	_, hasAlice := s.Manager().Snapshot().User(alice)
	assert.True(t, hasBob)
	assert.False(t, hasAlice)
	require.NoError(t, s.Close())

	// A grants.json put back beside the store, with other accounts, is
	// refused rather than guessed about.
	require.NoError(t, os.WriteFile(filepath.Join(dir, grantsJSON), jsonBytes, 0o600))
	_, err = newTestServer(t, dir)
	assert.ErrorContains(t, err, "holds other accounts")
}

// A crash after the import but before the rename leaves the file beside a
// store that holds the same accounts: the next start finishes the rename.
func TestImportInterruptedBeforeTheRename(t *testing.T) {
	dir := t.TempDir()
	writeLegacyJSON(t, dir)
	s, err := newTestServer(t, dir)
	require.NoError(t, err)
	require.NoError(t, s.Close())
	require.NoError(t, os.Rename(filepath.Join(dir, grantsJSON+importedSuffix), filepath.Join(dir, grantsJSON)))

	s, err = newTestServer(t, dir)
	require.NoError(t, err)
	_, ok := s.Manager().Snapshot().User(alice)
	assert.True(t, ok)
	assert.NoFileExists(t, filepath.Join(dir, grantsJSON))
	assert.FileExists(t, filepath.Join(dir, grantsJSON+importedSuffix))
}

func TestUnreadableStoreStopsTheServer(t *testing.T) {
	dir := t.TempDir()
	require.NoError(t, os.WriteFile(filepath.Join(dir, grantsDB), make([]byte, 8192), 0o600))
	_, err := newTestServer(t, dir)
	assert.ErrorContains(t, err, "refusing to start without accounts")
}

// A change the store does not take is refused, and memory stays as it was.
func TestFailedWriteRefusesTheChange(t *testing.T) {
	s, err := newTestServer(t, t.TempDir())
	require.NoError(t, err)
	before := s.Manager().Snapshot()
	require.NoError(t, s.grants.Close())
	err = s.Manager().Update(func(tx *privilege.Tx) error {
		return tx.CreateUser(bob, privilege.IdentifiedAs(authplugin.NativePasswordName, ""))
	})
	require.Error(t, err)
	assert.Same(t, before, s.Manager().Snapshot())
}

func TestResetRootPasswordOnTheStore(t *testing.T) {
	dir := t.TempDir()
	_, err := ResetRootPassword(dir, "x", nil)
	assert.ErrorContains(t, err, "nothing to reset")
	assert.NoFileExists(t, filepath.Join(dir, grantsDB), "a refused reset creates nothing")

	s, err := newTestServer(t, dir)
	require.NoError(t, err)
	require.NoError(t, s.Manager().Update(func(tx *privilege.Tx) error {
		return errors.Join(tx.CreateUser(bob, privilege.IdentifiedAs(authplugin.NativePasswordName, "")),
			tx.AlterUser(rootAccount, privilege.AccountLock(true)))
	}))
	old, _ := s.Manager().Snapshot().User(rootAccount)
	require.NoError(t, s.Close())

	_, err = ResetRootPassword(dir, "new", nil)
	require.NoError(t, err)

	s, err = newTestServer(t, dir)
	require.NoError(t, err)
	root, ok := s.Manager().Snapshot().User(rootAccount)
	require.True(t, ok)
	assert.False(t, root.Locked)
	assert.NotEqual(t, old.AuthString, root.AuthString)
	_, ok = s.Manager().Snapshot().User(bob)
	assert.True(t, ok, "other accounts are not touched")
}
