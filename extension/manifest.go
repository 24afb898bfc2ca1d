// Package extension is the registry through which code compiled into the
// server adds to it: auth plugins, dynamic privileges, session and statement
// event handlers, bootstrap and close hooks. An extension registers in init,
// the way database/sql drivers do; the server calls Setup (or
// GetExtensions) once, which validates every extension and activates all of
// them or none.
//
// An extension that needs configuration registers with
// RegisterConfigurable: it declares its own flags (and subcommands), a host
// with a command line (servercmd) adds them to its own with Configure, and
// the extension is built from their parsed values by Configuration.Setup.
// The builder who imports it writes no code for it.
package extension

import (
	"context"

	"github.com/authplug/authplug/authplugin"
	"github.com/authplug/authplug/privilege"
)

// Option adds something to an extension. Options only record; Setup checks.
type Option func(*Manifest)

// WithCustomAuthPlugins adds auth plugins.
func WithCustomAuthPlugins(plugins ...*authplugin.AuthPlugin) Option {
	return func(m *Manifest) { m.authPlugins = append(m.authPlugins, plugins...) }
}

// WithCustomDynPrivs adds dynamic privileges (names as in GRANT).
func WithCustomDynPrivs(names ...string) Option {
	return func(m *Manifest) { m.dynPrivs = append(m.dynPrivs, names...) }
}

// WithSessionHandlerFactory has factory called for each new session; the
// handler it returns receives that session's events. It may return nil.
func WithSessionHandlerFactory(factory func() *SessionHandler) Option {
	return func(m *Manifest) { m.sessionHandlerFactory = factory }
}

// WithBootstrap runs fn when the host bootstraps, after Setup, with access
// to the privilege manager (to create accounts, say) and, where the host has
// one, a SQL executor.
func WithBootstrap(fn func(ctx context.Context, b BootstrapContext) error) Option {
	return func(m *Manifest) { m.bootstrap = fn }
}

// WithClose runs fn when the extensions are torn down (Reset, or
// Extensions.Close), or when a failed Setup unwinds an extension it had
// already set up.
func WithClose(fn func()) Option {
	return func(m *Manifest) { m.close = fn }
}

// BootstrapContext is what a bootstrap hook can use.
type BootstrapContext struct {
	Privileges *privilege.Manager
	// ExecuteSQL runs one statement as the server's bootstrap user; nil when
	// the host has no SQL engine.
	ExecuteSQL func(ctx context.Context, sql string) error
}

// Manifest is one set-up extension.
type Manifest struct {
	name                  string
	authPlugins           []*authplugin.AuthPlugin
	dynPrivs              []string
	sessionHandlerFactory func() *SessionHandler
	bootstrap             func(context.Context, BootstrapContext) error
	close                 func()
}

// Name is the extension's name.
func (m *Manifest) Name() string { return m.name }

// AuthPlugins are the extension's auth plugins.
func (m *Manifest) AuthPlugins() []*authplugin.AuthPlugin { return m.authPlugins }

// DynamicPrivileges are the extension's dynamic privileges.
func (m *Manifest) DynamicPrivileges() []string { return m.dynPrivs }
