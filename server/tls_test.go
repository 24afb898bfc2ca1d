package server

import (
	"path/filepath"
	"testing"
)

func TestLoadTLS(t *testing.T) {
	dir := t.TempDir()
	cfg, generated, err := loadTLS("", "", dir)
	if err != nil || !generated || len(cfg.Certificates) != 1 {
		t.Fatalf("first start: cfg=%v generated=%v err=%v", cfg, generated, err)
	}
	if _, generated, err = loadTLS("", "", dir); err != nil || generated {
		t.Fatalf("second start must reuse the certificate: generated=%v err=%v", generated, err)
	}
	cert, key := filepath.Join(dir, autoCertFile), filepath.Join(dir, autoKeyFile)
	if _, generated, err = loadTLS(cert, key, t.TempDir()); err != nil || generated {
		t.Fatalf("explicit files: generated=%v err=%v", generated, err)
	}
	if _, _, err = loadTLS(cert, "", dir); err == nil {
		t.Fatal("a certificate without its key must be refused")
	}
	if _, _, err = loadTLS(key, cert, dir); err == nil {
		t.Fatal("swapped files must be refused")
	}
}
