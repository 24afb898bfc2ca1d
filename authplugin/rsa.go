package authplugin

import (
	"bytes"
	"context"
	"crypto/rsa"
	"crypto/sha1"
	"crypto/x509"
	"encoding/pem"
	"errors"
	"fmt"
)

// MaxPasswordLen is the longest password the built-in password plugins
// take, in bytes: MySQL's limit for sha256_password and
// caching_sha2_password. sha256-crypt costs grow with the square of the
// password's length, so a longer one is refused before any hashing.
const MaxPasswordLen = 256

// PasswordOption configures the built-in plugins that may receive a
// password on full authentication (caching_sha2_password, sha256_password).
type PasswordOption func(*passwordConfig)

type passwordConfig struct {
	key *rsaKey
}

// WithRSAKey gives the plugin the server's RSA key pair, so that a client on
// a connection that is neither TLS nor a Unix socket can send its password
// encrypted with the public key, as MySQL 8 allows. Without it such a
// client is refused. A nil key is no key.
//
// The key belongs to the plugin rather than to AuthenticateRequest: it is
// the server's configuration, fixed for the plugin's life like its cache,
// and it keeps AuthenticateRequest as TiDB's plugins know it.
func WithRSAKey(k *rsa.PrivateKey) PasswordOption {
	return func(c *passwordConfig) {
		if k == nil {
			c.key = nil
			return
		}
		pub, err := PublicKeyPEM(&k.PublicKey)
		if err != nil {
			// A key Go made or parsed always marshals; keep the plugin usable
			// over TLS if one somehow does not.
			c.key = nil
			return
		}
		c.key = &rsaKey{priv: k, pem: pub}
	}
}

func newPasswordConfig(opts []PasswordOption) passwordConfig {
	var c passwordConfig
	for _, o := range opts {
		o(&c)
	}
	return c
}

// PublicKeyPEM is k as MySQL sends it to clients and shows it in the
// Caching_sha2_password_rsa_public_key status variable: a PEM "PUBLIC KEY"
// block (X.509 SubjectPublicKeyInfo).
func PublicKeyPEM(k *rsa.PublicKey) ([]byte, error) {
	der, err := x509.MarshalPKIXPublicKey(k)
	if err != nil {
		return nil, fmt.Errorf("marshaling RSA public key: %w", err)
	}
	return pem.EncodeToMemory(&pem.Block{Type: "PUBLIC KEY", Bytes: der}), nil
}

type rsaKey struct {
	priv *rsa.PrivateKey
	pem  []byte
}

var (
	errNoRSAKey       = fmt.Errorf("the server has no RSA key pair: %w", ErrInsecureTransport)
	errEncryptedLen   = errors.New("encrypted password does not match the RSA key's size")
	errNoTerminator   = errors.New("decrypted password is not NUL-terminated")
	errPasswordTooBig = fmt.Errorf("password longer than %d bytes", MaxPasswordLen)
)

// fullAuthPassword turns the client's full-authentication packet into the
// password. Over TLS or a Unix socket the packet is the password and a NUL.
// Elsewhere it is the password encrypted with our public key, or the one
// byte askKey asking for that key first (0x02 for caching_sha2_password,
// 0x01 for sha256_password), which we answer in an AuthMoreData packet. The
// length of what we decrypt is bounded by the key and that of the password
// by MaxPasswordLen, before anything is hashed.
func (k *rsaKey) fullAuthPassword(ctx context.Context, req AuthenticateRequest, pkt []byte, askKey byte) ([]byte, error) {
	if req.SecureTransport {
		pw := bytes.TrimSuffix(pkt, []byte{0})
		if len(pw) > MaxPasswordLen {
			return nil, errPasswordTooBig
		}
		return pw, nil
	}
	if k == nil {
		return nil, errNoRSAKey
	}
	if len(pkt) == 1 && pkt[0] == askKey {
		if req.AuthConn == nil {
			return nil, errors.New("sending the RSA public key needs a connection")
		}
		if err := req.AuthConn.WriteAuthMoreData(ctx, k.pem); err != nil {
			return nil, fmt.Errorf("sending the RSA public key: %w", err)
		}
		var err error
		if pkt, err = req.AuthConn.ReadPacket(ctx); err != nil {
			return nil, fmt.Errorf("reading the encrypted password: %w", err)
		}
	}
	return k.decrypt(pkt, req.Salt)
}

// decrypt undoes what the client did: RSA-OAEP (SHA-1) of the password and
// a NUL, XORed with the nonce repeated.
func (k *rsaKey) decrypt(blob, nonce []byte) ([]byte, error) {
	if len(blob) != k.priv.Size() {
		return nil, errEncryptedLen
	}
	if len(nonce) == 0 {
		return nil, errors.New("no nonce to decrypt the password with")
	}
	plain, err := rsa.DecryptOAEP(sha1.New(), nil, k.priv, blob, nil)
	if err != nil {
		return nil, fmt.Errorf("decrypting the password: %w", err)
	}
	for i := range plain {
		plain[i] ^= nonce[i%len(nonce)]
	}
	pw, ok := bytes.CutSuffix(plain, []byte{0})
	if !ok {
		return nil, errNoTerminator
	}
	if len(pw) > MaxPasswordLen {
		return nil, errPasswordTooBig
	}
	return pw, nil
}
