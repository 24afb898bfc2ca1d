package extension_test

import (
	"context"
	"errors"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/authplug/authplug/authplugin"
	"github.com/authplug/authplug/extension"
	"github.com/authplug/authplug/mysqlerr"
	"github.com/authplug/authplug/privilege"
)

func plugin(name string) *authplugin.AuthPlugin {
	p := authplugin.NativePassword()
	p.Name, p.RequiredClientSidePlugin = name, authplugin.NativePasswordName
	return p
}

func TestRegisterErrors(t *testing.T) {
	r := extension.NewRegistry()
	assert.ErrorIs(t, r.Register(""), extension.ErrEmptyName)
	require.NoError(t, r.Register("a"))
	assert.ErrorIs(t, r.Register("a"), extension.ErrDuplicate)
	assert.Error(t, r.RegisterFactory("b", nil))
	require.NoError(t, r.Setup())
	assert.ErrorIs(t, r.Register("c"), extension.ErrAlreadySetup)
	assert.NoError(t, r.Setup(), "a second Setup does nothing")
}

func TestSetupValidatesAuthPlugins(t *testing.T) {
	missing := plugin("p")
	missing.GenerateAuthString = nil
	cases := []struct {
		name string
		regs map[string][]extension.Option
		want string
	}{
		{"empty plugin name", map[string][]extension.Option{"a": {extension.WithCustomAuthPlugins(plugin(""))}}, "name cannot be empty"},
		{"reserved name", map[string][]extension.Option{"a": {extension.WithCustomAuthPlugins(plugin("caching_sha2_password"))}}, "reserved"},
		{"reserved name of another server", map[string][]extension.Option{"a": {extension.WithCustomAuthPlugins(plugin("auth_socket"))}}, "reserved"},
		{"missing function", map[string][]extension.Option{"a": {extension.WithCustomAuthPlugins(missing)}}, "GenerateAuthString is required"},
		{"duplicate in one extension", map[string][]extension.Option{"a": {extension.WithCustomAuthPlugins(plugin("p"), plugin("p"))}}, "registered twice"},
		{"duplicate across extensions", map[string][]extension.Option{
			"a": {extension.WithCustomAuthPlugins(plugin("p"))},
			"b": {extension.WithCustomAuthPlugins(plugin("p"))},
		}, `already registered by extension "a"`},
		{"bad dynamic privilege", map[string][]extension.Option{"a": {extension.WithCustomDynPrivs("no spaces allowed")}}, "invalid dynamic privilege"},
		{"MySQL's own dynamic privilege", map[string][]extension.Option{"a": {extension.WithCustomDynPrivs("backup_admin")}}, "MySQL's own"},
		{"duplicate dynamic privilege across extensions", map[string][]extension.Option{
			"a": {extension.WithCustomDynPrivs("TOKEN_ADMIN")},
			"b": {extension.WithCustomDynPrivs("token_admin")},
		}, "already registered"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			r := extension.NewRegistry()
			for n, opts := range c.regs {
				require.NoError(t, r.Register(n, opts...))
			}
			assert.ErrorContains(t, r.Setup(), c.want)
			_, err := r.GetExtensions()
			assert.ErrorContains(t, err, c.want, "a failed setup activates nothing")
		})
	}
}

func TestFailedSetupRollsBackAndLeavesTheRegistryUsable(t *testing.T) {
	r := extension.NewRegistry()
	var closed []string
	closer := func(n string) extension.Option { return extension.WithClose(func() { closed = append(closed, n) }) }
	require.NoError(t, r.Register("a", closer("a"), extension.WithCustomAuthPlugins(plugin("pa"))))
	require.NoError(t, r.Register("b", closer("b")))
	require.NoError(t, r.RegisterFactory("c", func() ([]extension.Option, error) {
		return nil, errors.New("cannot reach the IdP")
	}))
	require.NoError(t, r.Register("d", closer("d")))

	assert.ErrorContains(t, r.Setup(), `extension "c": cannot reach the IdP`)
	assert.Equal(t, []string{"b", "a"}, closed, "what was set up is closed, in reverse; d was never built")

	assert.NoError(t, r.Register("e"), "the registry still takes registrations")
	r.Reset()
	closed = nil
	require.NoError(t, r.Register("a", closer("a"), extension.WithCustomAuthPlugins(plugin("pa"))))
	require.NoError(t, r.Register("b", closer("b")))
	es, err := r.GetExtensions()
	require.NoError(t, err, "GetExtensions sets up on first use")
	assert.Len(t, es.AuthPlugins(), 1)
	assert.Empty(t, closed)
	r.Reset()
	assert.Equal(t, []string{"b", "a"}, closed, "Reset closes in reverse order")
}

