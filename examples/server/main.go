// Command server runs authplug embedded in a MySQL-compatible server, with
// the extensions its imports register (the way database/sql drivers
// register) and a small in-memory demo database.
//
//	go run ./examples/server
//	mariadb -h 127.0.0.1 -P 4000 -u root -p
//
// Subcommands: token (mints a dev IdP token) and reset-root-password (the
// way back in for a lost root password, with the server stopped).
package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"log/slog"
	"os"
	"os/signal"
	"strings"
	"syscall"
	"time"

	"github.com/dolthub/go-mysql-server/memory"
	"github.com/dolthub/go-mysql-server/sql"
	"github.com/sirupsen/logrus"

	"github.com/authplug/authplug/examples/oauth"
	"github.com/authplug/authplug/extension"
	"github.com/authplug/authplug/grantstore"
	"github.com/authplug/authplug/privilege"
	"github.com/authplug/authplug/server"
)

func main() {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	var err error
	switch {
	case len(os.Args) > 1 && os.Args[1] == "token":
		err = mintToken(os.Args[2:], os.Stdout)
	case len(os.Args) > 1 && os.Args[1] == "reset-root-password":
		err = resetRootPassword(os.Args[2:], os.Stdout)
	default:
		err = run(ctx, os.Args[1:], os.Stderr)
	}
	if err != nil {
		fmt.Fprintln(os.Stderr, "authplug:", err)
		os.Exit(1)
	}
}

