package extension_test

import (
	"context"
	"flag"
	"io"
	"testing"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/authplug/authplug/extension"
)

// issuerExtension declares --tok-issuer; its set-up records what it got.
type issuerExtension struct {
	issuers []string
	hosts   []extension.Host
}

func (e *issuerExtension) declare(fs *flag.FlagSet) extension.SetupFunc {
	issuer := fs.String("tok-issuer", "default-issuer", "the issuer")
	return func(_ context.Context, h extension.Host) ([]extension.Option, error) {
		e.issuers = append(e.issuers, *issuer)
		e.hosts = append(e.hosts, h)
		return []extension.Option{extension.WithCustomAuthPlugins(plugin("tok_" + *issuer))}, nil
	}
}

func TestConfigureDeclaresFlagsAndSetsUpFromTheirValues(t *testing.T) {
	r := extension.NewRegistry()
	e := &issuerExtension{}
	require.NoError(t, r.RegisterConfigurable("tok", e.declare))
	require.NoError(t, r.Register("plain", extension.WithCustomDynPrivs("plain_admin")))

	// Two configurations in one process never share values.
	fs1, fs2 := flag.NewFlagSet("a", flag.ContinueOnError), flag.NewFlagSet("b", flag.ContinueOnError)
	c1, err := r.Configure(fs1)
	require.NoError(t, err)
	c2, err := r.Configure(fs2)
	require.NoError(t, err)
	require.NotNil(t, fs1.Lookup("tok-issuer"))
	assert.Equal(t, "default-issuer", fs1.Lookup("tok-issuer").DefValue)
	require.NoError(t, fs1.Parse([]string{"--tok-issuer", "one"}))
	require.NoError(t, fs2.Parse([]string{"--tok-issuer", "two"}))

	es1, err := c1.Setup(t.Context(), extension.Host{DataDir: "/data"})
	require.NoError(t, err)
	defer es1.Close()
	es2, err := c2.Setup(t.Context(), extension.Host{})
	require.NoError(t, err)
	defer es2.Close()

	assert.Equal(t, []string{"one", "two"}, e.issuers)
	assert.Equal(t, "/data", e.hosts[0].DataDir)
	assert.NotNil(t, e.hosts[1].Logger, "a nil Logger is the default one")
	assert.NotNil(t, e.hosts[1].Audit, "a nil Audit is standard error")
	assert.Equal(t, "tok_one", es1.AuthPlugins()[0].Name)
	assert.Equal(t, []string{"PLAIN_ADMIN"}, es1.DynamicPrivileges(), "plain registrations are set up too")

	_, err = r.GetExtensions()
	require.NoError(t, err)
	assert.Equal(t, "default-issuer", e.issuers[2], "without a command line, the flags' defaults")
}

func TestConfigureRefusesFlagsOutsideTheExtensionsName(t *testing.T) {
	for name, declare := range map[string]extension.DeclareFunc{
		"no prefix": func(fs *flag.FlagSet) extension.SetupFunc {
			fs.String("issuer", "", "")
			return func(context.Context, extension.Host) ([]extension.Option, error) { return nil, nil }
		},
		"the host's flag": func(fs *flag.FlagSet) extension.SetupFunc {
			fs.String("tok-addr", "", "")
			return func(context.Context, extension.Host) ([]extension.Option, error) { return nil, nil }
		},
		"panics":    func(fs *flag.FlagSet) extension.SetupFunc { panic("bad") },
		"no set-up": func(fs *flag.FlagSet) extension.SetupFunc { return nil },
	} {
		t.Run(name, func(t *testing.T) {
			r := extension.NewRegistry()
			require.NoError(t, r.RegisterConfigurable("tok", declare))
			fs := flag.NewFlagSet("host", flag.ContinueOnError)
			fs.SetOutput(io.Discard)
			fs.String("tok-addr", "", "the host's own")
			_, err := r.Configure(fs)
			assert.ErrorContains(t, err, `extension "tok"`)
			if name != "the host's flag" {
				assert.Error(t, r.Setup(), "Setup configures the same way")
			}
		})
	}
}

func TestCommandsAreRegisteredOnceAndListedInOrder(t *testing.T) {
	cmd := func(name string) extension.Command {
		return extension.Command{Name: name, Declare: func(*flag.FlagSet) extension.CommandFunc { return nil }}
	}
	r := extension.NewRegistry()
	require.NoError(t, r.RegisterConfigurable("b", nil, cmd("zeta"), cmd("alpha")))
	assert.ErrorIs(t, r.RegisterConfigurable("c", nil, cmd("alpha")), extension.ErrDuplicate)
	assert.ErrorIs(t, r.RegisterConfigurable("d", nil, cmd("x"), cmd("x")), extension.ErrDuplicate)
	assert.ErrorContains(t, r.RegisterConfigurable("e", nil, cmd("-x")), "invalid command name")
	assert.ErrorContains(t, r.RegisterConfigurable("e", nil, cmd("two words")), "invalid command name")
	assert.ErrorContains(t, r.RegisterConfigurable("e", nil, extension.Command{Name: "x"}), "no Declare")

	var names []string
	for _, c := range r.Commands() {
		names = append(names, c.Name)
	}
	assert.Equal(t, []string{"alpha", "zeta"}, names)
}

func TestConfiguredExtensionsAreTheCallersToClose(t *testing.T) {
	r := extension.NewRegistry()
	closed := 0
	require.NoError(t, r.Register("a", extension.WithClose(func() { closed++ })))
	c, err := r.Configure(flag.NewFlagSet("host", flag.ContinueOnError))
	require.NoError(t, err)
	es, err := c.Setup(t.Context(), extension.Host{})
	require.NoError(t, err)
	r.Reset()
	assert.Zero(t, closed, "Reset closes only the registry's own set-up")
	es.Close()
	es.Close()
	assert.Equal(t, 1, closed, "Close runs the hooks once")
}

// An extension registers its metrics the same way whether the host serves
// them or not: Host.Metrics is never nil, and a host's registry is the one
// the extension registers on.
func TestHostMetricsIsNeverNil(t *testing.T) {
	r := extension.NewRegistry()
	var got []prometheus.Registerer
	require.NoError(t, r.RegisterConfigurable("count", func(*flag.FlagSet) extension.SetupFunc {
		return func(_ context.Context, h extension.Host) ([]extension.Option, error) {
			got = append(got, h.Metrics)
			c := prometheus.NewCounter(prometheus.CounterOpts{Name: "authplug_count_things_total", Help: "Things."})
			return nil, h.Metrics.Register(c)
		}
	}))
	setup := func(h extension.Host) error {
		c, err := r.Configure(flag.NewFlagSet("t", flag.ContinueOnError))
		require.NoError(t, err)
		es, err := c.Setup(t.Context(), h)
		if err == nil {
			es.Close()
		}
		return err
	}

	require.NoError(t, setup(extension.Host{}))
	require.NoError(t, setup(extension.Host{}), "each metrics-less set-up has a registry of its own")
	require.NotNil(t, got[0])
	assert.NotSame(t, got[0], got[1])

	reg := prometheus.NewRegistry()
	require.NoError(t, setup(extension.Host{Metrics: reg}))
	mfs, err := reg.Gather()
	require.NoError(t, err)
	require.Len(t, mfs, 1)
	assert.Equal(t, "authplug_count_things_total", mfs[0].GetName(), "the host's registry has the extension's metric")
	assert.ErrorContains(t, setup(extension.Host{Metrics: reg}), "duplicate metrics collector registration",
		"a second registration on one registry is the set-up's error, not a panic")
}
