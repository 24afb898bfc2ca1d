package plugintest_test

import (
	"context"
	"strings"
	"sync"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/authplug/authplug/authplugin"
	"github.com/authplug/authplug/extension"
	"github.com/authplug/authplug/mysqlerr"
	"github.com/authplug/authplug/plugintest"
	"github.com/authplug/authplug/priv"
	"github.com/authplug/authplug/privilege"
)

// recorder is a test plugin that counts every call and lets a test decide
// what VerifyPrivilege answers.
type recorder struct {
	mu                               sync.Mutex
	auth, generate, validate, verify int
	dynVerify                        int
	lastAuth                         authplugin.AuthenticateRequest
	lastVerify                       authplugin.AuthorizeRequest
	allow                            func(authplugin.AuthorizeRequest) bool
}

const prefix = "hashed:"

func (r *recorder) plugin(name string) *authplugin.AuthPlugin {
	return &authplugin.AuthPlugin{
		Name:                     name,
		RequiredClientSidePlugin: authplugin.ClearPasswordName,
		AuthenticateUser: func(_ context.Context, req authplugin.AuthenticateRequest) (any, error) {
			r.mu.Lock()
			defer r.mu.Unlock()
			r.auth++
			r.lastAuth = req
			if prefix+string(req.InputAuthString) != req.StoredAuthString {
				return nil, authplugin.ErrWrongPassword
			}
			return "state-of-" + req.User, nil
		},
		GenerateAuthString: func(pw string) (string, bool) {
			r.mu.Lock()
			defer r.mu.Unlock()
			r.generate++
			return prefix + pw, pw != "rejected"
		},
		ValidateAuthString: func(s string) bool {
			r.mu.Lock()
			defer r.mu.Unlock()
			r.validate++
			return strings.HasPrefix(s, prefix)
		},
		VerifyPrivilege: func(req authplugin.AuthorizeRequest) bool {
			r.mu.Lock()
			defer r.mu.Unlock()
			r.verify++
			r.lastVerify = req
			return r.allow == nil || r.allow(req)
		},
		VerifyDynamicPrivilege: func(req authplugin.AuthorizeRequest) bool {
			r.mu.Lock()
			defer r.mu.Unlock()
			r.dynVerify++
			r.lastVerify = req
			return r.allow == nil || r.allow(req)
		},
	}
}

func (r *recorder) counts() [5]int {
	r.mu.Lock()
	defer r.mu.Unlock()
	return [5]int{r.auth, r.generate, r.validate, r.verify, r.dynVerify}
}

const plug = "authentication_test"

func setup(t *testing.T) (*plugintest.Kit, *recorder) {
	r := &recorder{}
	return plugintest.New(t, r.plugin(plug)), r
}

var (
	alice = plugintest.Account("alice")
	admin = plugintest.Account("admin")
	bob   = plugintest.Account("bob")
)

func TestUnknownPluginIs1524(t *testing.T) {
	k, _ := setup(t)
	err := k.Exec(func(tx *privilege.Tx) error {
		return tx.CreateUser(alice, privilege.IdentifiedBy("no_such_plugin", "x"))
	})
	assert.Equal(t, uint16(1524), mysqlerr.Code(err), "error: %v", err)
	assert.ErrorContains(t, err, "Plugin 'no_such_plugin' is not loaded")
}

func TestIdentifiedAsCallsValidateOnly(t *testing.T) {
	k, r := setup(t)
	k.Must(func(tx *privilege.Tx) error {
		return tx.CreateUser(alice, privilege.IdentifiedAs(plug, prefix+"pw"))
	})
	c := r.counts()
	assert.Equal(t, 0, c[1], "GenerateAuthString calls")
	assert.Equal(t, 1, c[2], "ValidateAuthString calls")

	err := k.Exec(func(tx *privilege.Tx) error {
		return tx.CreateUser(bob, privilege.IdentifiedAs(plug, "not-a-hash"))
	})
	assert.Equal(t, uint16(1827), mysqlerr.Code(err), "a string the plugin rejects: %v", err)
	_, exists := k.Manager.Snapshot().User(bob)
	assert.False(t, exists, "a failed CREATE USER must not create the account")
}

