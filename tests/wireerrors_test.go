package tests

import (
	"context"
	"testing"

	"github.com/go-sql-driver/mysql"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// A refusal reaches the client with its own number and SQL state whichever
// command carries the statement: the text protocol, the first statement of
// a multi-statement query (which the engine runs itself) or a prepare. The
// statement names a table that does not exist and that the account may not
// read: the engine's "no such table" is replaced by the refusal the host
// deferred, which must still become a MySQL error on the way out, not
// vitess' 1105 for an error it does not know.
func TestRefusalKeepsItsNumberOnEveryCommand(t *testing.T) {
	e := start(t, nil, "")
	e.seed()
	exec(t, e.root(),
		"CREATE USER w IDENTIFIED WITH mysql_native_password BY 'pw'",
		"GRANT SELECT ON demo.t TO w",
	)
	const q = "SELECT * FROM demo.nosuch"
	text := e.conn("w", "pw")
	multi := e.conn("w", "pw", func(c *mysql.Config) { c.MultiStatements = true })
	prepared := e.conn("w", "pw")
	commands := map[string]func() error{
		"text": func() error {
			_, err := query(text, q)
			return err
		},
		"multi-statement": func() error {
			_, err := query(multi, q+"; SELECT 1")
			return err
		},
		"prepare": func() error {
			st, err := prepared.PrepareContext(context.Background(), q)
			if err == nil {
				st.Close()
			}
			return err
		},
	}
	for name, run := range commands {
		t.Run(name, func(t *testing.T) {
			var me *mysql.MySQLError
			require.ErrorAs(t, run(), &me)
			assert.Equal(t, uint16(1142), me.Number, "%v", me)
			assert.Equal(t, "42000", string(me.SQLState[:]), "%v", me)
		})
	}
}

// A statement the parser refuses is MySQL's 1064 (42000), where the engine
// alone answers 1105; a statement that parses keeps the engine's own error.
// (COM_STMT_PREPARE is parsed by vitess before the host sees it, and its
// syntax errors stay 1105: README, "Where the host differs".)
func TestSyntaxErrorIs1064OnEveryCommand(t *testing.T) {
	e := start(t, nil, "")
	e.seed()
	root := e.root()
	multi := e.conn("root", rootPassword, withTLS, func(c *mysql.Config) { c.MultiStatements = true })
	for name, run := range map[string]func() error{
		"text": func() error {
			_, err := query(root, "SELEC 1")
			return err
		},
		"multi-statement": func() error {
			_, err := query(multi, "SELECT 1 FROM; SELECT 1")
			return err
		},
	} {
		t.Run(name, func(t *testing.T) {
			var me *mysql.MySQLError
			require.ErrorAs(t, run(), &me)
			assert.Equal(t, uint16(1064), me.Number, "%v", me)
			assert.Equal(t, "42000", string(me.SQLState[:]), "%v", me)
			assert.Contains(t, me.Message, "You have an error in your SQL syntax")
		})
	}
	_, err := query(root, "SELECT * FROM demo.nosuch")
	assert.Equal(t, uint16(1146), code(err), "a statement that parses keeps the engine's error: %v", err)
}
