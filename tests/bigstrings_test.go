package tests

import (
	"context"
	"database/sql"
	"fmt"
	"runtime"
	"strconv"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/authplug/authplug/server"
)

// bigQueries build, from a few bytes of SQL, a result far larger than
// max_allowed_packet: MySQL answers NULL with the warning (1301, 1256 for
// UNCOMPRESS), and so must authplug, before building anything.
var bigQueries = []struct {
	q    string
	warn uint16
}{
	{"SELECT REPEAT('x', 2000000000)", 1301},
	{"SELECT REPEAT(REPEAT('x', 1000000), 1000000)", 1301},
	{"SELECT REPEAT(REPEAT(REPEAT('x', 2000000000), 2000000000), 2000000000)", 1301},
	{"SELECT SPACE(2000000000)", 1301},
	{"SELECT LPAD('a', 2000000000, 'b')", 1301},
	{"SELECT RPAD('a', 2000000000, 'b')", 1301},
	{"SELECT REPLACE(REPEAT('a', 1000000), 'a', REPEAT('b', 1000))", 1301},
	{"SELECT CONCAT(REPEAT('a', 40000000), REPEAT('b', 40000000))", 1301},
	{"SELECT TO_BASE64(REPEAT('a', 60000000))", 1301},
	{"SELECT HEX(HEX(HEX(HEX(HEX(HEX(HEX(HEX(HEX(HEX(REPEAT('a', 100000)))))))))))", 1301},
	{"SELECT UNCOMPRESS(UNHEX('FFFFFF7F789C030000000001'))", 1256},
}

// allocated is what the process (the server runs in it) has allocated.
func allocated() uint64 {
	var ms runtime.MemStats
	runtime.ReadMemStats(&ms)
	return ms.TotalAlloc
}

// oneValue runs q on c, returns its one value (nil for NULL) and the
// warnings SHOW WARNINGS lists after it, as "code message".
func oneValue(t *testing.T, c *sql.Conn, q string) (*string, []string) {
	t.Helper()
	var v sql.NullString
	require.NoError(t, c.QueryRowContext(context.Background(), q).Scan(&v), q)
	rows, err := query(c, "SHOW WARNINGS")
	require.NoError(t, err)
	var warns []string
	for _, r := range rows {
		warns = append(warns, r[1]+" "+r[2])
	}
	if !v.Valid {
		return nil, warns
	}
	return &v.String, warns
}

func lowPrivilegeSession(t *testing.T, e *env) *sql.Conn {
	t.Helper()
	exec(t, e.root(), "CREATE USER app IDENTIFIED WITH mysql_native_password BY 'pw'")
	return e.conn("app", "pw")
}

func TestBigResultsAreNullWithAWarning(t *testing.T) {
	e := start(t, nil, "")
	app := lowPrivilegeSession(t, e)
	for _, c := range bigQueries {
		t.Run(c.q, func(t *testing.T) {
			before := allocated()
			v, warns := oneValue(t, app, c.q)
			assert.Nil(t, v, "NULL, as in MySQL")
			require.Len(t, warns, 1)
			assert.True(t, strings.HasPrefix(warns[0], fmt.Sprint(c.warn)+" "), "warning %q, want %d", warns[0], c.warn)
			assert.Contains(t, warns[0], fmt.Sprint(server.DefaultMaxAllowedPacket), "the warning names the limit")
			// Well under the results refused: nothing of them was built.
			assert.Less(t, allocated()-before, uint64(200<<20), "allocated while refusing")
		})
	}
	// Through a prepared statement, the arguments bound.
	var v sql.NullString
	require.NoError(t, app.QueryRowContext(context.Background(), "SELECT REPEAT(?, ?)", "x", 2000000000).Scan(&v))
	assert.False(t, v.Valid, "prepared: NULL")
	assert.Equal(t, [][]string{{"1"}}, rowsOf(t, e.conn("app", "pw"), "SELECT 1"), "the server answers a new session afterwards")
}

