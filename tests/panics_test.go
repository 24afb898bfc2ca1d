package tests

import (
	"strings"
	"testing"
	"time"

	gmssql "github.com/dolthub/go-mysql-server/sql"
	"github.com/dolthub/go-mysql-server/sql/types"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/authplug/authplug/server"
)

// boomDB holds one table, t, that panics when the engine sets up its
// rows: on the connection's own goroutine, where the engine does not
// recover a panic (vitess does, by closing the connection).
type boomDB struct{}

func (boomDB) Name() string { return "boom" }

func (boomDB) GetTableInsensitive(_ *gmssql.Context, name string) (gmssql.Table, bool, error) {
	if strings.EqualFold(name, "t") {
		return boomTable{}, true, nil
	}
	return nil, false, nil
}

func (boomDB) GetTableNames(*gmssql.Context) ([]string, error) { return []string{"t"}, nil }

type boomTable struct{}

func (boomTable) Name() string                  { return "t" }
func (boomTable) String() string                { return "t" }
func (boomTable) Collation() gmssql.CollationID { return gmssql.Collation_Default }
func (boomTable) Schema() gmssql.Schema {
	return gmssql.Schema{{Name: "x", Type: types.Int64, Source: "t"}}
}
func (boomTable) Partitions(*gmssql.Context) (gmssql.PartitionIter, error) {
	panic("deliberate: boom.t")
}

func (boomTable) PartitionRows(*gmssql.Context, gmssql.Partition) (gmssql.RowIter, error) {
	return nil, nil
}

// A panic in the engine while it runs a statement fails the statement with
// 1105, logged with its stack, and the session goes on.
func TestEnginePanicFailsTheStatementNotTheConnection(t *testing.T) {
	e := startConfig(t, nil, "", 2*time.Second, "", func(c *server.Config) {
		c.Databases = append(c.Databases, boomDB{})
	})
	root := e.root()
	_, err := query(root, "SELECT x FROM boom.t")
	require.Error(t, err)
	assert.Equal(t, uint16(1105), code(err))
	assert.Contains(t, err.Error(), "internal error: deliberate: boom.t")
	assert.Equal(t, [][]string{{"1"}}, rowsOf(t, root, "SELECT 1"), "the session outlives the panic")
	assert.Contains(t, e.logs.String(), "the engine panicked running a statement")
	assert.Contains(t, e.logs.String(), "boomTable.Partitions", "the log has the stack")
}

// Inputs on which the engine's functions panicked, for an account with no
// privileges, over the wire: the answer or a MySQL error, and the session
// goes on (one of them used to close it).
func TestHostileFunctionArgumentsOverTheWire(t *testing.T) {
	e := start(t, nil, "")
	app := lowPrivilegeSession(t, e)
	v, _ := oneValue(t, app, "SELECT FORMAT(1e300, 30)")
	require.NotNil(t, v)
	assert.Equal(t, "1"+strings.Repeat(",000", 100)+"."+strings.Repeat("0", 30), *v)

	for _, c := range []struct {
		q    string
		want uint16
	}{
		{"SELECT FORMAT(1e308 * 10, 2)", 1690},
		{"SELECT JSON_OBJECT(NULL, 1)", 3158},
		{"SELECT NTILE('a') OVER ()", 1210},
		{"SELECT ABS()", 1582},
		{"SELECT LOAD_FILE()", 1582},
		{"SELECT CURTIME(CONNECTION_ID())", 1064},
		// Read while the statement is parsed (MySQL refuses it there, with
		// 1064): the host's guard answers 1105 and keeps the session.
		{"SELECT JSON_VALUE('{}', '$', NULL)", 1105},
	} {
		assert.Equal(t, c.want, codeOf(app, c.q), c.q)
	}
	// It closed the connection: the engine's constructor evaluated X'FF'.
	v, _ = oneValue(t, app, "SELECT UNIX_TIMESTAMP(X'FF')")
	require.NotNil(t, v)
	assert.Equal(t, "0", *v)
	assert.Equal(t, [][]string{{"1"}}, rowsOf(t, app, "SELECT 1"), "the session went on throughout")
}
