package tests

import (
	"bytes"
	"crypto/tls"
	"encoding/binary"
	"net"
	"testing"
	"time"

	vmysql "github.com/dolthub/vitess/go/mysql"
	"github.com/stretchr/testify/require"
)

// The AuthMoreData packets the host writes behind vitess' back (see
// server/wire.go) must carry the connection's sequence numbers and come
// after whatever vitess wrote before, here through the real listener with a
// hand-written client that checks each packet's number.

const comResetConnection = 0x1f

// sha2Dial greets the server over TLS and sends a handshake response for
// user made with clientPlugin; it returns the connection and the salt.
func sha2Dial(t *testing.T, e *env, user, pw, clientPlugin string) *wire {
	t.Helper()
	nc, err := net.Dial("tcp", e.addr)
	require.NoError(t, err)
	t.Cleanup(func() { nc.Close() })
	require.NoError(t, nc.SetDeadline(time.Now().Add(30*time.Second)))
	w := &wire{nc: nc}
	hs, err := w.read()
	require.NoError(t, err)
	salt := greetingSalt(hs)

	caps := uint32(capLongPassword | capProtocol41 | capTransactions | capSecureConnection | capPluginAuth | capLenencAuthData | capSSL)
	fixed := binary.LittleEndian.AppendUint32(nil, caps)
	fixed = binary.LittleEndian.AppendUint32(fixed, 1<<24)
	fixed = append(append(fixed, 33), make([]byte, 23)...)
	require.NoError(t, w.write(fixed))
	tc := tls.Client(nc, &tls.Config{InsecureSkipVerify: true})
	require.NoError(t, tc.Handshake())
	w.nc = tc

	auth := vmysql.ScrambleCachingSha2Password(salt, []byte(pw))
	if clientPlugin == "mysql_native_password" {
		auth = vmysql.ScramblePassword(salt, []byte(pw))
	}
	resp := append(append(append([]byte(nil), fixed...), user...), 0)
	resp = append(appendLenenc(resp, uint64(len(auth))), auth...)
	resp = append(append(resp, clientPlugin...), 0)
	require.NoError(t, w.write(resp))
	require.Equal(t, byte(3), w.seq, "SSL request 1, handshake response 2")
	return w
}

// greetingSalt is the 20-byte nonce of a protocol 10 greeting.
func greetingSalt(hs []byte) []byte {
	rest := hs[1:]
	rest = rest[bytes.IndexByte(rest, 0)+1:]
	salt := append([]byte(nil), rest[4:12]...)
	rest = rest[12+1+2+1+2+2:]
	n := int(rest[0])
	rest = rest[1+10:]
	return append(salt, rest[:max(13, n-8)-1]...)
}

// expect reads one packet and checks its sequence number and its start.
func (w *wire) expect(t *testing.T, seq byte, prefix []byte) []byte {
	t.Helper()
	p, err := w.read()
	require.NoError(t, err)
	require.NoError(t, errPacket(p))
	require.Equal(t, seq, w.seq-1, "sequence number of packet %x", p)
	require.True(t, bytes.HasPrefix(p, prefix), "packet %x, want it to start with %x", p, prefix)
	return p
}

func TestAuthMoreDataSequence(t *testing.T) {
	e := start(t, nil, "")
	exec(t, e.root(), "CREATE USER carol IDENTIFIED WITH caching_sha2_password BY 'pw'")

	t.Run("full authentication", func(t *testing.T) {
		// A new account, nothing cached yet: AuthMoreData "perform full
		// authentication", the password, then OK, numbered on from the
		// client's response.
		exec(t, e.in(t).root(), "CREATE USER dave IDENTIFIED WITH caching_sha2_password BY 'pw'")
		w := sha2Dial(t, e, "dave", "pw", "caching_sha2_password")
		w.expect(t, 3, []byte{vmysql.AuthMoreDataPacket, 0x04})
		require.NoError(t, w.write([]byte("pw\x00")))
		w.expect(t, 5, []byte{vmysql.OKPacket})
		rows, err := w.query("SELECT CURRENT_USER()")
		require.NoError(t, err)
		require.Equal(t, [][]string{{"dave@%"}}, rows)
	})
	t.Run("fast path", func(t *testing.T) {
		sha2Login(t, e, "carol", "pw") // caches the password, if no login did yet
		w := sha2Dial(t, e, "carol", "pw", "caching_sha2_password")
		w.expect(t, 3, []byte{vmysql.AuthMoreDataPacket, 0x03})
		w.expect(t, 4, []byte{vmysql.OKPacket})
	})
	t.Run("after an auth switch", func(t *testing.T) {
		// vitess writes the auth switch request, we write AuthMoreData:
		// were vitess' write still buffered, ours would overtake it (or
		// the client would wait for it forever).
		sha2Login(t, e, "carol", "pw")
		w := sha2Dial(t, e, "carol", "pw", "mysql_native_password")
		p := w.expect(t, 3, []byte{0xfe})
		name, data, _ := bytes.Cut(p[1:], []byte{0})
		require.Equal(t, "caching_sha2_password", string(name))
		require.NoError(t, w.write(vmysql.ScrambleCachingSha2Password(bytes.TrimSuffix(data, []byte{0}), []byte("pw"))))
		w.expect(t, 5, []byte{vmysql.AuthMoreDataPacket, 0x03})
		w.expect(t, 6, []byte{vmysql.OKPacket})
	})
}

