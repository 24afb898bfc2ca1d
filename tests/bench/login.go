package main

import (
	"context"
	"fmt"
	"time"

	"github.com/go-sql-driver/mysql"
)

// A loginCase is the same client work against authplug and against
// go-mysql-server's own authentication (its mysql_db accounts).
type loginCase struct {
	name           string
	authplug, peer target
}

func withTLS(f func(user, pw string) *mysql.Config) func(user, pw string) *mysql.Config {
	return func(user, pw string) *mysql.Config {
		c := f(user, pw)
		c.TLSConfig = "skip-verify"
		return c
	}
}

// loginRatios measures each case's logins per second, one connection at a
// time, rounds interleaved (authplug, peer, authplug, peer, ...), and
// prints the ratios. extra is measured in the same rounds and reported
// against the first case's peer.
func loginRatios(ctx context.Context, cases []loginCase, extra target, logins, rounds int) error {
	var ts []target
	for _, c := range cases {
		ts = append(ts, c.authplug, c.peer)
	}
	ts = append(ts, extra)
	// One login each first: caching_sha2_password's cache is filled by a
	// full authentication, as on any server after its first logins.
	for _, t := range ts {
		if _, err := loginRound(ctx, t, 1); err != nil {
			return fmt.Errorf("%s as %s: warm-up: %w", t.name, t.user, err)
		}
	}
	// Each round is cut into batches, interleaved too: on a shared
	// machine, load that comes and goes then falls on every target alike.
	const batch = 100
	elapsed := make([]time.Duration, len(ts))
	for r := 0; r < rounds; r++ {
		for done := 0; done < logins; done += batch {
			for i, t := range ts {
				d, err := loginRound(ctx, t, min(batch, logins-done))
				if err != nil {
					return fmt.Errorf("%s logins as %s: %w", t.name, t.user, err)
				}
				elapsed[i] += d
			}
		}
	}
	rate := func(i int) float64 { return float64(logins*rounds) / elapsed[i].Seconds() }
	for i, c := range cases {
		a, b := rate(2*i), rate(2*i+1)
		fmt.Printf("logins/s, %s: authplug %.0f, go-mysql-server auth %.0f, ratio %.2f (target >= 1.0)\n", c.name, a, b, a/b)
	}
	x := rate(len(ts) - 1)
	fmt.Printf("logins/s, %s: %.0f, ratio %.2f to go-mysql-server's native logins (one auth-switch round trip more)\n", extra.name, x, x/rate(1))
	return nil
}
