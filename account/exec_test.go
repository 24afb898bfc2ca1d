package account_test

import (
	"context"
	"errors"
	"strings"
	"testing"
	"time"

	"github.com/authplug/authplug/account"
	"github.com/authplug/authplug/authplugin"
	"github.com/authplug/authplug/mysqlerr"
	"github.com/authplug/authplug/plugintest"
	"github.com/authplug/authplug/priv"
	"github.com/authplug/authplug/privilege"
)

// env is a store with root (every privilege, SYSTEM_USER included) and an
// executor, driven through sessions of the plugin test kit.
type env struct {
	k *plugintest.Kit
	e *account.Executor
}

// scopedPlugin stands for a token plugin whose sessions are narrowed: they
// may only SELECT, and may not change their own account.
const scopedPlugin = "scoped_test"

type scopedState struct{}

func (scopedState) AllowSelfChange(authplugin.SelfChange) error {
	return errors.New("the token has no scope for account changes")
}

func scoped() *authplugin.AuthPlugin {
	return &authplugin.AuthPlugin{
		Name:                     scopedPlugin,
		RequiredClientSidePlugin: authplugin.ClearPasswordName,
		AuthenticateUser: func(_ context.Context, req authplugin.AuthenticateRequest) (any, error) {
			if "token:"+string(req.InputAuthString) != req.StoredAuthString {
				return nil, authplugin.ErrWrongPassword
			}
			return scopedState{}, nil
		},
		GenerateAuthString: func(pw string) (string, bool) { return "token:" + pw, true },
		ValidateAuthString: func(s string) bool { return strings.HasPrefix(s, "token:") },
		VerifyPrivilege:    func(r authplugin.AuthorizeRequest) bool { return r.Priv == priv.Select },
		VerifyDynamicPrivilege: func(authplugin.AuthorizeRequest) bool {
			return false
		},
	}
}

func newEnv(t *testing.T) *env {
	t.Helper()
	k := plugintest.New(t, scoped())
	root := plugintest.Account("root")
	k.Must(func(tx *privilege.Tx) error {
		if err := tx.CreateUser(root, privilege.IdentifiedBy(authplugin.NativePasswordName, "pw")); err != nil {
			return err
		}
		if err := tx.Grant(root, privilege.Object{}, priv.Global.All(), true); err != nil {
			return err
		}
		for _, d := range k.Manager.DynamicPrivileges() {
			if err := tx.GrantDynamic(root, d, true); err != nil {
				return err
			}
		}
		return nil
	})
	return &env{k: k, e: account.New(k.Manager)}
}

func (v *env) login(t *testing.T, user string) *privilege.Session {
	t.Helper()
	s, err := v.k.Login(user, plugintest.Password("pw"), plugintest.OverTLS())
	if err != nil {
		t.Fatalf("login %s: %v", user, err)
	}
	return s
}

func (v *env) exec(s *privilege.Session, q string) (*account.Result, error) {
	return v.e.Exec(context.Background(), s, "", q)
}

// must runs statements as s, failing the test on any error.
func (v *env) must(t *testing.T, s *privilege.Session, qs ...string) {
	t.Helper()
	for _, q := range qs {
		if _, err := v.exec(s, q); err != nil {
			t.Fatalf("%s: %v", q, err)
		}
	}
}

func wantCode(t *testing.T, err error, code uint16) {
	t.Helper()
	if got := mysqlerr.Code(err); got != code {
		t.Fatalf("error %v (code %d), want code %d", err, got, code)
	}
}

func grants(t *testing.T, v *env, a string) string {
	t.Helper()
	ad, ok := v.k.Manager.Snapshot().Account(plugintest.Account(a))
	if !ok {
		t.Fatalf("no account %s", a)
	}
	return strings.Join(account.GrantLines(ad), "\n")
}

