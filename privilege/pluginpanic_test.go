package privilege_test

import (
	"bytes"
	"context"
	"errors"
	"log/slog"
	"net"
	"strings"
	"sync"
	"testing"

	"github.com/authplug/authplug/authplugin"
	"github.com/authplug/authplug/mysqlerr"
	"github.com/authplug/authplug/priv"
	"github.com/authplug/authplug/privilege"
)

// A plugin's panic, in any of its hooks, is the failure of that one request
// (1105 with a neutral text; 1045 for a login), logged once with the
// plugin's name and the stack; the session goes on.

// panicky is a session state whose optional interfaces panic on demand.
type panicky struct{ validate, gate, roles bool }

func (p *panicky) ValidateSession() error {
	if p.validate {
		panic("validate boom")
	}
	return nil
}

func (p *panicky) AllowSelfChange(authplugin.SelfChange) error {
	if p.gate {
		panic("gate boom")
	}
	return nil
}

func (p *panicky) ActivateRoles(_, defaults []priv.Account) []priv.Account {
	if p.roles {
		panic("roles boom")
	}
	return defaults
}

// syncBuffer is a log destination safe for concurrent writes.
type syncBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (s *syncBuffer) Write(p []byte) (int, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.Write(p)
}

func (s *syncBuffer) take() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	out := s.b.String()
	s.b.Reset()
	return out
}

// boomPlugin panics where its inputs say: a login whose response is "panic",
// a password starting "panic", an AS string "panic", the table "boom", the
// dynamic privilege BOOM_ADMIN, any VerifyPassword. Other responses choose
// the session state's behaviour.
func boomPlugin() *authplugin.AuthPlugin {
	return &authplugin.AuthPlugin{
		Name:                     "boom",
		RequiredClientSidePlugin: authplugin.ClearPasswordName,
		AuthenticateUser: func(_ context.Context, req authplugin.AuthenticateRequest) (any, error) {
			switch in := string(req.InputAuthString); in {
			case "panic-secret-token":
				panic("authenticate boom: " + in)
			case "wrong":
				return nil, errors.New("wrong token")
			default:
				return &panicky{validate: in == "validate", gate: in == "gate", roles: in == "roles"}, nil
			}
		},
		GenerateAuthString: func(password string) (string, bool) {
			if strings.HasPrefix(password, "panic") {
				panic("generate boom: " + password)
			}
			return "x", !strings.HasPrefix(password, "weak")
		},
		ExplainPassword: func(string) error { panic("explain boom") },
		ValidateAuthString: func(s string) bool {
			if s == "panic" {
				panic("validate auth string boom")
			}
			return s != "bad"
		},
		ExplainAuthString: func(string) error { panic("explain auth string boom") },
		VerifyPassword:    func(_, password string) bool { panic("verify password boom: " + password) },
		VerifyPrivilege: func(req authplugin.AuthorizeRequest) bool {
			if req.Table == "boom" {
				panic("verify boom")
			}
			return true
		},
		VerifyDynamicPrivilege: func(req authplugin.AuthorizeRequest) bool {
			if req.PrivName == "BOOM_ADMIN" {
				panic("verify dynamic boom")
			}
			return true
		},
	}
}

var boomAccount = priv.Account{User: "alice", Host: "%"}

