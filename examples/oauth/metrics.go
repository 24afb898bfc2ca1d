package oauth

import (
	"errors"

	"github.com/prometheus/client_golang/prometheus"
)

// jwksMetrics counts the refreshes of the key sources, by issuer: a fetch
// of a JWKS URL or a re-read of a changed JWKS file, and those of them that
// failed (the keys already loaded are then kept). The issuer label is a
// configured issuer, never a token's, so its values stay as few as the
// issuers configured. The extension registers them on the host's
// registry (extension.Host.Metrics) and hears of refreshes through
// Config.OnRefresh.
type jwksMetrics struct {
	refreshes, failures *prometheus.CounterVec
}

// newJWKSMetrics registers the counters on reg. Counters an earlier set-up
// registered on the same registry (a host set up twice in one process) are
// taken over rather than refused.
func newJWKSMetrics(reg prometheus.Registerer) (*jwksMetrics, error) {
	refreshes, err := registerCounterVec(reg, prometheus.CounterOpts{
		Name: "authplug_oauth_jwks_refreshes_total",
		Help: "Refreshes of an issuer's JWKS (a URL fetched, a changed file read), failed ones included.",
	})
	if err != nil {
		return nil, err
	}
	failures, err := registerCounterVec(reg, prometheus.CounterOpts{
		Name: "authplug_oauth_jwks_refresh_failures_total",
		Help: "Refreshes of an issuer's JWKS that failed; the keys already loaded were kept.",
	})
	if err != nil {
		return nil, err
	}
	return &jwksMetrics{refreshes: refreshes, failures: failures}, nil
}

func registerCounterVec(reg prometheus.Registerer, opts prometheus.CounterOpts) (*prometheus.CounterVec, error) {
	c := prometheus.NewCounterVec(opts, []string{"issuer"})
	err := reg.Register(c)
	var are prometheus.AlreadyRegisteredError
	if errors.As(err, &are) {
		if prev, ok := are.ExistingCollector.(*prometheus.CounterVec); ok {
			return prev, nil
		}
	}
	return c, err
}

// refreshed counts one refresh of issuer's keys, failed if err is not nil.
// A nil m counts nothing, for key sources made without metrics.
func (m *jwksMetrics) refreshed(issuer string, err error) {
	if m == nil {
		return
	}
	m.refreshes.WithLabelValues(issuer).Inc()
	if err != nil {
		m.failures.WithLabelValues(issuer).Inc()
	}
}
