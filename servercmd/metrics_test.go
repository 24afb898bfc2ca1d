package servercmd

import (
	"bufio"
	"context"
	"crypto/rand"
	"database/sql"
	"encoding/binary"
	"errors"
	"flag"
	"fmt"
	"io"
	"net"
	"net/http"
	"os"
	"path/filepath"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/go-sql-driver/mysql"
	"github.com/prometheus/client_golang/prometheus"

	"github.com/authplug/authplug/extension"
)

var metricsURLRE = regexp.MustCompile(`msg="serving metrics" url=(\S+)`)

// startMetricsRun is startRun with the extensions of reg.
func startMetricsRun(t *testing.T, reg *extension.Registry, args ...string) *running {
	t.Helper()
	ctx, cancel := context.WithCancel(t.Context())
	r := &running{log: &signalWriter{ready: make(chan struct{})}, cancel: cancel, done: make(chan int, 1)}
	go func() { r.done <- Run(ctx, args, io.Discard, r.log, WithRegistry(reg)) }()
	t.Cleanup(func() { r.stop(t) })
	select {
	case <-r.log.ready:
		return r
	case code := <-r.done:
		r.done = nil
		t.Fatalf("Run %v returned %d early:\n%s", args, code, r.log)
	case <-time.After(waitLimit):
		t.Fatalf("Run %v did not listen within %v:\n%s", args, waitLimit, r.log)
	}
	return nil
}

func (r *running) metricsURL(t *testing.T) string {
	t.Helper()
	m := metricsURLRE.FindStringSubmatch(r.log.String())
	if m == nil {
		t.Fatalf("no metrics URL in the log:\n%s", r.log)
	}
	return m[1]
}

// scrape is one scrape: each series, as `name{labels}`, and its value.
type scrape map[string]float64

func scrapeMetrics(t *testing.T, url string) (scrape, string) {
	t.Helper()
	client := &http.Client{Timeout: waitLimit}
	resp, err := client.Get(url)
	if err != nil {
		t.Fatalf("scrape: %v", err)
	}
	defer resp.Body.Close()
	body, err := io.ReadAll(resp.Body)
	if err != nil || resp.StatusCode != http.StatusOK {
		t.Fatalf("scrape: %s, %v\n%s", resp.Status, err, body)
	}
	s := scrape{}
	sc := bufio.NewScanner(strings.NewReader(string(body)))
	for sc.Scan() {
		line := sc.Text()
		if line == "" || strings.HasPrefix(line, "#") {
			continue
		}
		i := strings.LastIndexByte(line, ' ')
		v, err := strconv.ParseFloat(line[i+1:], 64)
		if err != nil {
			t.Fatalf("scrape: line %q: %v", line, err)
		}
		s[line[:i]] = v
	}
	return s, string(body)
}

// series lists the series of the metric name.
func (s scrape) series(name string) []string {
	var out []string
	for k := range s {
		if k == name || strings.HasPrefix(k, name+"{") {
			out = append(out, k)
		}
	}
	slices.Sort(out)
	return out
}

// waitScrape scrapes until ok holds of a scrape, failing the test if it
// does not within waitLimit.
func waitScrape(t *testing.T, url, what string, ok func(scrape) bool) {
	t.Helper()
	deadline := time.Now().Add(waitLimit)
	tick := time.NewTicker(10 * time.Millisecond)
	defer tick.Stop()
	for {
		s, body := scrapeMetrics(t, url)
		if ok(s) {
			return
		}
		if time.Now().After(deadline) {
			t.Fatalf("%s: not within %v; last scrape:\n%s", what, waitLimit, body)
		}
		<-tick.C
	}
}

// loginAs opens one session, over TLS (caching_sha2_password's first login
// needs a secure transport).
func loginAs(t *testing.T, addr, user, pw string) (*sql.Conn, error) {
	t.Helper()
	c := mysql.NewConfig()
	c.User, c.Passwd, c.Net, c.Addr, c.TLSConfig = user, pw, "tcp", addr, "skip-verify"
	db, err := sql.Open("mysql", c.FormatDSN())
	if err != nil {
		t.Fatal(err)
	}
	// Closing the connection closes the session, not a pool's idle copy.
	db.SetMaxIdleConns(0)
	t.Cleanup(func() { db.Close() })
	conn, err := db.Conn(t.Context())
	if err != nil {
		return nil, err
	}
	t.Cleanup(func() { conn.Close() })
	return conn, nil
}

