package server

import (
	"encoding/json"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"strings"

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

// rootPasswordFile keeps a generated root password until root first logs
// in: printed at every start meanwhile, so that neither a start that failed
// after creating root nor a lost log locks the administrator out.
const rootPasswordFile = "initial-root-password"

func rootPasswordPath(dir string) string { return filepath.Join(dir, rootPasswordFile) }

// readRootPassword is the kept root password, "" when there is none.
func readRootPassword(dir string) (string, error) {
	b, err := os.ReadFile(rootPasswordPath(dir))
	if errors.Is(err, fs.ErrNotExist) {
		return "", nil
	}
	if err != nil {
		return "", fmt.Errorf("reading the initial root password: %w", err)
	}
	return strings.TrimSpace(string(b)), nil
}

func writeRootPassword(dir, pw string) error {
	if err := writeBytesAtomic(rootPasswordPath(dir), []byte(pw+"\n")); err != nil {
		return fmt.Errorf("saving the initial root password: %w", err)
	}
	return nil
}

func removeRootPassword(dir string) error {
	if err := os.Remove(rootPasswordPath(dir)); err != nil && !errors.Is(err, fs.ErrNotExist) {
		return fmt.Errorf("removing the initial root password: %w", err)
	}
	return nil
}

// writeFileAtomic writes v as JSON with writeBytesAtomic.
func writeFileAtomic(path string, v any) error {
	b, err := json.MarshalIndent(v, "", "  ")
	if err != nil {
		return err
	}
	return writeBytesAtomic(path, append(b, '\n'))
}

// writeBytesAtomic writes b, mode 0600, to a temporary file, syncs it, and
// renames it over path: a crash leaves either the old file or the new one,
// never a torn one.
func writeBytesAtomic(path string, b []byte) error {
	tmp, err := os.CreateTemp(filepath.Dir(path), "."+filepath.Base(path)+"-*.tmp")
	if err != nil {
		return err
	}
	defer os.Remove(tmp.Name()) // after a successful rename this is a no-op
	if _, err := tmp.Write(b); err != nil {
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