func rowsOf(t *testing.T, c *sql.Conn, q string) [][]string {
	t.Helper()
	rows, err := query(c, q)
	require.NoError(t, err, q)
	return rows
}

func TestResultsUpToMaxAllowedPacket(t *testing.T) {
	e := start(t, nil, "")
	app := lowPrivilegeSession(t, e)
	limit := fmt.Sprint(server.DefaultMaxAllowedPacket)
	assert.Equal(t, [][]string{{limit, limit}}, rowsOf(t, app, "SELECT @@max_allowed_packet, @@global.max_allowed_packet"), "MySQL's default, not the engine's 1 GiB")

	v, warns := oneValue(t, app, fmt.Sprintf("SELECT LENGTH(REPEAT('x', %d))", server.DefaultMaxAllowedPacket))
	require.NotNil(t, v, "a result of exactly max_allowed_packet is built")
	assert.Equal(t, limit, *v)
	assert.Empty(t, warns)
	v, warns = oneValue(t, app, fmt.Sprintf("SELECT LENGTH(REPEAT('x', %d))", server.DefaultMaxAllowedPacket+1))
	assert.Nil(t, v, "one byte more is NULL")
	assert.Len(t, warns, 1)

	for q, want := range map[string]string{
		"SELECT REPEAT('ab', 3)":                         "ababab",
		"SELECT CONCAT('[', SPACE(2), ']')":              "[  ]",
		"SELECT LPAD('7', 3, '0')":                       "007",
		"SELECT REPLACE('banana', 'na', 'NA')":           "baNANA",
		"SELECT REGEXP_REPLACE('banana', 'a', '_')":      "b_n_n_",
		"SELECT CONCAT_WS('-', 'a', NULL, 'b')":          "a-b",
		"SELECT HEX('hi')":                               "6869",
		"SELECT UNCOMPRESS(COMPRESS('hello'))":           "hello",
		"SELECT JSON_ARRAY('a', JSON_OBJECT('k', 1))":    `["a", {"k": 1}]`,
		"SELECT HEX(CAST('a' AS BINARY(2)))":             "6100",
		"SELECT LENGTH(REPEAT(REPEAT('x', 1000), 1000))": "1000000",
	} {
		v, warns := oneValue(t, app, q)
		if assert.NotNil(t, v, q) {
			assert.Equal(t, want, *v, q)
		}
		assert.Empty(t, warns, q)
	}
}

// A session cannot raise its own limit: in MySQL the session value is
// read-only (1621), and here too, for every account and spelling.
func TestMaxAllowedPacketIsReadOnlyForASession(t *testing.T) {
	e := start(t, nil, "")
	app := lowPrivilegeSession(t, e)
	root := e.root()
	for _, q := range []string{
		"SET max_allowed_packet = 1073741824",
		"SET SESSION max_allowed_packet = 1073741824",
		"SET LOCAL max_allowed_packet = 1073741824",
		"SET @@max_allowed_packet = 1073741824",
		"SET @@session.max_allowed_packet = 1073741824",
		"SET @@SESSION.MAX_ALLOWED_PACKET = 1073741824",
		"SET sql_mode = '', max_allowed_packet = 1073741824",
	} {
		assert.Equal(t, uint16(1621), codeOf(app, q), q)
		assert.Equal(t, uint16(1621), codeOf(root, q), "root too: %s", q)
	}
	assert.Equal(t, uint16(1227), codeOf(app, "SET GLOBAL max_allowed_packet = 1073741824"), "GLOBAL needs SYSTEM_VARIABLES_ADMIN")
	assert.Equal(t, uint16(1227), codeOf(app, "SET PERSIST max_allowed_packet = 1073741824"))
	exec(t, root, "CREATE PROCEDURE demo.raise() SET @@SESSION.max_allowed_packet = 1073741824", "GRANT EXECUTE ON demo.* TO app")
	// Nor from a routine (the engine does not find the variable there).
	_, err := query(app, "CALL demo.raise()")
	assert.Error(t, err, "CALL demo.raise()")
	for _, q := range []string{
		"SELECT REPEAT('x', 100000000)",
		"SELECT /*+ SET_VAR(max_allowed_packet = 1073741824) */ REPEAT('x', 100000000)",
	} {
		v, warns := oneValue(t, app, q)
		assert.Nil(t, v, q)
		assert.Len(t, warns, 1, q)
	}
	assert.Equal(t, [][]string{{fmt.Sprint(server.DefaultMaxAllowedPacket)}}, rowsOf(t, app, "SELECT @@max_allowed_packet"))
}

