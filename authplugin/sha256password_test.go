package authplugin

import (
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// The SHA-256 crypt test vector of Drepper's specification (also what
// `openssl passwd -5 -salt saltstring 'Hello world!'` prints).
func TestSHA256PasswordCryptVector(t *testing.T) {
	stored := "$5$saltstring$5B8vYYiY.CVt1RlTTf8KbXBH3hsxY/GNooZaBBGWEc5"
	require.NoError(t, sha256Check(stored))
	assert.True(t, sha256Verify(stored, "Hello world!"))
	assert.False(t, sha256Verify(stored, "Hello world"))
}

func TestSHA256PasswordRoundTrip(t *testing.T) {
	p := SHA256Password()
	s, ok := p.GenerateAuthString("pw")
	require.True(t, ok)
	assert.Len(t, s, len(sha256Prefix)+sha2SaltLen+1+sha2HashLen)
	assert.True(t, p.ValidateAuthString(s))
	assert.True(t, p.VerifyPassword(s, "pw"))
	assert.False(t, p.ValidateAuthString("$5$salt$short"))
}

func TestPasswordsOverTheCapAreRefused(t *testing.T) {
	long := strings.Repeat("x", MaxPasswordLen+1)
	for _, p := range []*AuthPlugin{CachingSHA2Password(), SHA256Password()} {
		_, ok := p.GenerateAuthString(long)
		assert.False(t, ok, p.Name)
		assert.Error(t, p.ExplainPassword(long), p.Name)
		_, ok = p.GenerateAuthString(long[1:])
		assert.True(t, ok, p.Name)
	}
	// Full authentication over TLS: refused before hashing.
	_, err := CachingSHA2Password().AuthenticateUser(t.Context(), AuthenticateRequest{
		StoredAuthString: foobarSHA2, InputAuthString: make([]byte, 32), Salt: make([]byte, 20), SecureTransport: true,
		AuthConn: &fakeConn{reply: append([]byte(long), 0)},
	})
	assert.ErrorIs(t, err, errPasswordTooBig)
}
