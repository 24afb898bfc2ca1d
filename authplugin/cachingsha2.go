package authplugin

import (
	"context"
	"crypto/rand"
	"crypto/sha256"
	"crypto/subtle"
	"errors"
	"fmt"
	"strconv"
	"sync"
)

// caching_sha2_password, as MySQL 8 defines it.
//
// Stored string: "$A$" + 3 hex digits (rounds / 1000) + "$" + 20-byte salt +
// 43 characters of SHA-256 crypt (Drepper's algorithm, with MySQL's 20-byte
// salt instead of 16). The client first sends
// XOR(SHA256(pw), SHA256(SHA256(SHA256(pw)) + nonce)); a server that has
// SHA256(SHA256(pw)) cached from an earlier full authentication checks it and
// answers "fast auth success". Otherwise it asks for the password in clear
// ("perform full authentication"): in clear over TLS or a Unix socket, and
// elsewhere encrypted with the server's RSA key (WithRSAKey), which the
// client may first ask for (rsa.go).
const (
	sha2Prefix         = "$A$"
	sha2SaltLen        = 20
	sha2HashLen        = 43
	sha2StoredLen      = len(sha2Prefix) + 3 + 1 + sha2SaltLen + sha2HashLen
	sha2RoundsUnit     = 1000
	sha2DefaultRounds  = 5 // MySQL's caching_sha2_password_digest_rounds default, 5000
	sha2MaxRoundsField = 0xFFF

	fastAuthSuccess  = 0x03
	performFullAuth  = 0x04
	requestPublicKey = 0x02
)

// defaultCacheSize bounds the fast-auth cache; entries are only added by
// successful logins, so this is about the number of accounts.
const defaultCacheSize = 100_000

type sha2Cache struct {
	// An RWMutex: every fast-path login reads, only a full authentication
	// writes, so concurrent logins do not queue on each other.
	mu  sync.RWMutex
	max int
	// keyed by the stored string itself: a password change stores a new
	// string (new salt), so a stale entry can never match.
	m map[string][sha256.Size]byte
	// key decrypts passwords sent over connections without TLS; nil
	// refuses them.
	key *rsaKey
}

func (c *sha2Cache) get(stored string) ([sha256.Size]byte, bool) {
	c.mu.RLock()
	defer c.mu.RUnlock()
	v, ok := c.m[stored]
	return v, ok
}

func (c *sha2Cache) put(stored string, stage2 [sha256.Size]byte) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if len(c.m) >= c.max {
		clear(c.m) // rare; the next logins take the full path once
	}
	c.m[stored] = stage2
}

// CachingSHA2Password returns a caching_sha2_password plugin with its own
// fast-authentication cache; WithRSAKey lets it take passwords over
// connections without TLS.
func CachingSHA2Password(opts ...PasswordOption) *AuthPlugin {
	cfg := newPasswordConfig(opts)
	c := &sha2Cache{max: defaultCacheSize, m: make(map[string][sha256.Size]byte), key: cfg.key}
	return &AuthPlugin{
		Name: CachingSHA2PasswordName,
		AuthenticateUser: func(ctx context.Context, req AuthenticateRequest) (any, error) {
			return nil, c.authenticate(ctx, req)
		},
		GenerateAuthString: sha2Generate,
		ValidateAuthString: func(s string) bool { return sha2Check(s) == nil },
		ExplainAuthString:  sha2Check,
		ExplainPassword:    explainPassword,
		VerifyPassword:     sha2Verify,
		// The first response is a 32-byte scramble; the password of a full
		// authentication is bounded by the plugin itself (rsa.go).
		MaxAuthDataLen: MaxPasswordLen,
	}
}

// explainPassword is why the built-in password plugins refuse a password.
func explainPassword(pw string) error {
	if len(pw) > MaxPasswordLen {
		return errPasswordTooBig
	}
	return nil
}

// sha2Check accepts a stored string: a hash, or empty for no password.
func sha2Check(s string) error {
	if s == "" {
		return nil
	}
	_, _, _, err := sha2Parse(s)
	return err
}

// sha2Verify recomputes the hash of password with the stored salt and
// rounds, as full authentication does.
func sha2Verify(stored, password string) bool {
	if stored == "" {
		return password == ""
	}
	if len(password) > MaxPasswordLen {
		return false
	}
	rounds, salt, hash, err := sha2Parse(stored)
	if err != nil {
		return false
	}
	return subtle.ConstantTimeCompare([]byte(sha256Crypt([]byte(password), salt, rounds)), hash) == 1
}