// A JSON value shares its parts: SET @j = JSON_ARRAY(@j, @j) doubles it
// at no cost, until it is written out. It stops at the limit.
func TestJSONDoublingStopsAtTheLimit(t *testing.T) {
	e := start(t, nil, "")
	app := lowPrivilegeSession(t, e)
	exec(t, app, "SET @j = JSON_ARRAY(REPEAT('x', 1000000))")
	before := allocated()
	refused := false
	for range 12 {
		exec(t, app, "SET @j = JSON_ARRAY(@j, @j)")
		rows := rowsOf(t, app, "SHOW WARNINGS")
		refused = refused || len(rows) == 1 && rows[0][1] == "1301"
	}
	assert.True(t, refused, "2^12 MB: refused on the way")
	v, _ := oneValue(t, app, "SELECT LENGTH(@j)")
	require.NotNil(t, v)
	n, err := strconv.Atoi(*v)
	require.NoError(t, err)
	assert.LessOrEqual(t, n, server.DefaultMaxAllowedPacket)
	assert.Less(t, allocated()-before, uint64(1<<30), "allocated while doubling")
}

// A routine's conditions are analyzed apart from its statements: a padded
// cast there is NULL too (or, should the engine's rules skip it, refused
// by the authorizer), never built.
func TestBinaryCastInARoutineCondition(t *testing.T) {
	e := start(t, nil, "")
	app := lowPrivilegeSession(t, e)
	root := e.root()
	exec(t, root,
		"CREATE PROCEDURE demo.pad() BEGIN IF LENGTH(CAST('a' AS BINARY(2000000000))) > 0 THEN SELECT 1; END IF; END",
		"GRANT EXECUTE ON demo.* TO app")
	before := allocated()
	rows, err := query(app, "CALL demo.pad()")
	require.NoError(t, err)
	assert.Empty(t, rows, "LENGTH(NULL) > 0 is not true")
	warns := rowsOf(t, app, "SHOW WARNINGS")
	require.Len(t, warns, 1)
	assert.Equal(t, "1301", warns[0][1])
	assert.Less(t, allocated()-before, uint64(200<<20))
}

// MariaDB, the differential test's reference, answers the same: NULL and
// the same warning, and 1621 to a session's SET.
func TestBigResultsLikeMariaDB(t *testing.T) {
	m := startMariaDB(t)
	mroot := m.conn(t, "root", "")
	exec(t, mroot, "CREATE USER app@'%' IDENTIFIED BY 'pw'")
	mapp := m.conn(t, "app", "pw")
	e := start(t, nil, "")
	app := lowPrivilegeSession(t, e)
	for _, c := range bigQueries {
		mv, mw := oneValue(t, mapp, c.q)
		v, w := oneValue(t, app, c.q)
		assert.Equal(t, mv == nil, v == nil, "%s: NULL on MariaDB %v, on authplug %v", c.q, mv == nil, v == nil)
		assert.Equal(t, codes(mw), codes(w), "%s: warnings on MariaDB %q, on authplug %q", c.q, mw, w)
	}
	q := "SET SESSION max_allowed_packet = 1073741824"
	assert.Equal(t, codeOf(mapp, q), codeOf(app, q), q)
}

// codes are the warnings' numbers.
func codes(warns []string) []string {
	var out []string
	for _, w := range warns {
		out = append(out, strings.Fields(w)[0])
	}
	return out
}
