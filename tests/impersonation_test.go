package tests

import (
	"context"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/authplug/authplug/priv"
)

func TestExecuteAs(t *testing.T) {
	e, p := withTokenPlugin(t)
	exec(t, e.root(),
		"CREATE TABLE demo.s (id INT PRIMARY KEY, a INT, b INT)",
		"INSERT INTO demo.s VALUES (7, 70, 700)",
		// alice is locked (no one logs in as her) and holds demo.t only.
		"CREATE USER 'alice' IDENTIFIED WITH mysql_native_password BY 'x' ACCOUNT LOCK",
		"GRANT SELECT, INSERT ON demo.t TO 'alice'",
		"GRANT CREATE VIEW ON demo.* TO 'alice'",
		// the gateway reads everything, but only as itself.
		"CREATE USER gateway IDENTIFIED WITH authentication_test_token AS 'token:gw'",
		"GRANT SELECT ON *.* TO gateway",
		"GRANT PROXY ON 'alice'@'%' TO 'gateway'@'%'",
		"CREATE USER bob IDENTIFIED WITH mysql_native_password BY 'x'",
	)
	gw := e.conn("gateway", "gw", withCleartext, withTLS)
	ctx := context.Background()

	t.Run("one statement as alice, with trailing clauses kept", func(t *testing.T) {
		rows, err := query(gw, "EXECUTE AS 'alice' SELECT a FROM demo.t ORDER BY id DESC LIMIT 1")
		require.NoError(t, err)
		assert.Equal(t, [][]string{{"20"}}, rows)
	})
	t.Run("CURRENT_USER() is alice, USER() is the caller", func(t *testing.T) {
		rows, err := query(gw, "EXECUTE AS 'alice' SELECT CURRENT_USER(), USER()")
		require.NoError(t, err)
		assert.Equal(t, [][]string{{"alice@%", "gateway@localhost"}}, rows)
		rows, err = query(gw, "SELECT CURRENT_USER()")
		require.NoError(t, err)
		assert.Equal(t, [][]string{{"gateway@%"}}, rows)
	})
	t.Run("nested statements are authorized as alice", func(t *testing.T) {
		for _, q := range []string{
			"EXECUTE AS 'alice' SELECT a FROM demo.s",
			"EXECUTE AS 'alice' SELECT a FROM demo.t WHERE a IN (SELECT a FROM demo.s)",
			"EXECUTE AS 'alice' INSERT INTO demo.t SELECT id + 100, a, b FROM demo.s",
			"EXECUTE AS 'alice' CREATE VIEW demo.v2 AS SELECT * FROM demo.s",
		} {
			_, err := gw.ExecContext(ctx, q)
			assert.Equal(t, uint16(1142), code(err), "%s: %v", q, err)
		}
	})
	t.Run("the caller's own session limits still apply", func(t *testing.T) {
		p.deny.Store(uint64(priv.Insert))
		defer p.deny.Store(0)
		_, err := gw.ExecContext(ctx, "EXECUTE AS 'alice' INSERT INTO demo.t VALUES (5, 50, 500)")
		assert.Equal(t, uint16(1142), code(err), "alice may insert; the gateway's credentials may not: %v", err)
	})
	t.Run("the caller's identity is back after every statement, errors included", func(t *testing.T) {
		_, err := gw.ExecContext(ctx, "EXECUTE AS 'alice' INSERT INTO demo.t VALUES (1, 1, 1)") // duplicate key
		assert.Error(t, err)
		_, err = query(gw, "SELECT a FROM demo.s")
		assert.NoError(t, err, "the gateway's own global SELECT again")
		_, err = gw.ExecContext(ctx, "INSERT INTO demo.t VALUES (6, 60, 600)")
		assert.Equal(t, uint16(1142), code(err), "and not alice's INSERT")
	})
	t.Run("without the grant: 1227 naming PROXY", func(t *testing.T) {
		_, err := query(gw, "EXECUTE AS 'bob' SELECT 1")
		assert.Equal(t, uint16(1227), code(err))
		assert.ErrorContains(t, err, "PROXY")
	})
	t.Run("anything but one account name is a syntax error", func(t *testing.T) {
		for _, q := range []string{
			"EXECUTE AS 'alice', 'bob' SELECT 1",
			"EXECUTE AS 'alice'; SELECT 1",
			"EXECUTE AS",
		} {
			_, err := query(gw, q)
			assert.Equal(t, uint16(1064), code(err), "%s: %v", q, err)
		}
	})
	t.Run("acting as alice is not owning her account", func(t *testing.T) {
		for _, q := range []string{
			"EXECUTE AS 'alice' SET PASSWORD = 'taken'",
			"EXECUTE AS 'alice' ALTER USER CURRENT_USER() IDENTIFIED BY 'taken'",
			"EXECUTE AS 'alice' SET DEFAULT ROLE NONE TO 'alice'",
		} {
			_, err := gw.ExecContext(ctx, q)
			assert.Equal(t, uint16(1227), code(err), "%s: %v", q, err)
		}
		exec(t, gw, "SET PASSWORD = 'gw2'") // its own account: no privilege needed
	})
	t.Run("the session acts as alice until REVERT", func(t *testing.T) {
		exec(t, gw, "EXECUTE AS 'alice'@'%'")
		rows, err := query(gw, "SELECT CURRENT_USER()")
		require.NoError(t, err)
		assert.Equal(t, [][]string{{"alice@%"}}, rows)
		assert.Equal(t, uint16(1142), codeOf(gw, "SELECT a FROM demo.s"))
		exec(t, gw, "REVERT")
		_, err = query(gw, "SELECT a FROM demo.s")
		assert.NoError(t, err)
	})
	t.Run("impersonation does not nest, and REVERT always comes home", func(t *testing.T) {
		exec(t, gw, "EXECUTE AS 'alice'")
		for _, q := range []string{"EXECUTE AS 'alice'", "EXECUTE AS 'alice' SELECT 1", "EXECUTE AS 'bob'"} {
			_, err := gw.ExecContext(ctx, q)
			assert.Equal(t, uint16(1221), code(err), "%s: %v", q, err)
		}
		exec(t, gw, "REVERT")
		rows, err := query(gw, "SELECT CURRENT_USER()")
		require.NoError(t, err)
		assert.Equal(t, [][]string{{"gateway@%"}}, rows, "one REVERT, back to the caller")
		exec(t, gw, "REVERT") // nothing to revert: a no-op
	})
	t.Run("REVOKE PROXY ends an open EXECUTE AS at the next statement", func(t *testing.T) {
		e := e.in(t)
		exec(t, gw, "EXECUTE AS 'alice'")
		_, err := query(gw, "SELECT a FROM demo.t")
		require.NoError(t, err)
		exec(t, e.root(), "REVOKE PROXY ON 'alice'@'%' FROM 'gateway'@'%'")
		for _, q := range []string{"SELECT a FROM demo.t", "SELECT 1", "SET @x = 1"} {
			_, err := query(gw, q)
			assert.Equal(t, uint16(1227), code(err), "%s: %v", q, err)
			assert.ErrorContains(t, err, "PROXY")
		}
		exec(t, gw, "REVERT")
		rows, err := query(gw, "SELECT CURRENT_USER()")
		require.NoError(t, err)
		assert.Equal(t, [][]string{{"gateway@%"}}, rows)
		exec(t, e.root(), "GRANT PROXY ON 'alice'@'%' TO 'gateway'@'%'")
	})
}

