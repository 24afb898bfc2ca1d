package privilege_test

import (
	"context"
	"crypto/tls"
	"errors"
	"net"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/authplug/authplug/authplugin"
	"github.com/authplug/authplug/mysqlerr"
	"github.com/authplug/authplug/plugintest"
	"github.com/authplug/authplug/priv"
	"github.com/authplug/authplug/privilege"
)

const native = authplugin.NativePasswordName

var (
	alice   = plugintest.Account("alice")
	bob     = plugintest.Account("bob")
	gateway = plugintest.Account("gateway")
	analyst = plugintest.Account("analyst")
	writer  = plugintest.Account("writer")
)

func code(err error) uint16 { return mysqlerr.Code(err) }

// countingPlugin accepts password "pw" and counts its calls.
func countingPlugin(calls *atomic.Int32) *authplugin.AuthPlugin {
	p := authplugin.NativePassword()
	p.Name, p.RequiredClientSidePlugin = "counting", native
	inner := p.AuthenticateUser
	p.AuthenticateUser = func(ctx context.Context, req authplugin.AuthenticateRequest) (any, error) {
		calls.Add(1)
		return inner(ctx, req)
	}
	return p
}

func TestLockedAccountIsRefusedBeforeThePlugin(t *testing.T) {
	var calls atomic.Int32
	k := plugintest.New(t, countingPlugin(&calls))
	k.Must(func(tx *privilege.Tx) error {
		return tx.CreateUser(alice, privilege.IdentifiedBy("counting", "pw"), privilege.AccountLock(true))
	})
	_, err := k.Login("alice", plugintest.Password("pw"))
	assert.EqualError(t, err, "Error 1045 (28000): Access denied for user 'alice'@'localhost' (using password: YES)",
		"a locked account looks like any refusal, so it does not reveal the account")
	assert.Zero(t, calls.Load())

	k.Must(func(tx *privilege.Tx) error { return tx.AlterUser(alice, privilege.AccountLock(false)) })
	_, err = k.Login("alice", plugintest.Password("pw"))
	assert.NoError(t, err)
}

func TestFailedLoginAttemptsLockTheAccount(t *testing.T) {
	now := time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)
	var calls atomic.Int32
	k := plugintest.NewWithOptions(t,
		privilege.WithPlugins(countingPlugin(&calls)),
		privilege.WithClock(func() time.Time { return now }))
	k.Must(func(tx *privilege.Tx) error {
		return tx.CreateUser(alice, privilege.IdentifiedBy("counting", "pw"), privilege.FailedLoginLock(3, 2))
	})
	login := func(pw string) error { _, err := k.Login("alice", plugintest.Password(pw)); return err }

	assert.Error(t, login("bad"))
	assert.NoError(t, login("pw"), "a success resets the count")
	for range 3 {
		assert.Equal(t, uint16(1045), code(login("bad")))
	}
	calls.Store(0)
	assert.Equal(t, uint16(1045), code(login("pw")), "blocked: even the right password is refused")
	assert.Zero(t, calls.Load(), "a blocked account never reaches its plugin")

	now = now.Add(47 * time.Hour)
	assert.Error(t, login("pw"), "still within PASSWORD_LOCK_TIME 2 days")
	now = now.Add(2 * time.Hour)
	assert.NoError(t, login("pw"), "the lock runs out after 2 days")

	for range 3 {
		assert.Error(t, login("bad"))
	}
	k.Must(func(tx *privilege.Tx) error { return tx.AlterUser(alice, privilege.AccountLock(false)) })
	assert.NoError(t, login("pw"), "ALTER USER ... ACCOUNT UNLOCK clears the block")
}

func TestFailedLoginUnboundedLock(t *testing.T) {
	now := time.Now()
	k := plugintest.NewWithOptions(t, privilege.WithClock(func() time.Time { return now }))
	k.Must(func(tx *privilege.Tx) error {
		return tx.CreateUser(alice, privilege.IdentifiedBy(native, "pw"), privilege.FailedLoginLock(1, -1))
	})
	_, err := k.Login("alice", plugintest.Password("bad"))
	assert.Error(t, err)
	now = now.AddDate(10, 0, 0)
	_, err = k.Login("alice", plugintest.Password("pw"))
	assert.Error(t, err, "UNBOUNDED stays locked")
}

