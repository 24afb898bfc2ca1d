package privilege_test

import (
	"testing"

	"github.com/authplug/authplug/authplugin"
	"github.com/authplug/authplug/mysqlerr"
	"github.com/authplug/authplug/plugintest"
	"github.com/authplug/authplug/priv"
	"github.com/authplug/authplug/privilege"
)

// TestGrantorRules asks the session's rules directly, one fact at a time:
// the table a host's account statements are built on.
func TestGrantorRules(t *testing.T) {
	acct := plugintest.Account
	k := plugintest.New(t)
	k.Must(func(tx *privilege.Tx) error {
		pw := privilege.IdentifiedBy(authplugin.NativePasswordName, "pw")
		for _, u := range []string{"sys", "admin", "g", "col", "proxier", "dropper", "roleadm", "plain"} {
			if err := tx.CreateUser(acct(u), pw); err != nil {
				return err
			}
		}
		for _, r := range []string{"r", "locked"} {
			if err := tx.CreateRole(acct(r)); err != nil {
				return err
			}
		}
		return firstErr(
			tx.Grant(acct("sys"), privilege.Object{}, priv.Global.All(), true),
			tx.GrantDynamic(acct("sys"), "SYSTEM_USER", false),
			tx.Grant(acct("admin"), privilege.Object{}, priv.CreateUser, true),
			tx.Grant(acct("g"), privilege.Object{DB: "d"}, priv.Select, true),
			tx.Grant(acct("col"), privilege.Object{DB: "d", Table: "t", Column: "a"}, priv.Select, true),
			tx.GrantProxy(acct("plain"), acct("proxier"), true),
			tx.GrantProxy(acct("g"), acct("proxier"), false),
			tx.Grant(acct("dropper"), privilege.Object{}, priv.DropRole, false),
			tx.GrantRole(acct("r"), acct("roleadm"), true),
		)
	})
	login := func(t *testing.T, u string) *privilege.Session {
		t.Helper()
		s, err := k.Login(u, plugintest.Password("pw"))
		if err != nil {
			t.Fatal(err)
		}
		return s
	}
	cases := []struct {
		as   string
		name string
		rule func(s *privilege.Session) error
		code uint16
	}{
		{"g", "grant what it holds WITH GRANT OPTION", func(s *privilege.Session) error { return s.MayGrant(privilege.Object{DB: "d"}, priv.Select) }, 0},
		{"g", "not what it lacks", func(s *privilege.Session) error { return s.MayGrant(privilege.Object{DB: "d"}, priv.Insert) }, mysqlerr.ErDBAccessDenied},
		{"g", "not elsewhere", func(s *privilege.Session) error { return s.MayGrant(privilege.Object{DB: "e"}, priv.Select) }, mysqlerr.ErDBAccessDenied},
		{"col", "a held column", func(s *privilege.Session) error {
			return s.MayGrant(privilege.Object{DB: "d", Table: "t", Column: "a"}, priv.Select)
		}, 0},
		{"col", "not another column", func(s *privilege.Session) error {
			return s.MayGrant(privilege.Object{DB: "d", Table: "t", Column: "b"}, priv.Select)
		}, mysqlerr.ErColumnAccessDenied},
		{"sys", "not a dynamic privilege held without GRANT OPTION", func(s *privilege.Session) error { return s.MayGrantDynamic("SYSTEM_USER") }, mysqlerr.ErSpecificAccess},
		{"admin", "a system account is guarded", func(s *privilege.Session) error { return s.GuardSystemAccount(acct("sys")) }, mysqlerr.ErSpecificAccess},
		{"admin", "an ordinary one is not", func(s *privilege.Session) error { return s.GuardSystemAccount(acct("plain")) }, 0},
		{"sys", "a system account changes another", func(s *privilege.Session) error { return s.GuardSystemAccount(acct("sys")) }, 0},
		{"dropper", "DROP ROLE drops a locked account", func(s *privilege.Session) error { return s.MayDropAccount(acct("locked"), true) }, 0},
		{"dropper", "not a login account", func(s *privilege.Session) error { return s.MayDropAccount(acct("plain"), true) }, mysqlerr.ErSpecificAccess},
		{"dropper", "nor anything with DROP USER", func(s *privilege.Session) error { return s.MayDropAccount(acct("locked"), false) }, mysqlerr.ErSpecificAccess},
		{"admin", "CREATE USER drops a login account", func(s *privilege.Session) error { return s.MayDropAccount(acct("plain"), false) }, 0},
		{"admin", "but not a system account", func(s *privilege.Session) error { return s.MayDropAccount(acct("sys"), false) }, mysqlerr.ErSpecificAccess},
		{"roleadm", "a role held WITH ADMIN OPTION", func(s *privilege.Session) error { return s.MayGrantRole(acct("r")) }, 0},
		{"roleadm", "not another", func(s *privilege.Session) error { return s.MayGrantRole(acct("locked")) }, mysqlerr.ErSpecificAccess},
		{"proxier", "PROXY WITH GRANT OPTION", func(s *privilege.Session) error { return s.MayGrantProxy(acct("plain")) }, 0},
		{"proxier", "PROXY without it", func(s *privilege.Session) error { return s.MayGrantProxy(acct("g")) }, mysqlerr.ErSpecificAccess},
		{"plain", "PROXY on oneself", func(s *privilege.Session) error { return s.MayGrantProxy(acct("plain")) }, 0},
		{"admin", "CREATE USER alone grants no PROXY", func(s *privilege.Session) error { return s.MayGrantProxy(acct("plain")) }, mysqlerr.ErSpecificAccess},
		{"sys", "a full administrator does", func(s *privilege.Session) error { return s.MayGrantProxy(acct("plain")) }, 0},
		{"proxier", "acting as a system account needs SYSTEM_USER", func(s *privilege.Session) error { return s.MayActAs(acct("sys")) }, mysqlerr.ErSpecificAccess},
		{"proxier", "acting as a granted target", func(s *privilege.Session) error { return s.MayActAs(acct("plain")) }, 0},
	}
	for _, c := range cases {
		t.Run(c.as+": "+c.name, func(t *testing.T) {
			err := c.rule(login(t, c.as))
			if got := mysqlerr.Code(err); got != c.code {
				t.Fatalf("got %v (code %d), want code %d", err, got, c.code)
			}
		})
	}
}

