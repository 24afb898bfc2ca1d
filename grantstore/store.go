// Package grantstore keeps privilege's accounts and grants in SQL tables,
// over database/sql: embedded SQLite by default (OpenSQLite), and through
// a Dialect any database that speaks the same standard SQL.
//
// The tables are normalized (an account's row, its grants, dynamic
// privileges, roles, default roles and proxy grants each in their own
// table; definers; a change log) and versioned (schema_version). A change
// is written as what changed (privilege.Change), in one transaction, so a
// GRANT costs the same with ten accounts as with a hundred thousand.
package grantstore

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"math"
	"math/rand/v2"
	"strings"
	"sync"
	"time"

	"github.com/authplug/authplug/priv"
	"github.com/authplug/authplug/privilege"
)

// Store is accounts and grants in a SQL database.
type Store struct {
	db      *sql.DB
	dialect Dialect
	owned   bool // Close closes db
	now     func() time.Time

	mu sync.Mutex
	// first holds the store's lock from Shared.Initialize finding the
	// store new until the first change commits in it, or Close.
	first *sql.Tx
}

// Option configures a Store.
type Option func(*Store)

// WithClock sets the clock change_log times come from.
func WithClock(now func() time.Time) Option { return func(s *Store) { s.now = now } }

// Open uses db, which speaks dialect, creating the tables on first use. A
// schema newer than this package's is refused. The caller keeps db: Close
// does not close it.
func Open(ctx context.Context, db *sql.DB, dialect Dialect, opts ...Option) (*Store, error) {
	s := &Store{db: db, dialect: dialect, now: time.Now}
	for _, o := range opts {
		o(s)
	}
	if err := s.migrate(ctx); err != nil {
		return nil, err
	}
	return s, nil
}

// Close closes the database if the store opened it. A store found new by
// Shared.Initialize whose first change never came is given up, so that
// another front end initializes it.
func (s *Store) Close() error {
	var err error
	if tx := s.takeFirst(); tx != nil {
		if rerr := tx.Rollback(); !errors.Is(rerr, sql.ErrTxDone) {
			err = rerr
		}
	}
	if s.owned {
		err = errors.Join(err, s.db.Close())
	}
	return err
}

// ErrNewerSchema is the error of opening a store a later release wrote.
var ErrNewerSchema = errors.New("grant store schema is newer than this authplug")

func (s *Store) migrate(ctx context.Context) error {
	// Other front ends creating the store at the same moment make rows
	// this one then fails to insert: what they made is read again. In
	// MySQL the DDL commits the transaction, so each statement after it
	// commits alone, and another front end may be a statement ahead on
	// each try; each duplicate is someone's progress, so a few tries end
	// it.
	for attempt := 1; ; attempt++ {
		err := s.migrateOnce(ctx)
		if err == nil || attempt == 5 || !s.dialect.isDuplicate(err) {
			return err
		}
	}
}

func (s *Store) migrateOnce(ctx context.Context) error {
	return s.inTx(ctx, func(tx *sql.Tx) error {
		if _, err := tx.ExecContext(ctx, s.dialect.createTable(tables[0].name, tables[0].columns)); err != nil {
			return fmt.Errorf("creating schema_version: %w", err)
		}
		var v int
		err := tx.QueryRowContext(ctx, "SELECT version FROM schema_version WHERE id = 1").Scan(&v)
		switch {
		case errors.Is(err, sql.ErrNoRows):
			// A new store. The version goes in last: a database whose DDL
			// is not transactional (MySQL) and stops half-way is created
			// again, IF NOT EXISTS, next time.
			for _, t := range append(tables[1:], tablesV2...) {
				if _, err := tx.ExecContext(ctx, s.dialect.createTable(t.name, t.columns)); err != nil {
					return fmt.Errorf("creating %s: %w", t.name, err)
				}
			}
			if err := s.addColumns(ctx, tx); err != nil {
				return err
			}
			if err := s.fillLock(ctx, tx); err != nil {
				return err
			}
			_, err = tx.ExecContext(ctx, "INSERT INTO schema_version (id, version) VALUES (1, ?)", SchemaVersion)
			return err
		case err != nil:
			return fmt.Errorf("reading the schema version: %w", err)
		case v > SchemaVersion:
			return fmt.Errorf("%w: version %d, this release reads up to %d; upgrade authplug", ErrNewerSchema, v, SchemaVersion)
		case v < 1:
			return fmt.Errorf("grant store schema version %d is not one authplug wrote", v)
		case v < SchemaVersion:
			if v == 1 {
				for _, t := range tablesV2 {
					if _, err := tx.ExecContext(ctx, s.dialect.createTable(t.name, t.columns)); err != nil {
						return fmt.Errorf("migrating to version 2: creating %s: %w", t.name, err)
					}
				}
				if err := s.fillLock(ctx, tx); err != nil {
					return err
				}
			}
			if err := s.addColumns(ctx, tx); err != nil {
				return fmt.Errorf("migrating to version 3: %w", err)
			}
			if err := giveAccountIDs(ctx, tx); err != nil {
				return fmt.Errorf("migrating to version 3: %w", err)
			}
			_, err = tx.ExecContext(ctx, "UPDATE schema_version SET version = ? WHERE id = 1", SchemaVersion)
			return err
		}
		return nil
	})
}