func TestFactoryPanicIsASetupError(t *testing.T) {
	r := extension.NewRegistry()
	require.NoError(t, r.RegisterFactory("a", func() ([]extension.Option, error) { panic("bad") }))
	assert.ErrorContains(t, r.Setup(), "panicked")
}

func TestExtensionsWireIntoTheManager(t *testing.T) {
	r := extension.NewRegistry()
	require.NoError(t, r.Register("z", extension.WithCustomAuthPlugins(plugin("pz")), extension.WithCustomDynPrivs("z_admin")))
	require.NoError(t, r.Register("a", extension.WithCustomAuthPlugins(plugin("pa"))))
	es, err := r.GetExtensions()
	require.NoError(t, err)
	assert.Equal(t, []string{"a", "z"}, []string{es.Manifests()[0].Name(), es.Manifests()[1].Name()}, "name order")
	assert.Equal(t, []string{"Z_ADMIN"}, es.DynamicPrivileges())

	m, err := es.NewManager(privilege.NewMemStore())
	require.NoError(t, err)
	assert.NotNil(t, m.Plugin("pa"))
	assert.NotNil(t, m.Plugin("pz"))
	assert.NotNil(t, m.Plugin(authplugin.NativePasswordName), "built-ins stay")
	assert.True(t, m.IsDynamicPrivilege("z_admin"))
}

// ManagerOptions carry the extensions' plugins and dynamic privileges to a
// manager made without extension (as plugintest makes one), and combine
// with the caller's options.
func TestManagerOptionsCarryPluginsAndDynamicPrivileges(t *testing.T) {
	r := extension.NewRegistry()
	require.NoError(t, r.Register("z", extension.WithCustomAuthPlugins(plugin("pz")), extension.WithCustomDynPrivs("z_admin")))
	require.NoError(t, r.Register("a", extension.WithCustomAuthPlugins(plugin("pa"))))
	es, err := r.GetExtensions()
	require.NoError(t, err)

	opts := es.ManagerOptions()
	m, err := privilege.NewManager(privilege.NewMemStore(), append(opts, privilege.WithDynamicPrivileges("host_admin"))...)
	require.NoError(t, err)
	assert.NotNil(t, m.Plugin("pa"))
	assert.NotNil(t, m.Plugin("pz"))
	assert.NotNil(t, m.Plugin(authplugin.NativePasswordName), "built-ins stay")
	assert.True(t, m.IsDynamicPrivilege("z_admin"))
	assert.True(t, m.IsDynamicPrivilege("host_admin"), "the caller's options apply too")
	assert.False(t, m.IsDynamicPrivilege("other_admin"))

	// A fresh slice each call: the append above changed nothing for the
	// next caller.
	assert.Len(t, es.ManagerOptions(), len(opts))

	// An empty set is harmless.
	none, err := extension.NewRegistry().GetExtensions()
	require.NoError(t, err)
	_, err = privilege.NewManager(privilege.NewMemStore(), none.ManagerOptions()...)
	assert.NoError(t, err)
}

func TestBootstrapRunsInOrderAndStopsAtAnError(t *testing.T) {
	r := extension.NewRegistry()
	var ran []string
	hook := func(n string, err error) extension.Option {
		return extension.WithBootstrap(func(ctx context.Context, b extension.BootstrapContext) error {
			ran = append(ran, n)
			if b.Privileges == nil {
				return errors.New("no manager")
			}
			return err
		})
	}
	require.NoError(t, r.Register("b", hook("b", errors.New("table exists"))))
	require.NoError(t, r.Register("a", hook("a", nil)))
	require.NoError(t, r.Register("c", hook("c", nil)))
	es, err := r.GetExtensions()
	require.NoError(t, err)
	m, err := es.NewManager(privilege.NewMemStore())
	require.NoError(t, err)
	err = es.Bootstrap(context.Background(), extension.BootstrapContext{Privileges: m})
	assert.ErrorContains(t, err, `extension "b": bootstrap: table exists`)
	assert.Equal(t, []string{"a", "b"}, ran)
}