func boomManager(t *testing.T) (*privilege.Manager, *syncBuffer) {
	t.Helper()
	logs := &syncBuffer{}
	m, err := privilege.NewManager(privilege.NewMemStore(),
		privilege.WithPlugins(boomPlugin()), privilege.WithDynamicPrivileges("BOOM_ADMIN", "CALM_ADMIN"),
		privilege.WithLogger(slog.New(slog.NewTextHandler(logs, nil))))
	if err != nil {
		t.Fatal(err)
	}
	err = m.Update(func(tx *privilege.Tx) error {
		if err := tx.CreateUser(boomAccount, privilege.IdentifiedAs("boom", "x")); err != nil {
			return err
		}
		if err := tx.Grant(boomAccount, privilege.Object{DB: "db"}, priv.Select, false); err != nil {
			return err
		}
		for _, d := range []string{"BOOM_ADMIN", "CALM_ADMIN"} {
			if err := tx.GrantDynamic(boomAccount, d, false); err != nil {
				return err
			}
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	logs.take()
	return m, logs
}

func boomLogin(m *privilege.Manager, response string) (*privilege.Session, error) {
	return m.ConnectionVerification(context.Background(), privilege.LoginRequest{
		User: boomAccount.User, RemoteAddr: &net.UnixAddr{Name: "/tmp/mysql.sock", Net: "unix"},
		AuthData: []byte(response),
	})
}

func boomSession(t *testing.T, m *privilege.Manager, response string) *privilege.Session {
	t.Helper()
	s, err := boomLogin(m, response)
	if err != nil {
		t.Fatal(err)
	}
	return s
}

// wantPluginFailed checks that err is the neutral 1105, and that logs hold
// exactly one panic record of hook, with a stack and without leak.
func wantPluginFailed(t *testing.T, err error, logs *syncBuffer, hook string, leak ...string) {
	t.Helper()
	if mysqlerr.Code(err) != mysqlerr.ErUnknownError {
		t.Fatalf("error %v, want 1105", err)
	}
	var me *mysqlerr.Error
	if !errors.As(err, &me) || me.Message != mysqlerr.PluginFailed().Message {
		t.Errorf("client text %q, want %q", err, mysqlerr.PluginFailed().Message)
	}
	if strings.Contains(err.Error(), "boom") {
		t.Errorf("error %q repeats the panic", err)
	}
	wantPanicLogged(t, logs, hook, leak...)
}

func wantPanicLogged(t *testing.T, logs *syncBuffer, hook string, leak ...string) {
	t.Helper()
	out := logs.take()
	if n := strings.Count(out, `msg="auth plugin panicked"`); n != 1 {
		t.Fatalf("%d panic records, want 1:\n%s", n, out)
	}
	for _, want := range []string{"plugin=boom", "hook=" + hook, "stack=", "pluginpanic_test.go"} {
		if !strings.Contains(out, want) {
			t.Errorf("log lacks %q:\n%s", want, out)
		}
	}
	for _, l := range leak {
		if l != "" && strings.Contains(out, l) {
			t.Errorf("log holds the secret %q:\n%s", l, out)
		}
	}
}

func TestPluginPanicAuthenticateUserIsA1045(t *testing.T) {
	m, logs := boomManager(t)
	_, wrong := boomLogin(m, "wrong")
	logs.take()
	_, err := boomLogin(m, "panic-secret-token")
	if mysqlerr.Code(err) != mysqlerr.ErAccessDenied {
		t.Fatalf("login error %v, want 1045", err)
	}
	if err.Error() != wrong.Error() {
		t.Errorf("panicking login says %q, a wrong token %q: an oracle", err, wrong)
	}
	wantPanicLogged(t, logs, "AuthenticateUser", "panic-secret-token")
	boomSession(t, m, "ok") // the plugin still serves the next login
}

func TestPluginPanicActivateRolesRefusesTheLogin(t *testing.T) {
	m, logs := boomManager(t)
	_, err := boomLogin(m, "roles")
	if mysqlerr.Code(err) != mysqlerr.ErAccessDenied {
		t.Fatalf("login error %v, want 1045", err)
	}
	wantPanicLogged(t, logs, "ActivateRoles")
}

func TestPluginPanicVerifyPrivilegeDeniesTheRequest(t *testing.T) {
	m, logs := boomManager(t)
	s := boomSession(t, m, "ok")
	wantPluginFailed(t, s.RequestVerification("db", "boom", "", priv.Select), logs, "VerifyPrivilege")
	if err := s.RequestVerification("db", "calm", "", priv.Select); err != nil {
		t.Fatalf("the next request: %v", err)
	}
	// Not granted: the stored grants refuse before the plugin is asked.
	if err := s.RequestVerification("other", "boom", "", priv.Select); mysqlerr.Code(err) != mysqlerr.ErTableAccessDenied {
		t.Errorf("ungranted request: %v, want 1142", err)
	}
}

func TestPluginPanicVerifyDynamicPrivilegeDeniesTheRequest(t *testing.T) {
	m, logs := boomManager(t)
	s := boomSession(t, m, "ok")
	wantPluginFailed(t, s.RequestDynamicVerification("boom_admin", false), logs, "VerifyDynamicPrivilege")
	if err := s.RequestDynamicVerification("CALM_ADMIN", false); err != nil {
		t.Fatalf("the next request: %v", err)
	}
}

func TestPluginPanicValidateSessionDeniesEachRequest(t *testing.T) {
	m, logs := boomManager(t)
	s := boomSession(t, m, "validate")
	wantPluginFailed(t, s.Validate(), logs, "ValidateSession")
	wantPluginFailed(t, s.RequestVerification("db", "t", "", priv.Select), logs, "ValidateSession")
	wantPluginFailed(t, s.RequestDynamicVerification("CALM_ADMIN", false), logs, "ValidateSession")
}

func TestPluginPanicSelfServiceGateRefuses(t *testing.T) {
	m, logs := boomManager(t)
	s := boomSession(t, m, "gate")
	wantPluginFailed(t, s.RequestSelfChange(authplugin.SelfPassword), logs, "AllowSelfChange")
	if err := s.RequestVerification("db", "t", "", priv.Select); err != nil {
		t.Fatalf("the next request: %v", err)
	}
}

func TestPluginPanicCredentialHooks(t *testing.T) {
	for _, c := range []struct {
		name, hook string
		cred       privilege.Credential
		secret     string
	}{
		{"GenerateAuthString", "GenerateAuthString", privilege.IdentifiedBy("boom", "panic-secret-pw"), "panic-secret-pw"},
		{"ExplainPassword", "ExplainPassword", privilege.IdentifiedBy("boom", "weak-secret-pw"), "weak-secret-pw"},
		{"ValidateAuthString", "ValidateAuthString", privilege.IdentifiedAs("boom", "panic"), ""},
		{"ExplainAuthString", "ExplainAuthString", privilege.IdentifiedAs("boom", "bad"), ""},
	} {
		t.Run(c.name+"/Update", func(t *testing.T) {
			m, logs := boomManager(t)
			err := m.Update(func(tx *privilege.Tx) error { return tx.SetCredential(boomAccount, c.cred) })
			wantPluginFailed(t, err, logs, c.hook, c.secret)
		})
		t.Run(c.name+"/Prepare", func(t *testing.T) {
			m, logs := boomManager(t)
			_, err := m.Prepare(c.cred)
			wantPluginFailed(t, err, logs, c.hook, c.secret)
		})
	}
}

func TestPluginPanicVerifyPassword(t *testing.T) {
	m, logs := boomManager(t)
	err := m.Update(func(tx *privilege.Tx) error { return tx.CheckCurrentPassword(boomAccount, "current-secret") })
	wantPluginFailed(t, err, logs, "VerifyPassword", "current-secret")
}

// A plugin whose GenerateAuthString panics on the decoy password does not
// stop the manager: it gets no decoy, and the panic is logged.
func TestPluginPanicDecoyDoesNotStopTheManager(t *testing.T) {
	p := boomPlugin()
	p.Name = "boomdecoy"
	p.GenerateAuthString = func(string) (string, bool) { panic("decoy boom") }
	logs := &syncBuffer{}
	if _, err := privilege.NewManager(privilege.NewMemStore(), privilege.WithPlugins(p),
		privilege.WithLogger(slog.New(slog.NewTextHandler(logs, nil)))); err != nil {
		t.Fatal(err)
	}
	out := logs.take()
	if !strings.Contains(out, `msg="auth plugin panicked"`) || !strings.Contains(out, "plugin=boomdecoy") {
		t.Errorf("decoy panic not logged:\n%s", out)
	}
}
