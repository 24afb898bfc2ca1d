package privilege_test

import (
	"encoding/json"
	"errors"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/authplug/authplug/mysqlerr"
	"github.com/authplug/authplug/plugintest"
	"github.com/authplug/authplug/priv"
	"github.com/authplug/authplug/privilege"
)

const day = 24 * time.Hour

// clock is a fake time the test moves by hand.
type clock struct{ t time.Time }

func newClock() *clock                   { return &clock{t: time.Date(2026, 3, 1, 12, 0, 0, 0, time.UTC)} }
func (c *clock) now() time.Time          { return c.t }
func (c *clock) advance(d time.Duration) { c.t = c.t.Add(d) }

func TestPasswordExpiry(t *testing.T) {
	cases := []struct {
		name            string
		opts            []privilege.UserOption
		defaultLifetime int
		after           time.Duration
		expired         bool
	}{
		{"PASSWORD EXPIRE", []privilege.UserOption{privilege.PasswordExpireNow()}, 0, 0, true},
		{"INTERVAL, not yet", []privilege.UserOption{privilege.PasswordLifetime(30)}, 0, 30*day - time.Second, false},
		{"INTERVAL, elapsed", []privilege.UserOption{privilege.PasswordLifetime(30)}, 0, 30 * day, true},
		{"INTERVAL wins over the default", []privilege.UserOption{privilege.PasswordLifetime(30)}, 5, 10 * day, false},
		{"NEVER, despite the default", []privilege.UserOption{privilege.PasswordLifetime(-1)}, 1, 1000 * day, false},
		{"DEFAULT with no default lifetime is never", nil, 0, 1000 * day, false},
		{"DEFAULT, not yet", nil, 10, 9 * day, false},
		{"DEFAULT, elapsed", nil, 10, 10 * day, true},
		{"explicit DEFAULT", []privilege.UserOption{privilege.PasswordLifetime(0)}, 5, 6 * day, true},
		{"PASSWORD EXPIRE with NEVER after it", []privilege.UserOption{privilege.PasswordExpireNow(), privilege.PasswordLifetime(-1)}, 0, 0, true},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			c := newClock()
			k := plugintest.NewWithOptions(t, privilege.WithClock(c.now), privilege.WithDefaultPasswordLifetime(tc.defaultLifetime))
			k.Must(func(tx *privilege.Tx) error {
				return tx.CreateUser(alice, privilege.IdentifiedBy(native, "pw"), tc.opts...)
			})
			c.advance(tc.after)
			s := login(t, k, "alice") // an expired password still logs in
			if tc.expired {
				assert.Equal(t, uint16(mysqlerr.ErMustChangePassword), code(s.PasswordExpired()))
			} else {
				assert.NoError(t, s.PasswordExpired())
			}
		})
	}
}

func TestNegativeDefaultLifetimeIsRefused(t *testing.T) {
	_, err := privilege.NewManager(privilege.NewMemStore(), privilege.WithDefaultPasswordLifetime(-1))
	assert.Error(t, err)
}

func TestSandboxModeEndsWhenThePasswordChanges(t *testing.T) {
	c := newClock()
	k := plugintest.NewWithOptions(t, privilege.WithClock(c.now))
	k.Must(func(tx *privilege.Tx) error {
		return errors.Join(
			tx.CreateUser(alice, privilege.IdentifiedBy(native, "pw")),
			tx.Grant(alice, privilege.Object{DB: "d"}, priv.Select, false),
		)
	})
	before := login(t, k, "alice")
	k.Must(func(tx *privilege.Tx) error { return tx.AlterUser(alice, privilege.PasswordExpireNow()) })
	assert.NoError(t, before.PasswordExpired(), "a session that logged in before PASSWORD EXPIRE goes on as it was")
	assert.NoError(t, before.RequestVerification("d", "t", "", priv.Select))

	s := login(t, k, "alice")
	err := s.PasswordExpired()
	var me *mysqlerr.Error
	require.ErrorAs(t, err, &me)
	assert.Equal(t, mysqlerr.Error{Code: 1820, SQLState: "HY000",
		Message: "You must reset your password using ALTER USER statement before executing this statement."}, *me)
	assert.Equal(t, uint16(1820), code(s.RequestVerification("d", "t", "", priv.Select)),
		"the per-statement check refuses too, whatever the grants")

	c.advance(time.Minute)
	k.Must(func(tx *privilege.Tx) error { return tx.AlterUser(alice, privilege.AccountLock(false)) })
	assert.Error(t, s.PasswordExpired(), "changing something else than the password is not enough")

	c.advance(time.Minute)
	k.Must(func(tx *privilege.Tx) error { return tx.SetCredential(alice, privilege.IdentifiedBy(native, "pw")) })
	assert.NoError(t, s.PasswordExpired(), "the same session leaves sandbox mode, even with the same password")
	assert.NoError(t, s.RequestVerification("d", "t", "", priv.Select))
	assert.NoError(t, login(t, k, "alice").PasswordExpired(), "and so do new logins")

	u, _ := k.Manager.Snapshot().User(alice)
	assert.False(t, u.PasswordExpired)
	assert.Equal(t, c.now(), u.PasswordChanged)
}