// The attacks of issue 8, each refused, and what MySQL 8 allows, allowed.
func TestGrantorRules(t *testing.T) {
	cases := []struct {
		name  string
		setup []string // as root
		as    string
		stmt  string
		code  uint16 // 0: allowed
	}{
		{"delegated admin cannot grant itself PROXY on root",
			[]string{"CREATE USER da IDENTIFIED WITH mysql_native_password BY 'pw'", "GRANT CREATE USER ON *.* TO da WITH GRANT OPTION"},
			"da", "GRANT PROXY ON root TO da", mysqlerr.ErSpecificAccess},
		{"PROXY WITH GRANT OPTION on the target lets one grant it",
			[]string{"CREATE USER p IDENTIFIED WITH mysql_native_password BY 'pw'", "CREATE USER t", "CREATE USER q", "GRANT PROXY ON t TO p WITH GRANT OPTION"},
			"p", "GRANT PROXY ON t TO q", 0},
		{"PROXY without GRANT OPTION does not",
			[]string{"CREATE USER p IDENTIFIED WITH mysql_native_password BY 'pw'", "CREATE USER t", "CREATE USER q", "GRANT PROXY ON t TO p"},
			"p", "GRANT PROXY ON t TO q", mysqlerr.ErSpecificAccess},
		{"the target grants PROXY on itself",
			[]string{"CREATE USER t IDENTIFIED WITH mysql_native_password BY 'pw'", "CREATE USER q"},
			"t", "GRANT PROXY ON t TO q", 0},
		{"one global privilege WITH GRANT OPTION cannot revoke GRANT OPTION from root",
			[]string{"CREATE USER g IDENTIFIED WITH mysql_native_password BY 'pw'", "GRANT SELECT ON *.* TO g WITH GRANT OPTION"},
			"g", "REVOKE GRANT OPTION ON *.* FROM root", mysqlerr.ErSpecificAccess},
		{"nor grant to root",
			[]string{"CREATE USER g IDENTIFIED WITH mysql_native_password BY 'pw'", "GRANT SELECT ON *.* TO g WITH GRANT OPTION"},
			"g", "GRANT SELECT ON *.* TO root", mysqlerr.ErSpecificAccess},
		{"but grants what it holds to an ordinary account",
			[]string{"CREATE USER g IDENTIFIED WITH mysql_native_password BY 'pw'", "CREATE USER o", "GRANT SELECT ON *.* TO g WITH GRANT OPTION"},
			"g", "GRANT SELECT ON d.* TO o", 0},
		{"a privilege not held cannot be handed on",
			[]string{"CREATE USER g IDENTIFIED WITH mysql_native_password BY 'pw'", "CREATE USER o", "GRANT SELECT ON *.* TO g WITH GRANT OPTION"},
			"g", "GRANT INSERT ON d.* TO o", mysqlerr.ErDBAccessDenied},
		{"nor one held without GRANT OPTION",
			[]string{"CREATE USER g IDENTIFIED WITH mysql_native_password BY 'pw'", "CREATE USER o", "GRANT SELECT ON d.* TO g"},
			"g", "GRANT SELECT ON d.* TO o", mysqlerr.ErDBAccessDenied},
		{"a column privilege is handed on for the columns held",
			[]string{"CREATE USER c IDENTIFIED WITH mysql_native_password BY 'pw'", "CREATE USER o", "GRANT SELECT (a) ON d.t TO c WITH GRANT OPTION"},
			"c", "GRANT SELECT (a) ON d.t TO o", 0},
		{"and not for others",
			[]string{"CREATE USER c IDENTIFIED WITH mysql_native_password BY 'pw'", "CREATE USER o", "GRANT SELECT (a) ON d.t TO c WITH GRANT OPTION"},
			"c", "GRANT SELECT (b) ON d.t TO o", mysqlerr.ErColumnAccessDenied},
		{"nor at table level",
			[]string{"CREATE USER c IDENTIFIED WITH mysql_native_password BY 'pw'", "CREATE USER o", "GRANT SELECT (a) ON d.t TO c WITH GRANT OPTION"},
			"c", "GRANT SELECT ON d.t TO o", mysqlerr.ErTableAccessDenied},
		{"a dynamic privilege needs its own GRANT OPTION",
			[]string{"CREATE USER y IDENTIFIED WITH mysql_native_password BY 'pw'", "CREATE USER o", "GRANT SELECT ON *.* TO y WITH GRANT OPTION", "GRANT BACKUP_ADMIN ON *.* TO y"},
			"y", "GRANT BACKUP_ADMIN ON *.* TO o", mysqlerr.ErSpecificAccess},
		{"the DROP ROLE privilege drops a role",
			[]string{"CREATE USER dr IDENTIFIED WITH mysql_native_password BY 'pw'", "GRANT DROP ROLE ON *.* TO dr", "CREATE ROLE r"},
			"dr", "DROP ROLE r", 0},
		{"but not a login account",
			[]string{"CREATE USER dr IDENTIFIED WITH mysql_native_password BY 'pw'", "GRANT DROP ROLE ON *.* TO dr", "CREATE USER victim"},
			"dr", "DROP ROLE victim", mysqlerr.ErSpecificAccess},
		{"CREATE ROLE creates roles, not users",
			[]string{"CREATE USER cr IDENTIFIED WITH mysql_native_password BY 'pw'", "GRANT CREATE ROLE ON *.* TO cr"},
			"cr", "CREATE USER nu", mysqlerr.ErSpecificAccess},
		{"a delegated admin cannot alter a system account",
			[]string{"CREATE USER da IDENTIFIED WITH mysql_native_password BY 'pw'", "GRANT CREATE USER ON *.* TO da"},
			"da", "ALTER USER root ACCOUNT LOCK", mysqlerr.ErSpecificAccess},
		{"nor set its password",
			[]string{"CREATE USER da IDENTIFIED WITH mysql_native_password BY 'pw'", "GRANT CREATE USER ON *.* TO da"},
			"da", "SET PASSWORD FOR root = 'x'", mysqlerr.ErSpecificAccess},
		{"nor rename it",
			[]string{"CREATE USER da IDENTIFIED WITH mysql_native_password BY 'pw'", "GRANT CREATE USER ON *.* TO da"},
			"da", "RENAME USER root TO toor", mysqlerr.ErSpecificAccess},
		{"nor drop it",
			[]string{"CREATE USER da IDENTIFIED WITH mysql_native_password BY 'pw'", "GRANT CREATE USER ON *.* TO da"},
			"da", "DROP USER root", mysqlerr.ErSpecificAccess},
		{"nor grant it a role",
			[]string{"CREATE USER da IDENTIFIED WITH mysql_native_password BY 'pw'", "GRANT ROLE_ADMIN ON *.* TO da", "CREATE ROLE r"},
			"da", "GRANT r TO root", mysqlerr.ErSpecificAccess},
		{"but renames an ordinary account",
			[]string{"CREATE USER da IDENTIFIED WITH mysql_native_password BY 'pw'", "GRANT CREATE USER ON *.* TO da", "CREATE USER o"},
			"da", "RENAME USER o TO o2", 0},
		{"a role is granted with ROLE_ADMIN",
			[]string{"CREATE USER ra IDENTIFIED WITH mysql_native_password BY 'pw'", "GRANT ROLE_ADMIN ON *.* TO ra", "CREATE ROLE r", "CREATE USER o"},
			"ra", "GRANT r TO o", 0},
		{"and not without",
			[]string{"CREATE USER ra IDENTIFIED WITH mysql_native_password BY 'pw'", "CREATE ROLE r", "CREATE USER o"},
			"ra", "GRANT r TO o", mysqlerr.ErSpecificAccess},
		{"an account acting as nobody sees its own grants",
			[]string{"CREATE USER s IDENTIFIED WITH mysql_native_password BY 'pw'"},
			"s", "SHOW GRANTS", 0},
		{"but not another's",
			[]string{"CREATE USER s IDENTIFIED WITH mysql_native_password BY 'pw'"},
			"s", "SHOW GRANTS FOR root", mysqlerr.ErDBAccessDenied},
		{"nor its CREATE USER",
			[]string{"CREATE USER s IDENTIFIED WITH mysql_native_password BY 'pw'"},
			"s", "SHOW CREATE USER root", mysqlerr.ErDBAccessDenied},
		{"GRANT ... IDENTIFIED BY is gone in MySQL 8",
			[]string{"CREATE USER o"}, "root", "GRANT SELECT ON d.* TO o IDENTIFIED BY 'x'", mysqlerr.ErSyntax},
		{"ROLE_ADMIN does not grant a system account as a role",
			[]string{"CREATE USER ra IDENTIFIED WITH mysql_native_password BY 'pw'", "GRANT ROLE_ADMIN ON *.* TO ra"},
			"ra", "GRANT root TO ra", mysqlerr.ErSpecificAccess},
		{"CREATE USER takes every privilege away",
			[]string{"CREATE USER da IDENTIFIED WITH mysql_native_password BY 'pw'", "GRANT CREATE USER ON *.* TO da", "CREATE USER o", "GRANT SELECT ON d.* TO o"},
			"da", "REVOKE ALL PRIVILEGES, GRANT OPTION FROM o", 0},
		{"but REVOKE ALL ON *.* is an ordinary revoke",
			[]string{"CREATE USER da IDENTIFIED WITH mysql_native_password BY 'pw'", "GRANT CREATE USER ON *.* TO da", "CREATE USER o"},
			"da", "REVOKE ALL PRIVILEGES, GRANT OPTION ON *.* FROM o", mysqlerr.ErSpecificAccess},
		{"routine grants are not supported",
			[]string{"CREATE USER o"}, "root", "GRANT EXECUTE ON PROCEDURE d.p TO o", mysqlerr.ErNotSupportedYet},
		{"resource limits other than MAX_USER_CONNECTIONS are not supported",
			nil, "root", "CREATE USER rl WITH MAX_QUERIES_PER_HOUR 10", mysqlerr.ErNotSupportedYet},
		{"PASSWORD() is gone in MySQL 8",
			nil, "root", "SET PASSWORD FOR root = PASSWORD('x')", mysqlerr.ErSyntax},
		{"REVOKE PROXY reads names holding FROM",
			[]string{"CREATE USER 'a FROM b'", "CREATE USER 'c FROM d'", "GRANT PROXY ON 'a FROM b' TO 'c FROM d'"},
			"root", "REVOKE PROXY ON 'a FROM b' FROM 'c FROM d'", 0},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			v := newEnv(t)
			v.must(t, v.login(t, "root"), c.setup...)
			before := v.k.Manager.Snapshot().Data()
			_, err := v.exec(v.login(t, c.as), c.stmt)
			if c.code == 0 {
				if err != nil {
					t.Fatalf("%s: %v", c.stmt, err)
				}
				return
			}
			wantCode(t, err, c.code)
			if after := v.k.Manager.Snapshot().Data(); !equalData(before, after) {
				t.Fatalf("a refused statement changed the store")
			}
		})
	}
}

