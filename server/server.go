// Package server embeds authplug in go-mysql-server and its vitess wire
// protocol: clients log in through authplug's plugins, every statement is
// authorized by privilege.Manager, and account statements (CREATE USER,
// GRANT, ...) change authplug's own store, the one source of truth.
package server

import (
	"context"
	"crypto/rand"
	"encoding/base64"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	sqle "github.com/dolthub/go-mysql-server"
	"github.com/dolthub/go-mysql-server/memory"
	gmsserver "github.com/dolthub/go-mysql-server/server"
	"github.com/dolthub/go-mysql-server/sql"
	"github.com/dolthub/vitess/go/mysql"

	"github.com/authplug/authplug/account"
	"github.com/authplug/authplug/authplugin"
	"github.com/authplug/authplug/extension"
	"github.com/authplug/authplug/grantstore"
	"github.com/authplug/authplug/mysqlerr"
	"github.com/authplug/authplug/priv"
	"github.com/authplug/authplug/privilege"
)

// Config configures a Server.
type Config struct {
	// Addr is the TCP address to listen on, e.g. 127.0.0.1:4000. Ignored
	// when Listener is set.
	Addr     string
	Listener net.Listener
	// Socket is a Unix socket path to listen on beside Addr; empty for none.
	// A socket counts as a secure transport, as TLS does.
	Socket string
	// DataDir holds the grants file and the auto-generated TLS certificate.
	DataDir string
	// TLSCert and TLSKey name a certificate and key; empty means a
	// self-signed pair in DataDir.
	TLSCert, TLSKey string
	// RSAPrivateKey and RSAPublicKey name the key pair with which clients
	// without TLS send passwords to caching_sha2_password and
	// sha256_password; empty means a pair generated into DataDir
	// (private_key.pem, public_key.pem) on first start, as MySQL does.
	RSAPrivateKey, RSAPublicKey string
	// RootPassword is root@localhost's password on first start; empty means
	// a generated one, kept in <DataDir>/initial-root-password and returned
	// by Server.GeneratedRootPassword at every start until root logs in.
	RootPassword string
	// Extensions are the set-up extensions whose plugins and privileges the
	// server knows, and whose session handlers receive events.
	Extensions *extension.Extensions
	// Databases are the engine's databases (in memory).
	Databases []sql.Database
	// DefaultAuthPlugin is offered in the initial handshake and to users
	// without an account: caching_sha2_password (MySQL 8's default) unless
	// set. An account whose plugin differs costs one auth-switch round trip.
	DefaultAuthPlugin string
	// SecureFilePriv is MySQL's secure_file_priv: the only directory that
	// LOAD_FILE, SELECT ... INTO OUTFILE/DUMPFILE and LOAD DATA may use
	// (each also needs FILE). Empty means <DataDir>/secure-files, created
	// on start; "NULL" disables file I/O.
	SecureFilePriv string
	// HandshakeTimeout bounds a login, from accept to authenticated; the
	// auth plugin's work (hashing, token checks) and any login throttle
	// delay end with it.
	HandshakeTimeout time.Duration
	Logger           *slog.Logger
	// Observer is told of logins, privilege denials, sessions and
	// impersonations, for metrics (package server/metrics); nil for none.
	Observer Observer

	// MaxConnections is MySQL's max_connections: how many connections may
	// be open at once, handshakes included; 0 means 151, MySQL's default,
	// and a negative value no limit. As in MySQL, one more is let in for an
	// account holding CONNECTION_ADMIN or SUPER; past that, a client gets
	// 1040 in place of the greeting.
	MaxConnections int
	// MaxUserConnections is MySQL's global max_user_connections: how many
	// sessions an account without a MAX_USER_CONNECTIONS of its own may
	// have open (1203 past it); 0 means no limit, MySQL's default. An
	// account's own limit is 1226 past it.
	MaxUserConnections int
	// LoginFailureThreshold, LoginDelayMin and LoginDelayMax configure the
	// login throttle (privilege.LoginThrottle): after this many consecutive
	// failed logins from one client address, each further attempt from it
	// waits LoginDelayMin, growing by LoginDelayMin per failure up to
	// LoginDelayMax, until a login from it succeeds. Zero values mean 3,
	// 1 s and 30 s, so an embedding server is throttled unless it says
	// otherwise; a negative threshold turns the throttle off.
	LoginFailureThreshold        int
	LoginDelayMin, LoginDelayMax time.Duration

	// GrantsDSN, when set, is a MySQL, MariaDB or TiDB database
	// (go-sql-driver/mysql form, user:pw@tcp(host:port)/dbname) holding
	// the accounts and grants that this server shares with other front
	// ends; DataDir's grants.db is then not used. An account statement
	// returns once every live front end has applied it.
	GrantsDSN string
	// GrantsLease is a front end's lease on the shared store (0 means
	// grantstore.DefaultLease, 5 s): a front end that cannot renew it
	// refuses statements (1047) until it has caught up again, and a dead
	// one holds the others' account statements at most this long.
	GrantsLease time.Duration
}

