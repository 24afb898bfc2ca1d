package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"slices"
	"strings"
	"time"

	"github.com/authplug/authplug/internal/mariadbtest"
)

// Config is one run's shape.
type Config struct {
	Backends []string // "sqlite", "mariadb"
	// Sizes are the account counts, root aside (the benchmark's own three
	// included); the ratio is the last over the first.
	Sizes  []int
	Rounds int
	Grants int // GRANTs timed per size per round; the sizes take turns GRANT by GRANT
	// Warmup GRANTs per size go first, untimed: the first statements pay
	// for the engine's start.
	Warmup int
	Starts int // start-ups timed per size
	// Duration is each point-select phase (quiet, then with churn) per
	// size per round, MariaDB only.
	Duration time.Duration
	Workers  int
	Lease    time.Duration // 0: the server's default
	// BufferPool is MariaDB's innodb_buffer_pool_size: the tests' 32M
	// would make the 100 000-account store read from disk.
	BufferPool string
	Progress   io.Writer // where set-up steps are told; nil for nowhere
}

func defaultConfig() Config {
	return Config{
		Backends:   []string{sqliteBackend, mariadbBackend},
		Sizes:      []int{10, 100_000},
		Rounds:     3,
		Grants:     100,
		Warmup:     3,
		Starts:     3,
		Duration:   2 * time.Second,
		Workers:    4,
		BufferPool: "256M",
	}
}

const (
	sqliteBackend  = "sqlite"
	mariadbBackend = "mariadb"
)

// Results are one run's measurements, by backend.
type Results struct {
	Config   Config
	Backends []*BackendResult
	// LoadBefore and LoadAfter are the machine's load averages around the
	// run ("" where unknown): other work on a small machine moves every
	// figure.
	LoadBefore, LoadAfter string
}

// BackendResult is one backend's measurements, one SizeResult per size.
type BackendResult struct {
	Name  string
	Sizes []*SizeResult
}

// SizeResult is what was measured at one account count.
type SizeResult struct {
	Accounts int
	// Populate is how long writing the accounts into the store took (set
	// up, not a measure).
	Populate time.Duration
	// Startup is, per start, from server.New until a client's login
	// succeeded.
	Startup []time.Duration
	// Grant is, per GRANT, from sending it until the client had its OK.
	Grant []time.Duration
	// Propagation is, per GRANT, from sending it on front end A until
	// front end B's privilege manager allowed what it grants (MariaDB).
	Propagation []time.Duration
	// Quiet and Churn are point selects on front end B and the time they
	// took, without and with front end A running GRANT/REVOKE (MariaDB);
	// ChurnStmts is how many account statements A ran meanwhile.
	Quiet, Churn rate
	ChurnStmts   rate
	// Shared is whether the store is shared, so that propagation and
	// throughput were measured.
	Shared bool

	fes []*frontEnd // A (and B) while the size is measured
}

type rate struct {
	N int64
	D time.Duration
}

func (r rate) perSecond() float64 {
	if r.D <= 0 {
		return 0
	}
	return float64(r.N) / r.D.Seconds()
}

// Run measures every backend in cfg, one after the other, and returns
// what it measured even when it fails part-way.
func Run(ctx context.Context, cfg Config) (*Results, error) {
	res := &Results{Config: cfg, LoadBefore: loadAverage()}
	defer func() { res.LoadAfter = loadAverage() }()
	if len(cfg.Sizes) == 0 || cfg.Rounds < 1 || cfg.Grants < 1 || cfg.Starts < 1 || cfg.Workers < 1 || cfg.Warmup < 0 {
		return res, errors.New("sizes, rounds, grants, starts and workers must be positive")
	}
	for _, n := range cfg.Sizes {
		if n < len(benchUsers) {
			return res, fmt.Errorf("size %d: the benchmark's own %d accounts are among them", n, len(benchUsers))
		}
	}
	dir, err := os.MkdirTemp("", "authplug-storebench-")
	if err != nil {
		return res, err
	}
	defer os.RemoveAll(dir)
	for _, b := range cfg.Backends {
		br := &BackendResult{Name: b}
		res.Backends = append(res.Backends, br)
		var err error
		switch b {
		case sqliteBackend:
			err = runSQLite(ctx, cfg, dir+"/sqlite", br)
		case mariadbBackend:
			err = runMariaDB(ctx, cfg, dir+"/mariadb", br)
		default:
			err = fmt.Errorf("unknown backend %q (sqlite, mariadb)", b)
		}
		if err != nil {
			return res, fmt.Errorf("%s: %w", b, err)
		}
	}
	return res, nil
}