func TestPanickingPluginIsAFailedLogin(t *testing.T) {
	p := authplugin.NativePassword()
	p.Name, p.RequiredClientSidePlugin = "panicky", native
	p.AuthenticateUser = func(context.Context, authplugin.AuthenticateRequest) (any, error) { panic("boom") }
	k := plugintest.New(t, p)
	k.Must(func(tx *privilege.Tx) error { return tx.CreateUser(alice, privilege.IdentifiedBy("panicky", "pw")) })
	_, err := k.Login("alice", plugintest.Password("pw"))
	assert.Equal(t, uint16(1045), code(err))
}

func TestRequireSSL(t *testing.T) {
	k := plugintest.New(t)
	k.Must(func(tx *privilege.Tx) error {
		return tx.CreateUser(alice, privilege.IdentifiedBy(native, "pw"), privilege.RequireSSL(true))
	})
	_, err := k.Login("alice", plugintest.Password("pw"))
	assert.Equal(t, uint16(1045), code(err))
	_, err = k.Login("alice", plugintest.Password("pw"), plugintest.OverTLS())
	assert.NoError(t, err)
}

func TestUnknownPluginOnAccountIs1045AtLogin(t *testing.T) {
	k := plugintest.New(t)
	// Loaded from storage written by a server that had the plugin.
	require.NoError(t, k.Store.Update(func(tx *privilege.Tx) error {
		return tx.CreateUser(alice, privilege.IdentifiedAs("gone_plugin", "x"))
	}))
	_, err := k.Login("alice", plugintest.Password("x"))
	assert.Equal(t, uint16(1045), code(err))
	assert.Equal(t, authplugin.CachingSHA2PasswordName, k.Manager.ClientPluginFor("alice", nil, false),
		"the handshake offers the default plugin, as for an unknown user")
}

func login(t *testing.T, k *plugintest.Kit, user string) *privilege.Session {
	t.Helper()
	s, err := k.Login(user, plugintest.Password("pw"))
	require.NoError(t, err)
	return s
}

func TestPrivilegeLevelsAddUp(t *testing.T) {
	k := plugintest.New(t)
	k.Must(func(tx *privilege.Tx) error {
		return errors.Join(
			tx.CreateUser(alice, privilege.IdentifiedBy(native, "pw")),
			tx.Grant(alice, privilege.Object{}, priv.Select, false),
			tx.Grant(alice, privilege.Object{DB: "Sales"}, priv.Insert, false),
			tx.Grant(alice, privilege.Object{DB: "sales", Table: "orders"}, priv.Update, false),
			tx.Grant(alice, privilege.Object{DB: "sales", Table: "people", Column: "name"}, priv.Update, false),
		)
	})
	s := login(t, k, "alice")
	cases := []struct {
		db, table, col string
		p              priv.Mask
		want           uint16
	}{
		{"any", "thing", "", priv.Select, 0},
		{"sales", "x", "", priv.Insert, 0},
		{"SALES", "X", "", priv.Insert, 0},
		{"other", "x", "", priv.Insert, 1142},
		{"sales", "orders", "", priv.Update, 0},
		{"sales", "orders", "", priv.Update | priv.Insert, 0},
		{"sales", "orders", "", priv.Delete, 1142},
		{"sales", "people", "", priv.Update, 1142},
		{"sales", "people", "name", priv.Update, 0},
		{"sales", "people", "NAME", priv.Update, 0},
		{"sales", "people", "salary", priv.Update, 1143},
		{"sales", "", "", priv.Drop, 1044},
		{"", "", "", priv.Insert, 1227},
	}
	for _, c := range cases {
		err := s.RequestVerification(c.db, c.table, c.col, c.p)
		assert.Equal(t, c.want, code(err), "%v on %s.%s.%s: %v", c.p, c.db, c.table, c.col, err)
	}
	err := s.RequestVerification("sales", "people", "salary", priv.Update)
	assert.EqualError(t, err, "Error 1143 (42000): UPDATE command denied to user 'alice'@'localhost' for column 'salary' in table 'people'")
}