// Server is a running MySQL-compatible server.
type Server struct {
	cfg          Config
	log          *slog.Logger
	obs          Observer
	store        *privilege.MemStore
	grants       *grantstore.Store // where store's changes are written
	mgr          *privilege.Manager
	accounts     *account.Executor
	engine       *sqle.Engine
	pro          *memory.DbProvider
	gms          *gmsserver.Server
	sessions     sync.Map // connection ID -> *conn, once authenticated
	pending      sync.Map // connection ID -> *extension.SessionExtensions, until then
	rootPassword string
	// rsaPublicKey is the Caching_sha2_password_rsa_public_key status
	// variable (status.go).
	rsaPublicKey string
	// rootPending is set while the generated root password's file exists:
	// root's first login removes it.
	rootPending atomic.Bool
	lock        *dirLock
	closeOnce   sync.Once
	// secureFiles is secure_file_priv: the one directory file I/O may use;
	// empty disables file I/O.
	secureFiles string
	definers    definerRegistry
	// The limits (limits.go): open connections against max_connections,
	// sessions against accounts' limits and the login throttle.
	conns     connLimit
	userConns *privilege.UserConnections
	throttle  *privilege.LoginThrottle
	// shared is this server's lease on a shared grant store (GrantsDSN),
	// nil otherwise; stopFollow stops following it.
	shared     *grantstore.Shared
	stopFollow func()
}

// conn is authplug's state for one authenticated connection.
type conn struct {
	id     uint32
	sess   *privilege.Session
	events *extension.SessionExtensions
	plan   planState
	acting impersonation
	// release gives back the session's count against its account's
	// MAX_USER_CONNECTIONS.
	release func()
}

// authzMu serializes engine construction: go-mysql-server reads its
// authorization handler factory from a global when a catalog is made.
var authzMu sync.Mutex

// newEngine makes an engine whose catalog uses f, and puts back whatever
// factory was set before, so that other engines in the process keep theirs.
func newEngine(pro sql.DatabaseProvider, f sql.AuthorizationHandlerFactory) *sqle.Engine {
	cheapSessionStatus()
	authzMu.Lock()
	defer authzMu.Unlock()
	prev := sql.GetAuthorizationHandlerFactory()
	sql.SetAuthorizationHandlerFactory(f)
	defer sql.SetAuthorizationHandlerFactory(prev)
	return sqle.NewDefault(pro)
}