func TestLoginCallsAuthenticateUser(t *testing.T) {
	k, r := setup(t)
	k.Must(func(tx *privilege.Tx) error { return tx.CreateUser(alice, privilege.IdentifiedBy(plug, "pw")) })

	s, err := k.Login("alice", plugintest.Password("pw"), plugintest.OverTLS())
	require.NoError(t, err)
	assert.Equal(t, 1, r.counts()[0])
	assert.Equal(t, "alice", r.lastAuth.User)
	assert.Equal(t, "%", r.lastAuth.AccountHost)
	assert.Equal(t, prefix+"pw", r.lastAuth.StoredAuthString)
	assert.Len(t, r.lastAuth.Salt, 20)
	assert.True(t, r.lastAuth.SecureTransport)
	assert.Equal(t, "state-of-alice", s.State(), "AuthenticateUser's state is kept with the session")
	assert.Equal(t, alice, s.Account())
}

func TestWrongPasswordIs1045(t *testing.T) {
	k, r := setup(t)
	k.Must(func(tx *privilege.Tx) error { return tx.CreateUser(alice, privilege.IdentifiedBy(plug, "pw")) })

	_, err := k.Login("alice", plugintest.Password("nope"), plugintest.OverTLS())
	assert.Equal(t, uint16(1045), mysqlerr.Code(err))
	assert.EqualError(t, err, "Error 1045 (28000): Access denied for user 'alice'@'localhost' (using password: YES)")
	assert.Equal(t, 1, r.counts()[0])

	_, unknown := k.Login("mallory", plugintest.Password("nope"), plugintest.OverTLS())
	assert.Equal(t, strings.Replace(err.Error(), "alice", "mallory", 1), unknown.Error(),
		"an unknown user must get the same text as a wrong password")
	assert.Contains(t, k.Logs(), "no such account", "the reason goes to the log")
	assert.Contains(t, k.Logs(), "password does not match")
}

func TestPasswordChangeGoesThroughGenerateAuthString(t *testing.T) {
	k, r := setup(t)
	k.Must(func(tx *privilege.Tx) error { return tx.CreateUser(alice, privilege.IdentifiedBy(plug, "old")) })
	k.Must(func(tx *privilege.Tx) error { return tx.SetCredential(alice, privilege.IdentifiedBy(plug, "new")) })
	assert.Equal(t, 2, r.counts()[1], "GenerateAuthString calls")

	_, err := k.Login("alice", plugintest.Password("old"), plugintest.OverTLS())
	assert.Equal(t, uint16(1045), mysqlerr.Code(err), "the old password must stop working")
	_, err = k.Login("alice", plugintest.Password("new"), plugintest.OverTLS())
	assert.NoError(t, err)

	err = k.Exec(func(tx *privilege.Tx) error { return tx.SetCredential(alice, privilege.IdentifiedBy(plug, "rejected")) })
	assert.Equal(t, uint16(1819), mysqlerr.Code(err), "a password the plugin refuses: %v", err)
}

func TestNonPluginUserNeverReachesVerifyPrivilege(t *testing.T) {
	k, r := setup(t)
	k.Must(func(tx *privilege.Tx) error {
		if err := tx.CreateUser(bob, privilege.IdentifiedBy(authplugin.NativePasswordName, "pw")); err != nil {
			return err
		}
		return tx.Grant(bob, privilege.Object{DB: "d"}, priv.Select, false)
	})
	s, err := k.Login("bob", plugintest.Password("pw"))
	require.NoError(t, err)
	assert.NoError(t, s.RequestVerification("d", "t", "", priv.Select))
	assert.Error(t, s.RequestVerification("d", "t", "", priv.Insert))
	assert.Equal(t, 0, r.counts()[3])
}

func TestStoredAllowsPluginDenies(t *testing.T) {
	k, r := setup(t)
	r.allow = func(req authplugin.AuthorizeRequest) bool { return req.Priv != priv.Insert }
	k.Must(func(tx *privilege.Tx) error {
		if err := tx.CreateUser(alice, privilege.IdentifiedBy(plug, "pw")); err != nil {
			return err
		}
		return tx.Grant(alice, privilege.Object{DB: "d"}, priv.Select|priv.Insert, false)
	})
	s, err := k.Login("alice", plugintest.Password("pw"), plugintest.OverTLS())
	require.NoError(t, err)

	assert.NoError(t, s.RequestVerification("d", "t", "", priv.Select), "stored allows, plugin allows")
	err = s.RequestVerification("d", "t", "", priv.Insert)
	assert.Equal(t, uint16(1142), mysqlerr.Code(err))
	assert.EqualError(t, err, "Error 1142 (42000): INSERT command denied to user 'alice'@'localhost' for table 't'")
	assert.Equal(t, 2, r.counts()[3])
	assert.Equal(t, "state-of-alice", r.lastVerify.SessionState, "the plugin sees its session state")
	assert.Equal(t, "d", r.lastVerify.DB)
	assert.Equal(t, "t", r.lastVerify.Table)
}

