package server

import (
	"fmt"
	"io"
	"strings"

	"github.com/dolthub/go-mysql-server/sql"
	"github.com/dolthub/go-mysql-server/sql/plan"
	"github.com/dolthub/go-mysql-server/sql/types"
	"github.com/dolthub/vitess/go/sqltypes"

	"github.com/authplug/authplug/mysqlerr"
	"github.com/authplug/authplug/priv"
	"github.com/authplug/authplug/privilege"
)

// The mysql schema: MySQL 8's grant tables (user, db, tables_priv,
// columns_priv, role_edges, default_roles, proxies_priv, global_grants) as
// read-only views of authplug's store, the one source of accounts. Each read
// builds its rows from the store's current snapshot, so a GRANT shows at
// once. The engine's own grant tables (mysql_db) stay disabled: a mysql
// database from them would be a second, empty, source.
//
// Reading is an ordinary table read: the plan authorizer asks SELECT on
// mysql.<table> (or its columns), as MySQL does. Every change is refused
// before it is built, for root too (readOnlyMySQL): accounts change through
// account statements, which authplug executes against its store.

const mysqlSchemaName = "mysql"

func isMySQLSchema(db string) bool { return strings.EqualFold(db, mysqlSchemaName) }

// mysqlSchema is the mysql database.
type mysqlSchema struct{ s *Server }

var (
	_ sql.Database         = mysqlSchema{}
	_ sql.TableDropper     = mysqlSchema{}
	_ sql.TableCreator     = mysqlSchema{}
	_ sql.CollatedDatabase = mysqlSchema{}
)

func (mysqlSchema) Name() string { return mysqlSchemaName }

func (d mysqlSchema) GetTableInsensitive(_ *sql.Context, name string) (sql.Table, bool, error) {
	for _, t := range grantTables {
		if strings.EqualFold(t.name, name) {
			return &funcTable{name: t.name, schema: t.schema, rows: func() []sql.Row { return t.rows(d.s.mgr.Snapshot()) }}, true, nil
		}
	}
	return nil, false, nil
}

func (mysqlSchema) GetTableNames(*sql.Context) ([]string, error) {
	names := make([]string, len(grantTables))
	for i, t := range grantTables {
		names[i] = t.name
	}
	return names, nil
}

// DropTable is here so that DROP TABLE reaches the plan, where readOnlyMySQL
// refuses it with MySQL's error; it never drops anything.
func (mysqlSchema) DropTable(_ *sql.Context, name string) error {
	return mysqlerr.OpenAsReadonly(name)
}

// CreateTable: as DropTable.
func (mysqlSchema) CreateTable(*sql.Context, string, sql.PrimaryKeySchema, sql.CollationID, string) error {
	return mysqlerr.NoSystemSchemaAccess(mysqlSchemaName)
}

// GetCollation is MySQL 8's for the mysql schema.
func (mysqlSchema) GetCollation(*sql.Context) sql.CollationID {
	return sql.Collation_utf8mb4_0900_ai_ci
}

func (mysqlSchema) SetCollation(*sql.Context, sql.CollationID) error {
	return mysqlerr.NoSystemSchemaAccess(mysqlSchemaName)
}

// funcTable is a read-only table whose rows a function makes when it is
// read.
type funcTable struct {
	name   string
	schema sql.Schema
	rows   func() []sql.Row
}

// A funcTable takes the engine's write interfaces only so that a write
// reaches the plan, where readOnlyMySQL refuses it with MySQL's error (the
// engine would refuse it earlier with an error of its own). Its editors
// refuse every row: nothing is ever written.
var (
	_ sql.Table             = (*funcTable)(nil)
	_ sql.InsertableTable   = (*funcTable)(nil)
	_ sql.ReplaceableTable  = (*funcTable)(nil)
	_ sql.UpdatableTable    = (*funcTable)(nil)
	_ sql.DeletableTable    = (*funcTable)(nil)
	_ sql.TruncateableTable = (*funcTable)(nil)
)