// New builds a server: locks the data directory, loads (or, on first start,
// creates) the grants, the TLS certificate and the engine, and binds its
// listeners, so that an address in use fails here. It accepts connections
// from Serve on.
func New(cfg Config) (_ *Server, err error) {
	if sequenceOffset == 0 {
		return nil, errNoSequence
	}
	if cfg.HandshakeTimeout <= 0 {
		cfg.HandshakeTimeout = 10 * time.Second
	}
	if cfg.MaxConnections == 0 {
		cfg.MaxConnections = DefaultMaxConnections
	}
	if cfg.Logger == nil {
		cfg.Logger = slog.Default()
	}
	if cfg.Observer == nil {
		cfg.Observer = nopObserver{}
	}
	if cfg.DefaultAuthPlugin == "" {
		cfg.DefaultAuthPlugin = authplugin.CachingSHA2PasswordName
	}
	if p := cfg.DefaultAuthPlugin; p != authplugin.CachingSHA2PasswordName && p != authplugin.NativePasswordName {
		return nil, fmt.Errorf("default auth plugin %q: the handshake can offer only %s or %s", p, authplugin.CachingSHA2PasswordName, authplugin.NativePasswordName)
	}
	if cfg.Extensions == nil {
		es, err := extension.NewRegistry().GetExtensions()
		if err != nil {
			return nil, err
		}
		cfg.Extensions = es
	}
	if err := os.MkdirAll(cfg.DataDir, 0o700); err != nil {
		return nil, fmt.Errorf("data directory: %w", err)
	}
	// Before anything is read: another server's writes would be lost.
	lock, err := lockDataDir(cfg.DataDir)
	if err != nil {
		return nil, err
	}
	defer func() {
		if err != nil {
			lock.release()
		}
	}()
	s := &Server{cfg: cfg, log: cfg.Logger, obs: cfg.Observer, lock: lock,
		userConns: privilege.NewUserConnections(cfg.MaxUserConnections), throttle: newThrottle(cfg)}
	s.conns.max = int64(max(cfg.MaxConnections, 0))
	s.definers = definerRegistry{s}

	var (
		store  *privilege.MemStore
		grants *grantstore.Store
		found  bool
	)
	if cfg.GrantsDSN != "" {
		store, grants, s.shared, found, err = openSharedGrants(context.Background(), cfg.GrantsDSN, cfg.GrantsLease, cfg.Logger)
	} else {
		store, grants, found, err = openGrants(context.Background(), cfg.DataDir, cfg.Logger)
	}
	if err != nil {
		return nil, err
	}
	defer func() {
		if err != nil {
			grants.Close()
		}
	}()
	s.store, s.grants = store, grants
	rsaKey, rsaPub, rsaGenerated, err := loadRSAKeys(cfg.RSAPrivateKey, cfg.RSAPublicKey, cfg.DataDir)
	if err != nil {
		return nil, err
	}
	if rsaGenerated {
		s.log.Info("generated an RSA key pair for password exchange without TLS", "dir", cfg.DataDir)
	}
	s.rsaPublicKey = string(rsaPub)
	mopts := []privilege.Option{privilege.WithLogger(cfg.Logger), privilege.WithDefaultPlugin(cfg.DefaultAuthPlugin), privilege.WithRSAKey(rsaKey)}
	if s.shared != nil {
		mopts = append(mopts, privilege.WithFailureCounter(grants))
	}
	s.mgr, err = cfg.Extensions.NewManager(store, mopts...)
	if err != nil {
		return nil, err
	}
	if s.shared != nil {
		s.stopFollow = s.follow()
		defer func() {
			if err != nil {
				s.stopFollow()
			}
		}()
	}
	s.accounts = account.New(s.mgr)
	if !found {
		if err := s.createRoot(); err != nil {
			return nil, err
		}
	}
	// A generated password stays in its file until root has used it, so a
	// start that fails after this point, or a log nobody kept, does not lock
	// root out.
	if s.rootPassword, err = readRootPassword(cfg.DataDir); err != nil {
		return nil, err
	}
	s.rootPending.Store(s.rootPassword != "")

	if err := s.setSecureFiles(cfg.SecureFilePriv); err != nil {
		return nil, err
	}

	tlsConfig, generated, err := loadTLS(cfg.TLSCert, cfg.TLSKey, cfg.DataDir)
	if err != nil {
		return nil, err
	}
	if generated {
		s.log.Info("generated a self-signed TLS certificate", "dir", cfg.DataDir)
	}

	for _, d := range cfg.Databases {
		if isMySQLSchema(d.Name()) {
			return nil, fmt.Errorf("database %q: the mysql schema is authplug's view of its grants (mysqlschema.go)", d.Name())
		}
	}
	// The grant tables come from authplug's store, and only from it: the
	// engine's own (mysql_db) are never enabled.
	pro := memory.NewDBProvider(append(slices.Clone(cfg.Databases), mysqlSchema{s})...)
	s.pro = pro
	s.engine = newEngine(provider{DbProvider: pro, s: s}, authzFactory{s})
	s.engine.Analyzer.ExecBuilder = s.execBuilder() // listings filtered by privilege (metadata.go), status (status.go)
	s.engine.Analyzer.ExecBuilder = readOnlyMySQL{next: s.engine.Analyzer.ExecBuilder}
	// Every plan is authorized where it is turned into rows (planauth.go).
	s.engine.Analyzer.ExecBuilder = authorizingBuilder{s: s, next: s.engine.Analyzer.ExecBuilder}
	if err := bindTriggersInTheirDatabase(s.engine.Analyzer); err != nil {
		return nil, err
	}
	if err := capResults(s.engine.Analyzer); err != nil {
		return nil, err
	}
	if err := mysqlMaxAllowedPacket(); err != nil {
		return nil, err
	}

	err = cfg.Extensions.Bootstrap(context.Background(), extension.BootstrapContext{Privileges: s.mgr, ExecuteSQL: s.ExecuteSQL})
	if err != nil {
		return nil, err
	}

	l := cfg.Listener
	if l == nil {
		// Not gmsserver.NewListener: it sets SO_REUSEPORT (listen.go).
		if l, err = listen(cfg.Addr, cfg.Socket); err != nil {
			return nil, err
		}
	}
	gcfg := gmsserver.Config{
		Protocol:  "tcp",
		Address:   l.Addr().String(),
		Listener:  handshakeListener{Listener: l, s: s},
		TLSConfig: tlsConfig,
		Version:   "8.0.33-authplug",
		ProtocolListenerFactory: func(c gmsserver.Config, lc mysql.ListenerConfig, sel gmsserver.ServerEventListener) (gmsserver.ProtocolListener, error) {
			lc.AuthServer = newAuthServer(s)
			return gmsserver.MySQLProtocolListenerFactory(c, lc, sel)
		},
	}
	s.gms, err = gmsserver.NewServerWithHandler(gcfg, s.engine, sql.NewContext, memory.NewSessionBuilder(pro), nil,
		func(h mysql.Handler) (mysql.Handler, error) { return observingHandler{&handler{Handler: h, s: s}}, nil })
	if err != nil {
		l.Close()
		return nil, err
	}
	return s, nil
}