func (c *sha2Cache) authenticate(ctx context.Context, req AuthenticateRequest) error {
	if req.StoredAuthString == "" {
		// An account without a password: MySQL's client sends nothing.
		if len(req.InputAuthString) == 0 {
			return nil
		}
		return ErrWrongPassword
	}
	if len(req.InputAuthString) == 0 {
		return ErrWrongPassword
	}
	// The fast path first: a cached string was parsed when a full
	// authentication put it there, so a hit needs no parsing again. A
	// scramble that does not match goes on to full authentication, as in
	// MySQL 8, exactly as a cache miss does: refusing at once would tell a
	// client which accounts have logged in since the server started.
	if stage2, ok := c.get(req.StoredAuthString); ok && sha2FastMatch(stage2, req.Salt, req.InputAuthString) {
		if req.AuthConn != nil {
			return req.AuthConn.WriteAuthMoreData(ctx, []byte{fastAuthSuccess})
		}
		return nil
	}
	rounds, salt, _, err := sha2Parse(req.StoredAuthString)
	if err != nil {
		return fmt.Errorf("stored caching_sha2_password hash: %w", err)
	}
	if req.AuthConn == nil {
		return errors.New("caching_sha2_password full authentication needs a connection")
	}
	if err := req.AuthConn.WriteAuthMoreData(ctx, []byte{performFullAuth}); err != nil {
		return err
	}
	// Read the answer even when we will refuse it: over plain TCP it may be
	// a request for our RSA key, and the refusal must follow it in sequence.
	pkt, err := req.AuthConn.ReadPacket(ctx)
	if err != nil {
		return fmt.Errorf("reading full authentication response: %w", err)
	}
	pw, err := c.key.fullAuthPassword(ctx, req, pkt, requestPublicKey)
	if err != nil {
		return err
	}
	want := req.StoredAuthString[len(req.StoredAuthString)-sha2HashLen:]
	got, err := sha256CryptCtx(ctx, pw, salt, rounds)
	if err != nil {
		return fmt.Errorf("caching_sha2_password full authentication: %w", err)
	}
	if subtle.ConstantTimeCompare([]byte(got), []byte(want)) != 1 {
		return ErrWrongPassword
	}
	stage1 := sha256.Sum256(pw)
	c.put(req.StoredAuthString, sha256.Sum256(stage1[:]))
	return nil
}

func sha2FastMatch(stage2 [sha256.Size]byte, nonce, scramble []byte) bool {
	if len(scramble) != sha256.Size || len(nonce) < 20 {
		return false
	}
	// SHA256(stage2 + nonce), hashed from the stack.
	var in [sha256.Size + 20]byte
	copy(in[:], stage2[:])
	copy(in[sha256.Size:], nonce[:20])
	mix := sha256.Sum256(in[:])
	var stage1 [sha256.Size]byte
	for i := range stage1 {
		stage1[i] = scramble[i] ^ mix[i]
	}
	got := sha256.Sum256(stage1[:])
	return subtle.ConstantTimeCompare(got[:], stage2[:]) == 1
}

var errSHA2Format = errors.New("not a " + CachingSHA2PasswordName + " hash")

// sha2Parse splits a stored string into rounds, salt and hash. Its errors
// say what a hash looks like and never quote the salt or hash.
func sha2Parse(s string) (rounds int, salt, hash []byte, err error) {
	bad := func(format string, args ...any) (int, []byte, []byte, error) {
		return 0, nil, nil, fmt.Errorf("%w: "+format, append([]any{errSHA2Format}, args...)...)
	}
	switch {
	case len(s) != sha2StoredLen:
		return bad("must be %d characters, not %d", sha2StoredLen, len(s))
	case s[:3] != sha2Prefix:
		return bad("must start with %s", sha2Prefix)
	case s[6] != '$':
		return bad("must have $ after the 3 hex digits of rounds")
	}
	n, err := strconv.ParseUint(s[3:6], 16, 16)
	if err != nil || n == 0 || n > sha2MaxRoundsField {
		return bad("rounds must be 3 hex digits from 001 to %03X", sha2MaxRoundsField)
	}
	rest := []byte(s[7:])
	salt, hash = rest[:sha2SaltLen], rest[sha2SaltLen:]
	for _, b := range hash {
		if cryptIndex(b) < 0 {
			return bad("the last %d characters must be in the crypt alphabet (./0-9A-Za-z)", sha2HashLen)
		}
	}
	return int(n) * sha2RoundsUnit, salt, hash, nil
}

func sha2Generate(password string) (string, bool) {
	return cryptGenerate(password, func(salt []byte) string {
		return fmt.Sprintf("%s%03X$%s%s", sha2Prefix, sha2DefaultRounds, salt,
			sha256Crypt([]byte(password), salt, sha2DefaultRounds*sha2RoundsUnit))
	})
}

