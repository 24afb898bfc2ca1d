package plugintest_test

import (
	"context"
	"crypto/sha256"
	"crypto/subtle"
	"encoding/hex"
	"errors"
	"fmt"
	"strings"
	"testing"

	"github.com/authplug/authplug/authplugin"
	"github.com/authplug/authplug/plugintest"
	"github.com/authplug/authplug/priv"
	"github.com/authplug/authplug/privilege"
)

// scopedKey is the session state of an API key login: the one database the
// key may use.
type scopedKey struct{ db string }

// apiKeyPlugin is the plugin under test. Its keys read "db:secret"; the
// account stores the SHA-256 of the whole key (IDENTIFIED WITH
// authentication_api_key BY 'sales:...'), so the database cannot be
// changed, and a session may use that database only.
func apiKeyPlugin() *authplugin.AuthPlugin {
	hash := func(key string) string {
		s := sha256.Sum256([]byte(key))
		return hex.EncodeToString(s[:])
	}
	return &authplugin.AuthPlugin{
		Name:                     "authentication_api_key",
		RequiredClientSidePlugin: authplugin.ClearPasswordName, // the key is the password
		AuthenticateUser: func(ctx context.Context, req authplugin.AuthenticateRequest) (any, error) {
			if !req.SecureTransport {
				return nil, authplugin.ErrInsecureTransport
			}
			key := string(req.InputAuthString)
			if subtle.ConstantTimeCompare([]byte(hash(key)), []byte(req.StoredAuthString)) != 1 {
				return nil, errors.New("wrong key")
			}
			db, _, _ := strings.Cut(key, ":")
			return scopedKey{db: strings.ToLower(db)}, nil
		},
		GenerateAuthString: func(key string) (string, bool) {
			db, secret, ok := strings.Cut(key, ":")
			return hash(key), ok && db != "" && len(secret) >= 16
		},
		ValidateAuthString: func(s string) bool {
			_, err := hex.DecodeString(s)
			return err == nil && len(s) == 64
		},
		VerifyPrivilege: func(req authplugin.AuthorizeRequest) bool {
			k, ok := req.SessionState.(scopedKey)
			return ok && req.DB == k.db
		},
	}
}

// exampleT stands in for the *testing.T of a real test, which an Example
// does not get: it keeps the little of testing.TB the kit uses (Helper, Log
// for the manager's log, Fatalf) and panics on a fatal error. In a test,
// pass the test's t.
type exampleT struct{ testing.TB }

func (exampleT) Helper()                           {}
func (exampleT) Log(...any)                        {}
func (exampleT) Fatalf(format string, args ...any) { panic(fmt.Sprintf(format, args...)) }

// A plugin's unit test: the plugin in a manager over an in-memory store,
// an account made for it, and logins as a client would make them, with no
// server. In a test, t is the test's *testing.T and the prints are
// assertions.
func Example() {
	t := exampleT{}

	k := plugintest.New(t, apiKeyPlugin())
	k.Must(func(tx *privilege.Tx) error {
		bot := plugintest.Account("bot")
		return errors.Join(
			tx.CreateUser(bot, privilege.IdentifiedBy("authentication_api_key", "sales:0123456789abcdef")),
			tx.Grant(bot, privilege.Object{DB: "sales"}, priv.Select, false),
			tx.Grant(bot, privilege.Object{DB: "hr"}, priv.Select, false),
		)
	})

	s, err := k.Login("bot", plugintest.Password("sales:0123456789abcdef"), plugintest.OverTLS())
	fmt.Println(err)
	fmt.Println(s.RequestVerification("sales", "orders", "", priv.Select))
	fmt.Println(s.RequestVerification("hr", "salaries", "", priv.Select)) // granted, but not the key's database

	// Without TLS the key is never asked for: the same 1045 as a wrong key.
	_, err = k.Login("bot", plugintest.Password("sales:0123456789abcdef"))
	fmt.Println(err)
	_, err = k.Login("bot", plugintest.Password("hr:0123456789abcdef"), plugintest.OverTLS())
	fmt.Println(err)
	fmt.Println(strings.Contains(k.Logs(), "wrong key")) // the reason is in the log only
	// Output:
	// <nil>
	// <nil>
	// Error 1142 (42000): SELECT command denied to user 'bot'@'localhost' for table 'salaries'
	// Error 1045 (28000): Access denied for user 'bot'@'localhost' (using password: YES)
	// Error 1045 (28000): Access denied for user 'bot'@'localhost' (using password: YES)
	// true
}
