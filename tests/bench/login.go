package main

import (
	"context"
	"fmt"
	"slices"
	"time"

	"github.com/go-sql-driver/mysql"
)

// A loginCase is the same client work against authplug and against
// go-mysql-server's own authentication (its mysql_db accounts). Cases with
// the same peer (by name and user) share its measurement.
type loginCase struct {
	key            string // for -cases
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

// loginRatios measures the logins per second of the cases keys names, one
// connection at a time, rounds interleaved (authplug, peer, peer,
// authplug, ...), and prints the ratios.
func loginRatios(ctx context.Context, cases []loginCase, keys []string, logins, rounds int) error {
	cases = slices.DeleteFunc(cases, func(c loginCase) bool { return !slices.Contains(keys, c.key) })
	if len(cases) == 0 {
		return fmt.Errorf("no login case in %q", keys)
	}
	var ts []target
	index := func(t target) int {
		for i, u := range ts {
			if u.name == t.name && u.user == t.user && !t.tls() == !u.tls() && u.addr() == t.addr() {
				return i
			}
		}
		ts = append(ts, t)
		return len(ts) - 1
	}
	at := make([][2]int, len(cases))
	for i, c := range cases {
		at[i] = [2]int{index(c.authplug), index(c.peer)}
	}
	// One login each first: caching_sha2_password's cache is filled by a
	// full authentication, as on any server after its first logins.
	for _, t := range ts {
		if _, err := loginRound(ctx, t, 1); err != nil {
			return fmt.Errorf("%s as %s: warm-up: %w", t.name, t.user, err)
		}
	}
	// Each round is cut into batches, interleaved too: on a shared
	// machine, load that comes and goes then falls on every target alike.
	// The order within each pair alternates from one group of batches to
	// the next (authplug first, then the peer first): a batch runs slower
	// after some others (after the TLS batches, by 5 to 10 per cent for the
	// native logins), and a fixed order would charge that to whichever
	// target always came first.
	const batch = 100
	elapsed := make([]time.Duration, len(ts))
	group := 0
	for r := 0; r < rounds; r++ {
		for done := 0; done < logins; done += batch {
			for _, i := range groupOrder(at, group) {
				t := ts[i]
				d, err := loginRound(ctx, t, min(batch, logins-done))
				if err != nil {
					return fmt.Errorf("%s logins as %s: %w", t.name, t.user, err)
				}
				elapsed[i] += d
			}
			group++
		}
	}
	rate := func(i int) float64 { return float64(logins*rounds) / elapsed[i].Seconds() }
	for i, c := range cases {
		a, b := rate(at[i][0]), rate(at[i][1])
		target := " (target >= 1.0)"
		if c.key == "switch" {
			target = ""
		}
		fmt.Printf("logins/s, %s: authplug %.0f, go-mysql-server auth %.0f, ratio %.2f%s\n", c.name, a, b, a/b, target)
	}
	return nil
}

// groupOrder is the order of the targets in group g: each case's pair in
// turn, authplug first in even groups and the peer first in odd ones, a
// target shared by two cases once.
func groupOrder(pairs [][2]int, g int) []int {
	var order []int
	for _, p := range pairs {
		if g%2 == 1 {
			p[0], p[1] = p[1], p[0]
		}
		for _, i := range p {
			if !slices.Contains(order, i) {
				order = append(order, i)
			}
		}
	}
	return order
}

func (t target) tls() bool    { return t.dsn("", "").TLSConfig != "" }
func (t target) addr() string { return t.dsn("", "").Addr }