// cryptGenerate is the stored string of the sha256-crypt plugins for
// password, laid out by format from a fresh salt: empty for no password,
// refused over MaxPasswordLen before any hashing.
func cryptGenerate(password string, format func(salt []byte) string) (string, bool) {
	if password == "" {
		return "", true
	}
	if len(password) > MaxPasswordLen {
		return "", false
	}
	salt, err := cryptSalt(sha2SaltLen)
	if err != nil {
		return "", false
	}
	return format(salt), true
}

// cryptSalt returns n random bytes as MySQL makes its salts: 7-bit, never
// NUL or '$', so that the stored string splits.
func cryptSalt(n int) ([]byte, error) {
	salt := make([]byte, n)
	if _, err := rand.Read(salt); err != nil {
		return nil, err
	}
	for i, b := range salt {
		b &= 0x7f
		if b == 0 || b == '$' {
			b++
		}
		salt[i] = b
	}
	return salt, nil
}

const cryptAlphabet = "./0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz"

func cryptIndex(b byte) int {
	for i := 0; i < len(cryptAlphabet); i++ {
		if cryptAlphabet[i] == b {
			return i
		}
	}
	return -1
}

// sha256Crypt is sha256CryptCtx without a deadline, for hashing a new
// password, which is bounded by MaxPasswordLen and not by a client.
func sha256Crypt(key, salt []byte, rounds int) string {
	h, _ := sha256CryptCtx(context.Background(), key, salt, rounds)
	return h
}

// ctxCheckRounds is how many rounds sha256CryptCtx hashes between looks at
// its context: well under a millisecond of work, so a passed deadline stops
// it at once, at no measurable cost to a login.
const ctxCheckRounds = 1000

// sha256CryptCtx is the SHA-256 variant of Ulrich Drepper's "Unix crypt
// using SHA-256 and SHA-512", returning only the 43-character hash part.
// The salt is used whole (MySQL passes 20 bytes; the original caps it at
// 16). It stops with ctx's error once ctx ends, so that a login past its
// handshake deadline stops costing CPU.
func sha256CryptCtx(ctx context.Context, key, salt []byte, rounds int) (string, error) {
	b := sha256.New()
	b.Write(key)
	b.Write(salt)
	b.Write(key)
	digestB := b.Sum(nil)

	a := sha256.New()
	a.Write(key)
	a.Write(salt)
	writeRepeated(a, digestB, len(key))
	for n := len(key); n > 0; n >>= 1 {
		if n&1 != 0 {
			a.Write(digestB)
		} else {
			a.Write(key)
		}
	}
	digestA := a.Sum(nil)

	dp := sha256.New()
	for range len(key) {
		dp.Write(key)
	}
	p := repeatTo(dp.Sum(nil), len(key))

	ds := sha256.New()
	for range 16 + int(digestA[0]) {
		ds.Write(salt)
	}
	s := repeatTo(ds.Sum(nil), len(salt))

	c := digestA
	h := sha256.New()
	for i := range rounds {
		if i%ctxCheckRounds == 0 {
			if err := ctx.Err(); err != nil {
				return "", err
			}
		}
		h.Reset()
		if i&1 != 0 {
			h.Write(p)
		} else {
			h.Write(c)
		}
		if i%3 != 0 {
			h.Write(s)
		}
		if i%7 != 0 {
			h.Write(p)
		}
		if i&1 != 0 {
			h.Write(c)
		} else {
			h.Write(p)
		}
		c = h.Sum(c[:0])
	}

	out := make([]byte, 0, sha2HashLen)
	enc := func(b2, b1, b0 byte, n int) {
		w := uint(b2)<<16 | uint(b1)<<8 | uint(b0)
		for range n {
			out = append(out, cryptAlphabet[w&0x3f])
			w >>= 6
		}
	}
	// The byte order of the SHA-256 variant's encoding.
	for i := range 10 {
		j := (i * 21) % 30
		enc(c[j], c[(j+10)%30], c[(j+20)%30], 4)
	}
	enc(0, c[31], c[30], 3)
	return string(out), nil
}

type writer interface{ Write([]byte) (int, error) }

// writeRepeated writes n bytes of block repeated.
func writeRepeated(w writer, block []byte, n int) {
	for ; n > len(block); n -= len(block) {
		w.Write(block)
	}
	w.Write(block[:n])
}

func repeatTo(block []byte, n int) []byte {
	out := make([]byte, 0, n)
	for len(out) < n {
		out = append(out, block[:min(len(block), n-len(out))]...)
	}
	return out
}