func TestNeverGrantedIsDeniedWithoutAskingThePlugin(t *testing.T) {
	k, r := setup(t)
	k.Must(func(tx *privilege.Tx) error { return tx.CreateUser(alice, privilege.IdentifiedBy(plug, "pw")) })
	s, err := k.Login("alice", plugintest.Password("pw"), plugintest.OverTLS())
	require.NoError(t, err)

	err = s.RequestVerification("d", "t", "", priv.Select)
	assert.Equal(t, uint16(1142), mysqlerr.Code(err))
	err = s.RequestVerification("d", "", "", priv.Create)
	assert.Equal(t, uint16(1044), mysqlerr.Code(err))
	err = s.RequestVerification("", "", "", priv.Super)
	assert.Equal(t, uint16(1227), mysqlerr.Code(err))
	assert.Equal(t, 0, r.counts()[3])
}

func TestDynamicPrivilegeDeniedThenAskedAfterGrant(t *testing.T) {
	k, r := setup(t)
	k.Must(func(tx *privilege.Tx) error { return tx.CreateUser(alice, privilege.IdentifiedBy(plug, "pw")) })
	s, err := k.Login("alice", plugintest.Password("pw"), plugintest.OverTLS())
	require.NoError(t, err)

	err = s.RequestDynamicVerification("SYSTEM_VARIABLES_ADMIN", false)
	assert.Equal(t, uint16(1227), mysqlerr.Code(err))
	assert.ErrorContains(t, err, "SYSTEM_VARIABLES_ADMIN")
	assert.Equal(t, 0, r.counts()[4], "not granted: the plugin is not asked")

	k.Must(func(tx *privilege.Tx) error { return tx.GrantDynamic(alice, "system_variables_admin", false) })
	assert.NoError(t, s.RequestDynamicVerification("system_variables_admin", false), "the open session sees the grant")
	assert.Equal(t, 1, r.counts()[4])
	assert.Equal(t, "SYSTEM_VARIABLES_ADMIN", r.lastVerify.PrivName)

	err = s.RequestDynamicVerification("SYSTEM_VARIABLES_ADMIN", true)
	assert.Equal(t, uint16(1227), mysqlerr.Code(err), "granted without GRANT OPTION")

	r.allow = func(authplugin.AuthorizeRequest) bool { return false }
	err = s.RequestDynamicVerification("SYSTEM_VARIABLES_ADMIN", false)
	assert.Equal(t, uint16(1227), mysqlerr.Code(err), "granted, but the plugin says no")
}

func TestSessionKeepsItsPluginAfterTheAccountSwitches(t *testing.T) {
	k, r := setup(t)
	r.allow = func(authplugin.AuthorizeRequest) bool { return false }
	k.Must(func(tx *privilege.Tx) error {
		if err := tx.CreateUser(alice, privilege.IdentifiedBy(plug, "pw")); err != nil {
			return err
		}
		return tx.Grant(alice, privilege.Object{}, priv.Select, false)
	})
	old, err := k.Login("alice", plugintest.Password("pw"), plugintest.OverTLS())
	require.NoError(t, err)

	k.Must(func(tx *privilege.Tx) error {
		return tx.SetCredential(alice, privilege.IdentifiedBy(authplugin.NativePasswordName, "pw2"))
	})
	assert.Equal(t, plug, old.Plugin().Name)
	assert.Equal(t, uint16(1142), mysqlerr.Code(old.RequestVerification("d", "t", "", priv.Select)),
		"the open session is still judged by its login plugin")

	fresh, err := k.Login("alice", plugintest.Password("pw2"))
	require.NoError(t, err)
	assert.Equal(t, authplugin.NativePasswordName, fresh.Plugin().Name)
	before := r.counts()[3]
	assert.NoError(t, fresh.RequestVerification("d", "t", "", priv.Select))
	assert.Equal(t, before, r.counts()[3], "a new session does not ask the old plugin")
}

