package grantstore

import (
	"context"
	"database/sql"
	"errors"
	"net/url"
	"strings"

	_ "modernc.org/sqlite" // the "sqlite" driver: pure Go, no cgo
)

// sqliteDSN opens path in WAL mode with synchronous=FULL, so that a
// committed change (an acknowledged GRANT) survives a crash or power loss,
// waits for a lock rather than fail at once, and begins every transaction
// as a writer (BEGIN IMMEDIATE), so two writers queue instead of one
// failing when its read lock cannot be upgraded.
func sqliteDSN(path string) (string, error) {
	// The driver reads options after the first '?': such a path cannot
	// be told from them.
	if strings.ContainsRune(path, '?') {
		return "", errors.New("grant store path " + path + ": SQLite paths cannot contain '?'")
	}
	q := url.Values{}
	for _, p := range []string{"busy_timeout(10000)", "journal_mode(WAL)", "synchronous(FULL)"} {
		q.Add("_pragma", p)
	}
	q.Set("_txlock", "immediate")
	return path + "?" + q.Encode(), nil
}

// OpenSQLite opens (creating it on first use) the SQLite store at path.
// One connection serves the store: SQLite has one writer at a time anyway,
// and the host serializes its changes.
func OpenSQLite(ctx context.Context, path string, opts ...Option) (*Store, error) {
	dsn, err := sqliteDSN(path)
	if err != nil {
		return nil, err
	}
	db, err := sql.Open("sqlite", dsn)
	if err != nil {
		return nil, err
	}
	db.SetMaxOpenConns(1)
	s, err := Open(ctx, db, SQLite, opts...)
	if err != nil {
		db.Close()
		return nil, err
	}
	s.owned = true
	return s, nil
}