func (t *funcTable) Name() string               { return t.name }
func (t *funcTable) String() string             { return t.name }
func (t *funcTable) Schema() sql.Schema         { return t.schema }
func (t *funcTable) Collation() sql.CollationID { return sql.Collation_Default }

func (t *funcTable) Partitions(*sql.Context) (sql.PartitionIter, error) {
	return &onePartition{}, nil
}

func (t *funcTable) PartitionRows(*sql.Context, sql.Partition) (sql.RowIter, error) {
	return sql.RowsToRowIter(t.rows()...), nil
}

func (t *funcTable) Inserter(*sql.Context) sql.RowInserter { return readOnlyEditor{t.name} }
func (t *funcTable) Replacer(*sql.Context) sql.RowReplacer { return readOnlyEditor{t.name} }
func (t *funcTable) Updater(*sql.Context) sql.RowUpdater   { return readOnlyEditor{t.name} }
func (t *funcTable) Deleter(*sql.Context) sql.RowDeleter   { return readOnlyEditor{t.name} }
func (t *funcTable) Truncate(*sql.Context) (int, error)    { return 0, mysqlerr.OpenAsReadonly(t.name) }

// readOnlyEditor refuses every change to its table.
type readOnlyEditor struct{ table string }

func (readOnlyEditor) StatementBegin(*sql.Context)              {}
func (readOnlyEditor) DiscardChanges(*sql.Context, error) error { return nil }
func (readOnlyEditor) StatementComplete(*sql.Context) error     { return nil }
func (readOnlyEditor) Close(*sql.Context) error                 { return nil }
func (e readOnlyEditor) Insert(*sql.Context, sql.Row) error     { return mysqlerr.OpenAsReadonly(e.table) }
func (e readOnlyEditor) Delete(*sql.Context, sql.Row) error     { return mysqlerr.OpenAsReadonly(e.table) }
func (e readOnlyEditor) Update(*sql.Context, sql.Row, sql.Row) error {
	return mysqlerr.OpenAsReadonly(e.table)
}

type onePartition struct{ done bool }

func (p *onePartition) Next(*sql.Context) (sql.Partition, error) {
	if p.done {
		return nil, io.EOF
	}
	p.done = true
	return wholeTable{}, nil
}

func (p *onePartition) Close(*sql.Context) error { return nil }

type wholeTable struct{}

func (wholeTable) Key() []byte { return []byte("all") }

// grantTable is one table of the mysql schema: its MySQL 8 columns and how
// its rows come from a snapshot.
type grantTable struct {
	name   string
	schema sql.Schema
	rows   func(*privilege.Snapshot) []sql.Row
}

// Column types, MySQL 8's where the engine has them.
var (
	hostType    = types.MustCreateString(sqltypes.Char, 255, sql.Collation_ascii_general_ci)
	userType    = types.MustCreateString(sqltypes.Char, 32, sql.Collation_utf8mb3_bin)
	nameType    = types.MustCreateString(sqltypes.Char, 64, sql.Collation_utf8mb3_bin)
	grantorType = types.MustCreateString(sqltypes.VarChar, 288, sql.Collation_utf8mb3_bin)
	ynType      = types.MustCreateEnumType([]string{"N", "Y"}, sql.Collation_utf8mb3_general_ci)
	sslType     = types.MustCreateEnumType([]string{"", "ANY", "X509", "SPECIFIED"}, sql.Collation_utf8mb3_general_ci)
	// The SET columns of tables_priv and columns_priv, in MySQL's order.
	tablePrivSet  = types.MustCreateSetType(tablePrivNames, sql.Collation_utf8mb3_general_ci)
	columnPrivSet = types.MustCreateSetType(columnPrivNames, sql.Collation_utf8mb3_general_ci)
)

var (
	tablePrivNames = []string{"Select", "Insert", "Update", "Delete", "Create", "Drop", "Grant",
		"References", "Index", "Alter", "Create View", "Show view", "Trigger"}
	tablePrivBits = []priv.Mask{priv.Select, priv.Insert, priv.Update, priv.Delete, priv.Create, priv.Drop,
		priv.GrantOption, priv.References, priv.Index, priv.Alter, priv.CreateView, priv.ShowView, priv.Trigger}
	columnPrivNames = []string{"Select", "Insert", "Update", "References"}
	columnPrivBits  = []priv.Mask{priv.Select, priv.Insert, priv.Update, priv.References}
)