// addColumns adds columnsV3 where they are missing. MySQL's DDL is not
// transactional and has no ADD COLUMN IF NOT EXISTS: a creation stopped
// half-way, or another front end migrating at the same moment, may have
// added one already.
func (s *Store) addColumns(ctx context.Context, tx *sql.Tx) error {
	has := func(table, column string) bool {
		rows, err := tx.QueryContext(ctx, "SELECT "+column+" FROM "+table+" WHERE 1 = 0")
		if err != nil {
			return false
		}
		return rows.Close() == nil
	}
	for _, c := range columnsV3 {
		name, _, _ := strings.Cut(c.column, " ")
		if has(c.table, name) {
			continue
		}
		if _, err := tx.ExecContext(ctx, "ALTER TABLE "+c.table+" ADD COLUMN "+c.column); err != nil && !has(c.table, name) {
			return fmt.Errorf("adding %s.%s: %w", c.table, name, err)
		}
	}
	return nil
}

// newAccountID is as privilege makes them: random, positive.
func newAccountID() int64 { return rand.Int64N(math.MaxInt64) + 1 }

// giveAccountIDs gives each account saved before version 3 its ID.
func giveAccountIDs(ctx context.Context, tx *sql.Tx) error {
	var missing []priv.Account
	err := each(ctx, tx, "SELECT user_name, host FROM accounts WHERE account_id IS NULL", func(r *sql.Rows) error {
		var a priv.Account
		if err := r.Scan(&a.User, &a.Host); err != nil {
			return err
		}
		missing = append(missing, a)
		return nil
	})
	if err != nil {
		return fmt.Errorf("reading accounts: %w", err)
	}
	for _, a := range missing {
		if _, err := tx.ExecContext(ctx, "UPDATE accounts SET account_id = ? WHERE user_name = ? AND host = ? AND account_id IS NULL",
			newAccountID(), a.User, a.Host); err != nil {
			return fmt.Errorf("giving %s an ID: %w", a, err)
		}
	}
	return nil
}

// fillLock puts in store_lock's one row, if it is not there yet.
func (s *Store) fillLock(ctx context.Context, tx *sql.Tx) error {
	var n int
	if err := tx.QueryRowContext(ctx, "SELECT COUNT(*) FROM store_lock").Scan(&n); err != nil {
		return fmt.Errorf("reading store_lock: %w", err)
	}
	if n == 0 {
		if _, err := tx.ExecContext(ctx, "INSERT INTO store_lock (id) VALUES (1)"); err != nil {
			return fmt.Errorf("filling store_lock: %w", err)
		}
	}
	return nil
}

func (s *Store) inTx(ctx context.Context, fn func(tx *sql.Tx) error) error {
	tx, err := s.db.BeginTx(ctx, nil)
	if err != nil {
		return err
	}
	if err := fn(tx); err != nil {
		return errors.Join(err, tx.Rollback())
	}
	return tx.Commit()
}

// Initialized reports whether any change was ever applied: a store that
// has none was just created, and its host makes its first accounts.
func (s *Store) Initialized(ctx context.Context) (bool, error) {
	return initialized(ctx, s.db)
}

