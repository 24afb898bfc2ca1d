package gateway

import (
	"strings"
	"testing"

	"github.com/authplug/authplug/mysqlerr"
)

func TestCheckStatement(t *testing.T) {
	allowed := map[string]statementKind{
		"SELECT a FROM demo.t WHERE id = 1":        returnsRows,
		"select 1;":                                returnsRows,
		"SELECT 1 UNION SELECT 2":                  returnsRows,
		"WITH x AS (SELECT 1) SELECT * FROM x":     returnsRows,
		"TABLE demo.t":                             returnsRows,
		"SHOW TABLES FROM demo":                    returnsRows,
		"DESCRIBE demo.t":                          returnsRows,
		"EXPLAIN SELECT 1":                         returnsRows,
		"SELECT '@x', 'get_lock', '/* @x */'":      returnsRows,
		"INSERT INTO demo.t VALUES (3, 30, 300)":   changesRows,
		"REPLACE INTO demo.t VALUES (3, 30, 300)":  changesRows,
		"UPDATE demo.t SET a = 1 WHERE id = 1":     changesRows,
		"DELETE FROM demo.t WHERE id = 1":          changesRows,
		"SELECT 'it''s; EXECUTE AS ''root''' AS s": returnsRows,
		"SELECT 1 -- EXECUTE AS 'root'":            returnsRows,
	}
	for q, want := range allowed {
		kind, err := checkStatement(q)
		if err != nil || kind != want {
			t.Errorf("%s: %v, %v; want %v", q, kind, err, want)
		}
	}
	refused := map[string]uint16{
		"":                                      mysqlerr.ErSyntax,
		"SELECT 1; SELECT 2":                    mysqlerr.ErSyntax,
		"SELECT 1; DROP TABLE demo.t":           mysqlerr.ErSyntax,
		"SELECT 1;;":                            mysqlerr.ErSyntax,
		"EXECUTE AS 'root' SELECT 1":            mysqlerr.ErNotSupportedYet,
		"execute  as root":                      mysqlerr.ErNotSupportedYet,
		"/* x */ EXECUTE AS 'root' SELECT 1":    mysqlerr.ErNotSupportedYet,
		"REVERT":                                mysqlerr.ErNotSupportedYet,
		"SELECT 1; EXECUTE AS 'root'":           mysqlerr.ErSyntax,
		"SET ROLE ALL":                          mysqlerr.ErSyntax,
		"SET @x = 1":                            mysqlerr.ErNotSupportedYet,
		"SET autocommit = 0":                    mysqlerr.ErNotSupportedYet,
		"/*!50000 SET @x = 1 */":                mysqlerr.ErNotSupportedYet,
		"USE mysql":                             mysqlerr.ErNotSupportedYet,
		"BEGIN":                                 mysqlerr.ErNotSupportedYet,
		"START TRANSACTION":                     mysqlerr.ErNotSupportedYet,
		"LOCK TABLES demo.t READ":               mysqlerr.ErNotSupportedYet,
		"PREPARE s FROM 'SELECT 1'":             mysqlerr.ErNotSupportedYet,
		"CALL p()":                              mysqlerr.ErNotSupportedYet,
		"GRANT SELECT ON *.* TO alice":          mysqlerr.ErNotSupportedYet,
		"DROP TABLE demo.t":                     mysqlerr.ErNotSupportedYet,
		"CREATE TEMPORARY TABLE demo.x (a INT)": mysqlerr.ErNotSupportedYet,
		"SELECT @x":                             mysqlerr.ErNotSupportedYet,
		"SELECT @@version":                      mysqlerr.ErNotSupportedYet,
		"SELECT a INTO @x FROM demo.t":          mysqlerr.ErNotSupportedYet,
		"SELECT /*!50000 @x, */ 1":              mysqlerr.ErNotSupportedYet,
		"INSERT INTO demo.t SELECT @x, 1, 1":    mysqlerr.ErNotSupportedYet,
		"SELECT LAST_INSERT_ID()":               mysqlerr.ErNotSupportedYet,
		"SELECT get_lock('a', 0)":               mysqlerr.ErNotSupportedYet,
		"SHOW WARNINGS":                         mysqlerr.ErNotSupportedYet,
		"SHOW COUNT(*) ERRORS":                  mysqlerr.ErNotSupportedYet,
		"EXPLAIN SHOW WARNINGS":                 mysqlerr.ErSyntax,
		"SELECT 'unterminated":                  mysqlerr.ErSyntax,
		// Spellings an attacker tries: quoted variable names, quoted
		// function names, statements hidden in version comments and
		// behind NUL, line comments ending before a ';'.
		"SELECT @'x'":                                      mysqlerr.ErNotSupportedYet,
		"SELECT @`x`":                                      mysqlerr.ErNotSupportedYet,
		"SELECT @\"x\"":                                    mysqlerr.ErNotSupportedYet,
		"SELECT `GET_LOCK`('a', 1)":                        mysqlerr.ErNotSupportedYet,
		"SELECT get_lock /* */ ('a', 1)":                   mysqlerr.ErNotSupportedYet,
		"SELECT 1 /*!99999 , get_lock('a',1) */":           mysqlerr.ErNotSupportedYet,
		"SELECT 1 /*!99999 ; DROP TABLE demo.t */":         mysqlerr.ErSyntax,
		"SELECT 1 /*! ; DROP TABLE demo.t */":              mysqlerr.ErSyntax,
		"SELECT 1\x00; DROP TABLE demo.t":                  mysqlerr.ErSyntax,
		"SELECT 1 # x\n; DROP TABLE demo.t":                mysqlerr.ErSyntax,
		"SELECT 1 -- x\n; DROP TABLE demo.t":               mysqlerr.ErSyntax,
		"SELECT 1 FROM (SELECT @x := 1) t":                 mysqlerr.ErSyntax,
		"KILL QUERY 1":                                     mysqlerr.ErNotSupportedYet,
		"SHOW GRANTS FOR root":                             mysqlerr.ErNotSupportedYet,
		"LOAD DATA INFILE '/etc/passwd' INTO TABLE demo.t": mysqlerr.ErNotSupportedYet,
		"SELECT 1 " + strings.Repeat("(", 10000):           mysqlerr.ErSyntax,
	}
	for q, want := range refused {
		_, err := checkStatement(q)
		if got := mysqlerr.Code(err); got != want {
			t.Errorf("%q: %v (%d), want %d", q, err, got, want)
		}
	}
}