// SET ROLE names the caller's roles and acts on the caller's session, not
// the account acted as: under EXECUTE AS it would let a gateway's pooled
// connection keep roles switched on by a statement run for a user. It is
// refused while acting as another account (1221), in both forms, and the
// one-statement form refuses every statement whose effect is the session
// itself, which would outlive the statement.
func TestExecuteAsLeavesNoSessionState(t *testing.T) {
	e, _ := withTokenPlugin(t)
	exec(t, e.root(),
		"CREATE USER 'alice' IDENTIFIED WITH mysql_native_password BY 'x' ACCOUNT LOCK",
		"GRANT SELECT ON demo.t TO 'alice'",
		"CREATE TABLE demo.s (id INT PRIMARY KEY)",
		"CREATE ROLE 'reader'",
		"GRANT SELECT ON demo.s TO 'reader'",
		"CREATE USER gateway IDENTIFIED WITH authentication_test_token AS 'token:gw'",
		"GRANT 'reader' TO gateway", // granted, not a default role: inactive
		"GRANT PROXY ON 'alice'@'%' TO 'gateway'@'%'",
	)
	gw := e.conn("gateway", "gw", withCleartext, withTLS)
	ctx := context.Background()
	require.Equal(t, uint16(1142), codeOf(gw, "SELECT id FROM demo.s"), "reader is not active")

	_, err := gw.ExecContext(ctx, "EXECUTE AS 'alice' SET ROLE ALL")
	assert.Equal(t, uint16(1221), code(err), "%v", err)
	assert.Equal(t, uint16(1142), codeOf(gw, "SELECT id FROM demo.s"), "no role of the gateway's was switched on")

	for _, q := range []string{
		"EXECUTE AS 'alice' SET ROLE 'reader'",
		"EXECUTE AS 'alice' SET ROLE DEFAULT",
		"EXECUTE AS 'alice'@'%' set role all",
		"EXECUTE AS 'alice' SET @x = 1",
		"EXECUTE AS 'alice' SET autocommit = 0",
		"EXECUTE AS 'alice' SET NAMES latin1",
		"EXECUTE AS 'alice' SET SESSION TRANSACTION READ ONLY",
		"EXECUTE AS 'alice' USE demo",
		"EXECUTE AS 'alice' BEGIN",
		"EXECUTE AS 'alice' START TRANSACTION",
		"EXECUTE AS 'alice' LOCK TABLES demo.t READ",
		"EXECUTE AS 'alice' UNLOCK TABLES",
		"EXECUTE AS 'alice' PREPARE p FROM 'SELECT 1'",
		"EXECUTE AS 'alice' EXECUTE p",
		"EXECUTE AS 'alice' CREATE TEMPORARY TABLE demo.tmp (a INT)",
		"EXECUTE AS 'alice' REVERT",
	} {
		_, err := gw.ExecContext(ctx, q)
		assert.Equal(t, uint16(1221), code(err), "%s: %v", q, err)
	}
	assert.Equal(t, uint16(1142), codeOf(gw, "SELECT id FROM demo.s"), "no role of the gateway's was switched on")
	rows, err := query(gw, "SELECT DATABASE(), @@autocommit, @x")
	require.NoError(t, err)
	assert.Equal(t, [][]string{{"", "1", ""}}, rows, "no database chosen, no variable set")

	// The session form: SET ROLE while acting as alice is refused too.
	exec(t, gw, "EXECUTE AS 'alice'")
	_, err = gw.ExecContext(ctx, "SET ROLE ALL")
	assert.Equal(t, uint16(1221), code(err), "%v", err)
	exec(t, gw, "REVERT")
	assert.Equal(t, uint16(1142), codeOf(gw, "SELECT id FROM demo.s"))

	// What is the account's, not the session's, still runs as alice:
	// account statements judged by alice's grants.
	_, err = gw.ExecContext(ctx, "EXECUTE AS 'alice' SET PASSWORD = 'taken'")
	assert.Equal(t, uint16(1227), code(err), "%v", err)
	exec(t, gw, "SET ROLE 'reader'") // as itself, the gateway may
	_, err = query(gw, "SELECT id FROM demo.s")
	assert.NoError(t, err)
}