func equalData(a, b privilege.Data) bool {
	return strings.EqualFold(dump(a), dump(b))
}

func dump(d privilege.Data) string {
	var b strings.Builder
	for _, ad := range d.Accounts {
		b.WriteString(ad.Account.String() + ":" + strings.Join(account.GrantLines(ad), ";") + "\n")
	}
	return b.String()
}

func TestRevokeProxy(t *testing.T) {
	v := newEnv(t)
	root := v.login(t, "root")
	v.must(t, root, "CREATE USER 'a FROM b'", "CREATE USER 'c FROM d'", "GRANT PROXY ON 'a FROM b' TO 'c FROM d'")
	if !v.k.Manager.Snapshot().CanProxy(plugintest.Account("c FROM d"), plugintest.Account("a FROM b")) {
		t.Fatal("GRANT PROXY did not take")
	}
	v.must(t, root, "REVOKE PROXY ON 'a FROM b' FROM 'c FROM d'")
	if v.k.Manager.Snapshot().CanProxy(plugintest.Account("c FROM d"), plugintest.Account("a FROM b")) {
		t.Fatal("REVOKE PROXY did not take")
	}
	_, err := v.exec(root, "REVOKE PROXY ON 'a FROM b' FROM 'c FROM d' WITH GRANT OPTION")
	wantCode(t, err, mysqlerr.ErSyntax)
}

