package tests

import (
	"testing"

	"github.com/stretchr/testify/assert"

	"github.com/authplug/authplug/mysqlerr"
	"github.com/authplug/authplug/priv"
)

// A session belongs to the account it logged in to, not to its name: once
// that account is dropped or renamed, the session may do nothing (1045),
// even after an account is created again under the name, and it cannot
// prepare anything for that later account (a PROXY grant on the name).
func TestSessionOfADroppedAccountInheritsNothing(t *testing.T) {
	for _, how := range []string{"DROP USER u", "RENAME USER u TO u_old"} {
		t.Run(how, func(t *testing.T) {
			e := start(t, nil, "")
			e.seed()
			root := e.root()
			exec(t, root, "CREATE USER u IDENTIFIED BY 'pw'", "CREATE USER l IDENTIFIED BY 'lpw'")
			old := e.conn("u", "pw")
			exec(t, root, how)
			assert.Equal(t, uint16(mysqlerr.ErAccessDenied), codeOf(old, "GRANT PROXY ON u TO l"),
				"the old session grants PROXY on its free name")

			exec(t, root, "CREATE USER u IDENTIFIED BY 'newpw'", "GRANT SELECT, INSERT ON demo.t TO u")
			for _, q := range []string{"SELECT a FROM demo.t", "SET PASSWORD = 'stolen'", "SELECT 1"} {
				assert.Equal(t, uint16(mysqlerr.ErAccessDenied), codeOf(old, q), "the old session runs %q", q)
			}
			_, err := e.tryConn("u", "stolen", withTLS)
			assert.Error(t, err, "a password set by the old session logs in to the new account")
			assert.Equal(t, uint16(mysqlerr.ErSpecificAccess), codeOf(e.conn("l", "lpw"), "EXECUTE AS 'u' SELECT a FROM demo.t"),
				"l acts as the new u")

			// The new account's own sessions work, and ALTER USER (a new
			// row, the same account) ends none of them.
			fresh := e.conn("u", "newpw", withTLS)
			exec(t, root, "ALTER USER u ACCOUNT UNLOCK", "GRANT UPDATE ON demo.t TO u")
			_, err = query(fresh, "SELECT a FROM demo.t")
			assert.NoError(t, err)
		})
	}
}

// An account that defines a view, trigger or routine cannot be dropped
// (4006, as MySQL 8.0.22+ without SET_USER_ID; authplug allows no one):
// the object would run as whichever account is created later under the
// name. Once the object is gone, so may the account be.
func TestDefinerAccountCannotBeDropped(t *testing.T) {
	e := start(t, nil, "")
	root := e.root()
	exec(t, root,
		"CREATE DATABASE owned", "CREATE TABLE owned.t (id INT)", "CREATE TABLE owned.loot (id INT)",
		"CREATE USER u IDENTIFIED BY 'pw'", "GRANT ALL ON owned.* TO u")
	u := e.conn("u", "pw", withTLS, withDB("owned"))
	exec(t, u, "CREATE TRIGGER keep_ids AFTER INSERT ON t FOR EACH ROW INSERT INTO loot VALUES (NEW.id)")
	u.Close()

	assert.Equal(t, uint16(mysqlerr.ErUserIsDefiner), codeOf(root, "DROP USER u"))
	_, ok := e.srv.Manager().Snapshot().User(priv.Account{User: "u", Host: "%"})
	assert.True(t, ok, "the refused DROP USER dropped the account")

	exec(t, root, "USE owned", "DROP TRIGGER keep_ids", "DROP USER u")
}