// initialized is Initialized on q. A store holding accounts counts as
// initialized even with an empty change log (trimmed by an operator): a
// host taking it for new would make root again, with its own password.
func initialized(ctx context.Context, q interface {
	QueryRowContext(context.Context, string, ...any) *sql.Row
}) (bool, error) {
	for _, table := range []string{"change_log", "accounts"} {
		var one int
		switch err := q.QueryRowContext(ctx, "SELECT 1 FROM "+table+" LIMIT 1").Scan(&one); {
		case err == nil:
			return true, nil
		case !errors.Is(err, sql.ErrNoRows):
			return false, fmt.Errorf("reading %s: %w", table, err)
		}
	}
	return false, nil
}

// Apply writes c in one transaction: each changed account's rows are
// replaced (or deleted), each changed definer likewise, and the change is
// logged. Nothing else is read or written. If it fails, the database is
// as it was.
func (s *Store) Apply(ctx context.Context, c privilege.Change) error {
	return s.inTx(ctx, func(tx *sql.Tx) error {
		_, err := s.write(ctx, tx, c)
		return err
	})
}

// write writes c in tx and logs it, returning its id in the change log.
func (s *Store) write(ctx context.Context, tx *sql.Tx, c privilege.Change) (int64, error) {
	for _, ac := range c.Accounts {
		if err := deleteAccount(ctx, tx, ac.Account); err != nil {
			return 0, err
		}
		// A changed account counts its failed logins afresh, as a new
		// row does in one process (privilege/lockout.go).
		if _, err := tx.ExecContext(ctx, "DELETE FROM failed_logins WHERE user_name = ? AND host = ?", ac.Account.User, ac.Account.Host); err != nil {
			return 0, fmt.Errorf("resetting the failed logins of %s: %w", ac.Account, err)
		}
		if ac.Data != nil {
			if err := insertAccount(ctx, tx, ac.Data); err != nil {
				return 0, fmt.Errorf("writing %s: %w", ac.Account, err)
			}
		}
	}
	for _, dc := range c.Definers {
		o := dc.Object
		if _, err := tx.ExecContext(ctx, "DELETE FROM definers WHERE kind = ? AND db = ? AND name = ?", string(o.Kind), o.DB, o.Name); err != nil {
			return 0, fmt.Errorf("deleting the definer of %s %s.%s: %w", o.Kind, o.DB, o.Name, err)
		}
		if dc.Definer != nil {
			if err := insertDefiners(ctx, tx, []privilege.DefinerData{{DefinedObject: o, Definer: *dc.Definer}}); err != nil {
				return 0, err
			}
		}
	}
	return s.logChange(ctx, tx, c)
}

// Import replaces everything in the store with d, in one transaction: how
// a host moves its accounts in from elsewhere (grants.json).
func (s *Store) Import(ctx context.Context, d privilege.Data) error {
	if d.Version != privilege.DataVersion {
		return fmt.Errorf("privilege data version %d, want %d", d.Version, privilege.DataVersion)
	}
	c := privilege.Change{}
	for i := range d.Accounts {
		c.Accounts = append(c.Accounts, privilege.AccountChange{Account: d.Accounts[i].Account, Data: &d.Accounts[i]})
	}
	for _, dd := range d.Definers {
		c.Definers = append(c.Definers, privilege.DefinerChange{Object: dd.DefinedObject, Definer: &dd.Definer})
	}
	return s.inTx(ctx, func(tx *sql.Tx) error {
		for _, t := range append(accountTables, "definers") {
			if _, err := tx.ExecContext(ctx, "DELETE FROM "+t); err != nil {
				return fmt.Errorf("emptying %s: %w", t, err)
			}
		}
		for _, ad := range d.Accounts {
			if err := insertAccount(ctx, tx, &ad); err != nil {
				return fmt.Errorf("writing %s: %w", ad.Account, err)
			}
		}
		if err := insertDefiners(ctx, tx, d.Definers); err != nil {
			return err
		}
		_, err := s.logChange(ctx, tx, c)
		return err
	})
}

