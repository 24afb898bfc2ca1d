package privilege_test

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/authplug/authplug/authplugin"
	"github.com/authplug/authplug/mysqlerr"
	"github.com/authplug/authplug/plugintest"
	"github.com/authplug/authplug/privilege"
)

// policyPlugin takes passwords of 8 characters or more and AS strings that
// start with "ok:", and explains its refusals with explainPw and explainAS
// (nil: a TiDB-style plugin that explains nothing).
func policyPlugin(name string, explainPw, explainAS func(string) error) *authplugin.AuthPlugin {
	return &authplugin.AuthPlugin{
		Name: name,
		AuthenticateUser: func(context.Context, authplugin.AuthenticateRequest) (any, error) {
			return nil, errors.New("no logins in this test")
		},
		GenerateAuthString: func(pw string) (string, bool) { return "ok:" + pw, len(pw) >= 8 },
		ValidateAuthString: func(s string) bool { return strings.HasPrefix(s, "ok:") },
		ExplainPassword:    explainPw,
		ExplainAuthString:  explainAS,
	}
}

func explaining() *authplugin.AuthPlugin {
	return policyPlugin("explaining",
		func(string) error { return errors.New("must be at least 8 characters") },
		func(s string) error { return errors.New(`must start with "ok:"`) })
}

func TestRefusalsCarryThePluginsReason(t *testing.T) {
	k := plugintest.New(t, explaining())
	const secret = "Tr0ub4d"

	err := k.Exec(func(tx *privilege.Tx) error {
		return tx.CreateUser(alice, privilege.IdentifiedBy("explaining", secret))
	})
	assert.Equal(t, uint16(mysqlerr.ErNotValidPassword), code(err))
	assert.EqualError(t, err, "Error 1819 (HY000): Your password does not satisfy the current policy requirements: must be at least 8 characters")

	err = k.Exec(func(tx *privilege.Tx) error {
		return tx.CreateUser(alice, privilege.IdentifiedAs("explaining", "nope"))
	})
	assert.Equal(t, uint16(mysqlerr.ErPasswordFormat), code(err))
	assert.EqualError(t, err, `Error 1827 (HY000): The password hash doesn't have the expected format: must start with "ok:"`)

	logs := k.Logs()
	assert.Contains(t, logs, "must be at least 8 characters")
	assert.Contains(t, logs, `must start with \"ok:\"`)
	assert.Contains(t, logs, "plugin=explaining")
	assert.NotContains(t, logs, secret, "the refused password is never logged")
	assert.NotContains(t, logs, "nope", "nor the refused AS string")
}

func TestBuiltinPluginsExplainTheirHashes(t *testing.T) {
	k := plugintest.New(t)
	err := k.Exec(func(tx *privilege.Tx) error {
		return tx.CreateUser(alice, privilege.IdentifiedAs(native, "*ABC"))
	})
	assert.Equal(t, uint16(1827), code(err))
	assert.ErrorContains(t, err, "expected format: a mysql_native_password hash must be 41 characters starting with *, not 4")
	assert.Contains(t, k.Logs(), "must be 41 characters")
}

func TestPluginWithoutExplanationsBehavesAsBefore(t *testing.T) {
	k := plugintest.New(t, policyPlugin("tidb_style", nil, nil),
		policyPlugin("silent", func(string) error { return nil }, func(string) error { return nil }))
	for _, name := range []string{"tidb_style", "silent"} {
		err := k.Exec(func(tx *privilege.Tx) error {
			return tx.CreateUser(alice, privilege.IdentifiedBy(name, "short"))
		})
		assert.EqualError(t, err, mysqlerr.NotValidPassword().Error(), name)
		err = k.Exec(func(tx *privilege.Tx) error {
			return tx.CreateUser(alice, privilege.IdentifiedAs(name, "nope"))
		})
		assert.EqualError(t, err, mysqlerr.PasswordFormat().Error(), name)
	}
	assert.Contains(t, k.Logs(), "the plugin gave none")
}

func TestAReasonThatEchoesThePasswordIsWithheld(t *testing.T) {
	const secret = "hunter2!"
	rude := policyPlugin("rude", func(pw string) error { return fmt.Errorf("%q is too weak", pw) }, nil)
	rude.GenerateAuthString = func(string) (string, bool) { return "", false }
	k := plugintest.New(t, rude)
	err := k.Exec(func(tx *privilege.Tx) error {
		return tx.CreateUser(alice, privilege.IdentifiedBy("rude", secret))
	})
	assert.Equal(t, uint16(1819), code(err))
	assert.NotContains(t, err.Error(), secret)
	assert.NotContains(t, k.Logs(), secret)
	assert.Contains(t, k.Logs(), "withheld")
}

func TestAPanickingExplainerIsAnError(t *testing.T) {
	p := policyPlugin("panicky", func(string) error { panic("boom") }, nil)
	k := plugintest.New(t, p)
	err := k.Exec(func(tx *privilege.Tx) error {
		return tx.CreateUser(alice, privilege.IdentifiedBy("panicky", "short"))
	})
	assert.Equal(t, uint16(mysqlerr.ErUnknownError), code(err), "a plugin's panic is the neutral 1105: %v", err)
	assert.Contains(t, k.Logs(), `msg="auth plugin panicked" plugin=panicky hook=ExplainPassword`)
}

func TestCheckCurrentPassword(t *testing.T) {
	k := plugintest.New(t, explaining())
	k.Must(func(tx *privilege.Tx) error {
		for _, c := range []struct {
			cred privilege.Credential
			user string
		}{
			{privilege.IdentifiedBy(native, "old native"), "alice"},
			{privilege.IdentifiedBy(authplugin.CachingSHA2PasswordName, "old sha2"), "bob"},
			{privilege.IdentifiedAs("explaining", "ok:x"), "gateway"},
			{privilege.IdentifiedAs(authplugin.CachingSHA2PasswordName, ""), "empty"},
		} {
			if err := tx.CreateUser(plugintest.Account(c.user), c.cred); err != nil {
				return err
			}
		}
		return nil
	})
	check := func(user, current string) error {
		return k.Exec(func(tx *privilege.Tx) error {
			return tx.CheckCurrentPassword(plugintest.Account(user), current)
		})
	}
	assert.NoError(t, check("alice", "old native"))
	assert.NoError(t, check("bob", "old sha2"))
	assert.NoError(t, check("empty", ""))

	for _, c := range []struct{ user, current string }{{"alice", "old sha2"}, {"bob", "old native"}, {"empty", "x"}} {
		err := check(c.user, c.current)
		assert.EqualError(t, err, "Error 3891 (HY000): Incorrect current password. Specify the correct password which has to be replaced.", c.user)
		assert.NotContains(t, err.Error(), c.current)
	}

	err := check("gateway", "anything")
	assert.Equal(t, uint16(mysqlerr.ErNotSupportedYet), code(err), "a plugin that stores no password cannot check one")
	assert.ErrorContains(t, err, "explaining")

	err = check("nobody", "x")
	assert.EqualError(t, err, mysqlerr.CannotUser("ALTER USER", plugintest.Account("nobody").String()).Error())

	err = k.Store.Update(func(tx *privilege.Tx) error { return tx.CheckCurrentPassword(alice, "old native") })
	require.Error(t, err, "without the manager's plugins nothing can be checked")
	assert.Zero(t, code(err))
}