// rootAccount is the administrator a new data directory has.
var rootAccount = priv.Account{User: "root", Host: "localhost"}

// createRoot makes root@localhost with every privilege, as a new MySQL
// data directory has. A generated password is written to its file before
// the grants, so no crash leaves a root whose password nobody can read, and
// is expired, as mysqld --initialize does: it has been in a file and a log,
// so root's first session is in sandbox mode until ALTER USER sets its own.
// A password the operator chose (RootPassword) is theirs, and not expired.
func (s *Server) createRoot() error {
	pw := s.cfg.RootPassword
	if pw == "" {
		var err error
		if pw, err = generatePassword(); err != nil {
			return err
		}
		if err := writeRootPassword(s.cfg.DataDir, pw); err != nil {
			return err
		}
	} else if err := removeRootPassword(s.cfg.DataDir); err != nil {
		// One left by an earlier, interrupted first start is not this root's.
		return err
	}
	generated := s.cfg.RootPassword == ""
	return s.mgr.Update(func(tx *privilege.Tx) error { return makeRoot(tx, s.mgr, pw, generated) })
}

func generatePassword() (string, error) {
	b := make([]byte, 18)
	if _, err := rand.Read(b); err != nil {
		return "", err
	}
	return base64.RawURLEncoding.EncodeToString(b), nil
}

// makeRoot creates root@localhost, or gives the existing one back its
// powers: the password pw (caching_sha2_password), expired if expire (PASSWORD
// EXPIRE, for a generated one), unlocked, every static and dynamic privilege
// WITH GRANT OPTION. Its other grants and every other account are left as
// they are.
func makeRoot(tx *privilege.Tx, mgr *privilege.Manager, pw string, expire bool) error {
	cred := privilege.IdentifiedBy(authplugin.CachingSHA2PasswordName, pw)
	opts := []privilege.UserOption{privilege.AccountLock(false)}
	if expire {
		opts = append(opts, privilege.PasswordExpireNow())
	}
	if _, ok := tx.User(rootAccount); ok {
		// SetCredential un-expires; the options then say what expire says.
		if err := tx.SetCredential(rootAccount, cred); err != nil {
			return err
		}
		if err := tx.AlterUser(rootAccount, opts...); err != nil {
			return err
		}
	} else if err := tx.CreateUser(rootAccount, cred, opts...); err != nil {
		return err
	}
	if err := tx.Grant(rootAccount, privilege.Object{}, priv.AllGlobal, true); err != nil {
		return err
	}
	for _, n := range mgr.DynamicPrivileges() {
		if err := tx.GrantDynamic(rootAccount, n, true); err != nil {
			return err
		}
	}
	return nil
}

