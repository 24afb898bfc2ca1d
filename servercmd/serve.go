package servercmd

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"log/slog"
	"os"
	"strings"
	"time"

	"github.com/dolthub/go-mysql-server/memory"
	"github.com/dolthub/go-mysql-server/sql"
	"github.com/sirupsen/logrus"

	"github.com/authplug/authplug/extension"
	"github.com/authplug/authplug/grantstore"
	"github.com/authplug/authplug/privilege"
	"github.com/authplug/authplug/server"
	"github.com/authplug/authplug/server/metrics"
)

// serveOptions are serve's flags, extensions' aside.
type serveOptions struct {
	version                  bool
	addr, socket, dataDir    string
	tlsCert, tlsKey          string
	rsaPriv, rsaPub          string
	rootPassword             string
	auditLog                 string
	maxConns, maxUserConns   int
	failThreshold            int
	delayMin, delayMax       time.Duration
	grantsDSN, grantsDSNFile string
	grantsLease              time.Duration
	secureFiles              string
	metricsAddr              string
	extensions               *extension.Configuration
}

// serveFlags declares serve's flags, the extensions' included, on fs.
func (c *cli) serveFlags(fs *flag.FlagSet) (*serveOptions, error) {
	o := &serveOptions{}
	fs.BoolVar(&o.version, "version", false, "print the version and exit")
	fs.StringVar(&o.addr, "addr", "127.0.0.1:4000", "address to listen on")
	fs.StringVar(&o.socket, "socket", "", "Unix socket to listen on as well (none by default)")
	fs.StringVar(&o.dataDir, "data-dir", defaultDataDir, "directory for accounts, grants and the TLS certificate")
	fs.StringVar(&o.tlsCert, "tls-cert", "", "TLS certificate (PEM); default: a self-signed one in --data-dir")
	fs.StringVar(&o.tlsKey, "tls-key", "", "TLS private key (PEM), with --tls-cert")
	fs.StringVar(&o.rsaPriv, "rsa-private-key", "", "RSA private key (PEM) for password exchange without TLS; default: a pair generated in --data-dir")
	fs.StringVar(&o.rsaPub, "rsa-public-key", "", "RSA public key (PEM), with --rsa-private-key")
	fs.StringVar(&o.rootPassword, "root-password", "", "root@localhost's password on first start; default: generated, kept in --data-dir and printed at each start until root logs in")
	fs.StringVar(&o.auditLog, "audit-log", "", "file the extensions' JSON audit lines are appended to (default: standard error)")
	fs.IntVar(&o.maxConns, "max-connections", server.DefaultMaxConnections, "connections open at once, as MySQL's max_connections (one more for CONNECTION_ADMIN or SUPER)")
	fs.IntVar(&o.maxUserConns, "max-user-connections", 0, "sessions per account without a MAX_USER_CONNECTIONS of its own; 0: no limit")
	fs.IntVar(&o.failThreshold, "login-failure-threshold", privilege.DefaultLoginFailureThreshold, "consecutive failed logins for one user name from one client address (ten times as many over all names) before further attempts are delayed; 0 turns the throttle off")
	fs.DurationVar(&o.delayMin, "login-delay-min", privilege.DefaultLoginDelayMin, "the first delay of a throttled address, added again for each further failure")
	fs.DurationVar(&o.delayMax, "login-delay-max", privilege.DefaultLoginDelayMax, "the longest delay of a throttled address")
	fs.StringVar(&o.grantsDSN, "grants-dsn", "", "MySQL/MariaDB/TiDB database holding the accounts and grants shared by several front ends (user:pw@tcp(host:port)/dbname); default: grants.db in --data-dir. Its password shows in ps: prefer --grants-dsn-file or "+grantsDSNEnv)
	fs.StringVar(&o.grantsDSNFile, "grants-dsn-file", "", "file holding --grants-dsn's DSN, keeping its password off the command line; must not be accessible by group or others (chmod 600)")
	fs.DurationVar(&o.grantsLease, "grants-lease", grantstore.DefaultLease, "with --grants-dsn: how long this front end keeps allowing statements without reaching the store, and at most how long a dead front end holds the others' account statements")
	fs.StringVar(&o.metricsAddr, "metrics-addr", "", "address to serve Prometheus metrics on, at /metrics over HTTP (e.g. 127.0.0.1:9104); default: none. Anyone who can reach it sees login and denial counts: keep it off public networks")
	fs.StringVar(&o.secureFiles, "secure-file-priv", "", "the only directory LOAD_FILE, INTO OUTFILE and LOAD DATA may use; default: secure-files in --data-dir; NULL disables file I/O")
	var err error
	if o.extensions, err = c.reg.Configure(fs); err != nil {
		return nil, fmt.Errorf("extensions: %w", err)
	}
	return o, nil
}