func (cfg Config) logf(format string, args ...any) {
	if cfg.Progress != nil {
		fmt.Fprintf(cfg.Progress, "storebench: "+format+"\n", args...)
	}
}

// runSQLite measures the embedded store: one front end per data
// directory, so no propagation and no second front end.
func runSQLite(ctx context.Context, cfg Config, dir string, br *BackendResult) error {
	dirs := make([]string, len(cfg.Sizes))
	for i, n := range cfg.Sizes {
		sr := &SizeResult{Accounts: n}
		br.Sizes = append(br.Sizes, sr)
		dirs[i] = fmt.Sprintf("%s/%d/a", dir, n)
		d, err := prepareSQLite(ctx, dirs[i], n)
		if err != nil {
			return fmt.Errorf("%d accounts: %w", n, err)
		}
		sr.Populate = d
		cfg.logf("sqlite: %d accounts written in %s", n, d.Round(time.Millisecond))
	}
	// Start-ups first: the measured front end then holds the directory.
	for range cfg.Starts {
		for i, sr := range br.Sizes {
			d, err := timedStart(ctx, dirs[i], "", cfg.Lease)
			if err != nil {
				return fmt.Errorf("%d accounts: %w", sr.Accounts, err)
			}
			sr.Startup = append(sr.Startup, d)
		}
	}
	cfg.logf("sqlite: start-ups done")
	for i, sr := range br.Sizes {
		fe, err := startFrontEnd(dirs[i], "", cfg.Lease)
		if err != nil {
			return err
		}
		defer fe.close()
		if err := fe.ready(ctx); err != nil {
			return err
		}
		sr.fes = []*frontEnd{fe}
	}
	return measureGrants(ctx, cfg, br)
}

// runMariaDB measures the shared store: per size, its own database on one
// mariadbd, and two front ends, A (where statements are run) and B.
func runMariaDB(ctx context.Context, cfg Config, dir string, br *BackendResult) error {
	if err := os.MkdirAll(dir, 0o700); err != nil {
		return err
	}
	m, err := mariadbtest.Start(dir, "--innodb-buffer-pool-size="+cfg.BufferPool)
	if err != nil {
		return err
	}
	defer m.Close()
	cfg.logf("mariadb: mariadbd %s up", m.Addr)
	var dsns []string
	for _, n := range cfg.Sizes {
		sr := &SizeResult{Accounts: n, Shared: true}
		br.Sizes = append(br.Sizes, sr)
		dsn, d, err := prepareMariaDB(ctx, m, fmt.Sprintf("%s/%d", dir, n), n, cfg.Lease)
		if err != nil {
			return fmt.Errorf("%d accounts: %w", n, err)
		}
		sr.Populate = d
		cfg.logf("mariadb: %d accounts written in %s", n, d.Round(time.Millisecond))
		dsns = append(dsns, dsn)
	}
	// A front end starting on a data directory it has started on before
	// (its TLS and RSA keys made), as a restarted one does.
	for range cfg.Starts {
		for i, dsn := range dsns {
			d, err := timedStart(ctx, fmt.Sprintf("%s/%d/probe", dir, cfg.Sizes[i]), dsn, cfg.Lease)
			if err != nil {
				return fmt.Errorf("%d accounts: %w", cfg.Sizes[i], err)
			}
			br.Sizes[i].Startup = append(br.Sizes[i].Startup, d)
		}
	}
	cfg.logf("mariadb: start-ups done")
	for i, dsn := range dsns {
		for _, name := range []string{"a", "b"} {
			fe, err := startFrontEnd(fmt.Sprintf("%s/%d/%s", dir, cfg.Sizes[i], name), dsn, cfg.Lease)
			if err != nil {
				return err
			}
			defer fe.close()
			if err := fe.ready(ctx); err != nil {
				return err
			}
			br.Sizes[i].fes = append(br.Sizes[i].fes, fe)
		}
	}
	if err := measureGrants(ctx, cfg, br); err != nil {
		return err
	}
	return measureThroughput(ctx, cfg, br)
}

// loadAverage is Linux's 1, 5 and 15-minute load averages.
func loadAverage() string {
	b, err := os.ReadFile("/proc/loadavg")
	if err != nil {
		return ""
	}
	f := strings.Fields(string(b))
	return strings.Join(f[:min(3, len(f))], " ")
}

// percentile is the nearest-rank p-th percentile of ds.
func percentile(ds []time.Duration, p float64) time.Duration {
	if len(ds) == 0 {
		return 0
	}
	s := slices.Clone(ds)
	slices.Sort(s)
	i := int(p/100*float64(len(s))+0.999999) - 1
	return s[min(max(i, 0), len(s)-1)]
}
