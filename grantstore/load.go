package grantstore

import (
	"context"
	"database/sql"
	"fmt"
	"strings"
	"time"

	"github.com/authplug/authplug/priv"
	"github.com/authplug/authplug/privilege"
)

// maxRowsPerInsert bounds a multi-row INSERT: well under SQLite's 32 766
// and MySQL's 65 535 placeholders at six columns.
const maxRowsPerInsert = 500

// insert writes rows (each with one value per column of cols) into table,
// many rows to a statement.
func insert(ctx context.Context, tx *sql.Tx, table, cols string, rows [][]any) error {
	for len(rows) > 0 {
		n := min(len(rows), maxRowsPerInsert)
		one := "(" + strings.TrimSuffix(strings.Repeat("?, ", len(rows[0])), ", ") + ")"
		q := "INSERT INTO " + table + " (" + cols + ") VALUES " + strings.TrimSuffix(strings.Repeat(one+", ", n), ", ")
		args := make([]any, 0, n*len(rows[0]))
		for _, r := range rows[:n] {
			args = append(args, r...)
		}
		if _, err := tx.ExecContext(ctx, q, args...); err != nil {
			return fmt.Errorf("inserting into %s: %w", table, err)
		}
		rows = rows[n:]
	}
	return nil
}

// Load reads every account, grant and definer, in one transaction so that
// it sees one state of the store.
func (s *Store) Load(ctx context.Context) (privilege.Data, error) {
	d := privilege.Data{Version: privilege.DataVersion}
	err := s.inTx(ctx, func(tx *sql.Tx) error {
		var err error
		if d.Accounts, err = loadAccounts(ctx, tx, ""); err != nil {
			return err
		}
		d.Definers, err = loadDefiners(ctx, tx)
		return err
	})
	if err != nil {
		return privilege.Data{}, fmt.Errorf("loading grants: %w", err)
	}
	return d, nil
}

