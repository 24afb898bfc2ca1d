package authplugin_test

// These tests check the built-in password plugins against a client nobody
// here wrote: go-sql-driver/mysql logs in to a minimal handshake server in
// the test, which hands the client's responses to privilege.Manager. The
// client computes every scramble itself, so a mistake in our algorithms
// fails the login.

import (
	"bufio"
	"bytes"
	"context"
	"crypto/rand"
	"database/sql"
	"encoding/binary"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net"
	"path/filepath"
	"sync"
	"testing"
	"time"

	"github.com/go-sql-driver/mysql"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/authplug/authplug/authplugin"
	"github.com/authplug/authplug/mysqlerr"
	"github.com/authplug/authplug/priv"
	"github.com/authplug/authplug/privilege"
)

const (
	capLongPassword  = 1
	capConnectWithDB = 8
	capProtocol41    = 0x200
	capTransactions  = 0x2000
	capSecureConn    = 0x8000
	capPluginAuth    = 0x80000
	capLenencData    = 0x200000
)

// wireConn reads and writes MySQL packets and is the plugin's AuthConn.
type wireConn struct {
	r   *bufio.Reader
	w   net.Conn
	seq byte
}

func (c *wireConn) ReadPacket(context.Context) ([]byte, error) {
	var h [4]byte
	if _, err := io.ReadFull(c.r, h[:]); err != nil {
		return nil, err
	}
	n := int(h[0]) | int(h[1])<<8 | int(h[2])<<16
	c.seq = h[3] + 1
	p := make([]byte, n)
	_, err := io.ReadFull(c.r, p)
	return p, err
}

func (c *wireConn) write(p []byte) error {
	h := []byte{byte(len(p)), byte(len(p) >> 8), byte(len(p) >> 16), c.seq}
	c.seq++
	_, err := c.w.Write(append(h, p...))
	return err
}

func (c *wireConn) WriteAuthMoreData(_ context.Context, data []byte) error {
	return c.write(append([]byte{1}, data...))
}

func (c *wireConn) ok() error { return c.write([]byte{0, 0, 0, 2, 0, 0, 0}) }

func (c *wireConn) fail(err error) error {
	var e *mysqlerr.Error
	if !errors.As(err, &e) {
		e = mysqlerr.Errorf(mysqlerr.ErUnknownError, "%v", err)
	}
	p := []byte{0xff, byte(e.Code), byte(e.Code >> 8), '#'}
	p = append(append(p, e.SQLState...), e.Message...)
	return c.write(p)
}

// serve runs one connection: handshake with plugin announced, login through
// m, then answer pings until the client quits.
func serve(nc net.Conn, m *privilege.Manager, plugin string) {
	defer nc.Close()
	c := &wireConn{r: bufio.NewReader(nc), w: nc}
	salt := make([]byte, 20)
	rand.Read(salt)
	for i := range salt { // the handshake carries the salt NUL-terminated
		salt[i] = salt[i]&0x7f | 1
	}
	caps := uint32(capLongPassword | capConnectWithDB | capProtocol41 | capTransactions | capSecureConn | capPluginAuth | capLenencData)
	hs := []byte{10}
	hs = append(hs, "8.0.0-loopback\x00"...)
	hs = binary.LittleEndian.AppendUint32(hs, 1)
	hs = append(hs, salt[:8]...)
	hs = append(hs, 0, byte(caps), byte(caps>>8), 0xff, 2, 0, byte(caps>>16), byte(caps>>24), 21)
	hs = append(hs, make([]byte, 10)...)
	hs = append(append(hs, salt[8:]...), 0)
	hs = append(append(hs, plugin...), 0)
	if c.write(hs) != nil {
		return
	}
	resp, err := c.ReadPacket(context.Background())
	if err != nil || len(resp) < 32 {
		return
	}
	// After the 32-byte fixed part: user NUL, then the auth response with a
	// one-byte length (go-sql-driver's responses are all short).
	user, rest, _ := bytes.Cut(resp[32:], []byte{0})
	var auth []byte
	if len(rest) > 0 && 1+int(rest[0]) <= len(rest) {
		auth = rest[1 : 1+int(rest[0])]
	}
	_, err = m.ConnectionVerification(context.Background(), privilege.LoginRequest{
		User: string(user), RemoteAddr: nc.RemoteAddr(), AuthData: auth, Salt: salt, AuthConn: c,
	})
	if err != nil {
		c.fail(err)
		return
	}
	if c.ok() != nil {
		return
	}
	for {
		cmd, err := c.ReadPacket(context.Background())
		if err != nil || len(cmd) == 0 || cmd[0] == 1 { // COM_QUIT
			return
		}
		c.seq = 1
		if cmd[0] == 0x0e { // COM_PING
			c.ok()
		} else {
			c.fail(errors.New("unsupported command"))
		}
	}
}

func listen(t *testing.T, network string, m *privilege.Manager, plugin string) string {
	addr := "127.0.0.1:0"
	if network == "unix" {
		addr = filepath.Join(t.TempDir(), "s.sock")
	}
	l, err := net.Listen(network, addr)
	require.NoError(t, err)
	t.Cleanup(func() { l.Close() })
	go func() {
		for {
			nc, err := l.Accept()
			if err != nil {
				return
			}
			go serve(nc, m, plugin)
		}
	}()
	return l.Addr().String()
}

