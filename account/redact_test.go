package account

import (
	"strings"
	"testing"
)

func TestRedactKeepsTheStatementReadable(t *testing.T) {
	cases := map[string]string{
		`CREATE USER u IDENTIFIED BY 'pw'`:                     `CREATE USER u IDENTIFIED BY '<redacted>'`,
		`ALTER USER u IDENTIFIED WITH p BY 'it''s \' secret'`:  `ALTER USER u IDENTIFIED WITH p BY '<redacted>'`,
		`create user a identified by "x", b identified by 'y'`: `create user a identified by '<redacted>', b identified by '<redacted>'`,
		`SET PASSWORD FOR 'u'@'%' = 'pw'`:                      `SET PASSWORD FOR 'u'@'%' = '<redacted>'`,
		`SET PASSWORD = 'pw'`:                                  `SET PASSWORD = '<redacted>'`,
		`CREATE USER u IDENTIFIED WITH p AS '{"issuer":"x"}'`:  `CREATE USER u IDENTIFIED WITH p AS '<redacted>'`,
		`ALTER USER u IDENTIFIED BY 'n' REPLACE 'o'`:           `ALTER USER u IDENTIFIED BY '<redacted>' REPLACE '<redacted>'`,
		`CREATE USER u IDENTIFIED BY RANDOM PASSWORD`:          `CREATE USER u IDENTIFIED BY RANDOM PASSWORD`,
		`GRANT SELECT ON d.* TO u`:                             `GRANT SELECT ON d.* TO u`,
		`SELECT 'password'`:                                    `SELECT 'password'`,
	}
	for in, want := range cases {
		if got := Redact(in); got != want {
			t.Errorf("Redact(%q) = %q, want %q", in, got, want)
		}
	}
}

// Spellings a pattern misses: the parser decides, and the secret is gone
// whatever text comes out, in Redact and in syntax errors.
func TestRedactLeavesNoSecret(t *testing.T) {
	for _, in := range []string{
		`CREATE USER u IDENTIFIED BY /* c */ 'S3cret'`,
		`CREATE USER u IDENTIFIED /*!80000 BY 'S3cret' */`,
		`CREATE USER u IDENTIFIED /*!80000 BY */ 'S3cret'`,
		"CREATE USER u IDENTIFIED BY -- c\n 'S3cret'",
		"CREATE USER u IDENTIFIED BY # c\n 'S3cret'",
		`SET PASSWORD = PASSWORD('S3cret')`,
		`SET PASSWORD FOR u = /* c */ 'S3cret'`,
		`SET PASSWORD = 'new' REPLACE 'S3cret'`,
		`PREPARE s FROM 'CREATE USER w IDENTIFIED BY ''S3cret'''`,
		`CREATE USER u IDENTIFIED BY 'S3cret' garbage garbage`,
		`ALTER USER u IDENTIFIED BY 'x' REPLACE /* c */ 'S3cret'`,
		`ALTER USER u IDENTIFIED BY 'S3cret' RETAIN CURRENT PASSWORD`,
		`CREATE USER u IDENTIFIED WITH mysql_native_password AS 0x53336372657400`,
		`CREATE USER u IDENTIFIED WITH mysql_native_password AS X'S3cret'`,
		`CREATE USER u IDENTIFIED BY _utf8mb4'S3cret'`,
		`CREATE USER u IDENTIFIED WITH p AS 'S3cret'`,
		`CREATE USER u IDENTIFIED BY 'S3cret`,
		`ALTER USER USER() IDENTIFIED BY 'S3cret'`,
		`GRANT SELECT ON *.* TO u IDENTIFIED BY 'S3cret'`,
	} {
		if got := Redact(in); strings.Contains(got, "S3cret") || strings.Contains(got, "53336372657400") {
			t.Errorf("Redact(%q) = %q: the secret is still there", in, got)
		}
		if _, err := Parse(in); err != nil && strings.Contains(err.Error(), "S3cret") {
			t.Errorf("Parse(%q) error %q holds the secret", in, err)
		}
	}
}

func TestIsStatement(t *testing.T) {
	yes := []string{"GRANT SELECT ON *.* TO u", "  /* c */ create user x", "-- c\nDROP ROLE r", "SET ROLE r",
		"set default role all to u", "SHOW GRANTS", "REVOKE PROXY ON a FROM b", "ALTER USER u ACCOUNT LOCK", "FLUSH PRIVILEGES",
		"RENAME USER a TO b", "SHOW CREATE USER u", "/*!80000 CREATE USER */ x"}
	no := []string{"SELECT 1", "CREATE TABLE t (a int)", "SET @a = 1", "SHOW TABLES", "ALTER TABLE t ADD c INT", "", "/* unterminated",
		"SET DEFAULT x", "SHOW CREATE TABLE t", "--x\nGRANT"}
	for _, q := range yes {
		if !IsStatement(q) {
			t.Errorf("%q should be an account statement", q)
		}
	}
	for _, q := range no {
		if IsStatement(q) {
			t.Errorf("%q should not be an account statement", q)
		}
	}
}

func TestRewriteReadsOnlyBareWords(t *testing.T) {
	st, err := Parse("CREATE USER 'random password' IDENTIFIED BY 'replace'")
	if err != nil {
		t.Fatal(err)
	}
	if st.random != "" || st.Replace != nil {
		t.Fatalf("quoted text taken for a clause: %+v", st)
	}
	st, err = Parse("ALTER USER u IDENTIFIED BY 'n' REPLACE 'it''s' PASSWORD REQUIRE CURRENT OPTIONAL")
	if err != nil {
		t.Fatal(err)
	}
	if st.Replace == nil || *st.Replace != "it's" || st.RequireCurrent != RequireOptional {
		t.Fatalf("clauses: %+v", st)
	}
	if _, err := Parse("ALTER USER u IDENTIFIED BY 'n' REPLACE 'a' REPLACE 'b'"); err == nil {
		t.Fatal("two REPLACE clauses accepted")
	}
}

func TestLexRoundTrips(t *testing.T) {
	for _, q := range []string{"", "a", "/* x", "'unterminated", "`q``q`", "x -- c", "--", "#", "/*!80000 a */ b", "é'\\''"} {
		if got := join(lex(q)); got != q {
			t.Errorf("lex(%q) joined = %q", q, got)
		}
	}
}

func FuzzRedact(f *testing.F) {
	for _, s := range []string{
		`CREATE USER u IDENTIFIED BY 'pw'`, `SET PASSWORD = PASSWORD('x')`, `ALTER USER u IDENTIFIED BY 'a' REPLACE 'b'`,
		`REVOKE PROXY ON a FROM b`, `/*!80000 GRANT */ x`, "'", "`", `CREATE USER u IDENTIFIED BY RANDOM PASSWORD`,
	} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, q string) {
		if got := join(lex(q)); got != q {
			t.Fatalf("lex does not round-trip %q", q)
		}
		out := Redact(q)
		st, err := Parse(q)
		if err != nil {
			return
		}
		// Whatever parsed, the redacted text holds none of its secrets:
		// the text of a secret may occur in it only as often as it occurs
		// in the statement outside the secrets (inside a keyword, say:
		// BY 'iDEN' after iDENTIFIED).
		secrets := secretsOf(st)
		for _, s := range secrets {
			if len(s) < 4 {
				continue
			}
			inSecrets := 0
			for _, x := range secrets {
				inSecrets += strings.Count(x, s)
			}
			if n := strings.Count(out, s); n > 0 && n > strings.Count(q, s)-inSecrets {
				t.Fatalf("Redact(%q) = %q holds %q", q, out, s)
			}
		}
	})
}
