package authplugin

import (
	"context"
	"crypto/sha1"
	"crypto/subtle"
	"encoding/hex"
	"errors"
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
		ValidateAuthString: nativeValid,
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

func nativeValid(s string) bool {
	_, ok := nativeStage2(s)
	return ok || s == ""
}

func nativeStage2(s string) (stage2 [sha1.Size]byte, ok bool) {
	if len(s) != 1+2*sha1.Size || s[0] != '*' {
		return stage2, false
	}
	_, err := hex.Decode(stage2[:], []byte(s[1:]))
	return stage2, err == nil
}

func nativeAuthenticate(_ context.Context, req AuthenticateRequest) (any, error) {
	if req.StoredPwd == "" {
		if len(req.InputPwd) == 0 {
			return nil, nil
		}
		return nil, ErrWrongPassword
	}
	stage2, ok := nativeStage2(req.StoredPwd)
	if !ok {
		return nil, errors.New("stored mysql_native_password hash is malformed")
	}
	if len(req.InputPwd) != sha1.Size || len(req.Salt) < 20 {
		return nil, ErrWrongPassword
	}
	h := sha1.New()
	h.Write(req.Salt[:20])
	h.Write(stage2[:])
	mix := h.Sum(nil)
	var stage1 [sha1.Size]byte
	for i := range stage1 {
		stage1[i] = req.InputPwd[i] ^ mix[i]
	}
	got := sha1.Sum(stage1[:])
	if subtle.ConstantTimeCompare(got[:], stage2[:]) != 1 {
		return nil, ErrWrongPassword
	}
	return nil, nil
}