// sha2Login logs in over TLS with caching_sha2_password, by the fast path
// or full authentication.
func sha2Login(t *testing.T, e *env, user, pw string) *wire {
	t.Helper()
	w := sha2Dial(t, e, user, pw, "caching_sha2_password")
	if p := w.expect(t, 3, []byte{vmysql.AuthMoreDataPacket}); p[1] == 0x04 {
		require.NoError(t, w.write(append([]byte(pw), 0)))
	}
	require.NoError(t, w.ok())
	return w
}

// reset sends COM_RESET_CONNECTION, which must be answered by exactly one
// OK: the next command then gets its own reply.
func (w *wire) reset(t *testing.T) {
	t.Helper()
	p, err := w.command(comResetConnection, nil)
	require.NoError(t, err)
	require.Equal(t, byte(vmysql.OKPacket), p[0], "reply %x", p)
	rows, err := w.query("SELECT 1")
	require.NoError(t, err, "the command after the reset")
	require.Equal(t, [][]string{{"1"}}, rows)
}

func TestResetConnection(t *testing.T) {
	e := start(t, nil, "")
	e.seed()
	exec(t, e.root(), "CREATE USER bob IDENTIFIED WITH mysql_native_password BY 'x'", "GRANT PROXY ON 'bob'@'%' TO 'root'@'localhost'")
	root := func(t *testing.T) *wire { return sha2Login(t, e, "root", rootPassword) }
	oneRow := func(t *testing.T, w *wire, q string) string {
		t.Helper()
		rows, err := w.query(q)
		require.NoError(t, err, q)
		require.Len(t, rows, 1, q)
		return rows[0][0]
	}

	t.Run("first command", func(t *testing.T) {
		w := root(t)
		w.reset(t)
		require.Equal(t, "root@localhost", oneRow(t, w, "SELECT CURRENT_USER()"))
	})
	t.Run("first command after COM_INIT_DB", func(t *testing.T) {
		w := root(t)
		require.NoError(t, w.initDB("demo"))
		w.reset(t)
		require.Equal(t, "demo", oneRow(t, w, "SELECT DATABASE()"))
	})
	t.Run("while impersonating", func(t *testing.T) {
		w := root(t)
		_, err := w.query("EXECUTE AS 'bob'")
		require.NoError(t, err)
		require.Equal(t, "bob@%", oneRow(t, w, "SELECT CURRENT_USER()"))
		w.reset(t)
		require.Equal(t, "root@localhost", oneRow(t, w, "SELECT CURRENT_USER()"))
	})
	t.Run("in a transaction", func(t *testing.T) {
		w := root(t)
		for _, q := range []string{"SET @x = 1", "START TRANSACTION", "SELECT a FROM demo.t"} {
			_, err := w.query(q)
			require.NoError(t, err, q)
		}
		w.reset(t)
		require.Equal(t, "", oneRow(t, w, "SELECT @x"), "user variables are gone")
	})
	t.Run("after an error", func(t *testing.T) {
		w := root(t)
		_, err := w.query("SELECT FROM nowhere")
		require.Error(t, err)
		_, err = w.query("SELECT a FROM demo.missing")
		require.Error(t, err)
		w.reset(t)
		w.reset(t)
	})
}
