package server

import (
	"strings"
	"testing"
	"unicode"
)

// FuzzParseExecuteAs checks the EXECUTE AS prefix grammar: what it accepts
// names one account that survives quoting, and the statement it hands to
// the engine is the input's own tail, never text it made up.
func FuzzParseExecuteAs(f *testing.F) {
	for _, q := range []string{
		"EXECUTE AS 'alice@example.com' SELECT 1",
		"execute as 'alice'@'%' select * from t",
		"EXECUTE AS `bob`@`localhost`",
		"/* c */ EXECUTE AS bob@localhost (SELECT 1)",
		"EXECUTE AS 'o''brien' SELECT 1",
		`EXECUTE AS 'a\'b' SELECT 1`,
		"EXECUTE AS 'alice'; DROP TABLE t",
		"EXECUTE AS 'alice' -- SELECT 1\n",
		"REVERT",
	} {
		f.Add(q)
	}
	f.Fuzz(func(t *testing.T, q string) {
		target, stmt, ok, err := parseExecuteAs(q)
		if !ok || err != nil {
			return
		}
		if !strings.HasSuffix(strings.TrimRightFunc(q, unicode.IsSpace), stmt) {
			t.Fatalf("%q: statement %q is not the input's tail", q, stmt)
		}
		if stmt != "" && !(stmt[0] == '(' || unicode.IsLetter(rune(stmt[0]))) {
			t.Fatalf("%q: statement %q does not start with a word or (", q, stmt)
		}
		again := "EXECUTE AS " + quoteAccountPart(target.User) + "@" + quoteAccountPart(target.Host)
		if stmt != "" {
			again += " " + stmt
		}
		target2, stmt2, ok2, err2 := parseExecuteAs(again)
		if !ok2 || err2 != nil || target2 != target || stmt2 != stmt {
			t.Fatalf("%q gave %v %q; re-quoted %q gives %v %q (%v)", q, target, stmt, again, target2, stmt2, err2)
		}
	})
}

func quoteAccountPart(s string) string {
	return "'" + strings.NewReplacer(`\`, `\\`, "'", "''").Replace(s) + "'"
}
