package extension

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"log/slog"
	"maps"
	"os"
	"slices"
	"strings"

	"github.com/prometheus/client_golang/prometheus"
)

// Host is what a host tells the extensions it sets up: where it keeps its
// files, where it logs and where it counts. Extensions read their own settings from their
// flags; Host carries only what belongs to the host.
type Host struct {
	// DataDir is the host's data directory, for files an extension keeps
	// there (keys, caches); "" when the host has none.
	DataDir string
	// Logger is the host's log; nil means slog.Default().
	Logger *slog.Logger
	// Audit receives audit records; nil means standard error.
	Audit io.Writer
	// Metrics is where an extension registers its Prometheus metrics (a
	// key cache's refreshes, say), served beside the host's own (servercmd's
	// --metrics-addr). nil, for a host that serves none, means a registry
	// nobody reads: an extension registers the same way either way, and
	// the Host a SetupFunc is given never has it nil. Name the metrics
	// authplug_<extension>_..., give them labels from a fixed set, never a
	// client's words, and register with Register, not MustRegister: a name
	// already taken is an error to return, not a panic.
	Metrics prometheus.Registerer
}

func (h Host) withDefaults() Host {
	if h.Logger == nil {
		h.Logger = slog.Default()
	}
	if h.Audit == nil {
		h.Audit = os.Stderr
	}
	if h.Metrics == nil {
		h.Metrics = prometheus.NewRegistry()
	}
	return h
}

// SetupFunc builds an extension once its host's command line is parsed.
// ctx bounds the set-up (a key fetch, say), not the extension's life.
type SetupFunc func(ctx context.Context, h Host) ([]Option, error)

// DeclareFunc adds an extension's flags to fs and returns the SetupFunc that
// builds the extension from their parsed values. The host calls it before it
// parses its command line, once for each set-up, so that two set-ups in one
// process (tests, a restart) never share values. Every flag's name starts
// with the extension's name and a dash ("oauth-issuer" for "oauth"), which
// keeps extensions' flags apart from the host's and from each other's.
type DeclareFunc func(fs *flag.FlagSet) SetupFunc

// CommandFunc runs a subcommand once its flags are parsed; h.DataDir is the
// host's --data-dir.
type CommandFunc func(ctx context.Context, h Host, stdout io.Writer) error

// Command is a subcommand an extension adds to its host's command line,
// such as the sample OAuth extension's "token".
type Command struct {
	// Name is the word that selects it; unique over every extension.
	Name string
	// Summary is one line for the host's usage.
	Summary string
	// Declare adds the command's flags to fs and returns what runs it. The
	// host adds its own --data-dir to fs first.
	Declare func(fs *flag.FlagSet) CommandFunc
}

// Configuration is one configuration of every registered extension,
// declared on a host's flag set.
type Configuration struct {
	names  []string
	setups []SetupFunc
}

// Configure adds every registered extension's flags to fs, in name order,
// and returns the configuration that Setup builds once fs is parsed. It is
// for hosts with a command line; the extensions it builds are the caller's
// (the registry's own Setup is unaffected), closed with Extensions.Close.
func (r *Registry) Configure(fs *flag.FlagSet) (*Configuration, error) {
	r.mu.Lock()
	defer r.mu.Unlock()
	return r.configureLocked(fs)
}

func (r *Registry) configureLocked(fs *flag.FlagSet) (*Configuration, error) {
	c := &Configuration{}
	for _, name := range slices.Sorted(maps.Keys(r.entries)) {
		setup, err := declare(name, r.entries[name].declare, fs)
		if err != nil {
			return nil, err
		}
		c.names = append(c.names, name)
		c.setups = append(c.setups, setup)
	}
	return c, nil
}

// declare runs d on a flag set of its own first, so that a name outside the
// extension's prefix, or one the host already has, is an error rather than
// flag's panic.
func declare(name string, d DeclareFunc, fs *flag.FlagSet) (setup SetupFunc, err error) {
	if d == nil {
		return func(context.Context, Host) ([]Option, error) { return nil, nil }, nil
	}
	own := flag.NewFlagSet(name, flag.ContinueOnError)
	own.SetOutput(io.Discard)
	func() {
		defer func() {
			if p := recover(); p != nil {
				err = fmt.Errorf("extension %q: declaring flags panicked: %v", name, p)
			}
		}()
		setup = d(own)
	}()
	if err != nil {
		return nil, err
	}
	if setup == nil {
		return nil, fmt.Errorf("extension %q: its flags' declaration returned no set-up", name)
	}
	var errs []error
	own.VisitAll(func(f *flag.Flag) {
		switch {
		case !strings.HasPrefix(f.Name, name+"-"):
			errs = append(errs, fmt.Errorf("extension %q: flag --%s must be named --%s-...", name, f.Name, name))
		case fs.Lookup(f.Name) != nil:
			errs = append(errs, fmt.Errorf("extension %q: flag --%s is already defined", name, f.Name))
		}
	})
	if err := errors.Join(errs...); err != nil {
		return nil, err
	}
	own.VisitAll(func(f *flag.Flag) { fs.Var(f.Value, f.Name, f.Usage) })
	return setup, nil
}

// Setup builds and validates every extension from the parsed flags, in name
// order, activating all or none: if one fails, those already built are
// closed in reverse order.
func (c *Configuration) Setup(ctx context.Context, h Host) (*Extensions, error) {
	h = h.withDefaults()
	es := &Extensions{}
	v := newValidator()
	for i, name := range c.names {
		m, err := build(ctx, name, c.setups[i], h)
		if err == nil {
			err = v.check(m)
		}
		if err != nil {
			es.Close()
			return nil, err
		}
		es.manifests = append(es.manifests, m)
	}
	return es, nil
}

func build(ctx context.Context, name string, setup SetupFunc, h Host) (m *Manifest, err error) {
	defer func() {
		if p := recover(); p != nil {
			err = fmt.Errorf("extension %q: factory panicked: %v", name, p)
		}
	}()
	opts, err := setup(ctx, h)
	if err != nil {
		return nil, fmt.Errorf("extension %q: %w", name, err)
	}
	m = &Manifest{name: name}
	for _, o := range opts {
		if o != nil {
			o(m)
		}
	}
	return m, nil
}

// Commands lists every extension's subcommands, in name order.
func (r *Registry) Commands() []Command {
	r.mu.Lock()
	defer r.mu.Unlock()
	var out []Command
	for _, e := range r.entries {
		out = append(out, e.commands...)
	}
	slices.SortFunc(out, func(a, b Command) int { return strings.Compare(a.Name, b.Name) })
	return out
}