func newLogger(w io.Writer) *slog.Logger { return slog.New(slog.NewTextHandler(w, nil)) }

func (c *cli) serve(ctx context.Context, args []string) int {
	fs := flag.NewFlagSet("serve", flag.ContinueOnError)
	o, err := c.serveFlags(fs)
	if err != nil {
		return c.fail(err)
	}
	if code, done := c.parse("serve", fs, args); done {
		return code
	}
	if o.version {
		fmt.Fprintf(c.stdout, "authplug %s\n", version())
		return ExitOK
	}
	if o.maxConns < 1 || o.maxUserConns < 0 || o.failThreshold < 0 {
		return c.usageError("serve", errors.New("--max-connections must be at least 1, --max-user-connections and --login-failure-threshold at least 0"))
	}
	if o.grantsLease <= 0 {
		return c.usageError("serve", errors.New("--grants-lease must be positive"))
	}
	if err := c.runServer(ctx, o); err != nil {
		return c.fail(err)
	}
	return ExitOK
}

func (c *cli) runServer(ctx context.Context, o *serveOptions) (err error) {
	dsn, err := grantsDSNFrom(o.grantsDSN, o.grantsDSNFile, os.Getenv(grantsDSNEnv))
	if err != nil {
		return err
	}
	if o.failThreshold == 0 {
		o.failThreshold = -1 // server.Config's "off"
	}
	log := newLogger(c.stderr)
	// The engine logs through logrus; keep its chatter out of our log.
	logrus.SetOutput(io.Discard)

	audit := c.stderr
	if o.auditLog != "" {
		f, err := os.OpenFile(o.auditLog, os.O_APPEND|os.O_CREATE|os.O_WRONLY, 0o600)
		if err != nil {
			return fmt.Errorf("audit log: %w", err)
		}
		defer f.Close()
		audit = f
	}
	host := extension.Host{DataDir: o.dataDir, Logger: log, Audit: audit}
	var (
		ms  *metricsServer
		obs server.Observer
	)
	if o.metricsAddr != "" {
		reg, err := newMetricsRegistry()
		if err != nil {
			return fmt.Errorf("metrics: %w", err)
		}
		m, err := metrics.New(reg)
		if err != nil {
			return fmt.Errorf("metrics: %w", err)
		}
		// Bound before anything else is set up: an address in use fails
		// the start at once.
		if ms, err = listenMetrics(o.metricsAddr, reg, log); err != nil {
			return err
		}
		defer func() {
			// ctx is done by now: the shutdown gets a deadline of its own.
			sctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), 5*time.Second)
			defer cancel()
			ms.shutdown(sctx)
		}()
		host.Metrics, obs = reg, m
	}
	es, err := o.extensions.Setup(ctx, host)
	if err != nil {
		return err
	}
	// Closed after the server, which may run their hooks until it stops.
	defer es.Close()
	s, err := server.New(server.Config{
		Addr:           o.addr,
		Socket:         o.socket,
		DataDir:        o.dataDir,
		TLSCert:        o.tlsCert,
		TLSKey:         o.tlsKey,
		RSAPrivateKey:  o.rsaPriv,
		RSAPublicKey:   o.rsaPub,
		RootPassword:   o.rootPassword,
		SecureFilePriv: o.secureFiles,
		Extensions:     es,
		Databases:      []sql.Database{memory.NewDatabase("demo")},
		Logger:         log,
		Observer:       obs,

		MaxConnections:        o.maxConns,
		MaxUserConnections:    o.maxUserConns,
		LoginFailureThreshold: o.failThreshold,
		LoginDelayMin:         o.delayMin,
		LoginDelayMax:         o.delayMax,

		GrantsDSN:   dsn,
		GrantsLease: o.grantsLease,
	})
	if err != nil {
		return err
	}
	if err := seedDemo(ctx, s); err != nil {
		s.Close()
		return fmt.Errorf("demo database: %w", err)
	}
	if pw := s.GeneratedRootPassword(); pw != "" {
		log.Warn("generated a password for root@localhost; shown at each start until root logs in", "password", pw, "file", s.RootPasswordFile())
	}
	if ms != nil {
		ms.serve(log)
		log.Info("serving metrics", "url", "http://"+ms.addr()+metricsPath)
	}
	log.Info("authplug server listening", "addr", s.Addr().String(), "data_dir", o.dataDir)
	if dsn != "" {
		log.Info("table data lives in memory and is lost on exit; accounts and grants are shared through --grants-dsn")
	} else {
		log.Info("table data lives in memory and is lost on exit; accounts and grants are saved in the data directory")
	}

	served := make(chan error, 1)
	go func() { served <- s.Serve() }()
	select {
	case err := <-served:
		return err
	case <-ctx.Done():
	}
	log.Info("shutting down")
	// ctx is done: the shutdown gets a deadline of its own.
	sctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), 10*time.Second)
	defer cancel()
	if err := s.Shutdown(sctx); err != nil && !errors.Is(err, context.DeadlineExceeded) {
		return err
	}
	return nil
}