func mustExec(t *testing.T, c *sql.Conn, query string) {
	t.Helper()
	if _, err := c.ExecContext(t.Context(), query); err != nil {
		t.Fatalf("%s: %v", query, err)
	}
}

func wantErrno(t *testing.T, err error, want uint16, what string) {
	t.Helper()
	var me *mysql.MySQLError
	if !errors.As(err, &me) || me.Number != want {
		t.Fatalf("%s: got %v, want error %d", what, err, want)
	}
}

// counted checks that each series moved by its delta from before to after.
func counted(t *testing.T, before, after scrape, deltas map[string]float64) {
	t.Helper()
	for k, d := range deltas {
		if got := after[k] - before[k]; got != d {
			t.Errorf("%s: went from %v to %v, want a change of %v", k, before[k], after[k], d)
		}
	}
}

const (
	loginsOK       = `authplug_logins_total{outcome="success",plugin="caching_sha2_password",reason=""}`
	loginsGhost    = `authplug_logins_total{outcome="failure",plugin="none",reason="no_account"}`
	loginsWrongPw  = `authplug_logins_total{outcome="failure",plugin="caching_sha2_password",reason="bad_credentials"}`
	loginsNative   = `authplug_logins_total{outcome="failure",plugin="mysql_native_password",reason="bad_credentials"}`
	loginOKCount   = `authplug_login_duration_seconds_count{outcome="success",plugin="caching_sha2_password"}`
	loginFailCount = `authplug_login_duration_seconds_count{outcome="failure",plugin="none"}`
	openSessions   = `authplug_open_sessions`
	denied1142     = `authplug_denials_total{errno="1142"}`
	denied1227     = `authplug_denials_total{errno="1227"}`
	impersonated   = `authplug_impersonations_total{outcome="success"}`
	impersonateNo  = `authplug_impersonations_total{outcome="failure"}`
	probeMetric    = `authplug_probe_setups_total`
)

// probe is an extension that registers a metric of its own on the host's
// registry.
func probe(t *testing.T) *extension.Registry {
	t.Helper()
	reg := extension.NewRegistry()
	err := reg.RegisterConfigurable("probe", func(*flag.FlagSet) extension.SetupFunc {
		return func(_ context.Context, h extension.Host) ([]extension.Option, error) {
			c := prometheus.NewCounter(prometheus.CounterOpts{Name: probeMetric, Help: "Set-ups of the probe extension."})
			if err := h.Metrics.Register(c); err != nil {
				return nil, err
			}
			c.Inc()
			return nil, nil
		}
	})
	if err != nil {
		t.Fatal(err)
	}
	return reg
}

