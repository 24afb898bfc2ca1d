package server

import (
	"strings"
	"testing"

	"github.com/dolthub/go-mysql-server/memory"
	"github.com/dolthub/go-mysql-server/sql"
	"github.com/pingcap/tidb/pkg/parser/ast"

	"github.com/authplug/authplug/privilege"
)

func TestRedact(t *testing.T) {
	cases := map[string]string{
		`CREATE USER u IDENTIFIED BY 'pw'`:                     `CREATE USER u IDENTIFIED BY '<redacted>'`,
		`ALTER USER u IDENTIFIED WITH p BY 'it''s \' secret'`:  `ALTER USER u IDENTIFIED WITH p BY '<redacted>'`,
		`create user a identified by "x", b identified by 'y'`: `create user a identified by '<redacted>', b identified by '<redacted>'`,
		`SET PASSWORD FOR 'u'@'%' = 'pw'`:                      `SET PASSWORD FOR 'u'@'%' = '<redacted>'`,
		`SET PASSWORD = 'pw'`:                                  `SET PASSWORD = '<redacted>'`,
		`CREATE USER u IDENTIFIED WITH p AS '{"issuer":"x"}'`:  `CREATE USER u IDENTIFIED WITH p AS '{"issuer":"x"}'`,
		`GRANT SELECT ON d.* TO u`:                             `GRANT SELECT ON d.* TO u`,
	}
	for in, want := range cases {
		if got := redact(in); got != want {
			t.Errorf("redact(%q) = %q, want %q", in, got, want)
		}
	}
	// Spellings a pattern misses: the parser decides, and the secret is
	// gone whatever text comes out.
	for _, in := range []string{
		`CREATE USER u IDENTIFIED BY /* c */ 'S3cret'`,
		`CREATE USER u IDENTIFIED /*!80000 BY 'S3cret' */`,
		`SET PASSWORD = PASSWORD('S3cret')`,
		`SET PASSWORD FOR u = /* c */ 'S3cret'`,
		`EXECUTE AS 'alice' CREATE USER v IDENTIFIED BY /**/'S3cret'`,
		`PREPARE s FROM 'CREATE USER w IDENTIFIED BY ''S3cret'''`,
		`CREATE USER u IDENTIFIED BY 'S3cret' garbage garbage`,
		`ALTER USER u IDENTIFIED BY 'S3cret' REPLACE 'old'`,
	} {
		if got := redact(in); strings.Contains(got, "S3cret") {
			t.Errorf("redact(%q) = %q: the password is still there", in, got)
		}
		if got := syntaxError(in).Error(); strings.Contains(got, "S3cret") {
			t.Errorf("syntaxError(%q) = %q: the password is still there", in, got)
		}
	}
	if got := redact(`EXECUTE AS 'alice' SELECT 1`); got != `EXECUTE AS 'alice' SELECT 1` {
		t.Errorf("EXECUTE AS prefix: %q", got)
	}
}

func TestIsAccountStatement(t *testing.T) {
	yes := []string{"GRANT SELECT ON *.* TO u", "  /* c */ create user x", "-- c\nDROP ROLE r", "SET ROLE r",
		"set default role all to u", "SHOW GRANTS", "REVOKE PROXY ON a FROM b", "ALTER USER u ACCOUNT LOCK", "FLUSH PRIVILEGES", "RENAME USER a TO b"}
	no := []string{"SELECT 1", "CREATE TABLE t (a int)", "SET @a = 1", "SHOW TABLES", "ALTER TABLE t ADD c INT", "", "/* unterminated", "SET DEFAULT x"}
	for _, q := range yes {
		if !isAccountStatement(q) {
			t.Errorf("%q should be an account statement", q)
		}
	}
	for _, q := range no {
		if isAccountStatement(q) {
			t.Errorf("%q should not be an account statement", q)
		}
	}
}

func TestNewEngineRestoresTheGlobalAuthorizationFactory(t *testing.T) {
	before := sql.GetAuthorizationHandlerFactory()
	newEngine(memory.NewDBProvider(), authzFactory{})
	if got := sql.GetAuthorizationHandlerFactory(); got != before {
		t.Fatalf("factory after newEngine = %T, want %T: engines made later would lose their authorization", got, before)
	}
}

func TestUserOptionsChangeOnlyWhatTheyName(t *testing.T) {
	opts := func(pl ...*ast.PasswordOrLockOption) privilege.User {
		o, err := userOptions(nil, pl)
		if err != nil {
			t.Fatal(err)
		}
		u := privilege.User{FailedLoginAttempts: 5, PasswordLockDays: 7}
		for _, f := range o {
			f(&u)
		}
		return u
	}
	cases := []struct {
		name string
		got  privilege.User
		want [2]int
	}{
		{"attempts only", opts(&ast.PasswordOrLockOption{Type: ast.FailedLoginAttempts, Count: 3}), [2]int{3, 7}},
		{"days only", opts(&ast.PasswordOrLockOption{Type: ast.PasswordLockTime, Count: 2}), [2]int{5, 2}},
		{"both, days 0", opts(&ast.PasswordOrLockOption{Type: ast.FailedLoginAttempts, Count: 3}, &ast.PasswordOrLockOption{Type: ast.PasswordLockTime, Count: 0}), [2]int{3, 0}},
		{"unbounded", opts(&ast.PasswordOrLockOption{Type: ast.PasswordLockTimeUnbounded}), [2]int{5, -1}},
		{"neither", opts(&ast.PasswordOrLockOption{Type: ast.Lock}), [2]int{5, 7}},
	}
	for _, c := range cases {
		if got := [2]int{c.got.FailedLoginAttempts, c.got.PasswordLockDays}; got != c.want {
			t.Errorf("%s: attempts, days = %v, want %v", c.name, got, c.want)
		}
	}
}