func ping(network, addr, user, pw string) error {
	cfg := mysql.NewConfig()
	cfg.User, cfg.Passwd, cfg.Net, cfg.Addr = user, pw, network, addr
	cfg.AllowNativePasswords = true
	// A server that stops answering fails the test instead of hanging it.
	cfg.Timeout, cfg.ReadTimeout, cfg.WriteTimeout = 10*time.Second, 10*time.Second, 10*time.Second
	db, err := sql.Open("mysql", cfg.FormatDSN())
	if err != nil {
		return err
	}
	defer db.Close()
	return db.Ping()
}

// logBuffer collects the manager's log, where refusals give their reason.
type logBuffer struct {
	mu  sync.Mutex
	buf bytes.Buffer
}

func (l *logBuffer) Write(p []byte) (int, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.buf.Write(p)
}

func (l *logBuffer) String() string {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.buf.String()
}

func newManager(t *testing.T, plugin, user, pw string) *privilege.Manager {
	m, _ := newManagerWithLog(t, plugin, user, pw)
	return m
}

func newManagerWithLog(t *testing.T, plugin, user, pw string) (*privilege.Manager, *logBuffer) {
	logs := &logBuffer{}
	store := privilege.NewMemStore()
	m, err := privilege.NewManager(store, privilege.WithLogger(slog.New(slog.NewTextHandler(logs, nil))))
	require.NoError(t, err)
	require.NoError(t, m.Update(func(tx *privilege.Tx) error {
		return tx.CreateUser(priv.Account{User: user, Host: "%"}, privilege.IdentifiedBy(plugin, pw))
	}))
	return m, logs
}

func errCode(err error) uint16 {
	var me *mysql.MySQLError
	if errors.As(err, &me) {
		return me.Number
	}
	return 0
}

func TestNativePasswordWithRealClient(t *testing.T) {
	m := newManager(t, authplugin.NativePasswordName, "u", "pässword with spaces")
	addr := listen(t, "tcp", m, authplugin.NativePasswordName)

	assert.NoError(t, ping("tcp", addr, "u", "pässword with spaces"))
	err := ping("tcp", addr, "u", "wrong")
	assert.Equal(t, uint16(1045), errCode(err), "wrong password: %v", err)
	err = ping("tcp", addr, "nobody", "wrong")
	assert.Equal(t, uint16(1045), errCode(err), "unknown user: %v", err)
}

func TestNativePasswordEmpty(t *testing.T) {
	m := newManager(t, authplugin.NativePasswordName, "u", "")
	addr := listen(t, "tcp", m, authplugin.NativePasswordName)
	assert.NoError(t, ping("tcp", addr, "u", ""))
	assert.Equal(t, uint16(1045), errCode(ping("tcp", addr, "u", "x")))
}

func TestCachingSHA2FullThenFastWithRealClient(t *testing.T) {
	m, logs := newManagerWithLog(t, authplugin.CachingSHA2PasswordName, "u", "s3cret")
	sock := listen(t, "unix", m, authplugin.CachingSHA2PasswordName)
	tcp := listen(t, "tcp", m, authplugin.CachingSHA2PasswordName)

	// Nothing cached: full authentication over plain TCP is refused. The
	// client asked for an RSA key we do not offer, so it reports its own
	// error rather than our 1045; the reason is in the server's log.
	assert.Error(t, ping("tcp", tcp, "u", "s3cret"))
	assert.Contains(t, logs.String(), authplugin.ErrInsecureTransport.Error())

	// Unix socket: full authentication, the password crosses in clear.
	require.NoError(t, ping("unix", sock, "u", "s3cret"))
	assert.Equal(t, uint16(1045), errCode(ping("unix", sock, "u", "wrong")))

	// Now cached: the fast path works over plain TCP. A wrong password
	// falls back to full authentication, as a cache miss does (MySQL 8),
	// which over plain TCP without an RSA key is refused as above.
	assert.NoError(t, ping("tcp", tcp, "u", "s3cret"))
	assert.Error(t, ping("tcp", tcp, "u", "wrong"))
	assert.Equal(t, uint16(1045), errCode(ping("unix", sock, "u", "wrong")))
}

func TestCachingSHA2PasswordChangeDropsTheCache(t *testing.T) {
	m := newManager(t, authplugin.CachingSHA2PasswordName, "u", "old")
	sock := listen(t, "unix", m, authplugin.CachingSHA2PasswordName)
	tcp := listen(t, "tcp", m, authplugin.CachingSHA2PasswordName)
	require.NoError(t, ping("unix", sock, "u", "old"))
	require.NoError(t, ping("tcp", tcp, "u", "old"))

	require.NoError(t, m.Update(func(tx *privilege.Tx) error {
		return tx.SetCredential(priv.Account{User: "u", Host: "%"}, privilege.IdentifiedBy(authplugin.CachingSHA2PasswordName, "new"))
	}))
	assert.Error(t, ping("tcp", tcp, "u", "old"), "the old password's cache entry must not log in")
	assert.Error(t, ping("tcp", tcp, "u", "new"), "the new password is not cached yet")
	assert.NoError(t, ping("unix", sock, "u", "new"))
	assert.NoError(t, ping("tcp", tcp, "u", "new"))
}

func ExampleNativePassword() {
	p := authplugin.NativePassword()
	s, _ := p.GenerateAuthString("password")
	fmt.Println(s)
	// Output: *2470C0C06DEE42FD1618BB99005ADCA2EC9D1E19
}