func TestChecksForAnotherUserNeverAskThePlugin(t *testing.T) {
	k, r := setup(t)
	r.allow = func(authplugin.AuthorizeRequest) bool { return false }
	k.Must(func(tx *privilege.Tx) error {
		if err := tx.CreateUser(alice, privilege.IdentifiedBy(plug, "pw")); err != nil {
			return err
		}
		if err := tx.Grant(alice, privilege.Object{DB: "d", Table: "t"}, priv.Select, false); err != nil {
			return err
		}
		return tx.GrantDynamic(alice, "SYSTEM_USER", false)
	})
	// A view defined by alice, or ALTER/DROP USER alice: stored grants only.
	assert.NoError(t, k.Manager.RequestVerificationWithUser(alice, "d", "t", "", priv.Select))
	assert.Equal(t, uint16(1142), mysqlerr.Code(k.Manager.RequestVerificationWithUser(alice, "d", "t", "", priv.Insert)))
	assert.NoError(t, k.Manager.RequestDynamicVerificationWithUser(alice, "SYSTEM_USER", false))
	assert.Equal(t, [2]int{0, 0}, [2]int{r.counts()[3], r.counts()[4]})
}

func TestAdminPluginUserOwnActionsAskThePlugin(t *testing.T) {
	k, r := setup(t)
	r.allow = func(req authplugin.AuthorizeRequest) bool { return req.Priv != priv.CreateUser }
	k.Must(func(tx *privilege.Tx) error {
		if err := tx.CreateUser(admin, privilege.IdentifiedBy(plug, "pw")); err != nil {
			return err
		}
		if err := tx.CreateUser(bob, privilege.IdentifiedBy(authplugin.NativePasswordName, "pw")); err != nil {
			return err
		}
		return tx.Grant(admin, privilege.Object{}, priv.CreateUser|priv.Select, false)
	})
	s, err := k.Login("admin", plugintest.Password("pw"), plugintest.OverTLS())
	require.NoError(t, err)
	// ALTER USER bob by admin: admin's own CREATE USER privilege is asked of
	// the plugin (and refused); bob, the target, is checked stored-only.
	err = s.RequestVerification("", "", "", priv.CreateUser)
	assert.Equal(t, uint16(1227), mysqlerr.Code(err))
	assert.Equal(t, priv.CreateUser, r.lastVerify.Priv)
	assert.Equal(t, 1, r.counts()[3])
}

func TestTwoExtensionsWithPluginsBothWork(t *testing.T) {
	reg := extension.NewRegistry()
	r1, r2 := &recorder{}, &recorder{}
	require.NoError(t, reg.Register("ext_one", extension.WithCustomAuthPlugins(r1.plugin("plugin_one"))))
	require.NoError(t, reg.Register("ext_two", extension.WithCustomAuthPlugins(r2.plugin("plugin_two"))))
	es, err := reg.GetExtensions()
	require.NoError(t, err)

	k := plugintest.NewWithOptions(t, es.ManagerOptions()...)
	k.Must(func(tx *privilege.Tx) error {
		if err := tx.CreateUser(alice, privilege.IdentifiedBy("plugin_one", "a")); err != nil {
			return err
		}
		return tx.CreateUser(bob, privilege.IdentifiedBy("plugin_two", "b"))
	})
	_, err = k.Login("alice", plugintest.Password("a"), plugintest.OverTLS())
	assert.NoError(t, err)
	_, err = k.Login("bob", plugintest.Password("b"), plugintest.OverTLS())
	assert.NoError(t, err)
	assert.Equal(t, 1, r1.counts()[0])
	assert.Equal(t, 1, r2.counts()[0])
}

func TestCleartextPluginRefusedWithoutTLS(t *testing.T) {
	k, r := setup(t)
	k.Must(func(tx *privilege.Tx) error { return tx.CreateUser(alice, privilege.IdentifiedBy(plug, "pw")) })

	_, err := k.Login("alice", plugintest.Password("pw"))
	assert.Equal(t, uint16(1045), mysqlerr.Code(err))
	assert.Equal(t, 0, r.counts()[0], "the secret must not reach the plugin over plain TCP")

	_, err = k.Login("alice", plugintest.Password("pw"), plugintest.OverUnixSocket())
	assert.NoError(t, err, "a Unix socket is a secure transport")
}
