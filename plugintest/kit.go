// Package plugintest lets a plugin author test an auth plugin in a few lines,
// without a server: a Kit is a privilege manager over an in-memory store with
// the plugin loaded, and Login plays the client side of the handshake.
//
//	k := plugintest.New(t, myPlugin)
//	k.Must(func(tx *privilege.Tx) error {
//		return tx.CreateUser(plugintest.Account("alice"), privilege.IdentifiedBy("my_plugin", "s3cret"))
//	})
//	s, err := k.Login("alice", plugintest.Password("s3cret"))
//
// It sits beside the server, above the core it drives, and imports nothing
// above privilege (authplugin, priv and privilege only), so a plugin's tests
// need neither the extension registry nor a server. A Kit over a set of
// extensions takes their options: NewWithOptions(t, es.ManagerOptions()...).
package plugintest

import (
	"context"
	"crypto/rand"
	"crypto/sha1"
	"crypto/sha256"
	"crypto/tls"
	"log/slog"
	"net"
	"strings"
	"sync"
	"testing"

	"github.com/authplug/authplug/authplugin"
	"github.com/authplug/authplug/priv"
	"github.com/authplug/authplug/privilege"
)

// Kit is a manager, its store, and helpers to drive them.
type Kit struct {
	t       testing.TB
	logs    *logs
	Store   *privilege.MemStore
	Manager *privilege.Manager
}

// logs keeps the manager's log (where refusals give their reason) and
// passes it to t.Log, so it shows with a failing test.
type logs struct {
	t   testing.TB
	mu  sync.Mutex
	buf strings.Builder
}

func (l *logs) Write(p []byte) (int, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	l.buf.Write(p)
	l.t.Log(strings.TrimRight(string(p), "\n"))
	return len(p), nil
}

// Logs returns what the manager logged so far, e.g. why a login was refused.
func (k *Kit) Logs() string {
	k.logs.mu.Lock()
	defer k.logs.mu.Unlock()
	return k.logs.buf.String()
}

// New returns a Kit with plugins loaded beside the built-in ones.
func New(t testing.TB, plugins ...*authplugin.AuthPlugin) *Kit {
	t.Helper()
	return NewWithOptions(t, privilege.WithPlugins(plugins...))
}

// NewWithOptions returns a Kit whose manager takes opts. For the plugins
// and dynamic privileges of a set of extensions, pass their options:
//
//	k := plugintest.NewWithOptions(t, es.ManagerOptions()...)
func NewWithOptions(t testing.TB, opts ...privilege.Option) *Kit {
	t.Helper()
	l := &logs{t: t}
	store := privilege.NewMemStore()
	all := append([]privilege.Option{privilege.WithLogger(slog.New(slog.NewTextHandler(l, nil)))}, opts...)
	m, err := privilege.NewManager(store, all...)
	if err != nil {
		t.Fatalf("plugintest: %v", err)
	}
	return &Kit{t: t, logs: l, Store: store, Manager: m}
}

// Account is user@'%'.
func Account(user string) priv.Account { return priv.Account{User: user, Host: "%"} }

// Exec runs fn as one change through the manager, as SQL statements would.
func (k *Kit) Exec(fn func(tx *privilege.Tx) error) error { return k.Manager.Update(fn) }

// Must is Exec that fails the test on error.
func (k *Kit) Must(fn func(tx *privilege.Tx) error) {
	k.t.Helper()
	if err := k.Exec(fn); err != nil {
		k.t.Fatalf("plugintest: %v", err)
	}
}

type login struct {
	password *string
	authData []byte
	addr     net.Addr
	tls      *tls.ConnectionState
	conn     *Conn
	ctx      context.Context
}

// LoginOption says how the kit's client logs in.
type LoginOption func(*login)

// Password has the client answer as a real client of the account's client
// plugin would: a scramble for mysql_native_password and
// caching_sha2_password (and the password in clear when full authentication
// is asked for), the password itself for other plugins.
func Password(pw string) LoginOption { return func(l *login) { l.password = &pw } }

