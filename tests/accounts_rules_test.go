package tests

import (
	"testing"

	"github.com/stretchr/testify/assert"
)

// Issue 8's attacks on the delegated-admin boundary: each refused.
func TestAccountAdminBoundaries(t *testing.T) {
	e := start(t, nil, "")
	root := e.root()
	exec(t, root,
		"CREATE USER admin IDENTIFIED WITH mysql_native_password BY 'pw'",
		"GRANT CREATE USER ON *.* TO admin WITH GRANT OPTION",
		"CREATE USER granter IDENTIFIED WITH mysql_native_password BY 'pw'",
		"GRANT SELECT ON *.* TO granter WITH GRANT OPTION",
		"CREATE USER roler IDENTIFIED WITH mysql_native_password BY 'pw'",
		"GRANT DROP ROLE ON *.* TO roler",
		"CREATE USER plain IDENTIFIED WITH mysql_native_password BY 'pw'",
		"CREATE ROLE r1",
		"CREATE USER sys IDENTIFIED WITH mysql_native_password BY 'pw'",
		"GRANT SYSTEM_USER ON *.* TO sys",
		"CREATE USER gateway IDENTIFIED WITH mysql_native_password BY 'pw'",
		"GRANT PROXY ON 'sys'@'%' TO 'gateway'@'%'",
	)
	admin, granter, roler, gateway := e.conn("admin", "pw"), e.conn("granter", "pw"), e.conn("roler", "pw"), e.conn("gateway", "pw")

	// CREATE USER WITH GRANT OPTION is not PROXY on root.
	assert.Equal(t, uint16(1227), codeOf(admin, "GRANT PROXY ON 'root'@'localhost' TO 'admin'@'%'"))
	assert.Equal(t, uint16(1227), codeOf(admin, "EXECUTE AS 'root'@'localhost' SELECT 1"))
	// Nor may it change a system account, or hand out SYSTEM_USER.
	assert.Equal(t, uint16(1227), codeOf(admin, "ALTER USER 'sys' ACCOUNT LOCK"))
	// One global privilege WITH GRANT OPTION does not reach root's grants.
	assert.Equal(t, uint16(1227), codeOf(granter, "REVOKE GRANT OPTION ON *.* FROM 'root'@'localhost'"))
	assert.Equal(t, uint16(1227), codeOf(granter, "REVOKE SELECT ON *.* FROM 'root'@'localhost'"))
	// The DROP ROLE privilege drops roles (locked accounts), not logins.
	assert.Equal(t, uint16(1227), codeOf(roler, "DROP ROLE plain"))
	_, err := roler.ExecContext(t.Context(), "DROP ROLE r1")
	assert.NoError(t, err)
	// PROXY on a system account is not enough to act as it.
	assert.Equal(t, uint16(1227), codeOf(gateway, "EXECUTE AS 'sys' SELECT 1"))

	rows, err := query(root, "SHOW GRANTS FOR 'root'@'localhost'")
	assert.NoError(t, err)
	assert.NotEmpty(t, rows)
	_, err = query(e.conn("plain", "pw"), "SELECT 1")
	assert.NoError(t, err, "plain still exists")
}