func TestMetricsCountLoginsDenialsSessionsAndImpersonations(t *testing.T) {
	r := startMetricsRun(t, probe(t), "--addr", "127.0.0.1:0", "--data-dir", t.TempDir(), "--root-password", "pw",
		"--metrics-addr", "127.0.0.1:0", "--login-failure-threshold", "0")
	addr, url := r.addr(t), r.metricsURL(t)

	s0, _ := scrapeMetrics(t, url)
	if s0[probeMetric] != 1 {
		t.Errorf("the extension's own metric: %v, want 1 (registered on Host.Metrics)", s0[probeMetric])
	}
	if len(s0.series("go_goroutines")) != 1 {
		t.Error("the Go runtime's metrics are not served")
	}

	root, err := loginAs(t, addr, "root", "pw")
	if err != nil {
		t.Fatal(err)
	}
	mustExec(t, root, "CREATE USER alice IDENTIFIED BY 'pw'")
	mustExec(t, root, "CREATE USER nat IDENTIFIED WITH mysql_native_password BY 'pw'")
	mustExec(t, root, "GRANT PROXY ON alice TO root@localhost")

	alice, err := loginAs(t, addr, "alice", "pw")
	if err != nil {
		t.Fatal(err)
	}
	s1, _ := scrapeMetrics(t, url)
	counted(t, s0, s1, map[string]float64{loginsOK: 2, loginOKCount: 2, openSessions: 2})

	_, err = alice.ExecContext(t.Context(), "SELECT * FROM demo.greetings")
	wantErrno(t, err, 1142, "alice reads a table she holds nothing on")
	_, err = alice.ExecContext(t.Context(), "EXECUTE AS root@localhost SELECT 1")
	wantErrno(t, err, 1227, "alice acts as root")
	mustExec(t, root, "EXECUTE AS alice SELECT 1")
	s2, _ := scrapeMetrics(t, url)
	counted(t, s1, s2, map[string]float64{denied1142: 1, denied1227: 1, impersonated: 1, impersonateNo: 1})

	// The session count goes back down once the client has left.
	if err := alice.Close(); err != nil {
		t.Fatal(err)
	}
	waitScrape(t, url, "alice's session closed", func(s scrape) bool { return s[openSessions] == 1 })

	if _, err := loginAs(t, addr, "ghost", "pw"); err == nil {
		t.Fatal("a login with no account succeeded")
	}
	_, err = loginAs(t, addr, "alice", "wrong")
	wantErrno(t, err, 1045, "alice with a wrong password")
	s3, _ := scrapeMetrics(t, url)
	counted(t, s2, s3, map[string]float64{loginsGhost: 1, loginsWrongPw: 1, loginFailCount: 1, loginsOK: 0})
	if s3[openSessions] != 1 {
		t.Errorf("open sessions after failed logins: %v, want root's alone", s3[openSessions])
	}

	t.Run("client-chosen names make no new series", func(t *testing.T) {
		before, _ := scrapeMetrics(t, url)
		// A random 32-character name (the longest a user name may be).
		b := make([]byte, 16)
		rand.Read(b)
		random := fmt.Sprintf("%x", b)
		if _, err := loginAs(t, addr, random, "pw"); err == nil {
			t.Fatal("a random name logged in")
		}
		// A client plugin the server does not have: vitess switches the
		// client to the account's plugin, whose check then fails.
		rawLoginWithPlugin(t, addr, "nat", "evil_plugin")

		after, body := scrapeMetrics(t, url)
		counted(t, before, after, map[string]float64{loginsGhost: 1, loginsNative: 1})
		// The only new series are those of nat's plugin, a loaded one.
		want := map[string]bool{loginsNative: true, `authplug_login_duration_seconds_count{outcome="failure",plugin="mysql_native_password"}`: true}
		for _, name := range []string{"authplug_logins_total", "authplug_login_duration_seconds_count", "authplug_denials_total"} {
			for _, k := range after.series(name) {
				if _, ok := before[k]; !ok && !want[k] {
					t.Errorf("new series %s", k)
				}
			}
		}
		for _, word := range []string{random, "evil_plugin"} {
			if strings.Contains(body, word) {
				t.Errorf("the scrape holds the client's %q:\n%s", word, body)
			}
		}
	})

	t.Run("not served on the MySQL port", func(t *testing.T) {
		// An HTTP request there gets the MySQL greeting, not metrics.
		c, err := net.DialTimeout("tcp", addr, waitLimit)
		if err != nil {
			t.Fatal(err)
		}
		defer c.Close()
		if err := c.SetDeadline(time.Now().Add(waitLimit)); err != nil {
			t.Fatal(err)
		}
		if _, err := io.WriteString(c, "GET /metrics HTTP/1.0\r\n\r\n"); err != nil {
			t.Fatal(err)
		}
		first := make([]byte, 5)
		if _, err := io.ReadFull(c, first); err != nil {
			t.Fatal(err)
		}
		if string(first) == "HTTP/" || first[4] != 10 {
			t.Errorf("the MySQL port answered an HTTP request with %q, want the greeting (protocol 10)", first)
		}
		client := &http.Client{Timeout: waitLimit}
		resp, err := client.Get(strings.TrimSuffix(url, "/metrics") + "/")
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
		if resp.StatusCode != http.StatusNotFound {
			t.Errorf("GET / on the metrics port: %s, want 404: only /metrics is served", resp.Status)
		}
	})
}

