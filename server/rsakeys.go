package server

import (
	"bytes"
	"crypto/rand"
	"crypto/rsa"
	"crypto/x509"
	"encoding/pem"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"

	"github.com/authplug/authplug/authplugin"
)

// Names of the RSA key pair generated on first start, as MySQL's
// caching_sha2_password_auto_generate_rsa_keys names them.
const (
	autoRSAPrivateFile = "private_key.pem"
	autoRSAPublicFile  = "public_key.pem"
	rsaKeyBits         = 2048
)

// loadRSAKeys returns the key pair with which clients without TLS send
// their passwords to caching_sha2_password and sha256_password: the given
// files, or a pair kept in dir (made on first start). It also returns the
// public key's PEM, as clients receive it.
func loadRSAKeys(privFile, pubFile, dir string) (key *rsa.PrivateKey, pubPEM []byte, generated bool, err error) {
	if (privFile == "") != (pubFile == "") {
		return nil, nil, false, errors.New("--rsa-private-key and --rsa-public-key go together")
	}
	if privFile == "" {
		privFile, pubFile = filepath.Join(dir, autoRSAPrivateFile), filepath.Join(dir, autoRSAPublicFile)
		if _, err := os.Stat(privFile); errors.Is(err, fs.ErrNotExist) {
			if err := generateRSAKeys(privFile, pubFile); err != nil {
				return nil, nil, false, fmt.Errorf("generating an RSA key pair: %w", err)
			}
			generated = true
		}
	}
	key, err = readRSAPrivateKey(privFile)
	if err != nil {
		return nil, nil, false, err
	}
	pubPEM, err = authplugin.PublicKeyPEM(&key.PublicKey)
	if err != nil {
		return nil, nil, false, err
	}
	// The public key file is what an operator hands to clients that are
	// configured with it; a mismatch would fail every such login.
	given, err := os.ReadFile(pubFile)
	if err != nil {
		return nil, nil, false, fmt.Errorf("reading RSA public key: %w", err)
	}
	if !bytes.Equal(bytes.TrimSpace(given), bytes.TrimSpace(pubPEM)) {
		pub, err := parseRSAPublicKey(given)
		if err != nil {
			return nil, nil, false, fmt.Errorf("RSA public key %s: %w", pubFile, err)
		}
		if !pub.Equal(&key.PublicKey) {
			return nil, nil, false, fmt.Errorf("RSA public key %s does not belong to private key %s", pubFile, privFile)
		}
	}
	return key, pubPEM, generated, nil
}

func readRSAPrivateKey(file string) (*rsa.PrivateKey, error) {
	b, err := os.ReadFile(file)
	if err != nil {
		return nil, fmt.Errorf("reading RSA private key: %w", err)
	}
	block, _ := pem.Decode(b)
	if block == nil {
		return nil, fmt.Errorf("RSA private key %s: no PEM block", file)
	}
	switch block.Type {
	case "RSA PRIVATE KEY":
		k, err := x509.ParsePKCS1PrivateKey(block.Bytes)
		if err != nil {
			return nil, fmt.Errorf("RSA private key %s: %w", file, err)
		}
		return k, nil
	case "PRIVATE KEY":
		k, err := x509.ParsePKCS8PrivateKey(block.Bytes)
		if err != nil {
			return nil, fmt.Errorf("RSA private key %s: %w", file, err)
		}
		if rk, ok := k.(*rsa.PrivateKey); ok {
			return rk, nil
		}
		return nil, fmt.Errorf("RSA private key %s: the key is not an RSA key", file)
	}
	return nil, fmt.Errorf("RSA private key %s: PEM block %q is not a private key", file, block.Type)
}

func parseRSAPublicKey(b []byte) (*rsa.PublicKey, error) {
	block, _ := pem.Decode(b)
	if block == nil {
		return nil, errors.New("no PEM block")
	}
	var k any
	var err error
	switch block.Type {
	case "PUBLIC KEY":
		k, err = x509.ParsePKIXPublicKey(block.Bytes)
	case "RSA PUBLIC KEY":
		k, err = x509.ParsePKCS1PublicKey(block.Bytes)
	default:
		return nil, fmt.Errorf("PEM block %q is not a public key", block.Type)
	}
	if err != nil {
		return nil, err
	}
	rk, ok := k.(*rsa.PublicKey)
	if !ok {
		return nil, errors.New("not an RSA key")
	}
	return rk, nil
}

// generateRSAKeys writes a new pair as MySQL does: the private key in
// PKCS#1, readable by the owner only, the public key in X.509 form.
func generateRSAKeys(privFile, pubFile string) error {
	key, err := rsa.GenerateKey(rand.Reader, rsaKeyBits)
	if err != nil {
		return err
	}
	pub, err := authplugin.PublicKeyPEM(&key.PublicKey)
	if err != nil {
		return err
	}
	// The public key first: the private key's presence is what says the
	// pair exists, so a start interrupted in between makes a new pair.
	if err := os.WriteFile(pubFile, pub, 0o644); err != nil {
		return err
	}
	priv := pem.EncodeToMemory(&pem.Block{Type: "RSA PRIVATE KEY", Bytes: x509.MarshalPKCS1PrivateKey(key)})
	return os.WriteFile(privFile, priv, 0o600)
}
