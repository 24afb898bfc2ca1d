package extension

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"strings"
	"sync"

	"github.com/authplug/authplug/authplugin"
	"github.com/authplug/authplug/privilege"
)

// Extensions are the set-up extensions, in name order.
type Extensions struct {
	manifests []*Manifest
	closeOnce sync.Once
}

// Manifests lists the extensions.
func (es *Extensions) Manifests() []*Manifest { return slices.Clone(es.manifests) }

// AuthPlugins lists every extension's auth plugins.
func (es *Extensions) AuthPlugins() []*authplugin.AuthPlugin {
	var out []*authplugin.AuthPlugin
	for _, m := range es.manifests {
		out = append(out, m.authPlugins...)
	}
	return out
}

// DynamicPrivileges lists every extension's dynamic privileges, upper case.
func (es *Extensions) DynamicPrivileges() []string {
	var out []string
	for _, m := range es.manifests {
		for _, n := range m.dynPrivs {
			out = append(out, strings.ToUpper(n))
		}
	}
	return out
}

// ManagerOptions are what a privilege manager needs to know of the
// extensions: every extension's auth plugins (privilege.WithPlugins) and
// dynamic privileges (privilege.WithDynamicPrivileges). A host, or a test
// kit that must not import extension, passes them to privilege.NewManager
// with its own options:
//
//	m, err := privilege.NewManager(store, es.ManagerOptions()...)
//	k := plugintest.NewWithOptions(t, es.ManagerOptions()...)
//
// The slice is new on each call; appending to it is safe.
func (es *Extensions) ManagerOptions() []privilege.Option {
	return []privilege.Option{
		privilege.WithPlugins(es.AuthPlugins()...),
		privilege.WithDynamicPrivileges(es.DynamicPrivileges()...),
	}
}

// NewManager returns a privilege manager over store that knows every
// extension's plugins and dynamic privileges (ManagerOptions), plus what
// opts add.
func (es *Extensions) NewManager(store privilege.Store, opts ...privilege.Option) (*privilege.Manager, error) {
	return privilege.NewManager(store, append(es.ManagerOptions(), opts...)...)
}

// Bootstrap runs every extension's bootstrap hook in name order, stopping at
// the first error.
func (es *Extensions) Bootstrap(ctx context.Context, b BootstrapContext) error {
	for _, m := range es.manifests {
		if m.bootstrap == nil {
			continue
		}
		var err error
		if !guardHook(m.name, "bootstrap", func() { err = m.bootstrap(ctx, b) }) {
			err = errors.New("panicked (stack in the log)")
		}
		if err != nil {
			return fmt.Errorf("extension %q: bootstrap: %w", m.name, err)
		}
	}
	return nil
}

// Close runs the extensions' close hooks, in reverse order, once: a host
// that set them up through a Configuration calls it when it stops.
func (es *Extensions) Close() {
	es.closeOnce.Do(func() {
		for _, m := range slices.Backward(es.manifests) {
			if m.close != nil {
				guardHook(m.name, "close", m.close)
			}
		}
	})
}

// NewSessionExtensions makes the event handlers of one new session.
func (es *Extensions) NewSessionExtensions() *SessionExtensions {
	s := &SessionExtensions{}
	for _, m := range es.manifests {
		if m.sessionHandlerFactory == nil {
			continue
		}
		var h *SessionHandler
		if !guardHook(m.name, "session handler factory", func() { h = m.sessionHandlerFactory() }) {
			s.failed = m.name
			continue
		}
		if h != nil {
			s.handlers = append(s.handlers, namedHandler{m.name, h})
		}
	}
	return s
}