func TestGrantLevelValidation(t *testing.T) {
	k := plugintest.New(t)
	k.Must(func(tx *privilege.Tx) error { return tx.CreateUser(alice, privilege.IdentifiedBy(native, "pw")) })
	grant := func(o privilege.Object, p priv.Mask) error {
		return k.Exec(func(tx *privilege.Tx) error { return tx.Grant(alice, o, p, false) })
	}
	assert.Equal(t, uint16(1221), code(grant(privilege.Object{DB: "d"}, priv.Super)))
	assert.Equal(t, uint16(1144), code(grant(privilege.Object{DB: "d", Table: "t"}, priv.Execute)))
	assert.Equal(t, uint16(1144), code(grant(privilege.Object{DB: "d", Table: "t", Column: "c"}, priv.Delete)))
	assert.NoError(t, grant(privilege.Object{DB: "d", Table: "t", Column: "c"}, priv.Level(priv.Column).All()))
	assert.NoError(t, grant(privilege.Object{DB: "d"}, priv.Database.All()))
	assert.Equal(t, uint16(1396), code(k.Exec(func(tx *privilege.Tx) error {
		return tx.Grant(bob, privilege.Object{}, priv.Select, false)
	})), "GRANT to a missing account")
}

func TestRevoke(t *testing.T) {
	k := plugintest.New(t)
	k.Must(func(tx *privilege.Tx) error {
		return errors.Join(
			tx.CreateUser(alice, privilege.IdentifiedBy(native, "pw")),
			tx.Grant(alice, privilege.Object{DB: "d"}, priv.Select|priv.Insert, true),
			tx.GrantDynamic(alice, "BACKUP_ADMIN", false),
		)
	})
	s := login(t, k, "alice")
	require.NoError(t, s.RequestVerification("d", "t", "", priv.Insert))
	require.NoError(t, s.RequestVerification("d", "", "", priv.GrantOption))

	k.Must(func(tx *privilege.Tx) error { return tx.Revoke(alice, privilege.Object{DB: "d"}, priv.Insert) })
	assert.Equal(t, uint16(1142), code(s.RequestVerification("d", "t", "", priv.Insert)), "REVOKE applies to the open session")
	assert.NoError(t, s.RequestVerification("d", "t", "", priv.Select))

	err := k.Exec(func(tx *privilege.Tx) error { return tx.Revoke(alice, privilege.Object{DB: "never"}, priv.Select) })
	assert.Equal(t, uint16(1141), code(err))
	assert.NoError(t, k.Exec(func(tx *privilege.Tx) error { return tx.Revoke(alice, privilege.Object{}, priv.Select) }),
		"a global REVOKE of nothing is a no-op, as in MySQL")

	k.Must(func(tx *privilege.Tx) error { return tx.RevokeAll(alice) })
	assert.Error(t, s.RequestVerification("d", "t", "", priv.Select))
	assert.Error(t, s.RequestDynamicVerification("BACKUP_ADMIN", false))
}

func TestFailedTransactionChangesNothing(t *testing.T) {
	k := plugintest.New(t)
	k.Must(func(tx *privilege.Tx) error { return tx.CreateUser(alice, privilege.IdentifiedBy(native, "pw")) })
	before := k.Manager.Snapshot()
	err := k.Exec(func(tx *privilege.Tx) error {
		if err := tx.Grant(alice, privilege.Object{}, priv.Select, false); err != nil {
			return err
		}
		return tx.CreateUser(alice, privilege.IdentifiedBy(native, "pw")) // exists: 1396
	})
	assert.Equal(t, uint16(1396), code(err))
	assert.Same(t, before, k.Manager.Snapshot(), "a failed change publishes nothing")
	assert.Error(t, login(t, k, "alice").RequestVerification("d", "t", "", priv.Select))
}