func TestLifetimeRestartsWithANewPassword(t *testing.T) {
	c := newClock()
	k := plugintest.NewWithOptions(t, privilege.WithClock(c.now))
	k.Must(func(tx *privilege.Tx) error {
		return tx.CreateUser(alice, privilege.IdentifiedBy(native, "pw"), privilege.PasswordLifetime(10))
	})
	created := c.now()
	c.advance(9 * day)
	k.Must(func(tx *privilege.Tx) error { return tx.AlterUser(alice, privilege.AccountLock(false)) })
	u, _ := k.Manager.Snapshot().User(alice)
	assert.Equal(t, created, u.PasswordChanged, "other changes keep the change time")

	c.advance(2 * day)
	s := login(t, k, "alice")
	require.Error(t, s.PasswordExpired())
	k.Must(func(tx *privilege.Tx) error { return tx.SetCredential(alice, privilege.IdentifiedBy(native, "new")) })
	assert.NoError(t, s.PasswordExpired())
	c.advance(9 * day)
	_, err := k.Login("alice", plugintest.Password("new"))
	require.NoError(t, err)
	c.advance(day)
	s, err = k.Login("alice", plugintest.Password("new"))
	require.NoError(t, err)
	assert.Error(t, s.PasswordExpired(), "10 days after the new password")
}

func TestFilesWithoutExpiryLoadUnchanged(t *testing.T) {
	old := `{"version":1,"accounts":[{"account":{"user":"alice","host":"%"},"plugin":"mysql_native_password"}]}`
	var d privilege.Data
	require.NoError(t, json.Unmarshal([]byte(old), &d))
	c := newClock()
	k := plugintest.NewWithOptions(t, privilege.WithClock(c.now), privilege.WithDefaultPasswordLifetime(10))
	k.Must(func(tx *privilege.Tx) error { return tx.Load(d) })
	u, _ := k.Manager.Snapshot().User(alice)
	assert.Equal(t, c.now(), u.PasswordChanged, "counted as changed at load time")

	c.advance(9 * day)
	s, err := k.Login("alice")
	require.NoError(t, err)
	assert.NoError(t, s.PasswordExpired(), "not expired at once")

	b, err := json.Marshal(privilege.User{Account: alice, Plugin: native})
	require.NoError(t, err)
	assert.NotContains(t, string(b), "password_", "defaults are not written")
}

func TestRequiresCurrentPassword(t *testing.T) {
	cases := []struct {
		setting privilege.RequireCurrent
		global  bool
		want    bool
	}{
		{privilege.RequireCurrentDefault, false, false},
		{privilege.RequireCurrentDefault, true, true},
		{privilege.RequireCurrentYes, false, true},
		{privilege.RequireCurrentOptional, true, false},
	}
	for _, tc := range cases {
		m, err := privilege.NewManager(privilege.NewMemStore(), privilege.WithPasswordRequireCurrent(tc.global))
		require.NoError(t, err)
		assert.Equal(t, tc.want, m.RequiresCurrentPassword(privilege.User{RequireCurrent: tc.setting}), "%+v", tc)
	}
}

func TestNeedsCurrentPasswordIsForUnprivilegedSelfChanges(t *testing.T) {
	k := plugintest.NewWithOptions(t, privilege.WithPasswordRequireCurrent(true))
	root := plugintest.Account("root")
	k.Must(func(tx *privilege.Tx) error {
		return errors.Join(
			tx.CreateUser(alice, privilege.IdentifiedBy(native, "pw")),
			tx.CreateUser(root, privilege.IdentifiedBy(native, "pw"), privilege.PasswordExpireNow()),
			tx.Grant(root, privilege.Object{}, priv.CreateUser, false),
		)
	})
	s := login(t, k, "alice")
	assert.True(t, s.NeedsCurrentPassword(alice))
	assert.False(t, s.NeedsCurrentPassword(root), "another account's password needs no REPLACE")

	r := login(t, k, "root")
	require.Error(t, r.PasswordExpired())
	assert.False(t, r.NeedsCurrentPassword(root), "a privileged user, in sandbox mode or not, needs none for its own")

	k.Must(func(tx *privilege.Tx) error {
		return tx.AlterUser(alice, privilege.PasswordRequireCurrent(privilege.RequireCurrentOptional))
	})
	assert.False(t, s.NeedsCurrentPassword(alice), "the account's OPTIONAL wins over the default")
}