// ResetRootPassword is the way back in when root's password is lost, run
// offline (MySQL's is --init-file or --skip-grant-tables): it takes the
// data directory's lock, so it refuses while a server runs on it, and
// restores root@localhost as makeRoot does. An empty password means a
// generated one, returned and kept in <dataDir>/initial-root-password
// until root logs in, and expired, as on a first start. extensions may be
// nil.
func ResetRootPassword(dataDir, password string, extensions *extension.Extensions) (generated string, err error) {
	lock, err := lockDataDir(dataDir)
	if err != nil {
		return "", err
	}
	defer lock.release()
	// Checked before opening the store, which would create one.
	if !hasGrants(dataDir) {
		return "", fmt.Errorf("%s has no %s: nothing to reset (a first start creates root)", dataDir, grantsDB)
	}
	store, grants, found, err := openGrants(context.Background(), dataDir, slog.Default())
	if err != nil {
		return "", err
	}
	defer func() { err = errors.Join(err, grants.Close()) }()
	if !found {
		return "", fmt.Errorf("%s has no accounts: nothing to reset (a first start creates root)", dataDir)
	}
	if extensions == nil {
		if extensions, err = extension.NewRegistry().GetExtensions(); err != nil {
			return "", err
		}
	}
	mgr, err := extensions.NewManager(store)
	if err != nil {
		return "", err
	}
	pw := password
	if pw == "" {
		if pw, err = generatePassword(); err != nil {
			return "", err
		}
	}
	if err := mgr.Update(func(tx *privilege.Tx) error { return makeRoot(tx, mgr, pw, password == "") }); err != nil {
		return "", fmt.Errorf("resetting root@localhost: %w", err)
	}
	if password != "" {
		return "", removeRootPassword(dataDir)
	}
	return pw, writeRootPassword(dataDir, pw)
}

// GeneratedRootPassword is root's generated password while root has not
// logged in with it yet (it is then shown at every start), else "".
func (s *Server) GeneratedRootPassword() string { return s.rootPassword }

// RootPasswordFile is where a generated root password is kept until root
// first logs in.
func (s *Server) RootPasswordFile() string { return rootPasswordPath(s.cfg.DataDir) }

// Manager is the server's privilege manager.
func (s *Server) Manager() *privilege.Manager { return s.mgr }

// Addr is the address the server listens on.
func (s *Server) Addr() net.Addr { return s.gms.Listener.Addr() }

// Serve accepts connections until Close.
func (s *Server) Serve() error {
	err := s.gms.Start()
	if errors.Is(err, net.ErrClosed) {
		return nil
	}
	return err
}

// Close stops accepting, closes the connections and waits for them, then
// gives up the data directory. It may be called more than once.
func (s *Server) Close() error {
	err := s.gms.Close()
	// The store before the lock: no other process may open it while this
	// one still can write.
	s.closeOnce.Do(func() {
		if s.stopFollow != nil {
			s.stopFollow()
		}
		err = errors.Join(err, s.grants.Close(), s.lock.release())
	})
	return err
}

// Shutdown is Close bounded by ctx.
func (s *Server) Shutdown(ctx context.Context) error {
	done := make(chan error, 1)
	go func() { done <- s.Close() }()
	select {
	case err := <-done:
		return err
	case <-ctx.Done():
		return ctx.Err()
	}
}

func (s *Server) conn(id uint32) *conn {
	if c, ok := s.sessions.Load(id); ok {
		return c.(*conn)
	}
	return nil
}

// events returns the extension handlers of a connection in its handshake.
func (s *Server) events(id uint32) *extension.SessionExtensions {
	if e, ok := s.pending.Load(id); ok {
		return e.(*extension.SessionExtensions)
	}
	return s.cfg.Extensions.NewSessionExtensions()
}

func (s *Server) newConn(c *mysql.Conn, sess *privilege.Session) *conn {
	cn := &conn{id: c.ConnectionID, sess: sess, events: s.events(c.ConnectionID)}
	s.pending.Delete(c.ConnectionID)
	if s.rootPending.Load() && sess.AuthenticatedAccount() == rootAccount && s.rootPending.CompareAndSwap(true, false) {
		// Root has its password: stop keeping and showing it.
		if err := removeRootPassword(s.cfg.DataDir); err != nil {
			s.log.Warn("could not remove the initial root password file", "err", err)
		} else {
			s.log.Info("root@localhost logged in; removed the initial root password file", "file", rootPasswordPath(s.cfg.DataDir))
		}
	}
	s.connEvent(c, sess.User(), cn.events, sess, nil)
	return cn
}

