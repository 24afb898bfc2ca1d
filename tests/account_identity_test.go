package tests

import (
	"testing"

	"github.com/stretchr/testify/assert"

	"github.com/authplug/authplug/mysqlerr"
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
