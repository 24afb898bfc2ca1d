package servercmd

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"net/http"
	"sync/atomic"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/collectors"
	"github.com/prometheus/client_golang/prometheus/promhttp"
)

// metricsPath is where --metrics-addr serves; nothing else is served there.
const metricsPath = "/metrics"

// maxMetricsConns bounds the connections the metrics port keeps open: a
// scraper needs one or two, and each costs a goroutine and a descriptor of
// the process that also serves MySQL.
const maxMetricsConns = 16

// metricsServer serves one server's registry over HTTP.
type metricsServer struct {
	srv *http.Server
	l   net.Listener
}

// newMetricsRegistry is a registry of the server's own, with the Go
// runtime's and the process's collectors: several servers run in one
// process (tests) never share the global default one.
func newMetricsRegistry() (*prometheus.Registry, error) {
	reg := prometheus.NewRegistry()
	for _, c := range []prometheus.Collector{
		collectors.NewGoCollector(),
		collectors.NewProcessCollector(collectors.ProcessCollectorOpts{}),
	} {
		if err := reg.Register(c); err != nil {
			return nil, err
		}
	}
	return reg, nil
}

// listenMetrics binds addr, so that an address in use fails the start
// before anything else is set up. Serving starts with serve.
func listenMetrics(addr string, reg *prometheus.Registry, log *slog.Logger) (*metricsServer, error) {
	l, err := net.Listen("tcp", addr)
	if err != nil {
		return nil, fmt.Errorf("--metrics-addr: %w", err)
	}
	mux := http.NewServeMux()
	mux.Handle("GET "+metricsPath, promhttp.HandlerFor(reg, promhttp.HandlerOpts{
		ErrorLog: promLogger{log},
		// promhttp_metric_handler_errors_total, on the same registry.
		Registry: reg,
		// A few scrapes at a time are plenty, and bound what a flood of
		// them can cost the server.
		MaxRequestsInFlight: 4,
		Timeout:             10 * time.Second,
	}))
	var open atomic.Int64
	return &metricsServer{
		srv: &http.Server{
			Handler:           mux,
			ConnState:         boundConns(&open),
			ReadHeaderTimeout: 10 * time.Second,
			IdleTimeout:       time.Minute,
			ErrorLog:          slog.NewLogLogger(log.Handler(), slog.LevelWarn),
		},
		l: l,
	}, nil
}

// boundConns closes a new connection when maxMetricsConns are open
// already, rather than let a client that sends nothing hold it until the
// header timeout.
func boundConns(open *atomic.Int64) func(net.Conn, http.ConnState) {
	return func(c net.Conn, st http.ConnState) {
		switch st {
		case http.StateNew:
			if open.Add(1) > maxMetricsConns {
				c.Close()
			}
		case http.StateClosed, http.StateHijacked:
			open.Add(-1)
		}
	}
}

func (m *metricsServer) addr() string { return m.l.Addr().String() }

// serve serves until shutdown; a failure is logged, not fatal: the
// database goes on without its metrics.
func (m *metricsServer) serve(log *slog.Logger) {
	go func() {
		if err := m.srv.Serve(m.l); !errors.Is(err, http.ErrServerClosed) {
			log.Error("serving metrics stopped", "addr", m.addr(), "err", err)
		}
	}()
}

// shutdown stops serving, waiting for scrapes in progress until ctx is
// done. Before serve, it closes the listener.
func (m *metricsServer) shutdown(ctx context.Context) error {
	err := m.srv.Shutdown(ctx)
	m.l.Close() // Shutdown closes it only once Serve has it
	return err
}

// promLogger is promhttp's error log on slog.
type promLogger struct{ log *slog.Logger }

func (p promLogger) Println(v ...any) { p.log.Warn("metrics: " + fmt.Sprint(v...)) }