// The subject is one quoted account name however it is spelt: the quoted
// text, read back as the server's grammar reads it, is the subject.
func TestExecuteAsQuotesTheSubject(t *testing.T) {
	for _, sub := range []string{
		"alice", "o'brien", `back\slash`, `'; DROP TABLE demo.t; --`, "nul\x00byte",
		`\'`, `''`, "tab\there", strings.Repeat("é", 300), "alice'@'localhost",
	} {
		p, err := executeAs(sub)
		if err != nil {
			t.Fatal(err)
		}
		got, rest, ok := unquote(strings.TrimPrefix(p, "EXECUTE AS "))
		if !ok || got != sub || rest != "@'%'" {
			t.Errorf("%q: quoted as %q, read back as %q then %q", sub, p, got, rest)
		}
	}
	if _, err := executeAs(""); mysqlerr.Code(err) != mysqlerr.ErSpecificAccess {
		t.Errorf("an empty subject: %v", err)
	}
}

// unquote reads a quoted name as server/impersonate.go's accountPart does.
func unquote(s string) (name, rest string, ok bool) {
	q := s[0]
	var b strings.Builder
	for i := 1; i < len(s); i++ {
		c := s[i]
		switch {
		case c == '\\' && i+1 < len(s):
			i++
			b.WriteByte(s[i])
		case c == q && i+1 < len(s) && s[i+1] == q:
			i++
			b.WriteByte(q)
		case c == q:
			return b.String(), s[i+1:], true
		default:
			b.WriteByte(c)
		}
	}
	return "", "", false
}