func TestScopedSessionCannotChangeItsAccount(t *testing.T) {
	v := newEnv(t)
	v.must(t, v.login(t, "root"),
		"CREATE USER tok IDENTIFIED WITH scoped_test BY 'pw'", "CREATE ROLE r", "GRANT r TO tok")
	tok := v.login(t, "tok")
	for _, q := range []string{
		"SET DEFAULT ROLE ALL TO CURRENT_USER()",
		"SET PASSWORD = 'x'",
		"ALTER USER CURRENT_USER() IDENTIFIED BY 'x'",
	} {
		_, err := v.exec(tok, q)
		wantCode(t, err, mysqlerr.ErSpecificAccess)
	}
	if got := v.k.Manager.Snapshot().DefaultRoles(plugintest.Account("tok")); len(got) != 0 {
		t.Fatalf("default roles changed: %v", got)
	}
}

func TestRenameUserCarriesEverything(t *testing.T) {
	v := newEnv(t)
	root := v.login(t, "root")
	v.must(t, root,
		"CREATE USER a IDENTIFIED WITH mysql_native_password BY 'pw'", "CREATE ROLE r", "CREATE USER t", "CREATE USER other",
		"GRANT SELECT ON d.* TO a", "GRANT r TO a", "SET DEFAULT ROLE r TO a", "GRANT PROXY ON t TO a", "GRANT PROXY ON a TO other",
		"RENAME USER a TO b")
	if _, ok := v.k.Manager.Snapshot().User(plugintest.Account("a")); ok {
		t.Fatal("the old name is still there")
	}
	want := "GRANT USAGE ON *.* TO `b`@`%`\nGRANT SELECT ON `d`.* TO `b`@`%`\nGRANT PROXY ON `t`@`%` TO `b`@`%`\nGRANT `r`@`%` TO `b`@`%`"
	if got := grants(t, v, "b"); got != want {
		t.Fatalf("grants of b:\n%s\nwant\n%s", got, want)
	}
	if !v.k.Manager.Snapshot().CanProxy(plugintest.Account("other"), plugintest.Account("b")) {
		t.Fatal("a PROXY grant on the renamed account did not follow it")
	}
	if _, err := v.k.Login("b", plugintest.Password("pw")); err != nil {
		t.Fatalf("login under the new name: %v", err)
	}
	_, err := v.exec(root, "RENAME USER b TO other")
	wantCode(t, err, mysqlerr.ErCannotUser)
	v.must(t, root, "CREATE USER a")
	if got := grants(t, v, "a"); got != "GRANT USAGE ON *.* TO `a`@`%`" {
		t.Fatalf("a new account under the old name inherited: %s", got)
	}
}