func TestUnknownDynamicPrivilege(t *testing.T) {
	k := plugintest.NewWithOptions(t, privilege.WithDynamicPrivileges("token_admin"))
	k.Must(func(tx *privilege.Tx) error { return tx.CreateUser(alice, privilege.IdentifiedBy(native, "pw")) })
	err := k.Exec(func(tx *privilege.Tx) error { return tx.GrantDynamic(alice, "MADE_UP", false) })
	assert.ErrorContains(t, err, "Unknown privilege 'MADE_UP'")
	k.Must(func(tx *privilege.Tx) error { return tx.GrantDynamic(alice, "Token_Admin", true) })
	s := login(t, k, "alice")
	assert.NoError(t, s.RequestDynamicVerification("TOKEN_ADMIN", true))
	assert.Equal(t, uint16(1227), code(s.RequestDynamicVerification("MADE_UP", false)))
}

func TestRoles(t *testing.T) {
	k := plugintest.New(t)
	k.Must(func(tx *privilege.Tx) error {
		return errors.Join(
			tx.CreateUser(alice, privilege.IdentifiedBy(native, "pw")),
			tx.CreateRole(analyst),
			tx.CreateRole(writer),
			tx.Grant(analyst, privilege.Object{DB: "sales"}, priv.Select, false),
			tx.Grant(writer, privilege.Object{DB: "sales"}, priv.Insert, false),
			tx.GrantRole(writer, analyst, false), // roles nest
			tx.GrantRole(analyst, alice, false),
		)
	})
	_, err := k.Login("analyst", plugintest.Password(""))
	assert.Error(t, err, "a role is a locked account")

	s := login(t, k, "alice")
	assert.Empty(t, s.ActiveRoles(), "no default roles: nothing active")
	assert.Error(t, s.RequestVerification("sales", "t", "", priv.Select), "a granted role acts only when active")

	require.NoError(t, s.SetActiveRoles([]priv.Account{analyst}))
	assert.NoError(t, s.RequestVerification("sales", "t", "", priv.Select))
	assert.NoError(t, s.RequestVerification("sales", "t", "", priv.Insert), "through the role granted to the role")

	err = s.SetActiveRoles([]priv.Account{writer})
	assert.Equal(t, uint16(3530), code(err), "only directly granted roles can be set")

	k.Must(func(tx *privilege.Tx) error { return tx.SetDefaultRoles(alice, []priv.Account{analyst}) })
	s2 := login(t, k, "alice")
	assert.Equal(t, []priv.Account{analyst}, s2.ActiveRoles())
	assert.NoError(t, s2.RequestVerification("sales", "t", "", priv.Select))

	k.Must(func(tx *privilege.Tx) error { return tx.RevokeRole(analyst, alice) })
	assert.Error(t, s2.RequestVerification("sales", "t", "", priv.Select), "a revoked role stops counting at once")
	assert.Empty(t, k.Manager.Snapshot().DefaultRoles(alice), "and stops being a default")

	err = k.Exec(func(tx *privilege.Tx) error { return tx.GrantRole(alice, writer, false) })
	assert.NoError(t, err)
	err = k.Exec(func(tx *privilege.Tx) error { return tx.GrantRole(writer, alice, false) })
	assert.Equal(t, uint16(4027), code(err), "a loop of roles")
	err = k.Exec(func(tx *privilege.Tx) error { return tx.GrantRole(plugintest.Account("ghost"), alice, false) })
	assert.Equal(t, uint16(3523), code(err))
}