func run(ctx context.Context, args []string, logOut io.Writer) error {
	fs := flag.NewFlagSet("server", flag.ContinueOnError)
	addr := fs.String("addr", "127.0.0.1:4000", "address to listen on")
	socket := fs.String("socket", "", "Unix socket to listen on as well (none by default)")
	dataDir := fs.String("data-dir", "./authplug-data", "directory for accounts, grants and the TLS certificate")
	tlsCert := fs.String("tls-cert", "", "TLS certificate (PEM); default: a self-signed one in --data-dir")
	tlsKey := fs.String("tls-key", "", "TLS private key (PEM), with --tls-cert")
	rsaPriv := fs.String("rsa-private-key", "", "RSA private key (PEM) for password exchange without TLS; default: a pair generated in --data-dir")
	rsaPub := fs.String("rsa-public-key", "", "RSA public key (PEM), with --rsa-private-key")
	rootPassword := fs.String("root-password", "", "root@localhost's password on first start; default: generated, kept in --data-dir and printed at each start until root logs in")
	oauthIssuer := fs.String("oauth-issuer", oauth.DevIssuer, "the issuer token accounts may be bound to")
	oauthAudience := fs.String("oauth-audience", oauth.DefaultAudience, "the audience tokens must carry")
	oauthJWKS := fs.String("oauth-jwks-file", "", "JWKS to verify tokens with, re-read when it changes; default: a dev IdP key in --data-dir")
	oauthJWKSURL := fs.String("oauth-jwks-url", "", "JWKS endpoint of the identity provider (cached, refreshed in the background)")
	oauthMaxAge := fs.Duration("oauth-max-age", time.Hour, "how old a token's iat may be")
	oauthLeeway := fs.Duration("oauth-leeway", 30*time.Second, "clock skew allowed on exp, nbf and iat")
	auditLog := fs.String("audit-log", "", "file the JSON audit lines are appended to (default: standard error)")
	maxConns := fs.Int("max-connections", server.DefaultMaxConnections, "connections open at once, as MySQL's max_connections (one more for CONNECTION_ADMIN or SUPER)")
	maxUserConns := fs.Int("max-user-connections", 0, "sessions per account without a MAX_USER_CONNECTIONS of its own; 0: no limit")
	failThreshold := fs.Int("login-failure-threshold", privilege.DefaultLoginFailureThreshold, "consecutive failed logins for one user name from one client address (ten times as many over all names) before further attempts are delayed; 0 turns the throttle off")
	delayMin := fs.Duration("login-delay-min", privilege.DefaultLoginDelayMin, "the first delay of a throttled address, added again for each further failure")
	delayMax := fs.Duration("login-delay-max", privilege.DefaultLoginDelayMax, "the longest delay of a throttled address")
	grantsDSN := fs.String("grants-dsn", "", "MySQL/MariaDB/TiDB database holding the accounts and grants shared by several front ends (user:pw@tcp(host:port)/dbname); default: grants.db in --data-dir. Its password shows in ps: prefer --grants-dsn-file or "+grantsDSNEnv)
	grantsDSNFile := fs.String("grants-dsn-file", "", "file holding --grants-dsn's DSN, keeping its password off the command line; must not be accessible by group or others (chmod 600)")
	grantsLease := fs.Duration("grants-lease", grantstore.DefaultLease, "with --grants-dsn: how long this front end keeps allowing statements without reaching the store, and at most how long a dead front end holds the others' account statements")
	secureFiles := fs.String("secure-file-priv", "", "the only directory LOAD_FILE, INTO OUTFILE and LOAD DATA may use; default: secure-files in --data-dir; NULL disables file I/O")
	if err := fs.Parse(args); err != nil {
		return err
	}
	if *maxConns < 1 || *maxUserConns < 0 || *failThreshold < 0 {
		return errors.New("--max-connections must be at least 1, --max-user-connections and --login-failure-threshold at least 0")
	}
	if *grantsLease <= 0 {
		return errors.New("--grants-lease must be positive")
	}
	dsn, err := grantsDSNFrom(*grantsDSN, *grantsDSNFile, os.Getenv(grantsDSNEnv))
	if err != nil {
		return err
	}
	if *failThreshold == 0 {
		*failThreshold = -1 // server.Config's "off"
	}

	log := slog.New(slog.NewTextHandler(logOut, nil))
	// The engine logs through logrus; keep its chatter out of our log.
	logrus.SetOutput(io.Discard)

	var audit io.Writer = logOut
	if *auditLog != "" {
		f, err := os.OpenFile(*auditLog, os.O_APPEND|os.O_CREATE|os.O_WRONLY, 0o600)
		if err != nil {
			return fmt.Errorf("audit log: %w", err)
		}
		defer f.Close()
		audit = f
	}
	oauth.Configure(oauth.Settings{
		Issuer: *oauthIssuer, Audience: *oauthAudience, JWKSFile: *oauthJWKS, JWKSURL: *oauthJWKSURL, DataDir: *dataDir,
		MaxAge: *oauthMaxAge, Leeway: *oauthLeeway, Audit: audit, Logger: log,
	})
	es, err := extension.GetExtensions()
	if err != nil {
		return err
	}
	s, err := server.New(server.Config{
		Addr:           *addr,
		Socket:         *socket,
		DataDir:        *dataDir,
		TLSCert:        *tlsCert,
		TLSKey:         *tlsKey,
		RSAPrivateKey:  *rsaPriv,
		RSAPublicKey:   *rsaPub,
		RootPassword:   *rootPassword,
		SecureFilePriv: *secureFiles,
		Extensions:     es,
		Databases:      []sql.Database{memory.NewDatabase("demo")},
		Logger:         log,

		MaxConnections:        *maxConns,
		MaxUserConnections:    *maxUserConns,
		LoginFailureThreshold: *failThreshold,
		LoginDelayMin:         *delayMin,
		LoginDelayMax:         *delayMax,

		GrantsDSN:   dsn,
		GrantsLease: *grantsLease,
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
	log.Info("authplug server listening", "addr", s.Addr().String(), "data_dir", *dataDir)
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
	sctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
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

// resetRootPassword restores root@localhost, offline: the data directory's
// lock makes it refuse while a server runs there.
func resetRootPassword(args []string, out io.Writer) error {
	fs := flag.NewFlagSet("reset-root-password", flag.ContinueOnError)
	dataDir := fs.String("data-dir", "./authplug-data", "the server's data directory")
	password := fs.String("root-password", "", "the new password; default: generated and printed")
	if err := fs.Parse(args); err != nil {
		return err
	}
	if fs.NArg() > 0 {
		return fmt.Errorf("reset-root-password: unexpected argument %q", fs.Arg(0))
	}
	es, err := extension.GetExtensions()
	if err != nil {
		return err
	}
	generated, err := server.ResetRootPassword(*dataDir, *password, es)
	if err != nil {
		return fmt.Errorf("reset-root-password: %w", err)
	}
	if generated != "" {
		_, err = fmt.Fprintf(out, "root@localhost's new password: %s\n(also shown at each server start until root logs in)\n", generated)
		return err
	}
	_, err = fmt.Fprintln(out, "root@localhost's password is reset")
	return err
}

// mintToken prints a token signed by the dev IdP in the data directory: the
// quick start's stand-in for an identity provider.
func mintToken(args []string, out io.Writer) error {
	fs := flag.NewFlagSet("token", flag.ContinueOnError)
	dataDir := fs.String("data-dir", "./authplug-data", "the server's data directory (holds the dev IdP key)")
	sub := fs.String("sub", "", "subject: the account's user name (required)")
	scope := fs.String("scope", "", `space-separated scopes, e.g. "select:demo insert:demo.greetings"`)
	groups := fs.String("groups", "", "comma-separated groups")
	ttl := fs.Duration("ttl", 15*time.Minute, "lifetime")
	issuer := fs.String("issuer", oauth.DevIssuer, "issuer")
	audience := fs.String("audience", oauth.DefaultAudience, "audience")
	if err := fs.Parse(args); err != nil {
		return err
	}
	if *sub == "" {
		return errors.New("token: --sub is required")
	}
	dev, err := oauth.LoadDevIdP(*dataDir)
	if err != nil {
		return err
	}
	var gs []string
	for _, g := range strings.Split(*groups, ",") {
		if g = strings.TrimSpace(g); g != "" {
			gs = append(gs, g)
		}
	}
	tok, err := dev.Mint(oauth.TokenRequest{Issuer: *issuer, Audience: *audience, Subject: *sub, Scope: *scope, Groups: gs, TTL: *ttl})
	if err != nil {
		return err
	}
	_, err = fmt.Fprintln(out, tok)
	return err
}