func TestRandomPassword(t *testing.T) {
	v := newEnv(t)
	root := v.login(t, "root")
	res, err := v.exec(root, "CREATE USER rp IDENTIFIED WITH mysql_native_password BY RANDOM PASSWORD, rq IDENTIFIED WITH mysql_native_password BY RANDOM PASSWORD")
	if err != nil {
		t.Fatal(err)
	}
	if strings.Join(res.Columns, ",") != "user,host,generated password,auth_factor" || len(res.Rows) != 2 {
		t.Fatalf("result %+v", res)
	}
	if res.Rows[0][2] == res.Rows[1][2] || len(res.Rows[0][2]) != 20 {
		t.Fatalf("generated passwords %q %q", res.Rows[0][2], res.Rows[1][2])
	}
	for _, row := range res.Rows {
		if _, err := v.k.Login(row[0], plugintest.Password(row[2])); err != nil {
			t.Fatalf("login %s with its generated password: %v", row[0], err)
		}
	}
	res, err = v.exec(root, "SET PASSWORD FOR rp TO RANDOM")
	if err != nil || len(res.Rows) != 1 {
		t.Fatalf("SET PASSWORD TO RANDOM: %+v %v", res, err)
	}
	if _, err := v.k.Login("rp", plugintest.Password(res.Rows[0][2])); err != nil {
		t.Fatalf("login with the new generated password: %v", err)
	}
	// A client's own literal that happens to read like the placeholder is
	// a password like any other.
	v.must(t, root, "ALTER USER rq IDENTIFIED BY 'authplug-random-x'")
	if _, err := v.k.Login("rq", plugintest.Password("authplug-random-x")); err != nil {
		t.Fatal(err)
	}
}

func TestReplaceAndRequireCurrent(t *testing.T) {
	v := newEnv(t)
	root := v.login(t, "root")
	v.must(t, root,
		"CREATE USER u IDENTIFIED WITH mysql_native_password BY 'pw' PASSWORD REQUIRE CURRENT",
		"CREATE USER o IDENTIFIED WITH mysql_native_password BY 'pw'")
	u := v.login(t, "u")
	_, err := v.exec(u, "ALTER USER CURRENT_USER() IDENTIFIED BY 'new'")
	wantCode(t, err, mysqlerr.ErMissingCurrentPassword)
	_, err = v.exec(u, "SET PASSWORD = 'new' REPLACE 'wrong'")
	wantCode(t, err, mysqlerr.ErIncorrectCurrentPassword)
	v.must(t, u, "ALTER USER CURRENT_USER() IDENTIFIED BY 'new' REPLACE 'pw'")
	if _, err := v.k.Login("u", plugintest.Password("new")); err != nil {
		t.Fatal(err)
	}
	// REPLACE is for one's own password.
	_, err = v.exec(root, "ALTER USER o IDENTIFIED BY 'x' REPLACE 'pw'")
	wantCode(t, err, mysqlerr.ErCurrentPasswordNotRequired)
	// A privileged account changes anyone's password without it.
	v.must(t, root, "ALTER USER u IDENTIFIED BY 'again'")
	// OPTIONAL lifts the requirement.
	v.must(t, root, "ALTER USER u PASSWORD REQUIRE CURRENT OPTIONAL")
	v.must(t, v.login2(t, "u", "again"), "SET PASSWORD = 'fine'")
}

