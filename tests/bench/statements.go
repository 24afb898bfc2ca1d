package main

import (
	"context"
	"database/sql"
	"fmt"
	"slices"
	"sync"
	"sync/atomic"
	"time"
)

// A series is one statement run against one target.
type series struct {
	t     target
	query string
	db    *sql.DB
	n     int64
	took  time.Duration
}

// statementSlice is how long a series runs before the next one's turn: as
// the login batches, short and interleaved, so that load on a shared
// machine that comes and goes falls on every series alike.
const statementSlice = 200 * time.Millisecond

// statementRates runs each series for d per round, in slices, the order
// reversed from one group of slices to the next, with workers connections
// each. Connections are made (logged in) before the clock starts.
func statementRates(ctx context.Context, ss []*series, workers int, d time.Duration, rounds int) error {
	for _, s := range ss {
		s.db = sql.OpenDB(mustConnector(s.t.dsn(s.t.user, s.t.pw)))
		defer s.db.Close()
		s.db.SetMaxOpenConns(workers)
		s.db.SetMaxIdleConns(workers)
		if _, _, err := runSeries(ctx, s, workers, 0); err != nil {
			return fmt.Errorf("%s %q: %w", s.t.name, s.query, err)
		}
	}
	slicesPerRound := max(1, int(d/statementSlice))
	order := make([]*series, len(ss))
	for g := 0; g < rounds*slicesPerRound; g++ {
		copy(order, ss)
		if g%2 == 1 {
			slices.Reverse(order)
		}
		for _, s := range order {
			n, took, err := runSeries(ctx, s, workers, statementSlice)
			if err != nil {
				return fmt.Errorf("%s %q: %w", s.t.name, s.query, err)
			}
			s.n += n
			s.took += took
		}
	}
	return nil
}

func (s *series) rate() float64 { return float64(s.n) / s.took.Seconds() }

// runSeries runs s.query on workers connections of s.db for d; with d
// zero, once on each (to open the connections).
func runSeries(ctx context.Context, s *series, workers int, d time.Duration) (int64, time.Duration, error) {
	var n atomic.Int64
	var firstErr atomic.Value
	var wg sync.WaitGroup
	begin := time.Now()
	deadline := begin.Add(d)
	for w := 0; w < workers; w++ {
		wg.Add(1)
		go func(w int) {
			defer wg.Done()
			var v string
			for i := w; i == w || time.Now().Before(deadline); i += workers {
				if err := s.db.QueryRowContext(ctx, s.query, i%rows).Scan(&v); err != nil {
					firstErr.CompareAndSwap(nil, err)
					return
				}
				n.Add(1)
			}
		}(w)
	}
	wg.Wait()
	if err, ok := firstErr.Load().(error); ok {
		return 0, 0, err
	}
	return n.Load(), time.Since(begin), nil
}
