package authplugin_test

import (
	"context"
	"crypto/tls"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"time"

	"github.com/authplug/authplug/authplugin"
	"github.com/authplug/authplug/mysqlerr"
	"github.com/authplug/authplug/priv"
	"github.com/authplug/authplug/privilege"
)

// claims is what one of this example's tokens says. A real plugin verifies
// a signed token (examples/oauth does, for JWTs); here the identity
// provider is a map of the tokens it issued.
type claims struct {
	Issuer  string
	Subject string
	DB      string // the one database the token may use, lower case
	Expires time.Time
}

// tokenSession is the state a token login leaves with its session. It is
// never changed after AuthenticateUser returns it, so the concurrent checks
// of the session can read it without a lock.
type tokenSession struct {
	claims
	now func() time.Time
}

// ValidateSession makes the session lapse when its token expires
// (authplugin.SessionValidator): from then on every statement fails with
// this error, which the client sees.
func (s *tokenSession) ValidateSession() error {
	if s.now().Before(s.Expires) {
		return nil
	}
	return mysqlerr.New(mysqlerr.ErAccessDenied, "28000",
		"Access denied for user '%s': the token expired; reconnect with a new one", s.Subject)
}

var _ authplugin.SessionValidator = (*tokenSession)(nil)

// tokenPlugin logs in with a token from issued, over TLS, for accounts
// bound to the token's issuer: CREATE USER ... IDENTIFIED WITH
// authentication_example_token AS 'issuer'. A session may use the token's
// database only, whatever its grants allow elsewhere.
func tokenPlugin(issued map[string]claims, now func() time.Time) *authplugin.AuthPlugin {
	return &authplugin.AuthPlugin{
		Name:                     "authentication_example_token",
		RequiredClientSidePlugin: authplugin.ClearPasswordName, // the token is the password
		AuthenticateUser: func(ctx context.Context, req authplugin.AuthenticateRequest) (any, error) {
			if !req.SecureTransport {
				return nil, authplugin.ErrInsecureTransport
			}
			// The errors are logged; the client gets 1045 whatever they say,
			// and they never repeat the token.
			c, ok := issued[string(req.InputAuthString)]
			switch {
			case !ok:
				return nil, errors.New("unknown token")
			case c.Issuer != req.StoredAuthString:
				return nil, fmt.Errorf("token from %q, the account trusts %q", c.Issuer, req.StoredAuthString)
			case c.Subject != req.User:
				return nil, fmt.Errorf("token for %q", c.Subject)
			case !now().Before(c.Expires):
				return nil, errors.New("token expired")
			}
			return &tokenSession{claims: c, now: now}, nil
		},
		GenerateAuthString: func(string) (string, bool) { return "", false }, // no passwords
		ValidateAuthString: func(issuer string) bool { return issuer != "" },
		VerifyPrivilege: func(req authplugin.AuthorizeRequest) bool {
			s, ok := req.SessionState.(*tokenSession)
			return ok && req.DB == s.DB // req.DB arrives lower-cased
		},
		VerifyDynamicPrivilege: func(authplugin.AuthorizeRequest) bool { return false },
	}
}

// A token plugin whose session state lapses with the token: the stored
// grants AND the token decide each check, until the token expires.
func Example() {
	now := time.Date(2030, 1, 1, 12, 0, 0, 0, time.UTC)
	clock := func() time.Time { return now }
	issued := map[string]claims{
		"tok-1": {Issuer: "example-idp", Subject: "alice", DB: "sales", Expires: now.Add(time.Hour)},
	}
	m, err := privilege.NewManager(privilege.NewMemStore(),
		privilege.WithPlugins(tokenPlugin(issued, clock)),
		privilege.WithLogger(slog.New(slog.DiscardHandler)))
	if err != nil {
		panic(err)
	}
	alice := priv.Account{User: "alice", Host: "%"}
	err = m.Update(func(tx *privilege.Tx) error {
		return errors.Join(
			tx.CreateUser(alice, privilege.IdentifiedAs("authentication_example_token", "example-idp")),
			tx.Grant(alice, privilege.Object{DB: "sales"}, priv.Select, false),
			tx.Grant(alice, privilege.Object{DB: "hr"}, priv.Select, false),
		)
	})
	if err != nil {
		panic(err)
	}
	login := privilege.LoginRequest{
		User:       "alice",
		RemoteAddr: &net.TCPAddr{IP: net.IPv4(192, 0, 2, 7), Port: 50000},
		ConnState:  &tls.ConnectionState{HandshakeComplete: true},
		AuthData:   []byte("tok-1"),
	}
	s, err := m.ConnectionVerification(context.Background(), login)
	if err != nil {
		panic(err)
	}
	fmt.Println(s.RequestVerification("Sales", "orders", "", priv.Select)) // granted, and the token's database
	fmt.Println(s.RequestVerification("hr", "salaries", "", priv.Select))  // granted, but not the token's
	fmt.Println(s.RequestVerification("sales", "orders", "", priv.Insert)) // the token's, but not granted

	now = now.Add(2 * time.Hour)
	fmt.Println(s.RequestVerification("sales", "orders", "", priv.Select))
	_, err = m.ConnectionVerification(context.Background(), login)
	fmt.Println(err)
	// Output:
	// <nil>
	// Error 1142 (42000): SELECT command denied to user 'alice'@'192.0.2.7' for table 'salaries'
	// Error 1142 (42000): INSERT command denied to user 'alice'@'192.0.2.7' for table 'orders'
	// Error 1045 (28000): Access denied for user 'alice': the token expired; reconnect with a new one
	// Error 1045 (28000): Access denied for user 'alice'@'192.0.2.7' (using password: YES)
}
