package tests

import (
	"context"
	"log/slog"
	"strings"
	"sync/atomic"
	"testing"

	"github.com/go-sql-driver/mysql"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/authplug/authplug/authplugin"
	"github.com/authplug/authplug/extension"
	"github.com/authplug/authplug/mysqlerr"
)

// A plugin or extension hook that panics fails the one request it was
// asked about, and is logged with its stack: the connection and the server
// go on. Through a real server and client.
func TestPluginPanicKeepsTheConnection(t *testing.T) {
	// Event handler panics are logged through slog's default logger.
	defaultLogs := &syncBuffer{}
	old := slog.Default()
	slog.SetDefault(slog.New(slog.NewTextHandler(defaultLogs, nil)))
	t.Cleanup(func() { slog.SetDefault(old) })

	plugin := &authplugin.AuthPlugin{
		Name:                     "boom_token",
		RequiredClientSidePlugin: authplugin.ClearPasswordName,
		AuthenticateUser: func(_ context.Context, req authplugin.AuthenticateRequest) (any, error) {
			if string(req.InputAuthString) == "panic-token" {
				panic("authenticate boom")
			}
			return nil, nil
		},
		GenerateAuthString: func(string) (string, bool) { return "", false },
		ValidateAuthString: func(string) bool { return true },
		VerifyPrivilege: func(req authplugin.AuthorizeRequest) bool {
			if req.Table == "boom" {
				panic("verify boom")
			}
			return true
		},
	}
	reg := extension.NewRegistry()
	require.NoError(t, reg.Register("boom", extension.WithCustomAuthPlugins(plugin),
		extension.WithSessionHandlerFactory(func() *extension.SessionHandler {
			return &extension.SessionHandler{
				OnConnectionEvent: func(extension.ConnEventTp, *extension.ConnEventInfo) { panic("connection event boom") },
				OnStmtEvent:       func(extension.StmtEventTp, *extension.StmtEventInfo) { panic("statement event boom") },
			}
		})))
	es, err := reg.GetExtensions()
	require.NoError(t, err)
	e := start(t, es, "")
	e.seed()
	require.NoError(t, e.srv.ExecuteSQL(context.Background(), "CREATE TABLE demo.boom (id INT PRIMARY KEY)"))
	exec(t, e.root(), "CREATE USER tok IDENTIFIED WITH boom_token AS 'x'", "GRANT SELECT ON demo.* TO tok")

	// AuthenticateUser: the usual 1045, as for a wrong token.
	_, err = e.tryConn("tok", "panic-token", withTLS, withCleartext)
	require.Equal(t, uint16(mysqlerr.ErAccessDenied), code(err), "login whose plugin panics: %v", err)

	c := e.conn("tok", "good-token", withTLS, withCleartext)
	rows, err := query(c, "SELECT a FROM demo.t ORDER BY id")
	require.NoError(t, err)
	assert.Equal(t, [][]string{{"10"}, {"20"}}, rows)

	// VerifyPrivilege: this statement fails with the neutral 1105...
	_, err = query(c, "SELECT id FROM demo.boom")
	var me *mysql.MySQLError
	require.ErrorAs(t, err, &me)
	assert.Equal(t, uint16(mysqlerr.ErUnknownError), me.Number)
	assert.Equal(t, mysqlerr.PluginFailed().Message, me.Message)
	// ...and the same connection runs the next one.
	rows, err = query(c, "SELECT b FROM demo.t WHERE id = 2")
	require.NoError(t, err)
	assert.Equal(t, [][]string{{"200"}}, rows)

	// The server log has each plugin panic, with the plugin and a stack
	// (the engine asks twice about the SELECT: while it binds names, and
	// again on the plan).
	logs := e.logs.String()
	assert.Equal(t, 1, strings.Count(logs, "hook=AuthenticateUser"), logs)
	assert.Contains(t, logs, "hook=VerifyPrivilege")
	assert.Contains(t, logs, "plugin=boom_token")
	assert.Contains(t, logs, "pluginpanic_test.go", "the stack reaches the plugin's frame")
	assert.NotContains(t, logs, "panic-token")

	// The event handlers panicked on every event, and were logged with
	// their stack; the statements above went on regardless.
	events := defaultLogs.String()
	assert.Contains(t, events, "statement event boom")
	assert.Contains(t, events, "connection event boom")
	assert.Contains(t, events, "extension=boom")
	assert.Contains(t, events, "stack=")
}

// An extension whose session handler factory panics cannot see the new
// session, so the session does not start: an audit extension that is
// broken for a session must not let it run unaudited. The server goes on
// serving once the factory works again.
func TestSessionFactoryPanicRefusesTheLogin(t *testing.T) {
	var broken atomic.Bool
	reg := extension.NewRegistry()
	require.NoError(t, reg.Register("audit", extension.WithSessionHandlerFactory(func() *extension.SessionHandler {
		if broken.Load() {
			panic("factory boom")
		}
		return &extension.SessionHandler{}
	})))
	es, err := reg.GetExtensions()
	require.NoError(t, err)
	e := start(t, es, "")
	e.seed()

	broken.Store(true)
	_, err = e.tryConn("root", rootPassword, withTLS)
	require.Equal(t, uint16(mysqlerr.ErUnknownError), code(err), "login whose session factory panics: %v", err)
	assert.Contains(t, e.logs.String(), "session handler factory panicked")

	broken.Store(false)
	rows, err := query(e.root(), "SELECT CURRENT_USER()")
	require.NoError(t, err)
	assert.Equal(t, [][]string{{"root@localhost"}}, rows)
}
