package server

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io/fs"
	"log/slog"
	"os"
	"path/filepath"
	"reflect"
	"slices"
	"strings"
	"time"

	"github.com/authplug/authplug/grantstore"
	"github.com/authplug/authplug/privilege"
)

// Accounts, grants, roles, proxy grants and definers live in an SQLite
// database in the data directory, written change by change
// (grantstore). Earlier releases kept them in grants.json, rewritten
// whole on every change: a data directory that has one is imported once,
// and the file kept, renamed, as a backup.
const (
	grantsDB       = "grants.db"
	grantsJSON     = "grants.json"
	importedSuffix = ".imported"
)

// openGrants opens the grant store in dir into a new MemStore that writes
// every change to it before publishing it, importing grants.json first if
// there is one. found is false on a first start (a new store, nothing
// imported). A store or file that exists but cannot be read is an error:
// starting with no accounts would silently lock everyone out, or worse,
// let a fresh root be created. The caller closes the grantstore.Store.
func openGrants(ctx context.Context, dir string, log *slog.Logger) (store *privilege.MemStore, _ *grantstore.Store, found bool, err error) {
	dbPath, jsonPath := filepath.Join(dir, grantsDB), filepath.Join(dir, grantsJSON)
	// The file is read, and checked, before the store is created, so that
	// a bad one leaves the directory as it was.
	legacy, hasLegacy, err := readGrantsJSON(jsonPath)
	if err != nil {
		return nil, nil, false, err
	}
	gs, err := grantstore.OpenSQLite(ctx, dbPath)
	if err != nil {
		return nil, nil, false, fmt.Errorf("grants store %s: %w; refusing to start without accounts", dbPath, err)
	}
	defer func() {
		if err != nil {
			gs.Close()
		}
	}()
	if found, err = gs.Initialized(ctx); err != nil {
		return nil, nil, false, fmt.Errorf("grants store %s: %w; refusing to start without accounts", dbPath, err)
	}
	d, err := gs.Load(ctx)
	if err != nil {
		return nil, nil, false, fmt.Errorf("grants store %s: %w; refusing to start without accounts", dbPath, err)
	}
	store = privilege.NewMemStore(privilege.WithJournal(gs.Apply))
	if err := store.Restore(d); err != nil {
		return nil, nil, false, fmt.Errorf("grants store %s: %w; refusing to start without accounts", dbPath, err)
	}
	if !hasLegacy {
		return store, gs, found, nil
	}
	switch {
	case !found:
		if err := gs.Import(ctx, legacy); err != nil {
			return nil, nil, false, fmt.Errorf("importing %s into %s: %w", jsonPath, dbPath, err)
		}
		if err := store.Restore(legacy); err != nil {
			return nil, nil, false, err
		}
		found = true
	case !reflect.DeepEqual(withoutIDs(store.Snapshot().Data()), withoutIDs(legacy)):
		// Not the file this store was made from: written by an older
		// release run on the directory since, or put back by hand. Which
		// accounts are current is the operator's call.
		return nil, nil, false, fmt.Errorf("%s exists beside %s, which holds other accounts: move one of them away; refusing to start without knowing which accounts are current", jsonPath, dbPath)
	}
	// Imported now, or before a crash kept the file from being renamed.
	backup := jsonPath + importedSuffix
	if err := renameDurably(jsonPath, backup); err != nil {
		return nil, nil, false, fmt.Errorf("keeping %s as %s: %w", jsonPath, backup, err)
	}
	log.Info("imported the accounts of grants.json into the grants store; the file is kept as a backup and no longer read",
		"store", dbPath, "backup", backup, "accounts", len(legacy.Accounts))
	return store, gs, found, nil
}

// withoutIDs is d without its accounts' IDs (privilege.User.ID), which a
// grants.json did not have and which each read of it makes afresh.
func withoutIDs(d privilege.Data) privilege.Data {
	d.Accounts = slices.Clone(d.Accounts)
	for i := range d.Accounts {
		d.Accounts[i].ID = 0
	}
	return d
}