// loadAccounts reads the accounts where (a WHERE clause on user_name and
// host, with args; "" for all) selects, with all their rows.
func loadAccounts(ctx context.Context, tx *sql.Tx, where string, args ...any) ([]privilege.AccountData, error) {
	var out []privilege.AccountData
	at := map[priv.Account]int{}
	err := each(ctx, tx, `SELECT user_name, host, plugin, auth_string, account_locked, require_ssl,
		failed_login_attempts, password_lock_days, password_expired, password_lifetime_days, password_changed,
		password_require_current, max_user_connections, account_id FROM accounts`+where+` ORDER BY user_name, host`, func(r *sql.Rows) error {
		var u privilege.User
		var changed, id sql.NullInt64
		var requireCurrent int
		if err := r.Scan(&u.Account.User, &u.Account.Host, &u.Plugin, &u.AuthString, &u.Locked, &u.RequireSecureTransport,
			&u.FailedLoginAttempts, &u.PasswordLockDays, &u.PasswordExpired, &u.PasswordLifetimeDays, &changed,
			&requireCurrent, &u.MaxUserConnections, &id); err != nil {
			return err
		}
		u.ID = id.Int64
		if changed.Valid {
			u.PasswordChanged = time.Unix(0, changed.Int64).UTC()
		}
		u.RequireCurrent = privilege.RequireCurrent(requireCurrent)
		at[u.Account] = len(out)
		out = append(out, privilege.AccountData{User: u})
		return nil
	}, args...)
	if err != nil {
		return nil, fmt.Errorf("accounts: %w", err)
	}
	// owner is the account a child row belongs to; a row without one is
	// an inconsistency to report, not to load half of.
	owner := func(table string, a priv.Account) (*privilege.AccountData, error) {
		i, ok := at[a]
		if !ok {
			return nil, fmt.Errorf("%s has rows of %s, which has no account", table, a)
		}
		return &out[i], nil
	}

	// Grants come sorted by object, so each object's privileges are
	// consecutive rows.
	err = each(ctx, tx, `SELECT user_name, host, db, table_name, column_name, priv FROM grants`+where+`
		ORDER BY user_name, host, db, table_name, column_name`, func(r *sql.Rows) error {
		var a priv.Account
		var o privilege.Object
		var name string
		if err := r.Scan(&a.User, &a.Host, &o.DB, &o.Table, &o.Column, &name); err != nil {
			return err
		}
		ad, err := owner("grants", a)
		if err != nil {
			return err
		}
		p, ok := priv.Parse(name)
		if !ok {
			return fmt.Errorf("grants of %s: unknown privilege %q", a, name)
		}
		if n := len(ad.Grants); n > 0 && ad.Grants[n-1].Object == o {
			ad.Grants[n-1].Privs |= p
		} else {
			ad.Grants = append(ad.Grants, privilege.GrantData{Object: o, Privs: p})
		}
		return nil
	}, args...)
	if err != nil {
		return nil, err
	}

	err = each(ctx, tx, "SELECT user_name, host, priv, with_grant FROM dynamic_grants"+where+" ORDER BY user_name, host, priv", func(r *sql.Rows) error {
		var a priv.Account
		var g privilege.DynamicGrant
		if err := r.Scan(&a.User, &a.Host, &g.Name, &g.WithGrant); err != nil {
			return err
		}
		ad, err := owner("dynamic_grants", a)
		if err == nil {
			ad.Dynamic = append(ad.Dynamic, g)
		}
		return err
	}, args...)
	if err != nil {
		return nil, err
	}

	err = each(ctx, tx, "SELECT user_name, host, role_user, role_host, with_admin FROM role_grants"+where+" ORDER BY user_name, host, role_user, role_host", func(r *sql.Rows) error {
		var a priv.Account
		var g privilege.RoleGrant
		if err := r.Scan(&a.User, &a.Host, &g.Role.User, &g.Role.Host, &g.WithAdmin); err != nil {
			return err
		}
		ad, err := owner("role_grants", a)
		if err == nil {
			ad.Roles = append(ad.Roles, g)
		}
		return err
	}, args...)
	if err != nil {
		return nil, err
	}

	err = each(ctx, tx, "SELECT user_name, host, role_user, role_host FROM default_roles"+where+" ORDER BY user_name, host, seq", func(r *sql.Rows) error {
		var a, role priv.Account
		if err := r.Scan(&a.User, &a.Host, &role.User, &role.Host); err != nil {
			return err
		}
		ad, err := owner("default_roles", a)
		if err == nil {
			ad.DefaultRoles = append(ad.DefaultRoles, role)
		}
		return err
	}, args...)
	if err != nil {
		return nil, err
	}

	err = each(ctx, tx, "SELECT user_name, host, target_user, target_host, with_grant FROM proxy_grants"+where+" ORDER BY user_name, host, target_user, target_host", func(r *sql.Rows) error {
		var a priv.Account
		var g privilege.ProxyGrant
		if err := r.Scan(&a.User, &a.Host, &g.Target.User, &g.Target.Host, &g.WithGrant); err != nil {
			return err
		}
		ad, err := owner("proxy_grants", a)
		if err == nil {
			ad.Proxies = append(ad.Proxies, g)
		}
		return err
	}, args...)
	if err != nil {
		return nil, err
	}
	return out, nil
}

func loadDefiners(ctx context.Context, tx *sql.Tx) ([]privilege.DefinerData, error) {
	var out []privilege.DefinerData
	err := each(ctx, tx, "SELECT kind, db, name, definer_user, definer_host, invoker FROM definers ORDER BY kind, db, name", func(r *sql.Rows) error {
		var d privilege.DefinerData
		var kind string
		if err := r.Scan(&kind, &d.DB, &d.Name, &d.Account.User, &d.Account.Host, &d.Invoker); err != nil {
			return err
		}
		d.Kind = privilege.ObjectKind(kind)
		out = append(out, d)
		return nil
	})
	if err != nil {
		return nil, fmt.Errorf("definers: %w", err)
	}
	return out, nil
}

// each runs fn on every row q returns.
func each(ctx context.Context, tx *sql.Tx, q string, fn func(*sql.Rows) error, args ...any) error {
	rows, err := tx.QueryContext(ctx, q, args...)
	if err != nil {
		return err
	}
	defer rows.Close()
	for rows.Next() {
		if err := fn(rows); err != nil {
			return err
		}
	}
	return rows.Err()
}
