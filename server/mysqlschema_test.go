package server

import (
	"testing"

	"github.com/dolthub/go-mysql-server/sql"

	"github.com/authplug/authplug/authplugin"
	"github.com/authplug/authplug/priv"
	"github.com/authplug/authplug/privilege"
)

func inspectServer(t *testing.T) *Server {
	t.Helper()
	m, err := privilege.NewManager(privilege.NewMemStore())
	if err != nil {
		t.Fatal(err)
	}
	app := priv.Account{User: "app", Host: "%"}
	role := priv.Account{User: "reader", Host: "%"}
	err = m.Update(func(tx *privilege.Tx) error {
		if err := tx.CreateUser(app, privilege.IdentifiedAs(authplugin.NativePasswordName, ""),
			privilege.PasswordExpireNow(), privilege.PasswordLifetime(-1),
			privilege.PasswordRequireCurrent(privilege.RequireCurrentOptional)); err != nil {
			return err
		}
		if err := tx.CreateUser(role, privilege.IdentifiedAs(authplugin.NativePasswordName, ""), privilege.AccountLock(true)); err != nil {
			return err
		}
		for _, err := range []error{
			tx.Grant(app, privilege.Object{}, priv.Select|priv.CreateRole, false),
			tx.Grant(app, privilege.Object{DB: "d", Table: "t"}, priv.Insert|priv.GrantOption, false),
			tx.Grant(app, privilege.Object{DB: "d", Table: "t", Column: "c"}, priv.Select, false),
			tx.Grant(app, privilege.Object{DB: "d", Table: "u", Column: "c"}, priv.Update, false),
			tx.GrantRole(role, app, false),
		} {
			if err != nil {
				return err
			}
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	return &Server{mgr: m}
}

func readGrantTable(t *testing.T, s *Server, name string) (sql.Schema, []sql.Row) {
	t.Helper()
	ctx := sql.NewEmptyContext()
	tbl, ok, err := mysqlSchema{s}.GetTableInsensitive(ctx, name)
	if err != nil || !ok {
		t.Fatalf("mysql.%s: %v", name, err)
	}
	parts, err := tbl.Partitions(ctx)
	if err != nil {
		t.Fatal(err)
	}
	p, err := parts.Next(ctx)
	if err != nil {
		t.Fatal(err)
	}
	iter, err := tbl.PartitionRows(ctx, p)
	if err != nil {
		t.Fatal(err)
	}
	rows, err := sql.RowIterToRows(ctx, iter)
	if err != nil {
		t.Fatal(err)
	}
	return tbl.Schema(), rows
}

// Every row has one value per column, of the column's type, and the
// values of app's row are MySQL's.
func TestMySQLSchemaRows(t *testing.T) {
	s := inspectServer(t)
	names, _ := mysqlSchema{s}.GetTableNames(sql.NewEmptyContext())
	for _, n := range names {
		sch, rows := readGrantTable(t, s, n)
		for _, r := range rows {
			if len(r) != len(sch) {
				t.Fatalf("mysql.%s: row of %d values for %d columns", n, len(r), len(sch))
			}
			for i, c := range sch {
				if r[i] == nil {
					if !c.Nullable {
						t.Errorf("mysql.%s.%s: NULL in a NOT NULL column", n, c.Name)
					}
					continue
				}
				if _, _, err := c.Type.Convert(sql.NewEmptyContext(), r[i]); err != nil {
					t.Errorf("mysql.%s.%s: %v (%T)", n, c.Name, err, r[i])
				}
			}
		}
	}

	sch, rows := readGrantTable(t, s, "user")
	got := map[string]string{}
	for _, r := range rows {
		if r[1] != "app" {
			continue
		}
		for i, c := range sch {
			v, err := c.Type.SQL(sql.NewEmptyContext(), nil, r[i])
			if err != nil {
				t.Fatal(err)
			}
			got[c.Name] = v.ToString()
		}
	}
	want := map[string]string{
		"Select_priv": "Y", "Insert_priv": "N", "Create_role_priv": "Y", "Drop_role_priv": "N",
		"password_expired": "Y", "password_lifetime": "0", "Password_require_current": "N",
		"account_locked": "N", "plugin": authplugin.NativePasswordName, "ssl_type": "",
	}
	for k, v := range want {
		if got[k] != v {
			t.Errorf("mysql.user.%s = %q, want %q", k, got[k], v)
		}
	}

	_, tp := readGrantTable(t, s, "tables_priv")
	if len(tp) != 2 {
		t.Fatalf("tables_priv: %d rows, want one per table with a grant (2)", len(tp))
	}
}

// information_schema: one row per privilege, GRANT OPTION as IS_GRANTABLE,
// a column's grant option from its table.
func TestPrivilegeTableRows(t *testing.T) {
	s := inspectServer(t)
	ad, _ := s.mgr.Snapshot().Account(priv.Account{User: "app", Host: "%"})
	got := grantRows("column_privileges", ad)
	want := []grantRow{
		{grantee: "'app'@'%'", schema: "d", table: "t", column: "c", privilege: "SELECT", grantable: true},
		{grantee: "'app'@'%'", schema: "d", table: "u", column: "c", privilege: "UPDATE"},
	}
	if len(got) != len(want) {
		t.Fatalf("column_privileges = %+v", got)
	}
	for i := range want {
		if got[i] != want[i] {
			t.Errorf("column_privileges[%d] = %+v, want %+v", i, got[i], want[i])
		}
	}
	up := grantRows("user_privileges", ad)
	if len(up) != 2 || up[0].privilege != "SELECT" || up[1].privilege != "CREATE ROLE" {
		t.Errorf("user_privileges = %+v", up)
	}
	role, _ := s.mgr.Snapshot().Account(priv.Account{User: "reader", Host: "%"})
	if up := grantRows("user_privileges", role); len(up) != 1 || up[0].privilege != "USAGE" {
		t.Errorf("an account with no global privilege: %+v, want USAGE", up)
	}
}