// rawLoginWithPlugin logs in as user naming the client plugin plugin in
// its handshake response, answers the server's switch to the account's
// plugin with a wrong scramble, and waits for the refusal.
func rawLoginWithPlugin(t *testing.T, addr, user, plugin string) {
	t.Helper()
	c, err := net.Dial("tcp", addr)
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	if err := c.SetDeadline(time.Now().Add(waitLimit)); err != nil {
		t.Fatal(err)
	}
	readPacket := func() []byte {
		var h [4]byte
		if _, err := io.ReadFull(c, h[:]); err != nil {
			t.Fatalf("reading a packet: %v", err)
		}
		p := make([]byte, int(h[0])|int(h[1])<<8|int(h[2])<<16)
		if _, err := io.ReadFull(c, p); err != nil {
			t.Fatalf("reading a packet: %v", err)
		}
		return p
	}
	writePacket := func(seq byte, p []byte) {
		n := len(p)
		if _, err := c.Write(append([]byte{byte(n), byte(n >> 8), byte(n >> 16), seq}, p...)); err != nil {
			t.Fatal(err)
		}
	}
	readPacket() // the greeting

	// Protocol 4.1, secure connection, plugin auth, long password.
	const caps = 0x200 | 0x8000 | 0x80000 | 1
	p := binary.LittleEndian.AppendUint32(nil, caps)
	p = binary.LittleEndian.AppendUint32(p, 1<<24)
	p = append(p, 33)
	p = append(p, make([]byte, 23)...)
	p = append(append(p, user...), 0)
	p = append(p, 20)
	p = append(p, make([]byte, 20)...)
	p = append(append(p, plugin...), 0)
	writePacket(1, p)
	if sw := readPacket(); len(sw) == 0 || sw[0] != 0xfe {
		t.Fatalf("want an auth switch request, got % x", sw)
	}
	writePacket(3, make([]byte, 20))
	if e := readPacket(); len(e) < 3 || e[0] != 0xff || binary.LittleEndian.Uint16(e[1:]) != 1045 {
		t.Fatalf("want error 1045, got % x", e)
	}
}

func TestMetricsOfTwoServersInOneProcess(t *testing.T) {
	args := func() []string {
		return []string{"--addr", "127.0.0.1:0", "--data-dir", t.TempDir(), "--metrics-addr", "127.0.0.1:0", "--root-password", "pw"}
	}
	a := startRun(t, args()...)
	b := startRun(t, args()...)
	if err := rootLogin(b.addr(t), "pw"); err != nil {
		t.Fatal(err)
	}
	// Each server counts its own logins on a registry of its own.
	waitScrape(t, b.metricsURL(t), "b's root login", func(s scrape) bool { return s[loginsOK] == 1 })
	if s, _ := scrapeMetrics(t, a.metricsURL(t)); s[loginsOK] != 0 {
		t.Errorf("a counted b's login: %v", s[loginsOK])
	}

	// The metrics address in use fails the start, before anything is set
	// up.
	dir := t.TempDir()
	busy := strings.TrimSuffix(strings.TrimPrefix(a.metricsURL(t), "http://"), "/metrics")
	r, err := tryRun(t, "--addr", "127.0.0.1:0", "--data-dir", dir, "--metrics-addr", busy)
	if err == nil {
		r.stop(t)
		t.Fatal("started with its metrics address in use")
	}
	if r.code != ExitFailure || !strings.Contains(err.Error(), "--metrics-addr") || !strings.Contains(err.Error(), "address already in use") {
		t.Errorf("start with the metrics address in use: %v, want exit 1 naming --metrics-addr and the address in use", err)
	}
	if _, err := os.Stat(filepath.Join(dir, "grants.db")); !errors.Is(err, os.ErrNotExist) {
		t.Errorf("a start refused for its metrics address created grants: %v", err)
	}
}
