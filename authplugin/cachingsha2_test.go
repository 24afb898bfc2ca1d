package authplugin_test

import (
	"bytes"
	"context"
	"crypto/rand"
	"crypto/rsa"
	"crypto/sha1"
	"crypto/sha256"
	"crypto/tls"
	"crypto/x509"
	"encoding/pem"
	"io"
	"log/slog"
	"net"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/authplug/authplug/authplugin"
	"github.com/authplug/authplug/mysqlerr"
	"github.com/authplug/authplug/priv"
	"github.com/authplug/authplug/privilege"
)

// sha2Client plays a caching_sha2_password client: it sends the fast-auth
// scramble, and when asked for full authentication sends the password in
// clear over a secure transport, else asks for the server's RSA key and
// sends it encrypted. It records what the server sent.
type sha2Client struct {
	pw      string
	salt    []byte
	secure  bool
	written [][]byte
	reads   int
}

func (c *sha2Client) WriteAuthMoreData(_ context.Context, d []byte) error {
	c.written = append(c.written, bytes.Clone(d))
	return nil
}

func (c *sha2Client) ReadPacket(context.Context) ([]byte, error) {
	c.reads++
	if c.secure {
		return append([]byte(c.pw), 0), nil
	}
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

// sha2Scramble is the client's fast-auth response:
// SHA256(pw) XOR SHA256(SHA256(SHA256(pw)) + salt).
func sha2Scramble(pw string, salt []byte) []byte {
	s1 := sha256.Sum256([]byte(pw))
	s2 := sha256.Sum256(s1[:])
	mix := sha256.Sum256(append(s2[:], salt[:20]...))
	for i := range mix {
		mix[i] ^= s1[i]
	}
	return mix[:]
}

func sha2Login(m *privilege.Manager, user, pw string, secure bool) (*sha2Client, error) {
	salt := make([]byte, 20)
	rand.Read(salt)
	c := &sha2Client{pw: pw, salt: salt, secure: secure}
	req := privilege.LoginRequest{
		User: user, RemoteAddr: &net.TCPAddr{IP: net.IPv4(192, 0, 2, 1), Port: 40000},
		AuthData: sha2Scramble(pw, salt), Salt: salt, AuthConn: c,
		ClientPlugin: authplugin.CachingSHA2PasswordName,
	}
	if secure {
		req.ConnState = &tls.ConnectionState{HandshakeComplete: true, Version: tls.VersionTLS13}
	}
	_, err := m.ConnectionVerification(context.Background(), req)
	return c, err
}

// A wrong password to an account in the fast-auth cache goes on to full
// authentication, as MySQL 8 does: the server's packets are the same as
// for an account not in the cache, and for an unknown user, so a client
// cannot learn which accounts have logged in since the server started.
func TestCachingSHA2MismatchLooksLikeACacheMiss(t *testing.T) {
	key, err := rsa.GenerateKey(rand.Reader, 2048)
	require.NoError(t, err)
	m, err := privilege.NewManager(privilege.NewMemStore(), privilege.WithRSAKey(key),
		privilege.WithLogger(slog.New(slog.NewTextHandler(io.Discard, nil))))
	require.NoError(t, err)
	require.NoError(t, m.Update(func(tx *privilege.Tx) error {
		for _, u := range []string{"cached", "uncached"} {
			if err := tx.CreateUser(priv.Account{User: u, Host: "%"}, privilege.IdentifiedBy(authplugin.CachingSHA2PasswordName, "s3cret")); err != nil {
				return err
			}
		}
		return nil
	}))
	_, err = sha2Login(m, "cached", "s3cret", true)
	require.NoError(t, err, "full authentication fills the cache")
	c, err := sha2Login(m, "cached", "s3cret", false)
	require.NoError(t, err)
	require.Equal(t, [][]byte{{3}}, c.written, "the right password now takes the fast path")

	for _, secure := range []bool{true, false} {
		cached, cachedErr := sha2Login(m, "cached", "wrong", secure)
		require.Error(t, cachedErr)
		assert.Equal(t, []byte{4}, cached.written[0], "perform full authentication")
		for _, user := range []string{"uncached", "nobody"} {
			c, err := sha2Login(m, user, "wrong", secure)
			require.Error(t, err)
			assert.Equal(t, cached.written, c.written, "%s, secure %v", user, secure)
			assert.Equal(t, cached.reads, c.reads, "%s, secure %v", user, secure)
			assert.EqualValues(t, mysqlerr.ErAccessDenied, mysqlerr.Code(err))
			assert.Equal(t, strings.Replace(cachedErr.Error(), "'cached'", "'"+user+"'", 1), err.Error())
		}
	}
	c, err = sha2Login(m, "cached", "s3cret", false)
	require.NoError(t, err)
	assert.Equal(t, [][]byte{{3}}, c.written, "a wrong guess leaves the cache as it was")
}