func TestSessionEventsFanOut(t *testing.T) {
	r := extension.NewRegistry()
	var got []string
	handler := func(n string) extension.Option {
		return extension.WithSessionHandlerFactory(func() *extension.SessionHandler {
			return &extension.SessionHandler{
				OnConnectionEvent: func(tp extension.ConnEventTp, info *extension.ConnEventInfo) {
					got = append(got, n+":"+tp.String()+":"+info.User)
				},
				OnStmtEvent: func(tp extension.StmtEventTp, info *extension.StmtEventInfo) {
					got = append(got, n+":"+tp.String()+":"+info.Text)
				},
			}
		})
	}
	require.NoError(t, r.Register("a", handler("a")))
	require.NoError(t, r.Register("b", extension.WithSessionHandlerFactory(func() *extension.SessionHandler {
		return &extension.SessionHandler{OnStmtEvent: func(extension.StmtEventTp, *extension.StmtEventInfo) { panic("audit bug") }}
	})))
	require.NoError(t, r.Register("c", handler("c")))
	require.NoError(t, r.Register("d", extension.WithSessionHandlerFactory(func() *extension.SessionHandler { return nil })))
	es, err := r.GetExtensions()
	require.NoError(t, err)

	s := es.NewSessionExtensions()
	assert.True(t, s.HasStmtEventHandlers())
	s.OnConnectionEvent(extension.ConnHandshakeAccepted, &extension.ConnEventInfo{User: "alice"})
	s.OnStmtEvent(extension.StmtSuccess, &extension.StmtEventInfo{Text: "SELECT 1"})
	assert.Equal(t, []string{
		"a:handshake_accepted:alice", "c:handshake_accepted:alice",
		"a:success:SELECT 1", "c:success:SELECT 1",
	}, got, "a panicking handler is skipped, the others still run")

	empty := extension.NewRegistry()
	es, err = empty.GetExtensions()
	require.NoError(t, err)
	assert.False(t, es.NewSessionExtensions().HasStmtEventHandlers())
}

// The package-level functions share one registry, as database/sql drivers do.
func TestGlobalRegistry(t *testing.T) {
	t.Cleanup(extension.Reset)
	extension.Reset()
	require.NoError(t, extension.Register("global_test", extension.WithCustomAuthPlugins(plugin("global_plugin"))))
	require.NoError(t, extension.Setup())
	es, err := extension.GetExtensions()
	require.NoError(t, err)
	assert.Equal(t, "global_plugin", es.AuthPlugins()[0].Name)
	assert.ErrorIs(t, extension.RegisterFactory("late", func() ([]extension.Option, error) { return nil, nil }), extension.ErrAlreadySetup)
}

// A panic in an extension's other hooks is contained the same way: a
// session whose handler factory panicked must not log in (it would go
// unaudited), a bootstrap that panics fails the start, and a close hook
// that panics does not keep the others from running.
func TestHookPanicsAreContained(t *testing.T) {
	var closed []string
	r := extension.NewRegistry()
	require.NoError(t, r.Register("a", extension.WithClose(func() { closed = append(closed, "a") })))
	require.NoError(t, r.Register("b",
		extension.WithSessionHandlerFactory(func() *extension.SessionHandler { panic("factory bug") }),
		extension.WithBootstrap(func(context.Context, extension.BootstrapContext) error { panic("bootstrap bug") }),
		extension.WithClose(func() { panic("close bug") })))
	require.NoError(t, r.Register("c", extension.WithClose(func() { closed = append(closed, "c") })))
	es, err := r.GetExtensions()
	require.NoError(t, err)

	err = es.NewSessionExtensions().Err()
	require.Error(t, err)
	assert.Equal(t, uint16(mysqlerr.ErUnknownError), mysqlerr.Code(err))
	assert.Contains(t, err.Error(), `extension "b"`)

	err = es.Bootstrap(context.Background(), extension.BootstrapContext{})
	assert.ErrorContains(t, err, `extension "b": bootstrap: panicked`)

	es.Close()
	assert.Equal(t, []string{"c", "a"}, closed, "every other close hook ran, in reverse order")

	ok := extension.NewRegistry()
	require.NoError(t, ok.Register("a", extension.WithSessionHandlerFactory(func() *extension.SessionHandler { return nil })))
	es, err = ok.GetExtensions()
	require.NoError(t, err)
	assert.NoError(t, es.NewSessionExtensions().Err())
}
