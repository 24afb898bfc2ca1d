package authplugin

import (
	"context"
	"crypto/sha1"
	"crypto/subtle"
	"encoding/hex"
	"errors"
	"fmt"
	"strings"
)

// ErrWrongPassword is returned by the built-in plugins for a response that
// does not match the stored credential.
var ErrWrongPassword = errors.New("password does not match")

// NativePassword returns mysql_native_password: the stored string is
// "*" + hex(SHA1(SHA1(password))) (empty for no password), and the client
// answers SHA1(pw) XOR SHA1(salt + SHA1(SHA1(pw))).
func NativePassword() *AuthPlugin {
	return &AuthPlugin{
		Name:               NativePasswordName,
		AuthenticateUser:   nativeAuthenticate,
		GenerateAuthString: nativeGenerate,
		ValidateAuthString: func(s string) bool { return nativeCheck(s) == nil },
		ExplainAuthString:  nativeCheck,
		VerifyPassword:     nativeVerify,
	}
}

func nativeGenerate(password string) (string, bool) {
	if password == "" {
		return "", true
	}
	stage1 := sha1.Sum([]byte(password))
	stage2 := sha1.Sum(stage1[:])
	return "*" + strings.ToUpper(hex.EncodeToString(stage2[:])), true
}

// nativeCheck accepts a stored string: a hash, or empty for no password.
func nativeCheck(s string) error {
	if s == "" {
		return nil
	}
	_, err := nativeStage2(s)
	return err
}

// nativeStage2 decodes a hash. Its errors say what a hash looks like and
// never quote it.
func nativeStage2(s string) (stage2 [sha1.Size]byte, err error) {
	switch {
	case len(s) != 1+2*sha1.Size:
		return stage2, fmt.Errorf("a %s hash must be %d characters starting with *, not %d", NativePasswordName, 1+2*sha1.Size, len(s))
	case s[0] != '*':
		return stage2, fmt.Errorf("a %s hash must start with *", NativePasswordName)
	}
	var digits [2 * sha1.Size]byte // the length was checked above
	copy(digits[:], s[1:])
	if _, err := hex.Decode(stage2[:], digits[:]); err != nil {
		return stage2, fmt.Errorf("a %s hash must be * and %d hex digits", NativePasswordName, 2*sha1.Size)
	}
	return stage2, nil
}

// nativeVerify compares SHA1(SHA1(password)) with the stored one.
func nativeVerify(stored, password string) bool {
	if stored == "" {
		return password == ""
	}
	stage2, err := nativeStage2(stored)
	if err != nil {
		return false
	}
	stage1 := sha1.Sum([]byte(password))
	got := sha1.Sum(stage1[:])
	return subtle.ConstantTimeCompare(got[:], stage2[:]) == 1
}

func nativeAuthenticate(_ context.Context, req AuthenticateRequest) (any, error) {
	if req.StoredAuthString == "" {
		if len(req.InputAuthString) == 0 {
			return nil, nil
		}
		return nil, ErrWrongPassword
	}
	stage2, err := nativeStage2(req.StoredAuthString)
	if err != nil {
		return nil, fmt.Errorf("stored %s hash is malformed: %w", NativePasswordName, err)
	}
	if len(req.InputAuthString) != sha1.Size || len(req.Salt) < 20 {
		return nil, ErrWrongPassword
	}
	// SHA1(salt + stage2), hashed from the stack: a login allocates nothing
	// here.
	var in [20 + sha1.Size]byte
	copy(in[:], req.Salt[:20])
	copy(in[20:], stage2[:])
	mix := sha1.Sum(in[:])
	var stage1 [sha1.Size]byte
	for i := range stage1 {
		stage1[i] = req.InputAuthString[i] ^ mix[i]
	}
	got := sha1.Sum(stage1[:])
	if subtle.ConstantTimeCompare(got[:], stage2[:]) != 1 {
		return nil, ErrWrongPassword
	}
	return nil, nil
}