func (s *Store) logChange(ctx context.Context, tx *sql.Tx, c privilege.Change) (int64, error) {
	res, err := tx.ExecContext(ctx, "INSERT INTO change_log (changed_at, definers) VALUES (?, ?)", s.now().UnixNano(), len(c.Definers))
	if err != nil {
		return 0, fmt.Errorf("logging the change: %w", err)
	}
	id, err := res.LastInsertId()
	if err != nil {
		return 0, fmt.Errorf("logging the change: %w", err)
	}
	rows := make([][]any, 0, len(c.Accounts))
	for _, ac := range c.Accounts {
		rows = append(rows, []any{id, ac.Account.User, ac.Account.Host})
	}
	if err := insert(ctx, tx, "change_log_accounts", "change_id, user_name, host", rows); err != nil {
		return 0, fmt.Errorf("logging the change: %w", err)
	}
	return id, nil
}

func deleteAccount(ctx context.Context, tx *sql.Tx, a priv.Account) error {
	for _, t := range accountTables {
		if _, err := tx.ExecContext(ctx, "DELETE FROM "+t+" WHERE user_name = ? AND host = ?", a.User, a.Host); err != nil {
			return fmt.Errorf("deleting %s from %s: %w", a, t, err)
		}
	}
	return nil
}

func insertAccount(ctx context.Context, tx *sql.Tx, ad *privilege.AccountData) error {
	u, a := ad.User, ad.Account
	var changed any // NULL: unknown, and read back as the zero time
	if !u.PasswordChanged.IsZero() {
		changed = u.PasswordChanged.UnixNano()
	}
	id := u.ID
	if id == 0 {
		// Data made without one (an import): the front ends must all read
		// the same ID, so the store makes it rather than each of them.
		id = newAccountID()
	}
	err := insert(ctx, tx, "accounts", `user_name, host, plugin, auth_string, account_locked, require_ssl,
		failed_login_attempts, password_lock_days, password_expired, password_lifetime_days, password_changed,
		password_require_current, max_user_connections, account_id`, [][]any{{a.User, a.Host, u.Plugin, u.AuthString, flag(u.Locked),
		flag(u.RequireSecureTransport), u.FailedLoginAttempts, u.PasswordLockDays, flag(u.PasswordExpired),
		u.PasswordLifetimeDays, changed, int(u.RequireCurrent), u.MaxUserConnections, id}})
	if err != nil {
		return err
	}

	var rows [][]any
	for _, g := range ad.Grants {
		for _, n := range g.Privs.Names() {
			rows = append(rows, []any{a.User, a.Host, g.DB, g.Table, g.Column, n})
		}
	}
	if err := insert(ctx, tx, "grants", "user_name, host, db, table_name, column_name, priv", rows); err != nil {
		return err
	}
	rows = rows[:0]
	for _, d := range ad.Dynamic {
		rows = append(rows, []any{a.User, a.Host, d.Name, flag(d.WithGrant)})
	}
	if err := insert(ctx, tx, "dynamic_grants", "user_name, host, priv, with_grant", rows); err != nil {
		return err
	}
	rows = rows[:0]
	for _, r := range ad.Roles {
		rows = append(rows, []any{a.User, a.Host, r.Role.User, r.Role.Host, flag(r.WithAdmin)})
	}
	if err := insert(ctx, tx, "role_grants", "user_name, host, role_user, role_host, with_admin", rows); err != nil {
		return err
	}
	rows = rows[:0]
	for i, r := range ad.DefaultRoles {
		rows = append(rows, []any{a.User, a.Host, i, r.User, r.Host})
	}
	if err := insert(ctx, tx, "default_roles", "user_name, host, seq, role_user, role_host", rows); err != nil {
		return err
	}
	rows = rows[:0]
	for _, p := range ad.Proxies {
		rows = append(rows, []any{a.User, a.Host, p.Target.User, p.Target.Host, flag(p.WithGrant)})
	}
	return insert(ctx, tx, "proxy_grants", "user_name, host, target_user, target_host, with_grant", rows)
}

func insertDefiners(ctx context.Context, tx *sql.Tx, ds []privilege.DefinerData) error {
	rows := make([][]any, 0, len(ds))
	for _, d := range ds {
		rows = append(rows, []any{string(d.Kind), d.DB, d.Name, d.Account.User, d.Account.Host, flag(d.Invoker)})
	}
	if err := insert(ctx, tx, "definers", "kind, db, name, definer_user, definer_host, invoker", rows); err != nil {
		return fmt.Errorf("writing definers: %w", err)
	}
	return nil
}

// flag is a bool as stored: SMALLINT 0 or 1, the same in every dialect.
func flag(b bool) int {
	if b {
		return 1
	}
	return 0
}
