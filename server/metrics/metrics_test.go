package metrics_test

import (
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/authplug/authplug/server"
	"github.com/authplug/authplug/server/metrics"
)

// values gathers reg: each metric's label values (joined by ","), and its
// value (a histogram's count).
func values(t *testing.T, reg *prometheus.Registry) map[string]map[string]float64 {
	t.Helper()
	mfs, err := reg.Gather()
	if err != nil {
		t.Fatal(err)
	}
	out := map[string]map[string]float64{}
	for _, mf := range mfs {
		out[mf.GetName()] = map[string]float64{}
		for _, m := range mf.GetMetric() {
			key := ""
			for i, l := range m.GetLabel() {
				if i > 0 {
					key += ","
				}
				key += l.GetValue()
			}
			// One of the three is set; the others' getters give 0.
			out[mf.GetName()][key] = m.GetCounter().GetValue() + m.GetGauge().GetValue() + float64(m.GetHistogram().GetSampleCount())
		}
	}
	return out
}

func TestMetricsCountWhatTheServerObserves(t *testing.T) {
	reg := prometheus.NewRegistry()
	m, err := metrics.New(reg)
	if err != nil {
		t.Fatal(err)
	}
	m.Login(server.LoginOutcome{Plugin: "caching_sha2_password", Duration: 3 * time.Millisecond})
	m.Login(server.LoginOutcome{Plugin: server.PluginNone, Failure: "no_account", Duration: time.Millisecond})
	m.Login(server.LoginOutcome{Plugin: server.PluginNone, Failure: "no_account", Duration: time.Millisecond})
	m.Denied(1142)
	m.SessionOpened()
	m.SessionOpened()
	m.SessionClosed()
	m.Impersonation(true)
	m.Impersonation(false)

	got := values(t, reg)
	want := map[string]map[string]float64{
		"authplug_logins_total": {
			"success,caching_sha2_password,": 1,
			"failure,none,no_account":        2,
		},
		"authplug_login_duration_seconds": {"success,caching_sha2_password": 1, "failure,none": 2},
		"authplug_denials_total":          {"1142": 1},
		"authplug_open_sessions":          {"": 1},
		"authplug_impersonations_total":   {"success": 1, "failure": 1},
	}
	for name, series := range want {
		for k, v := range series {
			if got[name][k] != v {
				t.Errorf("%s{%s} = %v, want %v (all: %v)", name, k, got[name][k], v, got[name])
			}
		}
		if len(got[name]) != len(series) {
			t.Errorf("%s: series %v, want %v", name, got[name], series)
		}
	}
}

// Several servers in one process each have a registry; two Metrics on one
// are an error, not a panic.
func TestNewOnATakenRegistryIsAnError(t *testing.T) {
	reg := prometheus.NewRegistry()
	if _, err := metrics.New(reg); err != nil {
		t.Fatal(err)
	}
	if _, err := metrics.New(reg); err == nil {
		t.Error("a second Metrics on one registry: no error")
	}
	if _, err := metrics.New(prometheus.NewRegistry()); err != nil {
		t.Errorf("a Metrics on a registry of its own: %v", err)
	}
}