// grantsDSNEnv is the environment variable that may hold --grants-dsn's
// DSN: unlike a flag, it is not shown by ps to other users.
const grantsDSNEnv = "AUTHPLUG_GRANTS_DSN"

// grantsDSNFrom is the shared store's DSN from the one place it was given:
// the flag, the file, or the environment (env); "" for none. Two are
// refused rather than one preferred: which one wins would be a guess.
func grantsDSNFrom(flagDSN, file, env string) (string, error) {
	var given []string
	if flagDSN != "" {
		given = append(given, "--grants-dsn")
	}
	if file != "" {
		given = append(given, "--grants-dsn-file")
	}
	if env != "" {
		given = append(given, grantsDSNEnv)
	}
	if len(given) > 1 {
		return "", fmt.Errorf("the grants DSN is given by %s: give it one way only", strings.Join(given, " and "))
	}
	switch {
	case file != "":
		return grantstore.ReadDSNFile(file)
	case env != "":
		return env, nil
	}
	return flagDSN, nil
}

// seedDemo gives a newcomer something to query at once.
func seedDemo(ctx context.Context, s *server.Server) error {
	for _, q := range []string{
		"CREATE TABLE demo.greetings (id INT PRIMARY KEY, lang VARCHAR(8), text VARCHAR(100))",
		"INSERT INTO demo.greetings VALUES (1, 'en', 'Hello'), (2, 'fr', 'Bonjour'), (3, 'de', 'Hallo')",
	} {
		if err := s.ExecuteSQL(ctx, q); err != nil {
			return err
		}
	}
	return nil
}

// resetOptions are reset-root-password's flags.
type resetOptions struct {
	dataDir, password string
	extensions        *extension.Configuration
}

// resetFlags declares reset-root-password's flags. The extensions' are
// there too: root is granted their dynamic privileges, so they are set up
// as the server sets them up.
func (c *cli) resetFlags(fs *flag.FlagSet) (*resetOptions, error) {
	o := &resetOptions{}
	fs.StringVar(&o.dataDir, "data-dir", defaultDataDir, "the server's data directory")
	fs.StringVar(&o.password, "root-password", "", "the new password; default: generated and printed")
	var err error
	if o.extensions, err = c.reg.Configure(fs); err != nil {
		return nil, fmt.Errorf("extensions: %w", err)
	}
	return o, nil
}

// resetRootPassword restores root@localhost, offline: the data directory's
// lock makes it refuse while a server runs there.
func (c *cli) resetRootPassword(ctx context.Context, args []string) int {
	fs := flag.NewFlagSet("reset-root-password", flag.ContinueOnError)
	o, err := c.resetFlags(fs)
	if err != nil {
		return c.fail(err)
	}
	if code, done := c.parse("reset-root-password", fs, args); done {
		return code
	}
	if err := c.reset(ctx, o); err != nil {
		return c.fail(fmt.Errorf("reset-root-password: %w", err))
	}
	return ExitOK
}

func (c *cli) reset(ctx context.Context, o *resetOptions) error {
	// Before the extensions' set-up, which may create files there (the
	// sample OAuth extension's dev key): a mistyped path is not created.
	if _, err := os.Stat(o.dataDir); err != nil {
		return fmt.Errorf("data directory: %w", err)
	}
	es, err := o.extensions.Setup(ctx, extension.Host{DataDir: o.dataDir, Logger: newLogger(c.stderr), Audit: c.stderr})
	if err != nil {
		return err
	}
	defer es.Close()
	generated, err := server.ResetRootPassword(o.dataDir, o.password, es)
	if err != nil {
		return err
	}
	if generated != "" {
		_, err = fmt.Fprintf(c.stdout, "root@localhost's new password: %s\n(also shown at each server start until root logs in)\n", generated)
		return err
	}
	_, err = fmt.Fprintln(c.stdout, "root@localhost's password is reset")
	return err
}