func col(table, name string, t sql.Type, nullable, key bool) *sql.Column {
	return &sql.Column{Name: name, Type: t, Nullable: nullable, PrimaryKey: key, Source: table, DatabaseSource: mysqlSchemaName}
}

// userPrivColumns are mysql.user's static privilege columns up to
// Create_tablespace_priv: priv's bits in order. Create_role_priv and
// Drop_role_priv come later in the table (userRoleColumns).
var userPrivColumns = []string{
	"Select_priv", "Insert_priv", "Update_priv", "Delete_priv", "Create_priv", "Drop_priv", "Reload_priv",
	"Shutdown_priv", "Process_priv", "File_priv", "Grant_priv", "References_priv", "Index_priv", "Alter_priv",
	"Show_db_priv", "Super_priv", "Create_tmp_table_priv", "Lock_tables_priv", "Execute_priv", "Repl_slave_priv",
	"Repl_client_priv", "Create_view_priv", "Show_view_priv", "Create_routine_priv", "Alter_routine_priv",
	"Create_user_priv", "Event_priv", "Trigger_priv", "Create_tablespace_priv",
}

// dbPrivColumns are mysql.db's privilege columns, in MySQL's order.
var dbPrivColumns = []struct {
	name string
	bit  priv.Mask
}{
	{"Select_priv", priv.Select}, {"Insert_priv", priv.Insert}, {"Update_priv", priv.Update},
	{"Delete_priv", priv.Delete}, {"Create_priv", priv.Create}, {"Drop_priv", priv.Drop},
	{"Grant_priv", priv.GrantOption}, {"References_priv", priv.References}, {"Index_priv", priv.Index},
	{"Alter_priv", priv.Alter}, {"Create_tmp_table_priv", priv.CreateTmpTable},
	{"Lock_tables_priv", priv.LockTables}, {"Create_view_priv", priv.CreateView},
	{"Show_view_priv", priv.ShowView}, {"Create_routine_priv", priv.CreateRoutine},
	{"Alter_routine_priv", priv.AlterRoutine}, {"Execute_priv", priv.Execute}, {"Event_priv", priv.Event},
	{"Trigger_priv", priv.Trigger},
}

// yn is a Y/N enum column's value.
func yn(b bool) any {
	if b {
		return enumY
	}
	return enumN
}

var enumN, enumY = mustConvert(ynType, "N"), mustConvert(ynType, "Y")

func mustConvert(t sql.Type, v any) any {
	out, _, err := t.Convert(nil, v)
	if err != nil {
		panic(fmt.Sprintf("mysql schema: %v", err))
	}
	return out
}

// privSet is a mask as the value of a SET column whose members are bits.
func privSet(t sql.Type, m priv.Mask, bits []priv.Mask) any {
	var v uint64
	for i, b := range bits {
		if m&b != 0 {
			v |= 1 << i
		}
	}
	return mustConvert(t, v)
}