func TestProxyGrantsAreNotUsedWhileActing(t *testing.T) {
	acct := plugintest.Account
	k := plugintest.New(t)
	k.Must(func(tx *privilege.Tx) error {
		pw := privilege.IdentifiedBy(authplugin.NativePasswordName, "pw")
		return firstErr(tx.CreateUser(acct("p"), pw), tx.CreateUser(acct("t"), pw), tx.CreateUser(acct("x"), pw),
			tx.GrantProxy(acct("t"), acct("p"), false), tx.GrantProxy(acct("x"), acct("t"), true))
	})
	s, err := k.Login("p", plugintest.Password("pw"))
	if err != nil {
		t.Fatal(err)
	}
	if _, err := s.Impersonate(acct("t")); err != nil {
		t.Fatal(err)
	}
	// t may grant PROXY on x; p acting as t may not: acting is not owning.
	if err := s.MayGrantProxy(acct("x")); mysqlerr.Code(err) != mysqlerr.ErSpecificAccess {
		t.Fatalf("MayGrantProxy while acting = %v", err)
	}
	if s.IsOwnAccount(acct("t")) || s.IsOwnAccount(acct("p")) {
		t.Fatal("IsOwnAccount while acting")
	}
}

func firstErr(errs ...error) error {
	for _, err := range errs {
		if err != nil {
			return err
		}
	}
	return nil
}
