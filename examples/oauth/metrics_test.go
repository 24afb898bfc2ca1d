package oauth

import (
	"errors"
	"flag"
	"testing"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/authplug/authplug/extension"
)

// counts gathers reg's counters as name{issuer} -> value.
func counts(t *testing.T, reg prometheus.Gatherer) map[string]float64 {
	t.Helper()
	mfs, err := reg.Gather()
	if err != nil {
		t.Fatal(err)
	}
	out := map[string]float64{}
	for _, mf := range mfs {
		for _, m := range mf.GetMetric() {
			issuer := ""
			for _, l := range m.GetLabel() {
				if l.GetName() == "issuer" {
					issuer = l.GetValue()
				}
			}
			out[mf.GetName()+"{"+issuer+"}"] = m.GetCounter().GetValue()
		}
	}
	return out
}

func TestJWKSMetricsCountRefreshesAndFailuresByIssuer(t *testing.T) {
	reg := prometheus.NewRegistry()
	m, err := newJWKSMetrics(reg)
	if err != nil {
		t.Fatal(err)
	}
	m.refreshed("https://idp.example", nil)
	m.refreshed("https://idp.example", errors.New("503"))
	m.refreshed(DevIssuer, nil)

	// A second set-up on the same registry takes the counters over.
	again, err := newJWKSMetrics(reg)
	if err != nil {
		t.Fatalf("a second set-up on one registry: %v", err)
	}
	again.refreshed(DevIssuer, nil)

	want := map[string]float64{
		"authplug_oauth_jwks_refreshes_total{https://idp.example}":        2,
		"authplug_oauth_jwks_refresh_failures_total{https://idp.example}": 1,
		"authplug_oauth_jwks_refreshes_total{" + DevIssuer + "}":          2,
	}
	got := counts(t, reg)
	for k, v := range want {
		if got[k] != v {
			t.Errorf("%s = %v, want %v", k, got[k], v)
		}
	}
	if len(got) != len(want) {
		t.Errorf("series %v, want %v", got, want)
	}

	var none *jwksMetrics
	none.refreshed(DevIssuer, errors.New("no metrics: nothing counted, no panic"))
}

// The extension counts its issuers' key loads on the host's registry.
func TestRegisteredExtensionCountsKeyLoadsOnTheHostRegistry(t *testing.T) {
	fs := flag.NewFlagSet("host", flag.ContinueOnError)
	cfg, err := extension.Configure(fs)
	if err != nil {
		t.Fatal(err)
	}
	if err := fs.Parse(nil); err != nil {
		t.Fatal(err)
	}
	reg := prometheus.NewRegistry()
	es, err := cfg.Setup(t.Context(), extension.Host{DataDir: t.TempDir(), Metrics: reg})
	if err != nil {
		t.Fatal(err)
	}
	defer es.Close()
	got := counts(t, reg)
	if got["authplug_oauth_jwks_refreshes_total{"+DevIssuer+"}"] != 1 {
		t.Errorf("after set-up with the dev IdP's JWKS file: %v, want its first load counted", got)
	}
}
