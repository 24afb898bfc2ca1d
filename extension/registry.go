package extension

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"regexp"
	"slices"
	"strings"
	"sync"
	"unicode"

	"github.com/authplug/authplug/authplugin"
	"github.com/authplug/authplug/privilege"
)

// Factory builds an extension's options at Setup time.
type Factory func() ([]Option, error)

// Registry holds registered extensions. Most programs use the package-level
// functions, which share one Registry; tests and embedders that want
// isolation make their own.
type Registry struct {
	mu      sync.Mutex
	entries map[string]entry
	built   *Extensions // non-nil once set up
}

// entry is one registration.
type entry struct {
	declare  DeclareFunc
	commands []Command
}

// NewRegistry returns an empty registry.
func NewRegistry() *Registry { return &Registry{entries: map[string]entry{}} }

// Errors a caller can tell apart.
var (
	ErrAlreadySetup = errors.New("extension: cannot register after setup")
	ErrEmptyName    = errors.New("extension: name cannot be empty")
	ErrDuplicate    = errors.New("extension: duplicate name")
)

// RegisterFactory registers an extension built by f at Setup.
func (r *Registry) RegisterFactory(name string, f Factory) error {
	if f == nil {
		return fmt.Errorf("extension %q: nil factory", name)
	}
	return r.add(name, entry{declare: func(*flag.FlagSet) SetupFunc {
		return func(context.Context, Host) ([]Option, error) { return f() }
	}})
}

// RegisterConfigurable registers an extension that its host configures:
// declare adds the extension's flags before the host parses its command
// line (see DeclareFunc), and cmds are subcommands it adds to that command
// line. declare may be nil for an extension that only adds commands. Hosts
// without a command line (Setup, GetExtensions) build it from its flags'
// defaults.
func (r *Registry) RegisterConfigurable(name string, declare DeclareFunc, cmds ...Command) error {
	for _, c := range cmds {
		if c.Name == "" || strings.HasPrefix(c.Name, "-") || strings.ContainsFunc(c.Name, unicode.IsSpace) {
			return fmt.Errorf("extension %q: invalid command name %q", name, c.Name)
		}
		if c.Declare == nil {
			return fmt.Errorf("extension %q: command %q has no Declare", name, c.Name)
		}
	}
	return r.add(name, entry{declare: declare, commands: slices.Clone(cmds)})
}

func (r *Registry) add(name string, e entry) error {
	if name == "" {
		return ErrEmptyName
	}
	r.mu.Lock()
	defer r.mu.Unlock()
	if r.built != nil {
		return fmt.Errorf("%w: %q", ErrAlreadySetup, name)
	}
	if _, ok := r.entries[name]; ok {
		return fmt.Errorf("%w: %q", ErrDuplicate, name)
	}
	for other, o := range r.entries {
		for _, c := range e.commands {
			if slices.ContainsFunc(o.commands, func(oc Command) bool { return oc.Name == c.Name }) {
				return fmt.Errorf("%w: extension %q: command %q is already registered by extension %q", ErrDuplicate, name, c.Name, other)
			}
		}
	}
	for i, c := range e.commands {
		if slices.ContainsFunc(e.commands[:i], func(oc Command) bool { return oc.Name == c.Name }) {
			return fmt.Errorf("%w: extension %q: command %q is registered twice", ErrDuplicate, name, c.Name)
		}
	}
	r.entries[name] = e
	return nil
}

// Register registers an extension with fixed options.
func (r *Registry) Register(name string, opts ...Option) error {
	return r.RegisterFactory(name, func() ([]Option, error) { return opts, nil })
}

// Setup builds and validates every registered extension, in name order. If
// any fails, those already built are closed in reverse order, nothing is
// activated, and the registry stays as it was: the error can be fixed and
// Setup called again. Setup after a successful Setup does nothing.
func (r *Registry) Setup() error {
	r.mu.Lock()
	defer r.mu.Unlock()
	_, err := r.setupLocked()
	return err
}

