package server

import (
	"testing"

	"github.com/authplug/authplug/priv"
)

func TestParseExecuteAs(t *testing.T) {
	alice := priv.Account{User: "alice@example.com", Host: "%"}
	ok := []struct {
		q      string
		target priv.Account
		stmt   string
	}{
		{"EXECUTE AS 'alice@example.com' SELECT 1", alice, "SELECT 1"},
		{"execute as 'alice@example.com'@'%' select * from t into outfile '/x'", alice, "select * from t into outfile '/x'"},
		{"EXECUTE AS `alice@example.com`", alice, ""},
		{"EXECUTE AS \"alice@example.com\" ;", alice, ""},
		{"/* c */ EXECUTE  AS  bob@localhost  (SELECT 1)", priv.Account{User: "bob", Host: "localhost"}, "(SELECT 1)"},
		{"EXECUTE AS 'o''brien' SELECT 1", priv.Account{User: "o'brien", Host: "%"}, "SELECT 1"},
		{`EXECUTE AS 'a\'b' SELECT 1`, priv.Account{User: "a'b", Host: "%"}, "SELECT 1"},
	}
	for _, c := range ok {
		target, stmt, isExec, err := parseExecuteAs(c.q)
		if !isExec || err != nil || target != c.target || stmt != c.stmt {
			t.Errorf("%q: got %v %q %v %v, want %v %q", c.q, target, stmt, isExec, err, c.target, c.stmt)
		}
	}
	bad := []string{
		"EXECUTE AS",
		"EXECUTE AS 'alice",
		"EXECUTE AS 'alice', 'bob' SELECT 1",
		"EXECUTE AS 'alice'; DROP TABLE t",
		"EXECUTE AS 'alice'SELECT 1",
		"EXECUTE AS 'alice'@ SELECT 1",
		"EXECUTE AS (SELECT 'root') SELECT 1",
		"EXECUTE AS 'alice' -- SELECT 1\n",
		"EXECUTE AS alice' OR '1'='1 SELECT 1",
	}
	for _, q := range bad {
		if _, _, isExec, err := parseExecuteAs(q); !isExec || err == nil {
			t.Errorf("%q must be a syntax error (isExec=%v err=%v)", q, isExec, err)
		}
	}
	if _, _, isExec, _ := parseExecuteAs("EXECUTE stmt1"); isExec {
		t.Error("EXECUTE of a prepared statement is not EXECUTE AS")
	}
	if !isRevert("revert;") || isRevert("REVERT x") {
		t.Error("REVERT is a statement of its own")
	}
}
