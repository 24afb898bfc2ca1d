package grantstore

import "strings"

// SchemaVersion is the version of the tables this package reads and writes.
// A later release that changes them migrates from the versions before;
// this one refuses a newer one rather than misread it.
const SchemaVersion = 1

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
}

// SQLite is the dialect of SQLite (modernc.org/sqlite), the embedded store.
var SQLite = Dialect{name: "sqlite", autoKey: "INTEGER PRIMARY KEY"}

// String names the dialect.
func (d Dialect) String() string { return d.name }

// Names are compared as MySQL compares them in its grant tables: user names
// and hosts byte for byte. Lengths keep every key within InnoDB's 3072-byte
// limit in utf8mb4 (4 bytes a character): the longest, grants', is
// (80 + 255 + 3*64 + 32) * 4 = 2236 bytes.
const (
	userCol = "VARCHAR(80) NOT NULL"
	hostCol = "VARCHAR(255) NOT NULL"
	nameCol = "VARCHAR(64) NOT NULL"
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

// accountTables are the tables of an account's rows, children first.
var accountTables = []string{"grants", "dynamic_grants", "role_grants", "default_roles", "proxy_grants", "accounts"}

func (d Dialect) createTable(name, columns string) string {
	columns = strings.ReplaceAll(columns, "{autokey}", d.autoKey)
	return "CREATE TABLE IF NOT EXISTS " + name + " (\n\t\t" + columns + "\n)" + d.tableOptions
}