// connEvent reports a handshake's outcome to the extensions.
func (s *Server) connEvent(c *mysql.Conn, user string, events *extension.SessionExtensions, sess *privilege.Session, reason error) {
	if !events.HasConnEventHandlers() {
		return
	}
	info := &extension.ConnEventInfo{
		ConnectionID: uint64(c.ConnectionID),
		User:         user,
		RemoteAddr:   c.RemoteAddr().String(),
		Reason:       reason,
	}
	tp := extension.ConnHandshakeRejected
	if sess != nil {
		tp = extension.ConnHandshakeAccepted
		info.ClientHost, info.Account = sess.ClientHost(), sess.AuthenticatedAccount()
		info.Plugin, info.PluginState, info.ConnState = sess.Plugin().Name, sess.State(), sess.ConnState()
	}
	events.OnConnectionEvent(tp, info)
}

// currentDB is the connection's current database. The engine creates a
// session on its first statement, so there may be none yet.
func (s *Server) currentDB(c *mysql.Conn) string {
	db := ""
	s.gms.SessionManager().Iter(func(sess sql.Session) (bool, error) {
		if sess.ID() == c.ConnectionID {
			db = sess.GetCurrentDatabase()
			return true, nil
		}
		return false, nil
	})
	return db
}

// ExecuteSQL runs one statement as the server itself, with no connection and
// no privilege checks: for setting up data, and for extensions' bootstrap.
func (s *Server) ExecuteSQL(ctx context.Context, query string) error {
	base := sql.NewBaseSession()
	base.SetConnectionId(internalSession)
	sctx := sql.NewContext(ctx, sql.WithSession(memory.NewSession(base, s.pro)))
	_, iter, _, err := s.engine.Query(sctx, query)
	if err != nil {
		return err
	}
	_, err = sql.RowIterToRows(sctx, iter)
	return err
}

// secureFilesDir is the default secure_file_priv, inside the data directory
// but never the data directory itself, which holds keys and grants.
const secureFilesDir = "secure-files"

func (s *Server) setSecureFiles(dir string) error {
	if strings.EqualFold(dir, "NULL") {
		s.secureFiles = ""
		return nil
	}
	if dir == "" {
		dir = filepath.Join(s.cfg.DataDir, secureFilesDir)
	}
	if err := os.MkdirAll(dir, 0o700); err != nil {
		return fmt.Errorf("secure_file_priv: %w", err)
	}
	abs, err := filepath.Abs(dir)
	if err != nil {
		return fmt.Errorf("secure_file_priv: %w", err)
	}
	if real, err := filepath.EvalSymlinks(abs); err == nil {
		abs = real
	}
	data, _ := filepath.Abs(s.cfg.DataDir)
	if real, err := filepath.EvalSymlinks(data); err == nil {
		data = real
	}
	if abs == data || abs == string(filepath.Separator) {
		return fmt.Errorf("secure_file_priv %q: must be a directory of its own, not the data directory or /", dir)
	}
	s.secureFiles = abs
	// The engine checks its own, process-wide, copy too.
	return sql.SystemVariables.AssignValues(map[string]any{"secure_file_priv": abs + string(filepath.Separator)})
}

// follow keeps the shared store's snapshot caught up and this front end's
// lease renewed, fencing statements while the lease may have run out
// (1047, mysqlerr.GrantStoreUnreachable). The returned stop ends it and
// leaves the store's front ends, so the others need not wait for this
// one's lease to end.
func (s *Server) follow() (stop func()) {
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan struct{})
	go func() {
		defer close(done)
		s.shared.Follow(ctx, s.store, s.mgr, mysqlerr.GrantStoreUnreachable())
	}()
	return func() {
		cancel()
		<-done
		dctx, dcancel := context.WithTimeout(context.Background(), 2*time.Second)
		defer dcancel()
		if err := s.shared.Deregister(dctx); err != nil {
			s.log.Warn("leaving the shared grant store; the others wait for this front end's lease to end", "err", err)
		}
	}
}