var grantTables = []grantTable{
	{name: "user", schema: userSchema(), rows: userRows},
	{name: "db", schema: dbSchema(), rows: dbRows},
	{name: "tables_priv", schema: sql.Schema{
		col("tables_priv", "Host", hostType, false, true),
		col("tables_priv", "Db", nameType, false, true),
		col("tables_priv", "User", userType, false, true),
		col("tables_priv", "Table_name", nameType, false, true),
		col("tables_priv", "Grantor", grantorType, false, false),
		col("tables_priv", "Timestamp", types.Timestamp, true, false),
		col("tables_priv", "Table_priv", tablePrivSet, false, false),
		col("tables_priv", "Column_priv", columnPrivSet, false, false),
	}, rows: tablesPrivRows},
	{name: "columns_priv", schema: sql.Schema{
		col("columns_priv", "Host", hostType, false, true),
		col("columns_priv", "Db", nameType, false, true),
		col("columns_priv", "User", userType, false, true),
		col("columns_priv", "Table_name", nameType, false, true),
		col("columns_priv", "Column_name", nameType, false, true),
		col("columns_priv", "Timestamp", types.Timestamp, true, false),
		col("columns_priv", "Column_priv", columnPrivSet, false, false),
	}, rows: columnsPrivRows},
	{name: "role_edges", schema: sql.Schema{
		col("role_edges", "FROM_HOST", hostType, false, true),
		col("role_edges", "FROM_USER", userType, false, true),
		col("role_edges", "TO_HOST", hostType, false, true),
		col("role_edges", "TO_USER", userType, false, true),
		col("role_edges", "WITH_ADMIN_OPTION", ynType, false, false),
	}, rows: roleEdgeRows},
	{name: "default_roles", schema: sql.Schema{
		col("default_roles", "HOST", hostType, false, true),
		col("default_roles", "USER", userType, false, true),
		col("default_roles", "DEFAULT_ROLE_HOST", hostType, false, true),
		col("default_roles", "DEFAULT_ROLE_USER", userType, false, true),
	}, rows: defaultRoleRows},
	{name: "proxies_priv", schema: sql.Schema{
		col("proxies_priv", "Host", hostType, false, true),
		col("proxies_priv", "User", userType, false, true),
		col("proxies_priv", "Proxied_host", hostType, false, true),
		col("proxies_priv", "Proxied_user", userType, false, true),
		col("proxies_priv", "With_grant", types.Boolean, false, false),
		col("proxies_priv", "Grantor", grantorType, false, false),
		col("proxies_priv", "Timestamp", types.Timestamp, true, false),
	}, rows: proxyRows},
	{name: "global_grants", schema: sql.Schema{
		col("global_grants", "USER", userType, false, true),
		col("global_grants", "HOST", hostType, false, true),
		col("global_grants", "PRIV", userType, false, true),
		col("global_grants", "WITH_GRANT_OPTION", ynType, false, false),
	}, rows: globalGrantRows},
}

func userSchema() sql.Schema {
	const t = "user"
	s := sql.Schema{col(t, "Host", hostType, false, true), col(t, "User", userType, false, true)}
	for _, c := range userPrivColumns {
		s = append(s, col(t, c, ynType, false, false))
	}
	blob := types.Blob
	return append(s,
		col(t, "ssl_type", sslType, false, false),
		col(t, "ssl_cipher", blob, false, false),
		col(t, "x509_issuer", blob, false, false),
		col(t, "x509_subject", blob, false, false),
		col(t, "max_questions", types.Uint32, false, false),
		col(t, "max_updates", types.Uint32, false, false),
		col(t, "max_connections", types.Uint32, false, false),
		col(t, "max_user_connections", types.Uint32, false, false),
		col(t, "plugin", types.MustCreateString(sqltypes.Char, 64, sql.Collation_utf8mb3_bin), false, false),
		col(t, "authentication_string", types.Text, true, false),
		col(t, "password_expired", ynType, false, false),
		col(t, "password_last_changed", types.Timestamp, true, false),
		col(t, "password_lifetime", types.Uint16, true, false),
		col(t, "account_locked", ynType, false, false),
		col(t, "Create_role_priv", ynType, false, false),
		col(t, "Drop_role_priv", ynType, false, false),
		col(t, "Password_reuse_history", types.Uint16, true, false),
		col(t, "Password_reuse_time", types.Uint16, true, false),
		col(t, "Password_require_current", ynType, true, false),
		col(t, "User_attributes", types.JSON, true, false),
	)
}

func dbSchema() sql.Schema {
	const t = "db"
	s := sql.Schema{col(t, "Host", hostType, false, true), col(t, "Db", nameType, false, true), col(t, "User", userType, false, true)}
	for _, c := range dbPrivColumns {
		s = append(s, col(t, c.name, ynType, false, false))
	}
	return s
}

