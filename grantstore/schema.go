package grantstore

import (
	"database/sql"
	"strings"
)

// SchemaVersion is the version of the tables this package reads and writes.
// A later release that changes them migrates from the versions before;
// this one refuses a newer one rather than misread it.
const SchemaVersion = 3

// Dialect is what differs between the databases the store runs on. The
// SQL is otherwise written once: standard types, ? placeholders, no
// database-specific syntax.
type Dialect struct {
	name string
	// autoKey is the definition of an integer primary key column the
	// database numbers itself.
	autoKey string
	// tableOptions ends each CREATE TABLE.
	tableOptions string
	// forUpdate ends a SELECT that locks the rows it reads; "" where a
	// write transaction already excludes other writers (SQLite).
	forUpdate string
	// nowMicros is an expression for the database's clock in Unix
	// microseconds: leases are compared on the one clock all front ends
	// share.
	nowMicros string
	// isDuplicate reports whether err is a duplicate-key error.
	isDuplicate func(error) bool
	// isRetryable reports whether err rolled the transaction back for
	// contention alone (a deadlock, a lock wait timeout): nil where there
	// are none.
	isRetryable func(error) bool
	// userCol, hostCol and nameCol are the types of the name columns (the
	// {user}, {host} and {name} of the tables below): names must compare
	// byte for byte, trailing spaces included, or 'adm ' is the row of adm.
	userCol, hostCol, nameCol string
	// writeIsolation is the isolation of a change's transaction: read
	// committed where a repeatable-read snapshot would be taken before the
	// lock is (InnoDB), so that what is read after it is current.
	writeIsolation sql.IsolationLevel
}

// SQLite is the dialect of SQLite (modernc.org/sqlite), the embedded store.
var SQLite = Dialect{
	name:      "sqlite",
	autoKey:   "INTEGER PRIMARY KEY",
	nowMicros: "CAST((julianday('now') - 2440587.5) * 86400000000 AS INTEGER)",
	// SQLite's default collation, BINARY, compares bytes and pads nothing.
	userCol:     "VARCHAR(80) NOT NULL",
	hostCol:     "VARCHAR(255) NOT NULL",
	nameCol:     "VARCHAR(64) NOT NULL",
	isDuplicate: func(err error) bool { return err != nil && strings.Contains(err.Error(), "UNIQUE constraint failed") },
}

// String names the dialect.
func (d Dialect) String() string { return d.name }

// Names are compared as MySQL compares them in its grant tables: user names
// and hosts byte for byte. Their columns are the dialect's ({user},
// {host}, {name}).
const (
	userCol = "{user}"
	hostCol = "{host}"
	nameCol = "{name}"
	flagCol = "SMALLINT NOT NULL"
)

