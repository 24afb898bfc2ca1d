// Package metrics counts what a server does for its operators, as
// Prometheus metrics: it is the server.Observer behind servercmd's
// --metrics-addr, and an embedder's own server can use it the same way.
//
//	reg := prometheus.NewRegistry()
//	m, err := metrics.New(reg)
//	...
//	s, err := server.New(server.Config{Observer: m, ...})
//	http.Handle("/metrics", promhttp.HandlerFor(reg, promhttp.HandlerOpts{}))
//
// Every label value comes from a small fixed set (server.Observer), never
// from a client: a client choosing user names or plugin names cannot make
// the number of series grow.
package metrics

import (
	"strconv"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/authplug/authplug/server"
)

// Metrics is one server's metrics. Give each server a registry of its own:
// New registers on it, and a second Metrics on the same registry is an
// error.
type Metrics struct {
	logins         *prometheus.CounterVec
	loginDuration  *prometheus.HistogramVec
	denials        *prometheus.CounterVec
	openSessions   prometheus.Gauge
	impersonations *prometheus.CounterVec
}

var _ server.Observer = (*Metrics)(nil)

// Label values of outcome.
const (
	success = "success"
	failure = "failure"
)

// loginBuckets run from a password hash on an idle machine (a millisecond)
// to the throttle's longest delay (30 s), through a token plugin's key
// fetch.
var loginBuckets = []float64{.001, .0025, .005, .01, .025, .05, .1, .25, .5, 1, 2.5, 5, 10, 30}

// New makes a server's metrics and registers them on reg.
func New(reg prometheus.Registerer) (*Metrics, error) {
	m := &Metrics{
		logins: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "authplug_logins_total",
			Help: "Login attempts that reached authentication, by outcome (success, failure), the account's auth plugin (none: no account matched; other: a plugin not loaded) and, for a failure, its reason.",
		}, []string{"outcome", "plugin", "reason"}),
		loginDuration: prometheus.NewHistogramVec(prometheus.HistogramOpts{
			Name:    "authplug_login_duration_seconds",
			Help:    "The server's part of a login, from the client's handshake response to the outcome (throttle delays included), by outcome and auth plugin.",
			Buckets: loginBuckets,
		}, []string{"outcome", "plugin"}),
		denials: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "authplug_denials_total",
			Help: "Commands refused for want of a privilege, by MySQL error number (1044, 1142, 1227, ...).",
		}, []string{"errno"}),
		openSessions: prometheus.NewGauge(prometheus.GaugeOpts{
			Name: "authplug_open_sessions",
			Help: "Authenticated sessions open now.",
		}),
		impersonations: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "authplug_impersonations_total",
			Help: "EXECUTE AS statements, by outcome: success, or failure when the session may not act as the account.",
		}, []string{"outcome"}),
	}
	for _, c := range []prometheus.Collector{m.logins, m.loginDuration, m.denials, m.openSessions, m.impersonations} {
		if err := reg.Register(c); err != nil {
			return nil, err
		}
	}
	return m, nil
}

func outcome(ok bool) string {
	if ok {
		return success
	}
	return failure
}

// Login counts a login attempt.
func (m *Metrics) Login(o server.LoginOutcome) {
	out := outcome(o.Failure == "")
	m.logins.WithLabelValues(out, o.Plugin, o.Failure).Inc()
	m.loginDuration.WithLabelValues(out, o.Plugin).Observe(o.Duration.Seconds())
}

// Denied counts a privilege denial.
func (m *Metrics) Denied(code uint16) {
	m.denials.WithLabelValues(strconv.Itoa(int(code))).Inc()
}

// SessionOpened counts a new session.
func (m *Metrics) SessionOpened() { m.openSessions.Inc() }

// SessionClosed counts a session gone.
func (m *Metrics) SessionClosed() { m.openSessions.Dec() }

// Impersonation counts an EXECUTE AS.
func (m *Metrics) Impersonation(ok bool) { m.impersonations.WithLabelValues(outcome(ok)).Inc() }
