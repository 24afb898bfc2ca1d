package authplugin

import (
	"context"
	"crypto/subtle"
	"errors"
	"fmt"
	"strings"
)

// sha256_password, as MySQL 5.6-8 defines it: the password crosses in clear
// over TLS or a Unix socket, and elsewhere encrypted with the server's RSA
// public key (asked for with the byte 0x01 unless the client has it). The
// stored string is "$5$" + a 20-byte salt + "$" + 43 characters of SHA-256
// crypt with 5000 rounds, the same crypt as caching_sha2_password's.
const (
	SHA256PasswordName = "sha256_password"

	sha256Prefix       = "$5$"
	sha256Rounds       = 5000
	sha256AskPublicKey = 0x01
)

// SHA256Password returns a sha256_password plugin; WithRSAKey lets it take
// passwords over connections without TLS.
func SHA256Password(opts ...PasswordOption) *AuthPlugin {
	cfg := newPasswordConfig(opts)
	limit := MaxPasswordLen + 1 // the password and its NUL
	if cfg.key != nil {
		// A client that has the key sends the encrypted password at once.
		limit = max(limit, cfg.key.priv.Size())
	}
	return &AuthPlugin{
		Name: SHA256PasswordName,
		AuthenticateUser: func(ctx context.Context, req AuthenticateRequest) (any, error) {
			return nil, sha256Authenticate(ctx, cfg.key, req)
		},
		GenerateAuthString: sha256Generate,
		ValidateAuthString: func(s string) bool { return sha256Check(s) == nil },
		ExplainAuthString:  sha256Check,
		ExplainPassword:    explainPassword,
		VerifyPassword:     sha256Verify,
		MaxAuthDataLen:     limit,
	}
}

func sha256Authenticate(ctx context.Context, key *rsaKey, req AuthenticateRequest) error {
	// A client without a password sends one NUL (or nothing).
	if len(req.InputAuthString) == 0 || (len(req.InputAuthString) == 1 && req.InputAuthString[0] == 0) {
		if req.StoredAuthString == "" {
			return nil
		}
		return ErrWrongPassword
	}
	salt, hash, err := sha256Parse(req.StoredAuthString)
	if err != nil && req.StoredAuthString != "" {
		return fmt.Errorf("stored %s hash: %w", SHA256PasswordName, err)
	}
	pw, err := key.fullAuthPassword(ctx, req, req.InputAuthString, sha256AskPublicKey)
	if err != nil {
		return err
	}
	if req.StoredAuthString == "" {
		return ErrWrongPassword // a password for an account without one
	}
	got, err := sha256CryptCtx(ctx, pw, salt, sha256Rounds)
	if err != nil {
		return fmt.Errorf("%s: %w", SHA256PasswordName, err)
	}
	if subtle.ConstantTimeCompare([]byte(got), hash) != 1 {
		return ErrWrongPassword
	}
	return nil
}

var errSHA256Format = errors.New("not a " + SHA256PasswordName + " hash")

// sha256Parse splits "$5$salt$hash". Its errors never quote the salt or
// hash.
func sha256Parse(s string) (salt, hash []byte, err error) {
	rest, ok := strings.CutPrefix(s, sha256Prefix)
	if !ok {
		return nil, nil, fmt.Errorf("%w: must start with %s", errSHA256Format, sha256Prefix)
	}
	i := strings.LastIndexByte(rest, '$')
	if i < 1 || i > sha2SaltLen || strings.IndexByte(rest[:i], '$') >= 0 || len(rest)-i-1 != sha2HashLen {
		return nil, nil, fmt.Errorf("%w: must be %s, a salt of 1 to %d characters without $, $ and %d characters",
			errSHA256Format, sha256Prefix, sha2SaltLen, sha2HashLen)
	}
	for _, b := range []byte(rest[i+1:]) {
		if cryptIndex(b) < 0 {
			return nil, nil, fmt.Errorf("%w: the last %d characters must be in the crypt alphabet (./0-9A-Za-z)", errSHA256Format, sha2HashLen)
		}
	}
	return []byte(rest[:i]), []byte(rest[i+1:]), nil
}

func sha256Check(s string) error {
	if s == "" {
		return nil
	}
	_, _, err := sha256Parse(s)
	return err
}

func sha256Generate(password string) (string, bool) {
	return cryptGenerate(password, func(salt []byte) string {
		return sha256Prefix + string(salt) + "$" + sha256Crypt([]byte(password), salt, sha256Rounds)
	})
}

func sha256Verify(stored, password string) bool {
	if stored == "" {
		return password == ""
	}
	if len(password) > MaxPasswordLen {
		return false
	}
	salt, hash, err := sha256Parse(stored)
	if err != nil {
		return false
	}
	return subtle.ConstantTimeCompare([]byte(sha256Crypt([]byte(password), salt, sha256Rounds)), hash) == 1
}