func (v *env) login2(t *testing.T, user, pw string) *privilege.Session {
	t.Helper()
	s, err := v.k.Login(user, plugintest.Password(pw), plugintest.OverTLS())
	if err != nil {
		t.Fatalf("login %s: %v", user, err)
	}
	return s
}

func TestExpiredPasswordMode(t *testing.T) {
	v := newEnv(t)
	root := v.login(t, "root")
	v.must(t, root, "CREATE USER e IDENTIFIED WITH mysql_native_password BY 'pw' PASSWORD EXPIRE")
	e := v.login(t, "e")
	for _, q := range []string{"SHOW GRANTS", "SET ROLE NONE", "ALTER USER e ACCOUNT LOCK", "SET PASSWORD FOR root = 'x'"} {
		_, err := v.exec(e, q)
		wantCode(t, err, mysqlerr.ErMustChangePassword)
	}
	v.must(t, e, "ALTER USER USER() IDENTIFIED BY 'fresh'")
	v.must(t, e, "SHOW GRANTS")
}

func TestShowCreateUser(t *testing.T) {
	v := newEnv(t)
	root := v.login(t, "root")
	v.must(t, root, "CREATE USER sc IDENTIFIED WITH mysql_native_password AS '*0D3CED9BEC10A777AEC23CCC353A8C08A633045E' REQUIRE SSL WITH MAX_USER_CONNECTIONS 5 PASSWORD EXPIRE INTERVAL 90 DAY FAILED_LOGIN_ATTEMPTS 3 PASSWORD_LOCK_TIME UNBOUNDED ACCOUNT LOCK")
	res, err := v.exec(root, "SHOW CREATE USER sc")
	if err != nil {
		t.Fatal(err)
	}
	want := "CREATE USER `sc`@`%` IDENTIFIED WITH 'mysql_native_password' AS '*0D3CED9BEC10A777AEC23CCC353A8C08A633045E' REQUIRE SSL WITH MAX_USER_CONNECTIONS 5 PASSWORD EXPIRE INTERVAL 90 DAY ACCOUNT LOCK PASSWORD HISTORY DEFAULT PASSWORD REUSE INTERVAL DEFAULT PASSWORD REQUIRE CURRENT DEFAULT FAILED_LOGIN_ATTEMPTS 3 PASSWORD_LOCK_TIME UNBOUNDED"
	if res.Columns[0] != "CREATE USER for sc@%" || res.Rows[0][0] != want {
		t.Fatalf("got %q / %q\nwant %q", res.Columns[0], res.Rows[0][0], want)
	}
	// The text makes the same account again.
	v.must(t, root, "DROP USER sc", want)
	again, err := v.exec(root, "SHOW CREATE USER sc")
	if err != nil || again.Rows[0][0] != want {
		t.Fatalf("after re-creating: %v %v", again, err)
	}
	_, err = v.exec(root, "SHOW CREATE USER nobody")
	wantCode(t, err, mysqlerr.ErCannotUser)
}

func TestRoleAdminOption(t *testing.T) {
	v := newEnv(t)
	root := v.login(t, "root")
	v.must(t, root, "CREATE ROLE r", "CREATE USER ad IDENTIFIED WITH mysql_native_password BY 'pw'", "CREATE USER o",
		"GRANT r TO ad WITH ADMIN OPTION")
	if got := grants(t, v, "ad"); !strings.Contains(got, "GRANT `r`@`%` TO `ad`@`%` WITH ADMIN OPTION") {
		t.Fatalf("grants: %s", got)
	}
	ad := v.login(t, "ad")
	v.must(t, ad, "GRANT r TO o")
	_, err := v.exec(root, "GRANT SELECT ON *.* TO o WITH ADMIN OPTION")
	wantCode(t, err, mysqlerr.ErSyntax)
}

