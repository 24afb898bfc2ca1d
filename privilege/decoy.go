package privilege

import (
	"context"
	"crypto/rand"
	"crypto/rsa"
	"encoding/base64"
	"fmt"

	"github.com/authplug/authplug/authplugin"
)

// WithRSAKey gives the built-in caching_sha2_password and sha256_password
// plugins the server's RSA key pair, so that they take passwords over
// connections without TLS (authplugin.WithRSAKey).
func WithRSAKey(k *rsa.PrivateKey) Option {
	return func(m *Manager) error { m.rsaKey = k; return nil }
}

// builtins are the password plugins every Manager has.
func (m *Manager) builtins() []*authplugin.AuthPlugin {
	return []*authplugin.AuthPlugin{
		authplugin.NativePassword(),
		authplugin.CachingSHA2Password(authplugin.WithRSAKey(m.rsaKey)),
		authplugin.SHA256Password(authplugin.WithRSAKey(m.rsaKey)),
	}
}

// makeDecoys stores, for each plugin that keeps a password hash
// (VerifyPassword set), the hash of a random password nobody knows. A
// login refused before its plugin (no such account, locked, plugin not
// loaded, ...) is run against it, so that it goes through the same
// exchange, and costs the same, as a wrong password for an account whose
// caching_sha2_password cache is empty, and fails at the same step.
func (m *Manager) makeDecoys() error {
	m.decoys = map[string]string{}
	for name, p := range m.plugins {
		if p.VerifyPassword == nil {
			continue
		}
		b := make([]byte, 24)
		if _, err := rand.Read(b); err != nil {
			return fmt.Errorf("decoy password: %w", err)
		}
		// A plugin that panics here gets no decoy (logged): a login
		// refused before it is then refused at once.
		g, err := callPlugin(m.log, "GenerateAuthString", name, func() decoyHash {
			s, ok := p.GenerateAuthString(base64.RawStdEncoding.EncodeToString(b))
			return decoyHash{s, ok}
		})
		if err == nil && g.ok && g.s != "" {
			m.decoys[name] = g.s
		}
	}
	return nil
}

// decoyPlugin is the plugin whose exchange a refused login goes through:
// one whose client side is what the client answered for, the default
// plugin first, when it has a decoy.
func (m *Manager) decoyPlugin(clientPlugin string) (*authplugin.AuthPlugin, string) {
	for _, name := range []string{m.defaultPlugin, clientPlugin} {
		if p := m.plugins[name]; p != nil && p.ClientPlugin() == clientPlugin && m.decoys[name] != "" {
			return p, m.decoys[name]
		}
	}
	return nil, ""
}

// answeredFor is the client plugin the login's response was made for: the
// one the host says, else the account's (the handshake offered it), else
// the default plugin's (ClientPluginFor offers it to unknown users).
func (m *Manager) answeredFor(req LoginRequest, e *entry) string {
	if req.ClientPlugin != "" {
		return req.ClientPlugin
	}
	if e != nil {
		if p := m.plugins[e.user.Plugin]; p != nil {
			return p.ClientPlugin()
		}
	}
	return m.plugins[m.defaultPlugin].ClientPlugin()
}

// decoy runs a refused login through its decoy, when there is one: the
// client sees the same packets in the same order as for a wrong password,
// and then the same 1045. The outcome is ignored; the login is refused
// whatever happens.
func (m *Manager) decoy(ctx context.Context, req LoginRequest, clientPlugin string, secure bool) {
	p, stored := m.decoyPlugin(clientPlugin)
	if p == nil || len(req.AuthData) > p.AuthDataLimit() {
		return
	}
	_, _ = m.authenticate(ctx, p, req.pluginRequest("%", stored, secure))
}

// decoyHash is what GenerateAuthString returned for a decoy.
type decoyHash struct {
	s  string
	ok bool
}