func TestDropUserLeavesNothingForANamesake(t *testing.T) {
	k := plugintest.New(t)
	k.Must(func(tx *privilege.Tx) error {
		return errors.Join(
			tx.CreateUser(alice, privilege.IdentifiedBy(native, "pw")),
			tx.CreateUser(gateway, privilege.IdentifiedBy(native, "pw")),
			tx.CreateRole(analyst),
			tx.Grant(analyst, privilege.Object{}, priv.Select, false),
			tx.GrantRole(analyst, alice, false),
			tx.SetDefaultRoles(alice, []priv.Account{analyst}),
			tx.GrantProxy(alice, gateway, false),
		)
	})
	k.Must(func(tx *privilege.Tx) error { return errors.Join(tx.DropUser(analyst), tx.DropUser(alice)) })
	snap := k.Manager.Snapshot()
	assert.False(t, snap.CanProxy(gateway, alice))
	k.Must(func(tx *privilege.Tx) error {
		return errors.Join(tx.CreateRole(analyst), tx.CreateUser(alice, privilege.IdentifiedBy(native, "pw")))
	})
	snap = k.Manager.Snapshot()
	assert.Empty(t, snap.GrantedRoles(alice))
	assert.False(t, snap.CanProxy(gateway, alice), "a new alice is not impersonable through the old grant")
	assert.Equal(t, uint16(1396), code(k.Exec(func(tx *privilege.Tx) error { return tx.DropUser(bob) })))
}

func TestImpersonation(t *testing.T) {
	scoped := authplugin.NativePassword()
	scoped.Name, scoped.RequiredClientSidePlugin = "scoped", native
	// The gateway's session may only read: its credentials narrow it.
	scoped.VerifyPrivilege = func(req authplugin.AuthorizeRequest) bool {
		return req.Priv == priv.Select && req.User == "gateway"
	}
	k := plugintest.New(t, scoped)
	k.Must(func(tx *privilege.Tx) error {
		return errors.Join(
			tx.CreateUser(gateway, privilege.IdentifiedBy("scoped", "pw")),
			tx.CreateUser(alice, privilege.IdentifiedBy(native, "pw"), privilege.AccountLock(true)),
			tx.CreateUser(bob, privilege.IdentifiedBy(native, "pw")),
			tx.Grant(gateway, privilege.Object{}, priv.AllGlobal, false),
			tx.Grant(alice, privilege.Object{DB: "alice_db"}, priv.Select|priv.Insert, false),
			tx.GrantProxy(alice, gateway, false),
		)
	})
	s := login(t, k, "gateway")

	_, err := s.Impersonate(bob)
	assert.EqualError(t, err, "Error 1227 (42000): Access denied; you need (at least one of) the PROXY privilege(s) for this operation")
	_, err = s.Impersonate(plugintest.Account("nobody"))
	assert.Equal(t, uint16(1227), code(err))

	restore, err := s.Impersonate(alice)
	require.NoError(t, err, "a locked account can be acted as: proxied accounts usually are")
	assert.Equal(t, alice, s.Account())
	assert.Equal(t, "gateway", s.User(), "USER() stays the caller")
	assert.NoError(t, s.RequestVerification("alice_db", "t", "", priv.Select))
	err = s.RequestVerification("alice_db", "t", "", priv.Insert)
	assert.Equal(t, uint16(1142), code(err), "alice may insert, but the gateway's credentials only read")
	assert.ErrorContains(t, err, "'alice'@'%'")
	assert.Equal(t, uint16(1142), code(s.RequestVerification("other", "t", "", priv.Select)),
		"the gateway's own grants do not leak into alice's")
	_, err = s.Impersonate(bob)
	assert.Equal(t, uint16(1221), code(err), "no nesting")
	_, err = s.Impersonate(alice)
	assert.Equal(t, uint16(1221), code(err), "not even the same account again")
	assert.Equal(t, uint16(1221), code(s.SetActiveRoles(nil)), "SET ROLE would change the caller's roles, not alice's")

	restore()
	restore()
	assert.Equal(t, gateway, s.Account())
	assert.NoError(t, s.RequestVerification("other", "t", "", priv.Select))

	// Revoking PROXY binds an open impersonation at its next check.
	_, err = s.Impersonate(alice)
	require.NoError(t, err)
	assert.NoError(t, s.ActingAllowed())
	k.Must(func(tx *privilege.Tx) error { return tx.RevokeProxy(alice, gateway) })
	assert.Equal(t, uint16(1227), code(s.ActingAllowed()))
	assert.Equal(t, uint16(1227), code(s.RequestVerification("alice_db", "t", "", priv.Select)))
	assert.Equal(t, uint16(1227), code(s.RequestDynamicVerification("BACKUP_ADMIN", false)))
	s.Revert()
	assert.NoError(t, s.ActingAllowed())
	assert.Equal(t, gateway, s.Account(), "REVERT comes home to the session's own account")
	_, err = s.Impersonate(alice)
	assert.Equal(t, uint16(1227), code(err))
	assert.Equal(t, uint16(1141), code(k.Exec(func(tx *privilege.Tx) error { return tx.RevokeProxy(alice, gateway) })))
}