// globalGrant is an account's static privileges on *.*.
func globalGrant(ad privilege.AccountData) priv.Mask {
	for _, g := range ad.Grants {
		if g.Level() == priv.Global {
			return g.Privs
		}
	}
	return 0
}

func userRows(snap *privilege.Snapshot) []sql.Row {
	var rows []sql.Row
	for _, ad := range snap.Data().Accounts {
		g := globalGrant(ad)
		r := sql.Row{ad.Account.Host, ad.Account.User}
		for i := range userPrivColumns {
			r = append(r, yn(g&(1<<i) != 0))
		}
		ssl := ""
		if ad.RequireSecureTransport {
			ssl = "ANY" // REQUIRE SSL
		}
		r = append(r,
			mustConvert(sslType, ssl), []byte{}, []byte{}, []byte{},
			uint32(0), uint32(0), uint32(0), uint32(ad.MaxUserConnections), // the one resource limit authplug has
			ad.Plugin, ad.AuthString,
			yn(ad.PasswordExpired), passwordChanged(ad.User), passwordLifetime(ad.User),
			yn(ad.Locked),
			yn(g&priv.CreateRole != 0), yn(g&priv.DropRole != 0),
			nil, nil, // password reuse: authplug keeps no history, the global defaults
			requireCurrent(ad.User),
			userAttributes(ad.User),
		)
		rows = append(rows, r)
	}
	return rows
}

// passwordChanged is NULL for a row loaded without the time (MySQL sets it
// whenever a password is).
func passwordChanged(u privilege.User) any {
	if u.PasswordChanged.IsZero() {
		return nil
	}
	return u.PasswordChanged.UTC()
}

// passwordLifetime is MySQL's password_lifetime: NULL for PASSWORD EXPIRE
// DEFAULT, 0 for NEVER, else the days.
func passwordLifetime(u privilege.User) any {
	switch {
	case u.PasswordLifetimeDays == 0:
		return nil
	case u.PasswordLifetimeDays < 0:
		return uint16(0)
	}
	return uint16(min(u.PasswordLifetimeDays, 65535))
}

// requireCurrent is MySQL's Password_require_current: NULL for DEFAULT,
// 'Y' for REQUIRE CURRENT, 'N' for OPTIONAL.
func requireCurrent(u privilege.User) any {
	switch u.RequireCurrent {
	case privilege.RequireCurrentYes:
		return yn(true)
	case privilege.RequireCurrentOptional:
		return yn(false)
	}
	return nil
}

// userAttributes is MySQL 8's User_attributes: FAILED_LOGIN_ATTEMPTS and
// PASSWORD_LOCK_TIME under Password_locking, NULL when neither is set.
func userAttributes(u privilege.User) any {
	if u.FailedLoginAttempts == 0 && u.PasswordLockDays == 0 {
		return nil
	}
	return types.JSONDocument{Val: map[string]any{"Password_locking": map[string]any{
		"failed_login_attempts":   float64(u.FailedLoginAttempts),
		"password_lock_time_days": float64(u.PasswordLockDays),
	}}}
}

func dbRows(snap *privilege.Snapshot) []sql.Row {
	var rows []sql.Row
	for _, ad := range snap.Data().Accounts {
		for _, g := range ad.Grants {
			if g.Level() != priv.Database {
				continue
			}
			r := sql.Row{ad.Account.Host, g.DB, ad.Account.User}
			for _, c := range dbPrivColumns {
				r = append(r, yn(g.Privs&c.bit != 0))
			}
			rows = append(rows, r)
		}
	}
	return rows
}

