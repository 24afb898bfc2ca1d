package server

import (
	"encoding/json"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"

	"github.com/authplug/authplug/privilege"
)

// grantsFile is where accounts, grants, roles and proxy grants live, as
// privilege.Data in JSON.
const grantsFile = "grants.json"

// loadGrants reads the grants file into a new store that saves every change
// back to it. found is false on a first start (no file). A file that exists
// but cannot be read or parsed is an error: starting with no accounts would
// silently lock everyone out, or worse, let a fresh root be created.
func loadGrants(dir string) (store *privilege.MemStore, found bool, err error) {
	path := filepath.Join(dir, grantsFile)
	store = privilege.NewMemStore(privilege.WithPersist(func(s *privilege.Snapshot) error {
		return writeFileAtomic(path, s.Data())
	}))
	b, err := os.ReadFile(path)
	if errors.Is(err, fs.ErrNotExist) {
		return store, false, nil
	}
	if err != nil {
		return nil, false, fmt.Errorf("reading %s: %w", path, err)
	}
	var d privilege.Data
	if err := json.Unmarshal(b, &d); err != nil {
		return nil, false, fmt.Errorf("grants file %s is unreadable (%w); refusing to start without accounts", path, err)
	}
	if err := store.Update(func(tx *privilege.Tx) error { return tx.Load(d) }); err != nil {
		return nil, false, fmt.Errorf("grants file %s: %w; refusing to start without accounts", path, err)
	}
	return store, true, nil
}

// writeFileAtomic writes v as JSON to a temporary file, syncs it, and
// renames it over path: a crash leaves either the old file or the new one,
// never a torn one.
func writeFileAtomic(path string, v any) error {
	b, err := json.MarshalIndent(v, "", "  ")
	if err != nil {
		return err
	}
	tmp, err := os.CreateTemp(filepath.Dir(path), ".grants-*.tmp")
	if err != nil {
		return err
	}
	defer os.Remove(tmp.Name()) // after a successful rename this is a no-op
	if _, err := tmp.Write(append(b, '\n')); err != nil {
		tmp.Close()
		return err
	}
	if err := tmp.Chmod(0o600); err != nil {
		tmp.Close()
		return err
	}
	if err := tmp.Sync(); err != nil {
		tmp.Close()
		return err
	}
	if err := tmp.Close(); err != nil {
		return err
	}
	if err := os.Rename(tmp.Name(), path); err != nil {
		return err
	}
	// Make the rename itself durable.
	if d, err := os.Open(filepath.Dir(path)); err == nil {
		d.Sync()
		d.Close()
	}
	return nil
}