// A check never sees half of a change. The writer moves SELECT between the
// database and the table level in one transaction: every whole state allows
// SELECT on d.t, and only a half-applied change would deny it.
func TestChecksSeeWholeChanges(t *testing.T) {
	k := plugintest.New(t)
	db, table := privilege.Object{DB: "d"}, privilege.Object{DB: "d", Table: "t"}
	k.Must(func(tx *privilege.Tx) error {
		return errors.Join(tx.CreateUser(alice, privilege.IdentifiedBy(native, "pw")), tx.Grant(alice, db, priv.Select, false))
	})
	s := login(t, k, "alice")

	var wg sync.WaitGroup
	var stop atomic.Bool
	var torn, checks atomic.Int64
	defer stop.Store(true) // on a failure too
	for range 4 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for !stop.Load() {
				checks.Add(1)
				if s.RequestVerification("d", "t", "", priv.Select) != nil {
					torn.Add(1)
				}
				if k.Manager.RequestVerificationWithUser(alice, "d", "t", "", priv.Select) != nil {
					torn.Add(1)
				}
			}
		}()
	}
	// The changes start once the checks run, or they could all be made
	// before any check: nothing would have been tested.
	require.Eventually(t, func() bool { return checks.Load() > 0 }, 10*time.Second, time.Millisecond, "the checkers never ran")
	before := checks.Load()
	// At least 500 changes, and more until the checkers have run during
	// them: on a loaded machine the 500 can all be made while the
	// checkers wait for a CPU.
	deadline := time.Now().Add(10 * time.Second)
	for i := 0; i < 500 || checks.Load()-before < 100 && time.Now().Before(deadline); i++ {
		from, to := db, table
		if i%2 == 1 {
			from, to = table, db
		}
		k.Must(func(tx *privilege.Tx) error {
			return errors.Join(tx.Revoke(alice, from, priv.Select), tx.Grant(alice, to, priv.Select, false))
		})
	}
	during := checks.Load() - before
	stop.Store(true)
	wg.Wait()
	assert.Zero(t, torn.Load(), "of %d checks", checks.Load())
	assert.Positive(t, during, "checks ran while the grants changed")
}

func TestClientPluginForNeverAsksForCleartextOnPlainTCP(t *testing.T) {
	clear := authplugin.NativePassword()
	clear.Name, clear.RequiredClientSidePlugin = "tokens", authplugin.ClearPasswordName
	k := plugintest.New(t, clear)
	k.Must(func(tx *privilege.Tx) error { return tx.CreateUser(alice, privilege.IdentifiedBy("tokens", "pw")) })
	tcp := &net.TCPAddr{IP: net.IPv4(192, 0, 2, 1), Port: 1}
	assert.Equal(t, authplugin.CachingSHA2PasswordName, k.Manager.ClientPluginFor("alice", tcp, false))
	assert.Equal(t, authplugin.ClearPasswordName, k.Manager.ClientPluginFor("alice", tcp, true))
	assert.Equal(t, authplugin.ClearPasswordName, k.Manager.ClientPluginFor("alice", &net.UnixAddr{Name: "s", Net: "unix"}, false))

	// A response made for another client plugin is refused.
	_, err := k.Manager.ConnectionVerification(context.Background(), privilege.LoginRequest{
		User: "alice", RemoteAddr: tcp, ConnState: &tls.ConnectionState{}, AuthData: []byte("pw"),
		ClientPlugin: authplugin.CachingSHA2PasswordName,
	})
	assert.Equal(t, uint16(1045), code(err))
}