// tablesPrivRows: one row per table with a table or column grant, as MySQL
// keeps it: Table_priv the table's privileges, Column_priv those held on
// some of its columns.
func tablesPrivRows(snap *privilege.Snapshot) []sql.Row {
	type key struct{ db, table string }
	var rows []sql.Row
	for _, ad := range snap.Data().Accounts {
		var order []key
		tables, columns := map[key]priv.Mask{}, map[key]priv.Mask{}
		for _, g := range ad.Grants {
			k := key{g.DB, g.Table}
			_, seenT := tables[k]
			_, seenC := columns[k]
			switch g.Level() {
			case priv.Table:
				tables[k] |= g.Privs
			case priv.Column:
				columns[k] |= g.Privs
			default:
				continue
			}
			if !seenT && !seenC {
				order = append(order, k)
			}
		}
		for _, k := range order {
			rows = append(rows, sql.Row{ad.Account.Host, k.db, ad.Account.User, k.table, "", nil,
				privSet(tablePrivSet, tables[k], tablePrivBits), privSet(columnPrivSet, columns[k], columnPrivBits)})
		}
	}
	return rows
}

func columnsPrivRows(snap *privilege.Snapshot) []sql.Row {
	var rows []sql.Row
	for _, ad := range snap.Data().Accounts {
		for _, g := range ad.Grants {
			if g.Level() == priv.Column {
				rows = append(rows, sql.Row{ad.Account.Host, g.DB, ad.Account.User, g.Table, g.Column, nil,
					privSet(columnPrivSet, g.Privs, columnPrivBits)})
			}
		}
	}
	return rows
}

// roleEdgeRows: FROM is the role, TO the account it is granted to.
func roleEdgeRows(snap *privilege.Snapshot) []sql.Row {
	var rows []sql.Row
	for _, ad := range snap.Data().Accounts {
		for _, r := range ad.Roles {
			rows = append(rows, sql.Row{r.Role.Host, r.Role.User, ad.Account.Host, ad.Account.User, yn(r.WithAdmin)})
		}
	}
	return rows
}

func defaultRoleRows(snap *privilege.Snapshot) []sql.Row {
	var rows []sql.Row
	for _, ad := range snap.Data().Accounts {
		for _, r := range ad.DefaultRoles {
			rows = append(rows, sql.Row{ad.Account.Host, ad.Account.User, r.Host, r.User})
		}
	}
	return rows
}

// proxyRows: authplug records no grantor or time of a PROXY grant, so
// Grantor is empty and Timestamp NULL rather than invented.
func proxyRows(snap *privilege.Snapshot) []sql.Row {
	var rows []sql.Row
	for _, ad := range snap.Data().Accounts {
		for _, p := range ad.Proxies {
			var wg int8
			if p.WithGrant {
				wg = 1
			}
			rows = append(rows, sql.Row{ad.Account.Host, ad.Account.User, p.Target.Host, p.Target.User, wg, "", nil})
		}
	}
	return rows
}

func globalGrantRows(snap *privilege.Snapshot) []sql.Row {
	var rows []sql.Row
	for _, ad := range snap.Data().Accounts {
		for _, d := range ad.Dynamic {
			rows = append(rows, sql.Row{ad.Account.User, ad.Account.Host, d.Name, yn(d.WithGrant)})
		}
	}
	return rows
}

// readOnlyMySQL refuses, before anything is built, every statement that
// would change the mysql schema: its tables are views of authplug's store,
// which changes through account statements only. It sits under the plan
// authorizer, so an account without the privilege gets MySQL's 1142 first,
// and it sees every plan the engine builds, the statements of routines and
// the server's own included.
type readOnlyMySQL struct{ next sql.NodeExecBuilder }

func (b readOnlyMySQL) Build(ctx *sql.Context, n sql.Node, r sql.Row) (sql.RowIter, error) {
	if err := mysqlSchemaChange(ctx, n); err != nil {
		return nil, toSQLError(err)
	}
	return b.next.Build(ctx, n, r)
}

// mysqlSchemaChange finds a change to the mysql schema anywhere in a plan:
// 1036 naming a table written, or 3552 for the schema's own objects.
func mysqlSchemaChange(ctx *sql.Context, root sql.Node) error {
	var err error
	inspect(root, func(n sql.Node) bool {
		err = nodeChange(ctx, n)
		return err == nil
	})
	return err
}

