package main

import (
	"context"
	"errors"
	"io"
	"os"
	"strings"
	"testing"
	"time"

	"github.com/sirupsen/logrus"

	"github.com/authplug/authplug/internal/mariadbtest"
)

// TestRunSmall is `go run ./tests/storebench` at a few accounts and
// GRANTs, so that the benchmark keeps working: both backends (MariaDB
// when installed; CI installs it), every measure taken.
func TestRunSmall(t *testing.T) {
	logrus.SetOutput(io.Discard)
	cfg := Config{
		Backends: []string{sqliteBackend},
		Sizes:    []int{3, 10},
		Rounds:   1,
		Grants:   3,
		Warmup:   1,
		Starts:   1,
		Duration: 200 * time.Millisecond,
		Workers:  2,
		// The tests' own: the store is tiny.
		BufferPool: "32M",
	}
	switch _, _, err := mariadbtest.Binaries(); {
	case err == nil:
		cfg.Backends = append(cfg.Backends, mariadbBackend)
	case errors.Is(err, mariadbtest.ErrNotInstalled) && os.Getenv("CI") == "" && os.Getenv("AUTHPLUG_REQUIRE_CLIENTS") == "":
		t.Log("MariaDB backend not measured:", err)
	default:
		t.Fatal("CI must install mariadb-server (see .ci/run):", err)
	}
	res, err := Run(context.Background(), cfg)
	var out strings.Builder
	res.Print(&out)
	t.Log("\n" + out.String())
	if err != nil {
		t.Fatal(err)
	}
	if len(res.Backends) != len(cfg.Backends) {
		t.Fatalf("%d backends measured, want %d", len(res.Backends), len(cfg.Backends))
	}
	for _, br := range res.Backends {
		for _, sr := range br.Sizes {
			if len(sr.Grant) != cfg.Grants || len(sr.Startup) != cfg.Starts {
				t.Errorf("%s, %d accounts: %d GRANTs and %d start-ups timed, want %d and %d", br.Name, sr.Accounts, len(sr.Grant), len(sr.Startup), cfg.Grants, cfg.Starts)
			}
			if br.Name != mariadbBackend {
				continue
			}
			if len(sr.Propagation) != cfg.Grants || sr.Quiet.N == 0 || sr.Churn.N == 0 || sr.ChurnStmts.N == 0 {
				t.Errorf("%s, %d accounts: %d propagations, %d quiet and %d churn point selects, %d churn statements",
					br.Name, sr.Accounts, len(sr.Propagation), sr.Quiet.N, sr.Churn.N, sr.ChurnStmts.N)
			}
		}
	}
	if !strings.Contains(out.String(), "GRANT latency p50 / p99") {
		t.Error("no GRANT latency in the table")
	}
}