func (r *Registry) setupLocked() (*Extensions, error) {
	if r.built != nil {
		return r.built, nil
	}
	// Without a command line, configurable extensions get their defaults.
	fs := flag.NewFlagSet("extensions", flag.ContinueOnError)
	fs.SetOutput(io.Discard)
	c, err := r.configureLocked(fs)
	if err != nil {
		return nil, err
	}
	es, err := c.Setup(context.Background(), Host{})
	if err != nil {
		return nil, err
	}
	r.built = es
	return es, nil
}

// GetExtensions returns the set-up extensions, setting them up on first use.
func (r *Registry) GetExtensions() (*Extensions, error) {
	r.mu.Lock()
	defer r.mu.Unlock()
	return r.setupLocked()
}

// Reset closes the set-up extensions (in reverse order) and forgets every
// registration. It is for tests and for hosts that restart in-process.
func (r *Registry) Reset() {
	r.mu.Lock()
	defer r.mu.Unlock()
	if r.built != nil {
		r.built.Close()
	}
	r.built = nil
	r.entries = map[string]entry{}
}

// validator checks manifests against each other as they are added.
type validator struct {
	plugins map[string]string // plugin name -> extension that registered it
	privs   map[string]string
}

func newValidator() *validator {
	return &validator{plugins: map[string]string{}, privs: map[string]string{}}
}

// MySQL dynamic privilege names: letters, digits and underscores, at most 32.
var dynPrivName = regexp.MustCompile(`^[A-Za-z0-9_]{1,32}$`)

func (v *validator) check(m *Manifest) error {
	fail := func(format string, args ...any) error {
		return fmt.Errorf("extension %q: %s", m.name, fmt.Sprintf(format, args...))
	}
	seen := map[string]bool{}
	for _, p := range m.authPlugins {
		if err := p.Validate(); err != nil {
			return fail("%v", err)
		}
		switch {
		case authplugin.Reserved[p.Name]:
			return fail("auth plugin name %q is reserved for a built-in plugin", p.Name)
		case seen[p.Name]:
			return fail("auth plugin %q is registered twice", p.Name)
		case v.plugins[p.Name] != "":
			return fail("auth plugin %q is already registered by extension %q", p.Name, v.plugins[p.Name])
		}
		seen[p.Name] = true
	}
	privs := map[string]bool{}
	for _, n := range m.dynPrivs {
		u := strings.ToUpper(n)
		switch {
		case !dynPrivName.MatchString(n):
			return fail("invalid dynamic privilege name %q", n)
		case privilege.IsMySQLDynamicPrivilege(u):
			return fail("dynamic privilege %q is one of MySQL's own", u)
		case privs[u]:
			return fail("dynamic privilege %q is registered twice", u)
		case v.privs[u] != "":
			return fail("dynamic privilege %q is already registered by extension %q", u, v.privs[u])
		}
		privs[u] = true
	}
	// Only a manifest that passed every check claims its names.
	for n := range seen {
		v.plugins[n] = m.name
	}
	for n := range privs {
		v.privs[n] = m.name
	}
	return nil
}

var global = NewRegistry()

// Register registers an extension in the global registry.
func Register(name string, opts ...Option) error { return global.Register(name, opts...) }

// RegisterFactory registers an extension in the global registry.
func RegisterFactory(name string, f Factory) error { return global.RegisterFactory(name, f) }

// RegisterConfigurable registers a configurable extension in the global
// registry.
func RegisterConfigurable(name string, declare DeclareFunc, cmds ...Command) error {
	return global.RegisterConfigurable(name, declare, cmds...)
}

// Configure declares the global registry's extensions' flags on fs.
func Configure(fs *flag.FlagSet) (*Configuration, error) { return global.Configure(fs) }

// Commands lists the global registry's extensions' subcommands.
func Commands() []Command { return global.Commands() }

// Setup sets up the global registry.
func Setup() error { return global.Setup() }

// GetExtensions returns the global registry's extensions.
func GetExtensions() (*Extensions, error) { return global.GetExtensions() }

// Reset resets the global registry.
func Reset() { global.Reset() }