// inspect visits every node of a plan, children first from the top.
func inspect(n sql.Node, f func(sql.Node) bool) bool {
	if n == nil {
		return true
	}
	if !f(n) {
		return false
	}
	for _, c := range n.Children() {
		if !inspect(c, f) {
			return false
		}
	}
	return true
}

func nodeChange(ctx *sql.Context, n sql.Node) error {
	cur := ctx.GetCurrentDatabase()
	db := func(name string) string { return orDefault(name, cur) }
	written := func(tables []tableRef, dflt string) error {
		for _, t := range tables {
			if isMySQLSchema(orDefault(t.db, dflt)) {
				return mysqlerr.OpenAsReadonly(t.table)
			}
		}
		return nil
	}
	switch x := n.(type) {
	case *plan.InsertInto: // INSERT, REPLACE, LOAD DATA
		if r, _, ok := destTable(x); ok {
			return written([]tableRef{r}, cur)
		}
		return written(tablesIn(x.Destination), db(dbOf(x)))
	case *plan.Update:
		var exprs []sql.Expression
		for _, c := range collectNodes[*plan.UpdateSource](x.Child) {
			exprs = append(exprs, c.UpdateExprs...)
		}
		w := &walker{ctx: ctx, root: x}
		var targets []tableRef
		for r := range w.setColumns(exprs) {
			targets = append(targets, r)
		}
		if len(targets) == 0 {
			targets = tablesIn(x.Child)
		}
		return written(targets, cur)
	case *plan.DeleteFrom:
		var targets []tableRef
		if x.HasExplicitTargets() {
			for _, t := range x.GetDeleteTargets() {
				targets = append(targets, tablesIn(t)...)
			}
		} else {
			targets = tablesIn(x.Child)
		}
		return written(targets, cur)
	case *plan.Truncate:
		return written(tablesIn(x.Child), db(x.DatabaseName()))
	case *plan.DropTable, *plan.CreateIndex, *plan.DropIndex, *plan.AlterIndex, *plan.AlterPK,
		*plan.AddColumn, *plan.DropColumn, *plan.ModifyColumn, *plan.RenameColumn, *plan.AlterDefaultSet,
		*plan.AlterDefaultDrop, *plan.AlterAutoIncrement, *plan.AlterTableCollation, *plan.CreateCheck,
		*plan.DropCheck, *plan.DropConstraint, *plan.DropForeignKey, *plan.RenameForeignKey,
		*plan.CreateForeignKey, *plan.RenameTable, *plan.UpdateHistogram, *plan.DropHistogram:
		if err := written(tablesIn(x), cur); err != nil {
			return err
		}
		if isMySQLSchema(db(dbOf(x))) {
			return mysqlerr.NoSystemSchemaAccess(mysqlSchemaName)
		}
	case *plan.CreateTrigger:
		if err := written(tablesIn(x.Table), db(dbOf(x))); err != nil {
			return err
		}
		if isMySQLSchema(db(dbOf(x))) {
			return mysqlerr.NoSystemSchemaAccess(mysqlSchemaName)
		}
	case *plan.CreateTable, *plan.CreateView, *plan.DropView, *plan.SingleDropView, *plan.DropTrigger,
		*plan.CreateProcedure, *plan.DropProcedure, *plan.CreateEvent, *plan.DropEvent:
		if isMySQLSchema(db(dbOf(x))) {
			return mysqlerr.NoSystemSchemaAccess(mysqlSchemaName)
		}
	case *plan.CreateDB:
		if isMySQLSchema(x.DbName) {
			return mysqlerr.NoSystemSchemaAccess(mysqlSchemaName)
		}
	case *plan.CreateSchema:
		if isMySQLSchema(x.DbName) {
			return mysqlerr.NoSystemSchemaAccess(mysqlSchemaName)
		}
	case *plan.DropDB:
		if isMySQLSchema(x.DbName) {
			return mysqlerr.NoSystemSchemaAccess(mysqlSchemaName)
		}
	case *plan.AlterDB:
		if isMySQLSchema(x.Database(ctx)) {
			return mysqlerr.NoSystemSchemaAccess(mysqlSchemaName)
		}
	}
	return nil
}
