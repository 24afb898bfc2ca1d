package server

import (
	"context"
	"strings"
	"testing"

	"github.com/dolthub/go-mysql-server/memory"
	"github.com/dolthub/go-mysql-server/sql"
	"github.com/dolthub/go-mysql-server/sql/information_schema"
)

// Every information_schema table of the engine has a rule, and every column
// a rule reads is in the table: a new engine version with a new or changed
// table fails here instead of showing its rows to everyone (or to no one).
func TestInformationSchemaClassified(t *testing.T) {
	db := information_schema.NewInformationSchemaDatabase()
	ctx := sql.NewEmptyContext()
	names, err := db.GetTableNames(ctx)
	if err != nil {
		t.Fatal(err)
	}
	seen := map[string]bool{}
	for _, n := range names {
		n = strings.ToLower(n)
		seen[n] = true
		rule, ok := infoSchemaRules[n]
		if !ok {
			t.Errorf("information_schema.%s has no visibility rule", n)
			continue
		}
		tbl, _, err := db.GetTableInsensitive(ctx, n)
		if err != nil || tbl == nil {
			t.Fatalf("information_schema.%s: %v", n, err)
		}
		if _, ok := rule.columnIndexes(tbl.Schema()); !ok {
			t.Errorf("information_schema.%s lacks a column its rule reads (%v)", n, rule.cols)
		}
	}
	for n := range infoSchemaRules {
		if !seen[n] {
			t.Errorf("rule for information_schema.%s, which the engine does not have", n)
		}
	}
	for _, set := range []map[string]bool{parsesDefinitions, engineGated} {
		for n := range set {
			if !seen[n] {
				t.Errorf("information_schema.%s is special-cased but does not exist", n)
			}
		}
	}
}

// The server's own statements (session ID 0) are not filtered: setup and
// extensions' bootstrap see every database.
func TestMetadataInternalSeesEverything(t *testing.T) {
	hidden := memory.NewDatabase("hidden")
	s, err := New(Config{Addr: "127.0.0.1:0", DataDir: t.TempDir(), RootPassword: "x", Databases: []sql.Database{hidden}})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { s.Close() })
	if err := s.ExecuteSQL(context.Background(), "CREATE TABLE hidden.t (a INT PRIMARY KEY)"); err != nil {
		t.Fatal(err)
	}
	base := sql.NewBaseSession()
	base.SetConnectionId(internalSession)
	ctx := sql.NewContext(context.Background(), sql.WithSession(memory.NewSession(base, s.pro)))
	for q, want := range map[string]string{
		"SHOW DATABASES": "hidden",
		"SELECT TABLE_NAME FROM information_schema.TABLES WHERE TABLE_SCHEMA = 'hidden'": "t",
		"SHOW TABLES FROM hidden": "t",
	} {
		_, iter, _, err := s.engine.Query(ctx, q)
		if err != nil {
			t.Fatalf("%s: %v", q, err)
		}
		rows, err := sql.RowIterToRows(ctx, iter)
		if err != nil {
			t.Fatalf("%s: %v", q, err)
		}
		found := false
		for _, r := range rows {
			found = found || r[0] == want
		}
		if !found {
			t.Errorf("%s: %q not among %v", q, want, rows)
		}
	}
}
