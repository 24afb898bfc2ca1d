package tests

import (
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// The account statements a DBA expects, over the wire with a stock driver.

func TestRandomPasswordIsReturnedAndNeverLogged(t *testing.T) {
	e := start(t, nil, "")
	root := e.root()
	rows, err := query(root, "CREATE USER rp IDENTIFIED WITH mysql_native_password BY RANDOM PASSWORD")
	require.NoError(t, err)
	require.Len(t, rows, 1)
	require.Equal(t, []string{"rp", "%"}, rows[0][:2])
	pw := rows[0][2]
	require.Len(t, pw, 20)
	_, err = query(e.conn("rp", pw), "SELECT 1")
	require.NoError(t, err, "login with the generated password")
	assert.NotContains(t, e.logs.String(), pw)

	rows, err = query(root, "SET PASSWORD FOR rp TO RANDOM")
	require.NoError(t, err)
	require.Len(t, rows, 1)
	_, err = e.tryConn("rp", pw)
	require.Error(t, err, "the old password still works")
	_, err = query(e.conn("rp", rows[0][2]), "SELECT 1")
	require.NoError(t, err)
}

func TestReplaceCurrentPassword(t *testing.T) {
	e := start(t, nil, "")
	root := e.root()
	exec(t, root,
		"CREATE USER u IDENTIFIED WITH mysql_native_password BY 'pw' PASSWORD REQUIRE CURRENT",
		"CREATE USER o IDENTIFIED WITH mysql_native_password BY 'pw'")
	u := e.conn("u", "pw")
	assert.Equal(t, uint16(3892), codeOf(u, "ALTER USER CURRENT_USER() IDENTIFIED BY 'new'"))
	assert.Equal(t, uint16(3891), codeOf(u, "ALTER USER CURRENT_USER() IDENTIFIED BY 'new' REPLACE 'Wr0ngOld'"))
	assert.Equal(t, uint16(3893), codeOf(root, "ALTER USER o IDENTIFIED BY 'x' REPLACE 'pw'"))
	exec(t, u, "SET PASSWORD = 'N3wSecret' REPLACE 'pw'")
	_, err := query(e.conn("u", "N3wSecret"), "SELECT 1")
	require.NoError(t, err)
	for _, secret := range []string{"Wr0ngOld", "N3wSecret"} {
		assert.NotContains(t, e.logs.String(), secret)
	}
}

func TestRenameUserKeepsGrantsAndDefiners(t *testing.T) {
	e := start(t, nil, "")
	e.seed()
	root := e.root()
	exec(t, root,
		"CREATE USER a IDENTIFIED WITH mysql_native_password BY 'pw'",
		"CREATE USER reader IDENTIFIED WITH mysql_native_password BY 'pw'",
		"GRANT SELECT ON demo.t TO a",
		"CREATE DEFINER = 'a'@'%' SQL SECURITY DEFINER VIEW demo.v AS SELECT id FROM demo.t",
		"GRANT SELECT ON demo.v TO reader",
		"RENAME USER a TO b",
	)
	rows, err := query(e.conn("b", "pw"), "SELECT id FROM demo.t ORDER BY id")
	require.NoError(t, err, "b keeps a's grants")
	assert.Len(t, rows, 2)
	rows, err = query(e.conn("reader", "pw", withDB("demo")), "SELECT id FROM demo.v ORDER BY id")
	require.NoError(t, err, "the view's definer followed the rename")
	assert.Len(t, rows, 2)
	_, err = e.tryConn("a", "pw")
	assert.Error(t, err, "the old name logs in")
	// A new account under the old name inherits nothing, not even the view.
	exec(t, root, "CREATE USER a IDENTIFIED WITH mysql_native_password BY 'pw'")
	assert.Equal(t, uint16(1142), codeOf(e.conn("a", "pw"), "SELECT id FROM demo.t"))
}

func TestShowCreateUser(t *testing.T) {
	e := start(t, nil, "")
	root := e.root()
	exec(t, root, "CREATE USER sc IDENTIFIED WITH mysql_native_password BY 'pw' FAILED_LOGIN_ATTEMPTS 3 PASSWORD_LOCK_TIME 2")
	rows, err := query(root, "SHOW CREATE USER sc")
	require.NoError(t, err)
	require.Len(t, rows, 1)
	text := rows[0][0]
	assert.True(t, strings.HasPrefix(text, "CREATE USER `sc`@`%` IDENTIFIED WITH 'mysql_native_password' AS '*"), text)
	assert.True(t, strings.HasSuffix(text, " REQUIRE NONE PASSWORD EXPIRE DEFAULT ACCOUNT UNLOCK PASSWORD HISTORY DEFAULT PASSWORD REUSE INTERVAL DEFAULT PASSWORD REQUIRE CURRENT DEFAULT FAILED_LOGIN_ATTEMPTS 3 PASSWORD_LOCK_TIME 2"), text)
	sc := e.conn("sc", "pw")
	_, err = query(sc, "SHOW CREATE USER CURRENT_USER()")
	assert.NoError(t, err, "one's own needs no privilege")
	assert.Equal(t, uint16(1044), codeOf(sc, "SHOW CREATE USER root@localhost"))
}

func TestRefusedAuthStringSaysWhy(t *testing.T) {
	e := start(t, nil, "")
	root := e.root()
	_, err := root.ExecContext(t.Context(), "CREATE USER bad IDENTIFIED WITH mysql_native_password AS 'nothash'")
	require.Error(t, err)
	assert.Contains(t, err.Error(), "1827")
	assert.Contains(t, err.Error(), "41 characters")
	assert.Contains(t, e.logs.String(), "41 characters", "the reason is logged too")
	assert.NotContains(t, e.logs.String(), "nothash")
}

func TestExpiredPasswordSandbox(t *testing.T) {
	e := start(t, nil, "")
	e.seed()
	root := e.root()
	exec(t, root,
		"CREATE USER ex IDENTIFIED WITH mysql_native_password BY 'pw' PASSWORD EXPIRE",
		"GRANT SELECT ON demo.* TO ex")
	ex := e.conn("ex", "pw")
	for _, q := range []string{
		"SELECT 1", "SELECT * FROM demo.t", "SET @a = 1", "USE demo", "SHOW GRANTS", "SET ROLE NONE",
		"SET PASSWORD FOR root@localhost = 'x'", "EXECUTE AS 'root'@'localhost' SELECT 1",
	} {
		assert.Equal(t, uint16(1820), codeOf(ex, q), q)
	}
	_, err := ex.PrepareContext(t.Context(), "SELECT * FROM demo.t")
	assert.ErrorContains(t, err, "1820", "binary prepare")
	exec(t, ex, "ALTER USER CURRENT_USER() IDENTIFIED BY 'fresh'")
	rows, err := query(ex, "SELECT id FROM demo.t")
	require.NoError(t, err, "the same session leaves sandbox mode")
	assert.Len(t, rows, 2)
	_, err = query(e.conn("ex", "fresh"), "SELECT 1")
	require.NoError(t, err)
}

// REVOKE PROXY is read by the parser, not a pattern: names holding FROM
// work, the revoke ends the acting at once, and a second one is 1141.
func TestRevokeProxyWithAwkwardNames(t *testing.T) {
	e := start(t, nil, "")
	root := e.root()
	exec(t, root,
		"CREATE USER 'a FROM b' IDENTIFIED WITH mysql_native_password BY 'pw'",
		"CREATE USER 'c FROM d' IDENTIFIED WITH mysql_native_password BY 'pw'",
		"GRANT PROXY ON 'a FROM b' TO 'c FROM d'")
	proxier := e.conn("c FROM d", "pw")
	rows, err := query(proxier, "EXECUTE AS 'a FROM b' SELECT CURRENT_USER()")
	require.NoError(t, err)
	require.Equal(t, [][]string{{"a FROM b@%"}}, rows)
	exec(t, root, "REVOKE PROXY ON 'a FROM b' FROM 'c FROM d'")
	assert.Equal(t, uint16(1227), codeOf(proxier, "EXECUTE AS 'a FROM b' SELECT 1"))
	assert.Equal(t, uint16(1141), codeOf(root, "REVOKE PROXY ON 'a FROM b' FROM 'c FROM d'"), "revoked twice")
}