// A plugin that does not know about self-service (no SelfServiceGate on its
// state) refuses nothing MySQL allows: one's own password, default roles.
func TestSelfChangeWithoutAGate(t *testing.T) {
	k := plugintest.New(t)
	k.Must(func(tx *privilege.Tx) error { return tx.CreateUser(alice, privilege.IdentifiedBy(native, "pw")) })
	s := login(t, k, "alice")
	assert.NoError(t, s.RequestSelfChange(authplugin.SelfPassword))
	assert.NoError(t, s.RequestSelfChange(authplugin.SelfDefaultRole))
}

func TestHasColumnPrivilege(t *testing.T) {
	k := plugintest.New(t)
	k.Must(func(tx *privilege.Tx) error {
		return errors.Join(
			tx.CreateUser(alice, privilege.IdentifiedBy(native, "pw")),
			tx.Grant(alice, privilege.Object{DB: "d", Table: "t", Column: "c"}, priv.Select, false),
			tx.Grant(alice, privilege.Object{DB: "d", Table: "t", Column: "e"}, priv.Insert, false),
			tx.Grant(alice, privilege.Object{DB: "d", Table: "u"}, priv.Update, false),
			tx.Grant(alice, privilege.Object{DB: "d", Table: "u", Column: "c"}, priv.Insert, false),
		)
	})
	s := login(t, k, "alice")
	assert.True(t, s.HasColumnPrivilege("D", "T", priv.Select))
	assert.True(t, s.HasColumnPrivilege("d", "t", priv.Insert))
	assert.False(t, s.HasColumnPrivilege("d", "t", priv.Select|priv.Insert), "no one column holds both")
	assert.False(t, s.HasColumnPrivilege("d", "t", priv.Update))
	assert.True(t, s.HasColumnPrivilege("d", "u", priv.Update|priv.Insert), "the table's UPDATE counts with a column's INSERT")
	assert.False(t, s.HasColumnPrivilege("d", "v", priv.Select))
	m := k.Manager
	assert.True(t, m.HasColumnPrivilegeWithUser(alice, "d", "t", priv.Select))
	assert.False(t, m.HasColumnPrivilegeWithUser(alice, "d", "t", priv.Update))
}

func TestHasAnyPrivilege(t *testing.T) {
	k := plugintest.New(t)
	k.Must(func(tx *privilege.Tx) error {
		return errors.Join(
			tx.CreateUser(alice, privilege.IdentifiedBy(native, "pw")),
			tx.Grant(alice, privilege.Object{DB: "d", Table: "t", Column: "c"}, priv.Select, false),
			tx.Grant(alice, privilege.Object{DB: "g"}, priv.GrantOption, false),
		)
	})
	s := login(t, k, "alice")
	assert.True(t, s.HasAnyPrivilege("d", ""), "a column grant makes the database visible")
	assert.True(t, s.HasAnyPrivilege("D", "T"))
	assert.False(t, s.HasAnyPrivilege("d", "u"))
	assert.False(t, s.HasAnyPrivilege("g", ""), "GRANT OPTION alone shows nothing")
	assert.False(t, s.HasAnyPrivilege("other", ""))

	k.Must(func(tx *privilege.Tx) error {
		return errors.Join(
			tx.Grant(alice, privilege.Object{}, priv.File|priv.Process, false),
			tx.Grant(alice, privilege.Object{DB: "r"}, priv.CreateRoutine, false),
		)
	})
	s = login(t, k, "alice")
	assert.False(t, s.HasAnyPrivilege("other", ""), "global-only privileges (FILE, PROCESS) show no database")
	assert.True(t, s.HasAnyPrivilege("r", ""))
	assert.False(t, s.HasAnyPrivilege("r", "t"), "a routine privilege shows no table")
}

// lapsingState is plugin state that picks roles and can lapse.
type lapsingState struct {
	roles   []priv.Account
	expired *atomic.Bool
}

func (s lapsingState) ActivateRoles(granted, defaults []priv.Account) []priv.Account {
	return append(s.roles, defaults...)
}