// tables is the schema, version 1, in creation order. Every table an
// account owns rows in starts with (user_name, host), which is how Apply
// finds them.
var tables = []struct{ name, columns string }{
	{"schema_version", `id SMALLINT NOT NULL PRIMARY KEY,
		version INTEGER NOT NULL`},
	// One row per account (roles included), with every privilege.User
	// field. password_changed is Unix nanoseconds in UTC; NULL when unknown.
	{"accounts", `user_name ` + userCol + `,
		host ` + hostCol + `,
		plugin VARCHAR(64) NOT NULL,
		auth_string TEXT NOT NULL,
		account_locked ` + flagCol + `,
		require_ssl ` + flagCol + `,
		failed_login_attempts INTEGER NOT NULL,
		password_lock_days INTEGER NOT NULL,
		password_expired ` + flagCol + `,
		password_lifetime_days INTEGER NOT NULL,
		password_changed BIGINT,
		password_require_current ` + flagCol + `,
		max_user_connections INTEGER NOT NULL,
		PRIMARY KEY (user_name, host)`},
	// Static privileges, one row per privilege by its MySQL name (as
	// grants.json stored them, so nothing depends on bit positions), at
	// every level: '' for the parts above the level (global: all three).
	{"grants", `user_name ` + userCol + `,
		host ` + hostCol + `,
		db ` + nameCol + `,
		table_name ` + nameCol + `,
		column_name ` + nameCol + `,
		priv VARCHAR(32) NOT NULL,
		PRIMARY KEY (user_name, host, db, table_name, column_name, priv)`},
	{"dynamic_grants", `user_name ` + userCol + `,
		host ` + hostCol + `,
		priv ` + nameCol + `,
		with_grant ` + flagCol + `,
		PRIMARY KEY (user_name, host, priv)`},
	// Roles granted to the account.
	{"role_grants", `user_name ` + userCol + `,
		host ` + hostCol + `,
		role_user ` + userCol + `,
		role_host ` + hostCol + `,
		with_admin ` + flagCol + `,
		PRIMARY KEY (user_name, host, role_user, role_host)`},
	// The account's default roles, in order.
	{"default_roles", `user_name ` + userCol + `,
		host ` + hostCol + `,
		seq INTEGER NOT NULL,
		role_user ` + userCol + `,
		role_host ` + hostCol + `,
		PRIMARY KEY (user_name, host, seq)`},
	// Accounts the account may act as (GRANT PROXY).
	{"proxy_grants", `user_name ` + userCol + `,
		host ` + hostCol + `,
		target_user ` + userCol + `,
		target_host ` + hostCol + `,
		with_grant ` + flagCol + `,
		PRIMARY KEY (user_name, host, target_user, target_host)`},
	// Whose rights views, triggers and routines run with; names lower-case.
	{"definers", `kind VARCHAR(16) NOT NULL,
		db ` + nameCol + `,
		name ` + nameCol + `,
		definer_user ` + userCol + `,
		definer_host ` + hostCol + `,
		invoker ` + flagCol + `,
		PRIMARY KEY (kind, db, name)`},
	// One row per applied change, and the accounts it changed: what a front
	// end sharing the store reads to learn what to reload.
	{"change_log", `id {autokey},
		changed_at BIGINT NOT NULL,
		definers INTEGER NOT NULL`},
	{"change_log_accounts", `change_id BIGINT NOT NULL,
		user_name ` + userCol + `,
		host ` + hostCol + `,
		PRIMARY KEY (change_id, user_name, host)`},
}

// tablesV2 are the tables version 2 added, for front ends sharing the
// store: a store of version 1 gets them on open.
var tablesV2 = []struct{ name, columns string }{
	// One row (id 1), locked by every change for the length of its
	// transaction: changes are serialized, so change_log ids are in commit
	// order and a change always runs on the latest state.
	{"store_lock", `id SMALLINT NOT NULL PRIMARY KEY`},
	// The front ends sharing the store: until when each holds its lease
	// (database clock, Unix microseconds) and the last change it applied.
	{"frontends", `id VARCHAR(64) NOT NULL PRIMARY KEY,
		lease_until BIGINT NOT NULL,
		applied_change_id BIGINT NOT NULL`},
	// FAILED_LOGIN_ATTEMPTS counts, shared by the front ends; an account's
	// row goes whenever the account changes. locked_until is Unix
	// microseconds, 0 when not blocked.
	{"failed_logins", `user_name ` + userCol + `,
		host ` + hostCol + `,
		failures INTEGER NOT NULL,
		locked_until BIGINT NOT NULL,
		forever ` + flagCol + `,
		PRIMARY KEY (user_name, host)`},
}

// columnsV3 are the columns version 3 added to tables of earlier versions:
// accounts.account_id is privilege.User.ID, which tells an account from one
// created later under its name; a store of an earlier version gets the
// column on open, and each existing account an ID.
var columnsV3 = []struct{ table, column string }{
	{"accounts", "account_id BIGINT"},
}

// accountTables are the tables of an account's rows, children first.
var accountTables = []string{"grants", "dynamic_grants", "role_grants", "default_roles", "proxy_grants", "accounts"}

func (d Dialect) createTable(name, columns string) string {
	columns = strings.NewReplacer("{autokey}", d.autoKey, "{user}", d.userCol, "{host}", d.hostCol, "{name}", d.nameCol).Replace(columns)
	return "CREATE TABLE IF NOT EXISTS " + name + " (\n\t\t" + columns + "\n)" + d.tableOptions
}
