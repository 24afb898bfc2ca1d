package main

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"sync"
	"sync/atomic"
	"time"

	"github.com/go-sql-driver/mysql"
)

const (
	grantStmt  = "GRANT SELECT ON demo.t TO " + targetUser
	revokeStmt = "REVOKE SELECT ON demo.t FROM " + targetUser
	// watchEvery is how often B's manager is asked whether it allows the
	// GRANT yet: fine next to the store's 50 ms follow interval, and
	// coarse enough not to take a core from the front ends.
	watchEvery = 100 * time.Microsecond
)

// measureGrants times cfg.Rounds*cfg.Grants GRANTs per size on front end
// A, the sizes taking turns GRANT by GRANT, each followed by a REVOKE
// (untimed) so that every GRANT changes something. With a front end B, it
// also times when B first allows what the GRANT gave. cfg.Warmup GRANTs
// per size go first, untimed.
func measureGrants(ctx context.Context, cfg Config, br *BackendResult) error {
	warmup := cfg.Warmup
	total := cfg.Rounds * cfg.Grants
	for i := range warmup + total {
		for _, sr := range br.Sizes {
			grant, seen, err := grantOnce(ctx, sr)
			if err != nil {
				return fmt.Errorf("%d accounts: %w", sr.Accounts, err)
			}
			if i >= warmup {
				sr.Grant = append(sr.Grant, grant)
				if sr.Shared {
					sr.Propagation = append(sr.Propagation, seen)
				}
			}
		}
		if done := i + 1 - warmup; done > 0 && done%cfg.Grants == 0 {
			cfg.logf("%s: GRANTs %d/%d done", br.Name, done, total)
		}
	}
	return nil
}

// grantOnce runs the timed GRANT on sr's front end A, and the REVOKE
// after it, and returns how long the GRANT took and, with a front end B,
// how long until B allowed what it gave.
func grantOnce(ctx context.Context, sr *SizeResult) (grant, seen time.Duration, err error) {
	a := sr.fes[0]
	var b *frontEnd
	if len(sr.fes) > 1 {
		b = sr.fes[1]
	}
	begin := time.Now()
	var watching <-chan watched
	if b != nil {
		if b.allows() {
			return 0, 0, errors.New("front end B allows the grant before it is made")
		}
		watching = watch(ctx, b, begin)
	}
	if _, err := a.root.ExecContext(ctx, grantStmt); err != nil {
		return 0, 0, fmt.Errorf("%s: %w", grantStmt, err)
	}
	grant = time.Since(begin)
	if watching != nil {
		w := <-watching
		if w.err != nil {
			return 0, 0, fmt.Errorf("front end B: %w", w.err)
		}
		seen = w.after
	}
	if _, err := a.root.ExecContext(ctx, revokeStmt); err != nil {
		return 0, 0, fmt.Errorf("%s: %w", revokeStmt, err)
	}
	return grant, seen, nil
}

type watched struct {
	after time.Duration
	err   error
}

// watch polls b until it allows the timed GRANT's privilege and sends how
// long after begin that was. It reads B's published snapshot in-process,
// as a statement on B would, without a client's round trips in the delay.
func watch(ctx context.Context, b *frontEnd, begin time.Time) <-chan watched {
	ch := make(chan watched, 1)
	go func() {
		deadline := begin.Add(30 * time.Second)
		for !b.allows() {
			if time.Now().After(deadline) || ctx.Err() != nil {
				ch <- watched{err: errors.Join(errors.New("did not allow the GRANT within 30s"), ctx.Err())}
				return
			}
			time.Sleep(watchEvery)
		}
		ch <- watched{after: time.Since(begin)}
	}()
	return ch
}

// measureThroughput runs point selects on front end B, per size per round,
// once with A idle and once with A running GRANT/REVOKE, the order
// alternating between rounds.
func measureThroughput(ctx context.Context, cfg Config, br *BackendResult) error {
	for r := range cfg.Rounds {
		for _, sr := range br.Sizes {
			a, b := sr.fes[0], sr.fes[1]
			for i := range 2 {
				churning := (i+r)%2 == 1
				var stop func() (rate, error)
				if churning {
					stop = churn(ctx, a)
				}
				n, err := selectRate(ctx, b, cfg.Workers, cfg.Duration)
				if stop != nil {
					c, cerr := stop()
					err = errors.Join(err, cerr)
					sr.ChurnStmts.N += c.N
					sr.ChurnStmts.D += c.D
				}
				if err != nil {
					return fmt.Errorf("%d accounts: %w", sr.Accounts, err)
				}
				if churning {
					sr.Churn.N += n.N
					sr.Churn.D += n.D
				} else {
					sr.Quiet.N += n.N
					sr.Quiet.D += n.D
				}
			}
		}
		cfg.logf("%s: throughput round %d/%d done", br.Name, r+1, cfg.Rounds)
	}
	return nil
}

// churn runs GRANT and REVOKE, one after the other, on a's root session
// until the returned stop, which reports how many ran and in what time.
func churn(ctx context.Context, a *frontEnd) (stop func() (rate, error)) {
	var quit atomic.Bool
	var n atomic.Int64
	var err error
	var wg sync.WaitGroup
	begin := time.Now()
	wg.Go(func() {
		stmts := []string{"GRANT SELECT ON demo.t TO " + churnUser, "REVOKE SELECT ON demo.t FROM " + churnUser}
		// At least one, however short the phase.
		for i := 0; i == 0 || !quit.Load(); i++ {
			if _, err = a.root.ExecContext(ctx, stmts[i%2]); err != nil {
				err = fmt.Errorf("churn: %s: %w", stmts[i%2], err)
				return
			}
			n.Add(1)
		}
	})
	return func() (rate, error) {
		quit.Store(true)
		wg.Wait()
		return rate{N: n.Load(), D: time.Since(begin)}, err
	}
}

// selectRate runs point selects on fe from workers sessions, logged in
// before the clock starts, for d.
func selectRate(ctx context.Context, fe *frontEnd, workers int, d time.Duration) (rate, error) {
	conn, err := mysql.NewConnector(fe.config(readerUser, password))
	if err != nil {
		return rate{}, err
	}
	db := sql.OpenDB(conn)
	defer db.Close()
	conns := make([]*sql.Conn, workers)
	for i := range conns {
		if conns[i], err = db.Conn(ctx); err != nil {
			return rate{}, fmt.Errorf("reader login: %w", err)
		}
		defer conns[i].Close()
	}
	var n atomic.Int64
	errs := make([]error, workers)
	var wg sync.WaitGroup
	begin := time.Now()
	deadline := begin.Add(d)
	for w, c := range conns {
		wg.Go(func() {
			var v string
			for i := w; time.Now().Before(deadline); i += workers {
				if err := c.QueryRowContext(ctx, "SELECT v FROM demo.t WHERE id = ?", i%tableRows).Scan(&v); err != nil {
					errs[w] = fmt.Errorf("point select: %w", err)
					return
				}
				n.Add(1)
			}
		})
	}
	wg.Wait()
	return rate{N: n.Load(), D: time.Since(begin)}, errors.Join(errs...)
}
