package main

import (
	"fmt"
	"io"
	"runtime"
	"strconv"
	"strings"
	"time"
)

// Print writes the results as a Markdown table, one column per size and
// the last size over the first, then the set-up times.
func (r *Results) Print(w io.Writer) {
	if r == nil || len(r.Backends) == 0 {
		return
	}
	cfg := r.Config
	fmt.Fprintf(w, "storebench: %s/%s, %d CPUs, load average %s before, %s after; %d interleaved rounds; %d GRANTs per size per round; %d start-ups per size; point selects from %d connections, %s per phase per round\n\n",
		runtime.GOOS, runtime.GOARCH, runtime.NumCPU(), r.LoadBefore, r.LoadAfter, cfg.Rounds, cfg.Grants, cfg.Starts, cfg.Workers, cfg.Duration)

	header := []string{"measure"}
	for _, n := range cfg.Sizes {
		header = append(header, count(n)+" accounts")
	}
	last, first := len(cfg.Sizes)-1, 0
	ratioCol := len(cfg.Sizes) > 1
	if ratioCol {
		header = append(header, count(cfg.Sizes[last])+" / "+count(cfg.Sizes[first]))
	}
	fmt.Fprintln(w, "| "+strings.Join(header, " | ")+" |")
	fmt.Fprintln(w, "|"+strings.Repeat("---|", len(header)))

	row := func(name string, cell func(*SizeResult) string, ratio func(a, b *SizeResult) string, srs []*SizeResult) {
		if len(srs) == 0 {
			return
		}
		cells := []string{name}
		for _, sr := range srs {
			cells = append(cells, cell(sr))
		}
		if ratioCol {
			rc := ""
			if ratio != nil && len(srs) > last {
				rc = ratio(srs[last], srs[first])
			}
			cells = append(cells, rc)
		}
		fmt.Fprintln(w, "| "+strings.Join(cells, " | ")+" |")
	}
	p50p99 := func(get func(*SizeResult) []time.Duration) (func(*SizeResult) string, func(a, b *SizeResult) string) {
		return func(sr *SizeResult) string {
				return ms(percentile(get(sr), 50)) + " / " + ms(percentile(get(sr), 99)) + " ms"
			}, func(a, b *SizeResult) string {
				return ratio(percentile(get(a), 50), percentile(get(b), 50)) + " / " + ratio(percentile(get(a), 99), percentile(get(b), 99))
			}
	}
	for _, br := range r.Backends {
		name := "SQLite (embedded)"
		if br.Name == mariadbBackend {
			name = "MariaDB (shared, 2 front ends)"
		}
		if len(br.Sizes) == 0 || len(br.Sizes[0].Grant) == 0 && len(br.Sizes[0].Startup) == 0 {
			continue
		}
		cell, rat := p50p99(func(sr *SizeResult) []time.Duration { return sr.Grant })
		row(name+": GRANT latency p50 / p99", cell, rat, br.Sizes)
		if br.Sizes[0].Shared {
			cell, rat = p50p99(func(sr *SizeResult) []time.Duration { return sr.Propagation })
			row(name+": GRANT seen by front end B, p50 / p99", cell, rat, br.Sizes)
		}
		row(name+fmt.Sprintf(": start-up to first login (median of %d)", len(br.Sizes[0].Startup)),
			func(sr *SizeResult) string { return ms(percentile(sr.Startup, 50)) + " ms" },
			func(a, b *SizeResult) string { return ratio(percentile(a.Startup, 50), percentile(b.Startup, 50)) }, br.Sizes)
		if br.Sizes[0].Shared && br.Sizes[0].Quiet.D > 0 {
			row(name+": point selects/s on B, A idle / A running GRANT/REVOKE",
				func(sr *SizeResult) string {
					return fmt.Sprintf("%.0f / %.0f (%.2f)", sr.Quiet.perSecond(), sr.Churn.perSecond(), sr.Churn.perSecond()/sr.Quiet.perSecond())
				}, nil, br.Sizes)
			row(name+": GRANT/REVOKE per second on A during the churn",
				func(sr *SizeResult) string { return fmt.Sprintf("%.0f", sr.ChurnStmts.perSecond()) }, nil, br.Sizes)
		}
	}
	fmt.Fprintln(w)
	for _, br := range r.Backends {
		var parts []string
		for _, sr := range br.Sizes {
			parts = append(parts, fmt.Sprintf("%s accounts in %s", count(sr.Accounts), sr.Populate.Round(time.Millisecond)))
		}
		fmt.Fprintf(w, "set-up, not measured: %s store filled (grantstore Import, one transaction): %s\n", br.Name, strings.Join(parts, ", "))
	}
}

// ms is d in milliseconds, to about three significant figures.
func ms(d time.Duration) string {
	v := float64(d) / float64(time.Millisecond)
	switch {
	case v >= 100:
		return strconv.FormatFloat(v, 'f', 0, 64)
	case v >= 10:
		return strconv.FormatFloat(v, 'f', 1, 64)
	default:
		return strconv.FormatFloat(v, 'f', 2, 64)
	}
}

func ratio(a, b time.Duration) string {
	if b <= 0 {
		return "-"
	}
	return strconv.FormatFloat(float64(a)/float64(b), 'f', 2, 64)
}

// count is n with thin groups of three digits, as the README writes them.
func count(n int) string {
	s := strconv.Itoa(n)
	for i := len(s) - 3; i > 0; i -= 3 {
		s = s[:i] + " " + s[i:]
	}
	return s
}