func (s lapsingState) ValidateSession() error {
	if s.expired.Load() {
		return mysqlerr.Errorf(mysqlerr.ErAccessDenied, "token expired; reconnect with a new token")
	}
	return nil
}

func TestPluginStateChoosesRolesAndCanLapse(t *testing.T) {
	var expired atomic.Bool
	p := authplugin.NativePassword()
	p.Name, p.RequiredClientSidePlugin = "stateful", native
	inner := p.AuthenticateUser
	p.AuthenticateUser = func(ctx context.Context, req authplugin.AuthenticateRequest) (any, error) {
		if _, err := inner(ctx, req); err != nil {
			return nil, err
		}
		return lapsingState{roles: []priv.Account{analyst, writer, writer}, expired: &expired}, nil
	}
	k := plugintest.New(t, p)
	k.Must(func(tx *privilege.Tx) error {
		return errors.Join(
			tx.CreateUser(alice, privilege.IdentifiedBy("stateful", "pw")),
			tx.CreateRole(analyst), tx.CreateRole(writer),
			tx.Grant(analyst, privilege.Object{DB: "d"}, priv.Select, false),
			tx.Grant(writer, privilege.Object{DB: "d"}, priv.Insert, false),
			tx.GrantRole(analyst, alice, false), // writer is never granted to alice
		)
	})
	s := login(t, k, "alice")
	assert.Equal(t, []priv.Account{analyst}, s.ActiveRoles(), "a plugin cannot activate a role that was not granted")
	assert.NoError(t, s.RequestVerification("d", "t", "", priv.Select))
	assert.Error(t, s.RequestVerification("d", "t", "", priv.Insert))

	expired.Store(true)
	err := s.RequestVerification("d", "t", "", priv.Select)
	assert.EqualError(t, err, "Error 1045 (28000): token expired; reconnect with a new token")
	assert.Error(t, s.RequestDynamicVerification("BACKUP_ADMIN", false))
}

func TestLoginErrorKeepsTheReasonFromTheClient(t *testing.T) {
	k := plugintest.New(t)
	_, err := k.Login("ghost", plugintest.Password("x"))
	var le *privilege.LoginError
	require.ErrorAs(t, err, &le)
	assert.Equal(t, "no such account", le.Reason)
	assert.Equal(t, uint16(1045), code(err))
	assert.NotContains(t, err.Error(), "no such account", "the client's text never says why")
}

// A refusal's Kind and Plugin are what a metric counts: a fixed set of
// kinds, and the stored plugin, never the client's words.
func TestLoginErrorKindIsFromAFixedSet(t *testing.T) {
	k := plugintest.New(t)
	k.Must(func(tx *privilege.Tx) error {
		if err := tx.CreateUser(alice, privilege.IdentifiedBy(native, "pw")); err != nil {
			return err
		}
		return tx.CreateUser(bob, privilege.IdentifiedBy(native, "pw"), privilege.AccountLock(true))
	})
	require.NoError(t, k.Store.Update(func(tx *privilege.Tx) error {
		return tx.CreateUser(writer, privilege.IdentifiedAs("gone_plugin", "x"))
	}))
	for _, tc := range []struct {
		user, pw string
		kind     privilege.LoginFailure
		plugin   string
	}{
		{"ghost", "x", privilege.LoginNoAccount, ""},
		{"a-name-far-longer-than-thirty-two-characters", "x", privilege.LoginNoAccount, ""},
		{"alice", "bad", privilege.LoginBadCredentials, native},
		{"bob", "pw", privilege.LoginAccountLocked, native},
		{"writer", "x", privilege.LoginPluginNotLoaded, "gone_plugin"},
	} {
		t.Run(tc.user, func(t *testing.T) {
			_, err := k.Login(tc.user, plugintest.Password(tc.pw))
			var le *privilege.LoginError
			require.ErrorAs(t, err, &le)
			assert.Equal(t, tc.kind, le.Kind)
			assert.Equal(t, tc.plugin, le.Plugin)
		})
	}
}
