package authplugin

import (
	"context"
	"encoding/hex"
	"errors"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// foobarSHA2 is caching_sha2_password's stored string for "foobar" as a
// MySQL 8 server generated it (salt bytes include control characters).
var foobarSHA2 = func() string {
	b, _ := hex.DecodeString("24412430303524031A69251C34295C4B35167C7F1E5A7B63091349503974624D34504B5A424679354856336868686F52485A736E4A733368786E427575516C73446469496537")
	return string(b)
}()

func TestSHA256CryptMatchesMySQL(t *testing.T) {
	rounds, salt, hash, err := sha2Parse(foobarSHA2)
	require.NoError(t, err)
	assert.Equal(t, 5000, rounds)
	assert.Equal(t, string(hash), sha256Crypt([]byte("foobar"), salt, rounds))
	assert.NotEqual(t, string(hash), sha256Crypt([]byte("foobaR"), salt, rounds))
}

func TestCachingSHA2FullAuthAgainstMySQLHash(t *testing.T) {
	p := CachingSHA2Password()
	run := func(pw string, secure bool) error {
		conn := &fakeConn{reply: append([]byte(pw), 0)}
		_, err := p.AuthenticateUser(context.Background(), AuthenticateRequest{
			User: "u", StoredAuthString: foobarSHA2, InputAuthString: make([]byte, 32), Salt: make([]byte, 20),
			SecureTransport: secure, AuthConn: conn,
		})
		return err
	}
	assert.ErrorIs(t, run("foobar", false), ErrInsecureTransport)
	assert.ErrorIs(t, run("wrong", true), ErrWrongPassword)
	assert.NoError(t, run("foobar", true))
}

type fakeConn struct {
	reply   []byte
	written [][]byte
}

func (c *fakeConn) WriteAuthMoreData(_ context.Context, d []byte) error {
	c.written = append(c.written, d)
	return nil
}

func (c *fakeConn) ReadPacket(context.Context) ([]byte, error) { return c.reply, nil }

func TestCachingSHA2GeneratedStringsRoundTrip(t *testing.T) {
	p := CachingSHA2Password()
	s, ok := p.GenerateAuthString("pw")
	require.True(t, ok)
	assert.Len(t, s, sha2StoredLen)
	assert.True(t, p.ValidateAuthString(s))
	for _, b := range []byte(s[7:27]) {
		assert.True(t, b != 0 && b != '$' && b < 0x80, "salt byte %#x", b)
	}
	other, _ := p.GenerateAuthString("pw")
	assert.NotEqual(t, s, other, "every hash gets a fresh salt")
	empty, ok := p.GenerateAuthString("")
	assert.True(t, ok)
	assert.Equal(t, "", empty)
}

func TestValidateAuthStringRejectsMalformed(t *testing.T) {
	sha2 := CachingSHA2Password().ValidateAuthString
	native := NativePassword().ValidateAuthString
	cases := []struct {
		name  string
		valid func(string) bool
		s     string
		want  bool
	}{
		{"sha2 from MySQL", sha2, foobarSHA2, true},
		{"sha2 empty is no password", sha2, "", true},
		{"sha2 short", sha2, foobarSHA2[:60], false},
		{"sha2 wrong digest type", sha2, "$B" + foobarSHA2[2:], false},
		{"sha2 rounds not hex", sha2, "$A$00G" + foobarSHA2[6:], false},
		{"sha2 zero rounds", sha2, "$A$000" + foobarSHA2[6:], false},
		{"sha2 hash outside crypt alphabet", sha2, foobarSHA2[:len(foobarSHA2)-1] + "!", false},
		{"native", native, "*2470C0C06DEE42FD1618BB99005ADCA2EC9D1E19", true},
		{"native lower case hex", native, "*2470c0c06dee42fd1618bb99005adca2ec9d1e19", true},
		{"native empty", native, "", true},
		{"native no star", native, "2470C0C06DEE42FD1618BB99005ADCA2EC9D1E19A", false},
		{"native not hex", native, "*" + strings.Repeat("Z", 40), false},
		{"native short", native, "*2470C0C0", false},
	}
	for _, c := range cases {
		assert.Equal(t, c.want, c.valid(c.s), c.name)
	}
}

func TestValidateNamesWhatIsMissing(t *testing.T) {
	ok := func(context.Context, AuthenticateRequest) (any, error) { return nil, nil }
	gen := func(string) (string, bool) { return "", true }
	val := func(string) bool { return true }
	cases := []struct {
		p    *AuthPlugin
		want string
	}{
		{nil, "nil"},
		{&AuthPlugin{AuthenticateUser: ok, GenerateAuthString: gen, ValidateAuthString: val}, "name cannot be empty"},
		{&AuthPlugin{Name: "Token_Auth", AuthenticateUser: ok, GenerateAuthString: gen, ValidateAuthString: val}, `must be lower case, as IDENTIFIED WITH names it: "token_auth"`},
		{&AuthPlugin{Name: "p", GenerateAuthString: gen, ValidateAuthString: val}, "AuthenticateUser is required"},
		{&AuthPlugin{Name: "p", AuthenticateUser: ok, ValidateAuthString: val}, "GenerateAuthString is required"},
		{&AuthPlugin{Name: "p", AuthenticateUser: ok, GenerateAuthString: gen}, "ValidateAuthString is required"},
	}
	for _, c := range cases {
		assert.ErrorContains(t, c.p.Validate(), c.want)
	}
	assert.NoError(t, (&AuthPlugin{Name: "p", AuthenticateUser: ok, GenerateAuthString: gen, ValidateAuthString: val}).Validate())
	assert.Equal(t, "p", (&AuthPlugin{Name: "p"}).ClientPlugin())
	assert.Equal(t, ClearPasswordName, (&AuthPlugin{Name: "p", RequiredClientSidePlugin: ClearPasswordName}).ClientPlugin())
}

func TestNativeRejectsMalformedInput(t *testing.T) {
	p := NativePassword()
	stored, _ := p.GenerateAuthString("pw")
	for _, in := range [][]byte{nil, {1}, make([]byte, 19), make([]byte, 21), make([]byte, 20)} {
		_, err := p.AuthenticateUser(context.Background(), AuthenticateRequest{StoredAuthString: stored, InputAuthString: in, Salt: make([]byte, 20)})
		assert.ErrorIs(t, err, ErrWrongPassword, "input of %d bytes", len(in))
	}
	_, err := p.AuthenticateUser(context.Background(), AuthenticateRequest{StoredAuthString: stored, InputAuthString: make([]byte, 20), Salt: nil})
	assert.ErrorIs(t, err, ErrWrongPassword, "a missing salt must not panic")
}

func TestBuiltinsExplainMalformedHashes(t *testing.T) {
	sha2 := CachingSHA2Password()
	native := NativePassword()
	cases := []struct {
		p    *AuthPlugin
		s    string
		want string
	}{
		{native, "*2470C0C0", "must be 41 characters starting with *, not 9"},
		{native, "2470C0C06DEE42FD1618BB99005ADCA2EC9D1E19A", "must start with *"},
		{native, "*" + strings.Repeat("Z", 40), "* and 40 hex digits"},
		{sha2, foobarSHA2[:60], "must be 70 characters, not 60"},
		{sha2, "$B" + foobarSHA2[2:], "must start with $A$"},
		{sha2, foobarSHA2[:6] + "x" + foobarSHA2[7:], "must have $ after the 3 hex digits of rounds"},
		{sha2, "$A$00G" + foobarSHA2[6:], "rounds must be 3 hex digits from 001 to FFF"},
		{sha2, "$A$000" + foobarSHA2[6:], "rounds must be 3 hex digits"},
		{sha2, foobarSHA2[:len(foobarSHA2)-1] + "!", "crypt alphabet"},
	}
	for _, c := range cases {
		require.False(t, c.p.ValidateAuthString(c.s), c.s)
		err := c.p.ExplainAuthString(c.s)
		assert.ErrorContains(t, err, c.want, "%s %q", c.p.Name, c.s)
		assert.NotContains(t, err.Error(), c.s[1:], "a reason never quotes the hash")
	}
	for _, p := range []*AuthPlugin{native, sha2} {
		s, ok := p.GenerateAuthString("pw")
		require.True(t, ok)
		assert.NoError(t, p.ExplainAuthString(s), "a valid hash has nothing to explain")
		assert.NoError(t, p.ExplainAuthString(""), "empty is no password")
	}
}

func TestVerifyPassword(t *testing.T) {
	for _, p := range []*AuthPlugin{NativePassword(), CachingSHA2Password()} {
		stored, ok := p.GenerateAuthString("s3cret pw")
		require.True(t, ok)
		assert.True(t, p.VerifyPassword(stored, "s3cret pw"), p.Name)
		assert.False(t, p.VerifyPassword(stored, "s3cret pW"), p.Name)
		assert.False(t, p.VerifyPassword(stored, ""), p.Name)
		assert.True(t, p.VerifyPassword("", ""), "%s: no password matches only the empty one", p.Name)
		assert.False(t, p.VerifyPassword("", "x"), p.Name)
		assert.False(t, p.VerifyPassword("*not a hash", "s3cret pw"), "%s: a malformed string matches nothing", p.Name)
	}
	sha2 := CachingSHA2Password()
	assert.True(t, sha2.VerifyPassword(foobarSHA2, "foobar"), "a hash MySQL made")
	assert.False(t, sha2.VerifyPassword(foobarSHA2, "foobaR"))
	native := NativePassword()
	assert.True(t, native.VerifyPassword("*2470C0C06DEE42FD1618BB99005ADCA2EC9D1E19", "password"), "MySQL's PASSWORD('password')")
	assert.True(t, native.VerifyPassword("*2470c0c06dee42fd1618bb99005adca2ec9d1e19", "password"), "lower-case hex")
}

func TestValidateAcceptsTheOptionalFields(t *testing.T) {
	p := NativePassword()
	p.ExplainPassword = func(string) error { return errors.New("too short") }
	require.NoError(t, p.Validate())
	p.ExplainAuthString, p.ExplainPassword, p.VerifyPassword = nil, nil, nil
	assert.NoError(t, p.Validate(), "a TiDB-style plugin sets none of them")
}
