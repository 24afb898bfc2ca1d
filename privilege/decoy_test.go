package privilege_test

import (
	"bytes"
	"context"
	"crypto/rand"
	"crypto/rsa"
	"crypto/sha1"
	"crypto/x509"
	"encoding/pem"
	"io"
	"log/slog"
	"net"
	"strings"
	"sync"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/authplug/authplug/authplugin"
	"github.com/authplug/authplug/mysqlerr"
	"github.com/authplug/authplug/priv"
	"github.com/authplug/authplug/privilege"
)

var (
	testKeyOnce sync.Once
	testKey     *rsa.PrivateKey
)

// rsaKey is one key for the whole package: making one takes a while.
func rsaKey(tb testing.TB) *rsa.PrivateKey {
	testKeyOnce.Do(func() {
		var err error
		if testKey, err = rsa.GenerateKey(rand.Reader, 2048); err != nil {
			panic(err)
		}
	})
	return testKey
}

// rsaClient plays a plain-TCP caching_sha2_password client without the
// server's key: it asks for the key, then sends the password encrypted
// with it. It records what the server sent.
type rsaClient struct {
	pw      string
	salt    []byte
	written [][]byte
	reads   int
}

func (c *rsaClient) WriteAuthMoreData(_ context.Context, d []byte) error {
	c.written = append(c.written, bytes.Clone(d))
	return nil
}

func (c *rsaClient) ReadPacket(context.Context) ([]byte, error) {
	c.reads++
	if c.reads == 1 {
		return []byte{2}, nil // request the public key
	}
	block, _ := pem.Decode(c.written[len(c.written)-1])
	if block == nil {
		return nil, io.ErrUnexpectedEOF
	}
	pub, err := x509.ParsePKIXPublicKey(block.Bytes)
	if err != nil {
		return nil, err
	}
	plain := append([]byte(c.pw), 0)
	for i := range plain {
		plain[i] ^= c.salt[i%len(c.salt)]
	}
	return rsa.EncryptOAEP(sha1.New(), rand.Reader, pub.(*rsa.PublicKey), plain, nil)
}

func decoyManager(tb testing.TB) *privilege.Manager {
	tb.Helper()
	m, err := privilege.NewManager(privilege.NewMemStore(), privilege.WithRSAKey(rsaKey(tb)),
		privilege.WithLogger(slog.New(slog.NewTextHandler(io.Discard, nil))))
	require.NoError(tb, err)
	require.NoError(tb, m.Update(func(tx *privilege.Tx) error {
		for _, u := range []string{"alice", "locked"} {
			if err := tx.CreateUser(priv.Account{User: u, Host: "%"}, privilege.IdentifiedBy(authplugin.CachingSHA2PasswordName, "s3cret")); err != nil {
				return err
			}
		}
		return tx.AlterUser(priv.Account{User: "locked", Host: "%"}, privilege.AccountLock(true))
	}))
	return m
}

var tcpClient = &net.TCPAddr{IP: net.IPv4(127, 0, 0, 1), Port: 40000}

func rsaLogin(m *privilege.Manager, user, pw string) (*rsaClient, error) {
	salt := make([]byte, 20)
	rand.Read(salt)
	c := &rsaClient{pw: pw, salt: salt}
	scramble := make([]byte, 32) // whatever it is, nothing is cached
	_, err := m.ConnectionVerification(context.Background(), privilege.LoginRequest{
		User: user, RemoteAddr: tcpClient, AuthData: scramble, Salt: salt, AuthConn: c,
		ClientPlugin: authplugin.CachingSHA2PasswordName,
	})
	return c, err
}

func TestFullAuthenticationOverRSA(t *testing.T) {
	m := decoyManager(t)
	c, err := rsaLogin(m, "alice", "s3cret")
	require.NoError(t, err)
	require.Len(t, c.written, 2)
	assert.Equal(t, []byte{4}, c.written[0], "perform full authentication")
	assert.True(t, strings.HasPrefix(string(c.written[1]), "-----BEGIN PUBLIC KEY-----"), "the PEM public key")
}

// An unknown user, a locked account and a wrong password go through the
// same packets and end in the same error: nothing tells them apart.
func TestRefusalsBeforeThePluginLookLikeAWrongPassword(t *testing.T) {
	m := decoyManager(t)
	wrong, wrongErr := rsaLogin(m, "alice", "wrong")
	require.Error(t, wrongErr)
	for _, user := range []string{"nobody", "locked"} {
		c, err := rsaLogin(m, user, "s3cret")
		require.Error(t, err)
		assert.Equal(t, wrong.written, c.written, user)
		assert.Equal(t, wrong.reads, c.reads, user)
		assert.EqualValues(t, mysqlerr.ErAccessDenied, mysqlerr.Code(err))
		assert.Equal(t, strings.Replace(wrongErr.Error(), "'alice'", "'"+user+"'", 1), err.Error())
	}
}

func TestLongNamesAndResponsesAreRefusedBeforeHashing(t *testing.T) {
	m := decoyManager(t)
	long := strings.Repeat("x", 20000)
	c, err := rsaLogin(m, long, "s3cret")
	require.Error(t, err)
	assert.Empty(t, c.written, "no exchange for a name no account can have")
	assert.Equal(t, "Error 1045 (28000): Access denied for user '"+strings.Repeat("x", 32)+"…'@'localhost' (using password: YES)", err.Error())

	_, err = m.ConnectionVerification(context.Background(), privilege.LoginRequest{
		User: "alice", RemoteAddr: tcpClient, AuthData: make([]byte, authplugin.MaxPasswordLen+1), Salt: make([]byte, 20),
		AuthConn: &rsaClient{}, ClientPlugin: authplugin.CachingSHA2PasswordName,
	})
	assert.EqualValues(t, mysqlerr.ErAccessDenied, mysqlerr.Code(err))
	var le *privilege.LoginError
	require.ErrorAs(t, err, &le)
	assert.Contains(t, le.Reason, "over the plugin's limit")
}

// BenchmarkRefusedLogin compares a wrong password for an account with an
// empty cache with refusals made before the plugin (unknown user, locked
// account): each goes through the RSA exchange and sha256-crypt, so the
// times should be within noise of each other.
//
//	go test -run '^$' -bench RefusedLogin -count 5 ./privilege/
func BenchmarkRefusedLogin(b *testing.B) {
	m := decoyManager(b)
	for _, bc := range []struct{ name, user string }{
		{"wrong-password", "alice"}, {"unknown-user", "nobody"}, {"locked-account", "locked"},
	} {
		b.Run(bc.name, func(b *testing.B) {
			for b.Loop() {
				if _, err := rsaLogin(m, bc.user, "wrong"); err == nil {
					b.Fatal("login succeeded")
				}
			}
		})
	}
}