// AuthData has the client send exactly data as its response.
func AuthData(data []byte) LoginOption { return func(l *login) { l.authData = data } }

// From sets the client's address (default 127.0.0.1, so 'localhost').
func From(addr net.Addr) LoginOption { return func(l *login) { l.addr = addr } }

// FromIP is From a TCP address with the given IP.
func FromIP(ip string) LoginOption {
	return From(&net.TCPAddr{IP: net.ParseIP(ip), Port: 50000})
}

// OverUnixSocket has the client connect through a Unix socket.
func OverUnixSocket() LoginOption {
	return From(&net.UnixAddr{Name: "/tmp/mysql.sock", Net: "unix"})
}

// OverTLS has the client connect with TLS.
func OverTLS() LoginOption {
	return func(l *login) { l.tls = &tls.ConnectionState{HandshakeComplete: true, Version: tls.VersionTLS13} }
}

// WithConn uses a scripted connection for the plugin's extra round trips.
func WithConn(c *Conn) LoginOption { return func(l *login) { l.conn = c } }

// WithContext sets the login's context.
func WithContext(ctx context.Context) LoginOption { return func(l *login) { l.ctx = ctx } }

// Login authenticates user and returns the session, or the error the client
// would see.
func (k *Kit) Login(user string, opts ...LoginOption) (*privilege.Session, error) {
	l := &login{addr: &net.TCPAddr{IP: net.IPv4(127, 0, 0, 1), Port: 50000}, ctx: context.Background()}
	for _, o := range opts {
		o(l)
	}
	salt := make([]byte, 20)
	rand.Read(salt)
	conn := l.conn
	if conn == nil {
		conn = &Conn{}
	}
	data := l.authData
	if l.password != nil {
		_, unix := l.addr.(*net.UnixAddr)
		secure := unix || l.tls != nil
		data = clientResponse(k.Manager.ClientPluginFor(user, l.addr, l.tls != nil), *l.password, salt, secure, conn)
	}
	return k.Manager.ConnectionVerification(l.ctx, privilege.LoginRequest{
		User: user, RemoteAddr: l.addr, ConnState: l.tls,
		AuthData: data, Salt: salt, AuthConn: conn,
	})
}

// clientResponse computes what a real client sends for plugin, and sets conn
// up to answer a full-authentication request as it would.
func clientResponse(plugin, pw string, salt []byte, secure bool, conn *Conn) []byte {
	if pw == "" && plugin != authplugin.ClearPasswordName {
		return nil
	}
	switch plugin {
	case authplugin.NativePasswordName:
		return NativeScramble(pw, salt)
	case authplugin.CachingSHA2PasswordName:
		if conn.Respond == nil {
			conn.Respond = func(d []byte) ([]byte, bool) {
				if len(d) == 1 && d[0] == 4 && secure {
					return append([]byte(pw), 0), true
				}
				return nil, false
			}
		}
		return SHA2Scramble(pw, salt)
	}
	return []byte(pw)
}

// NativeScramble is the mysql_native_password client response:
// SHA1(pw) XOR SHA1(salt + SHA1(SHA1(pw))).
func NativeScramble(pw string, salt []byte) []byte {
	s1 := sha1.Sum([]byte(pw))
	s2 := sha1.Sum(s1[:])
	h := sha1.New()
	h.Write(salt[:20])
	h.Write(s2[:])
	mix := h.Sum(nil)
	for i := range mix {
		mix[i] ^= s1[i]
	}
	return mix
}

// SHA2Scramble is the caching_sha2_password client response:
// SHA256(pw) XOR SHA256(SHA256(SHA256(pw)) + salt).
func SHA2Scramble(pw string, salt []byte) []byte {
	s1 := sha256.Sum256([]byte(pw))
	s2 := sha256.Sum256(s1[:])
	h := sha256.New()
	h.Write(s2[:])
	h.Write(salt[:20])
	mix := h.Sum(nil)
	for i := range mix {
		mix[i] ^= s1[i]
	}
	return mix
}
