// Command storebench measures the grant store (issue 10): GRANT latency,
// propagation to a second front end, start-up time and statement rates
// under GRANT churn, on the embedded SQLite store and on a shared MariaDB
// store, with few and with many accounts, in one run:
//
//	go run ./tests/storebench
//	go run ./tests/storebench -backends sqlite -sizes 10,1000 -rounds 1   # quick
//
// Front ends run in-process (server.New); the MariaDB is Debian's mariadbd,
// started on a loopback port in a temporary directory. Rounds alternate
// between the sizes, so that noise on a shared machine falls on both.
package main

import (
	"context"
	"flag"
	"fmt"
	"io"
	"os"
	"runtime/pprof"
	"strconv"
	"strings"

	"github.com/sirupsen/logrus"
)

func main() {
	cfg := defaultConfig()
	backends := flag.String("backends", strings.Join(cfg.Backends, ","), "grant stores to measure: sqlite, mariadb")
	sizes := flag.String("sizes", "10,100000", "account counts to compare; the ratio is the last over the first")
	flag.IntVar(&cfg.Rounds, "rounds", cfg.Rounds, "interleaved rounds")
	flag.IntVar(&cfg.Grants, "grants", cfg.Grants, "GRANTs timed per size per round")
	flag.IntVar(&cfg.Warmup, "warmup", cfg.Warmup, "untimed GRANTs per size before the timed ones")
	flag.IntVar(&cfg.Starts, "starts", cfg.Starts, "start-ups timed per size")
	flag.DurationVar(&cfg.Duration, "duration", cfg.Duration, "point-select time per phase (quiet, churn) per size per round")
	flag.IntVar(&cfg.Workers, "workers", cfg.Workers, "connections running point selects")
	flag.DurationVar(&cfg.Lease, "lease", cfg.Lease, "front ends' lease on the shared store (0: the server's default)")
	flag.StringVar(&cfg.BufferPool, "innodb-buffer-pool-size", cfg.BufferPool, "MariaDB's buffer pool")
	cpuProfile := flag.String("cpuprofile", "", "write a CPU profile of the whole run to this file")
	flag.Parse()
	logrus.SetOutput(io.Discard) // the engine's own log

	cfg.Backends = strings.Split(*backends, ",")
	cfg.Sizes = nil
	for _, s := range strings.Split(*sizes, ",") {
		n, err := strconv.Atoi(strings.TrimSpace(s))
		if err != nil {
			fmt.Fprintf(os.Stderr, "storebench: -sizes: %v\n", err)
			os.Exit(2)
		}
		cfg.Sizes = append(cfg.Sizes, n)
	}
	cfg.Progress = os.Stderr

	if *cpuProfile != "" {
		f, err := os.Create(*cpuProfile)
		if err == nil {
			err = pprof.StartCPUProfile(f)
		}
		if err != nil {
			fmt.Fprintln(os.Stderr, "storebench:", err)
			os.Exit(1)
		}
	}
	res, err := Run(context.Background(), cfg)
	pprof.StopCPUProfile()
	res.Print(os.Stdout)
	if err != nil {
		fmt.Fprintln(os.Stderr, "storebench:", err)
		os.Exit(1)
	}
}
