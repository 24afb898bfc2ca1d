package tests

import (
	"context"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/authplug/authplug/examples/oauth"
	"github.com/authplug/authplug/extension"
)

// Token login through the server, with a real client: the token is the
// password, over TLS only; scopes narrow what the grants allow.
func TestOAuthTokenLogin(t *testing.T) {
	dir := t.TempDir()
	dev, err := oauth.LoadDevIdP(dir)
	require.NoError(t, err)
	keys, err := oauth.NewFileKeys(dev.JWKSPath(), 0, nil)
	require.NoError(t, err)
	t.Cleanup(keys.Close)
	plug, err := oauth.NewPlugin(oauth.Config{Keys: keys, Audience: oauth.DefaultAudience, Issuer: oauth.DevIssuer})
	require.NoError(t, err)
	reg := extension.NewRegistry()
	require.NoError(t, reg.Register("oauth", extension.WithCustomAuthPlugins(plug)))
	es, err := reg.GetExtensions()
	require.NoError(t, err)
	e := start(t, es, "")
	e.seed()
	exec(t, e.root(),
		"CREATE USER 'alice@example.com' IDENTIFIED WITH authentication_oauth AS '{\"issuer\":\"authplug-dev\"}'",
		"GRANT SELECT, INSERT ON demo.* TO 'alice@example.com'",
	)
	mint := func(sub, scope string, ttl time.Duration) string {
		tok, err := dev.Mint(oauth.TokenRequest{Issuer: oauth.DevIssuer, Audience: oauth.DefaultAudience, Subject: sub, Scope: scope, TTL: ttl})
		require.NoError(t, err)
		return tok
	}
	tok := mint("alice@example.com", "select:demo", 15*time.Minute)

	alice := e.conn("alice@example.com", tok, withCleartext, withTLS)
	rows, err := query(alice, "SELECT a FROM demo.t WHERE id = 1")
	require.NoError(t, err)
	assert.Equal(t, [][]string{{"10"}}, rows)
	_, err = alice.ExecContext(context.Background(), "INSERT INTO demo.t VALUES (3, 30, 300)")
	assert.Equal(t, uint16(1142), code(err), "granted, but no scope covers INSERT: %v", err)

	_, err = e.tryConn("alice@example.com", tok, withCleartext)
	assert.Equal(t, uint16(1045), code(err), "never without TLS")
	_, err = e.tryConn("alice@example.com", mint("bob@example.com", "select:demo", time.Minute), withCleartext, withTLS)
	assert.Equal(t, uint16(1045), code(err), "a valid token for bob never logs in as alice")
	_, err = e.tryConn("alice@example.com", mint("alice@example.com", "select:demo", -time.Minute), withCleartext, withTLS)
	assert.Equal(t, uint16(1045), code(err), "expired")
	assert.Contains(t, e.logs.String(), "token is for another user")
	assert.NotContains(t, e.logs.String(), tok, "tokens never reach the log")
}