// readGrantsJSON reads a grants.json of an earlier release, in the form
// it has once loaded (checked, each password's change time set), which is
// what the store then holds. ok is false if there is none.
func readGrantsJSON(path string) (d privilege.Data, ok bool, err error) {
	b, err := os.ReadFile(path)
	if errors.Is(err, fs.ErrNotExist) {
		return privilege.Data{}, false, nil
	}
	if err != nil {
		return privilege.Data{}, false, fmt.Errorf("reading %s: %w", path, err)
	}
	if err := json.Unmarshal(b, &d); err != nil {
		return privilege.Data{}, false, fmt.Errorf("grants file %s is unreadable (%w); refusing to start without accounts", path, err)
	}
	m := privilege.NewMemStore()
	if err := m.Restore(d); err != nil {
		return privilege.Data{}, false, fmt.Errorf("grants file %s: %w; refusing to start without accounts", path, err)
	}
	return m.Snapshot().Data(), true, nil
}

// hasGrants reports whether dir has a grant store or a grants.json to
// import: whether there is anything a reset could apply to.
func hasGrants(dir string) bool {
	for _, f := range []string{grantsDB, grantsJSON} {
		if _, err := os.Stat(filepath.Join(dir, f)); err == nil {
			return true
		}
	}
	return false
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
	return renameDurably(tmp.Name(), path)
}

// renameDurably renames from to to and syncs their directory, so that the
// rename itself survives a crash.
func renameDurably(from, to string) error {
	if err := os.Rename(from, to); err != nil {
		return err
	}
	if d, err := os.Open(filepath.Dir(to)); err == nil {
		d.Sync()
		d.Close()
	}
	return nil
}

// openSharedGrants opens the grant store that several front ends share,
// in the MySQL-protocol database dsn names, into a new MemStore that
// makes every change under the store's lock on a caught-up snapshot
// (privilege.WithShared), and registers this process as one of its front
// ends. found is false when the store is new: the store's lock is then
// held until the MemStore's first change, which must make root. The caller
// closes the grantstore.Store and runs Follow.
func openSharedGrants(ctx context.Context, dsn string, lease time.Duration, log *slog.Logger) (store *privilege.MemStore, _ *grantstore.Store, _ *grantstore.Shared, found bool, err error) {
	gs, err := grantstore.OpenMySQL(ctx, dsn)
	if err != nil {
		return nil, nil, nil, false, fmt.Errorf("shared grants store: %w; refusing to start without accounts", err)
	}
	defer func() {
		if err != nil {
			gs.Close()
		}
	}()
	opts := []grantstore.SharedOption{grantstore.WithLogger(log)}
	if lease > 0 {
		opts = append(opts, grantstore.WithLease(lease))
	}
	sh := grantstore.NewShared(gs, opts...)
	// Of front ends starting at once on a new store, one finds it new and
	// makes root (New's first change, which ends the lock Initialize
	// keeps); the others wait and find root made, so only one root
	// password is generated and shown. gs.Close gives the lock up if New
	// fails before.
	isNew, err := sh.Initialize(ctx)
	if err != nil {
		return nil, nil, nil, false, fmt.Errorf("shared grants store: %w; refusing to start without accounts", err)
	}
	found = !isNew
	d, upto, err := gs.LoadAt(ctx)
	if err != nil {
		return nil, nil, nil, false, fmt.Errorf("shared grants store: %w; refusing to start without accounts", err)
	}
	store = privilege.NewMemStore(privilege.WithShared(sh))
	if err := store.RestoreShared(d, upto); err != nil {
		return nil, nil, nil, false, fmt.Errorf("shared grants store: %w; refusing to start without accounts", err)
	}
	// Registered as having applied upto: a change committed from now on
	// is waited for until Follow has caught up with it. One committed
	// between the load and the registration waited for nobody: caught up
	// with here, before New returns and connections are served.
	if err := sh.Register(ctx, upto); err != nil {
		return nil, nil, nil, false, err
	}
	if upto, err = store.CatchUp(ctx); err != nil {
		return nil, nil, nil, false, fmt.Errorf("shared grants store: %w; refusing to start without accounts", err)
	}
	log.Info("using the shared grants store", "frontend", sh.ID(), "lease", sh.Lease(), "accounts", len(d.Accounts), "change", upto)
	return store, gs, sh, found, nil
}
