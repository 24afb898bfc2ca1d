package tests

import (
	"context"
	"database/sql"
	"strconv"
	"testing"

	"github.com/stretchr/testify/require"
)

// status is a status variable's value, as SHOW [scope] STATUS gives it.
func status(t *testing.T, c *sql.Conn, scope, name string) uint64 {
	t.Helper()
	var n, v string
	require.NoError(t, c.QueryRowContext(context.Background(), "SHOW "+scope+" STATUS LIKE '"+name+"'").Scan(&n, &v))
	u, err := strconv.ParseUint(v, 10, 64)
	require.NoError(t, err, "%s = %q", name, v)
	return u
}

// Every session counts its own statements from zero (authplug makes the
// engine's session counters itself, server/statusvars.go), and the global
// counters count everyone's.
func TestSessionStatusCountsEachSessionsOwn(t *testing.T) {
	e := start(t, nil, "")
	e.seed()
	root := e.root()
	exec(t, root, "CREATE USER counted IDENTIFIED BY 'pw'", "GRANT SELECT ON demo.* TO counted")

	a, b := e.conn("counted", "pw"), e.conn("counted", "pw")
	globalBefore := status(t, root, "GLOBAL", "Com_select")
	bBefore := status(t, b, "SESSION", "Com_select")
	aBefore := status(t, a, "SESSION", "Com_select")
	for range 5 {
		exec(t, a, "SELECT a FROM demo.t WHERE id = 1")
	}
	require.Equal(t, aBefore+5, status(t, a, "SESSION", "Com_select"))
	require.Equal(t, bBefore, status(t, b, "SESSION", "Com_select"), "another session's counter moved")

	c := e.conn("counted", "pw")
	require.Less(t, status(t, c, "SESSION", "Com_select"), uint64(5), "a new session starts where an earlier one got to")
	require.GreaterOrEqual(t, status(t, root, "GLOBAL", "Com_select"), globalBefore+5)
}