// A slow hash must not hold the store: while one session's password is
// being hashed, another's GRANT goes through.
func TestHashingHoldsNoLock(t *testing.T) {
	entered, release := make(chan struct{}), make(chan struct{})
	slow := &authplugin.AuthPlugin{
		Name:                     "slow_test",
		RequiredClientSidePlugin: authplugin.ClearPasswordName,
		AuthenticateUser: func(context.Context, authplugin.AuthenticateRequest) (any, error) {
			return nil, authplugin.ErrWrongPassword
		},
		GenerateAuthString: func(pw string) (string, bool) {
			if pw == "slow" {
				entered <- struct{}{}
				<-release
			}
			return "h:" + pw, true
		},
		ValidateAuthString: func(s string) bool { return strings.HasPrefix(s, "h:") },
	}
	k := plugintest.New(t, slow)
	root := plugintest.Account("root")
	k.Must(func(tx *privilege.Tx) error {
		if err := tx.CreateUser(root, privilege.IdentifiedBy(authplugin.NativePasswordName, "pw")); err != nil {
			return err
		}
		return tx.Grant(root, privilege.Object{}, priv.Global.All(), true)
	})
	v := &env{k: k, e: account.New(k.Manager)}
	s := v.login(t, "root")
	v.must(t, s, "CREATE USER o")
	done := make(chan error, 1)
	go func() {
		_, err := v.exec(s, "CREATE USER slowpoke IDENTIFIED WITH slow_test BY 'slow'")
		done <- err
	}()
	t.Cleanup(func() { close(release) }) // whatever failed, the hash ends
	recv(t, entered, "the hash to start")
	granted := make(chan error, 1)
	go func() {
		_, err := v.exec(s, "GRANT SELECT ON d.* TO o")
		granted <- err
	}()
	// Were the store held during the hash, the GRANT would wait for it.
	if err := recv(t, granted, "the GRANT, while the hash runs"); err != nil {
		t.Fatal(err)
	}
	release <- struct{}{}
	if err := recv(t, done, "the CREATE USER, once its hash is done"); err != nil {
		t.Fatal(err)
	}
}

// recv returns the next value from ch, failing t after 10s: a bug that
// stops a goroutine fails its test instead of hanging the suite.
func recv[T any](t *testing.T, ch <-chan T, what string) T {
	t.Helper()
	select {
	case v := <-ch:
		return v
	case <-time.After(10 * time.Second):
		t.Fatalf("timed out after 10s waiting for %s", what)
		var zero T
		return zero
	}
}

func TestOverlongPasswordsAreRefusedUnhashed(t *testing.T) {
	v := newEnv(t)
	root := v.login(t, "root")
	long := strings.Repeat("x", privilege.MaxPasswordLen+1)
	_, err := v.exec(root, "CREATE USER lp IDENTIFIED BY '"+long+"'")
	wantCode(t, err, mysqlerr.ErNotValidPassword)
	v.must(t, root, "CREATE USER lp IDENTIFIED WITH mysql_native_password BY 'pw'")
	_, err = v.exec(v.login(t, "lp"), "SET PASSWORD = 'new' REPLACE '"+long+"'")
	wantCode(t, err, mysqlerr.ErIncorrectCurrentPassword)
}

func TestVersionCommentsForALaterServerAreComments(t *testing.T) {
	v := newEnv(t)
	root := v.login(t, "root")
	v.must(t, root, "CREATE USER vc1 /*!99999 , vc2 */", "CREATE USER vc3 /*!80000 , vc4 */")
	snap := v.k.Manager.Snapshot()
	for u, want := range map[string]bool{"vc1": true, "vc2": false, "vc3": true, "vc4": true} {
		if _, ok := snap.User(plugintest.Account(u)); ok != want {
			t.Errorf("account %s exists = %v, want %v", u, ok, want)
		}
	}
	if got := account.Redact("CREATE USER u IDENTIFIED BY 'x' /*!99999 'S3cret' */"); strings.Contains(got, "S3cret") {
		t.Errorf("Redact kept a skipped comment: %q", got)
	}
}
