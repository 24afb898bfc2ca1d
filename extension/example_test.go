package extension_test

import (
	"context"
	"crypto/sha256"
	"crypto/subtle"
	"encoding/hex"
	"errors"
	"fmt"

	"github.com/authplug/authplug/authplugin"
	"github.com/authplug/authplug/extension"
	"github.com/authplug/authplug/privilege"
)

// apiKeyPlugin logs in with an API key whose SHA-256 the account stores:
// CREATE USER ... IDENTIFIED WITH authentication_api_key BY 'key'.
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
			if subtle.ConstantTimeCompare([]byte(hash(string(req.InputAuthString))), []byte(req.StoredAuthString)) != 1 {
				return nil, errors.New("wrong key")
			}
			return nil, nil
		},
		GenerateAuthString: func(key string) (string, bool) { return hash(key), len(key) >= 16 },
		ValidateAuthString: func(s string) bool {
			_, err := hex.DecodeString(s)
			return err == nil && len(s) == 64
		},
	}
}

// An extension registers its plugins by name, as a database/sql driver
// does; the host sets every extension up once and builds its privilege
// manager from them.
func ExampleRegister() {
	defer extension.Reset() // leave the global registry as this example found it

	// In the plugin's package, in init: a program without its extensions
	// must not start.
	err := extension.Register("apikey",
		extension.WithCustomAuthPlugins(apiKeyPlugin()),
		extension.WithCustomDynPrivs("API_KEY_ADMIN"),
	)
	if err != nil {
		panic(err)
	}

	// In the host (servercmd does this for every registered extension).
	es, err := extension.GetExtensions()
	if err != nil {
		panic(err)
	}
	m, err := es.NewManager(privilege.NewMemStore())
	if err != nil {
		panic(err)
	}
	fmt.Println(m.Plugin("authentication_api_key") != nil, m.IsDynamicPrivilege("api_key_admin"))
	// Output: true true
}

// Setup checks every extension against the others and activates all of
// them or none: two extensions cannot claim one plugin name.
func ExampleRegistry_Setup() {
	r := extension.NewRegistry() // a registry of its own, as a test would use
	if err := r.Register("apikey", extension.WithCustomAuthPlugins(apiKeyPlugin())); err != nil {
		panic(err)
	}
	if err := r.Register("other", extension.WithCustomAuthPlugins(apiKeyPlugin())); err != nil {
		panic(err)
	}
	fmt.Println(r.Setup())
	// Output: extension "other": auth plugin "authentication_api_key" is already registered by extension "apikey"
}
