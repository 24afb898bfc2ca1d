package oauth

import (
	"flag"
	"fmt"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/authplug/authplug/extension"
)

// The extension configures itself from the flags it declares: a host only
// adds them to its command line and gives it a data directory.
func TestRegisteredExtensionTakesItsFlags(t *testing.T) {
	fs := flag.NewFlagSet("host", flag.ContinueOnError)
	cfg, err := extension.Configure(fs)
	if err != nil {
		t.Fatal(err)
	}
	for _, name := range []string{"oauth-issuer", "oauth-audience", "oauth-jwks-file", "oauth-jwks-url", "oauth-max-age", "oauth-leeway"} {
		if fs.Lookup(name) == nil {
			t.Errorf("--%s is not declared", name)
		}
	}
	dir := t.TempDir()
	if err := fs.Parse([]string{"--oauth-issuer", "https://idp.example"}); err != nil {
		t.Fatal(err)
	}
	es, err := cfg.Setup(t.Context(), extension.Host{DataDir: dir})
	if err != nil {
		t.Fatal(err)
	}
	defer es.Close()
	if ps := es.AuthPlugins(); len(ps) != 1 || ps[0].Name != PluginName {
		t.Fatalf("plugins %v, want %s", ps, PluginName)
	}
	if _, err := os.Stat(filepath.Join(dir, devKeyFile)); err != nil {
		t.Errorf("without a JWKS flag the dev IdP key is made in the data directory: %v", err)
	}
	p := es.AuthPlugins()[0]
	if !p.ValidateAuthString(`{"issuer":"https://idp.example"}`) {
		t.Error("a binding to --oauth-issuer's issuer is refused")
	}
	if p.ValidateAuthString(`{"issuer":"` + DevIssuer + `"}`) {
		t.Error("a binding to another issuer than --oauth-issuer's is accepted")
	}
}

func TestRegisteredExtensionRefusesTwoKeySources(t *testing.T) {
	fs := flag.NewFlagSet("host", flag.ContinueOnError)
	cfg, err := extension.Configure(fs)
	if err != nil {
		t.Fatal(err)
	}
	if err := fs.Parse([]string{"--oauth-jwks-file", "x.json", "--oauth-jwks-url", "https://idp.example/jwks"}); err != nil {
		t.Fatal(err)
	}
	if _, err := cfg.Setup(t.Context(), extension.Host{DataDir: t.TempDir()}); err == nil {
		t.Error("set up with a JWKS file and a JWKS URL")
	}
}

func TestOpenDevIdPNeverCreatesAKey(t *testing.T) {
	dir := t.TempDir()
	if _, err := OpenDevIdP(dir); !os.IsNotExist(err) {
		t.Errorf("OpenDevIdP on an empty directory: %v, want not-exist", err)
	}
	if _, err := os.Stat(filepath.Join(dir, devKeyFile)); !os.IsNotExist(err) {
		t.Errorf("OpenDevIdP created a key: %v", err)
	}
	made, err := LoadDevIdP(dir)
	if err != nil {
		t.Fatal(err)
	}
	opened, err := OpenDevIdP(dir)
	if err != nil {
		t.Fatal(err)
	}
	if !made.key.Equal(opened.key) {
		t.Error("OpenDevIdP loads another key than LoadDevIdP made")
	}
}

// --oauth-config through the host's flags: several issuers, the https rule
// and --oauth-allow-http-loopback, and no mixing with the single-issuer
// flags.
func TestRegisteredExtensionTakesAConfigFile(t *testing.T) {
	s := ecSigner(t, "k1")
	jwks := &jwksServer{}
	jwks.set(t, s)
	plain := httptest.NewServer(jwks)
	t.Cleanup(plain.Close)
	dir := t.TempDir()
	writeJWKS(t, filepath.Join(dir, "a.json"), s)
	file := filepath.Join(dir, "oauth.json")
	body := fmt.Sprintf(`{"audience":"db","issuers":[{"issuer":"https://a.example","jwks_file":"a.json"},{"issuer":"b","jwks_url":%q}]}`, plain.URL)
	if err := os.WriteFile(file, []byte(body), 0o600); err != nil {
		t.Fatal(err)
	}
	setup := func(args ...string) (*extension.Extensions, error) {
		fs := flag.NewFlagSet("host", flag.ContinueOnError)
		cfg, err := extension.Configure(fs)
		if err != nil {
			t.Fatal(err)
		}
		if err := fs.Parse(args); err != nil {
			t.Fatal(err)
		}
		return cfg.Setup(t.Context(), extension.Host{DataDir: t.TempDir()})
	}

	if _, err := setup("--oauth-config", file); err == nil || !strings.Contains(err.Error(), "must be https") {
		t.Errorf("an http JWKS URL without --oauth-allow-http-loopback: %v", err)
	}
	if _, err := setup("--oauth-config", file, "--oauth-allow-http-loopback", "--oauth-jwks-url", "https://x.example/jwks"); err == nil || !strings.Contains(err.Error(), "excludes --oauth-jwks-url") {
		t.Errorf("--oauth-config with a single-issuer flag: %v", err)
	}
	es, err := setup("--oauth-config", file, "--oauth-allow-http-loopback")
	if err != nil {
		t.Fatal(err)
	}
	defer es.Close()
	p := es.AuthPlugins()[0]
	for as, want := range map[string]bool{
		`{"issuer":"https://a.example"}`: true,
		`{"issuer":"b"}`:                 true,
		`{"issuer":"` + DevIssuer + `"}`: false,
	} {
		if got := p.ValidateAuthString(as); got != want {
			t.Errorf("binding %s accepted: %v, want %v", as, got, want)
		}
	}
	if err := p.ExplainAuthString(`{"issuer":"c"}`); err == nil || !strings.Contains(err.Error(), "one the server trusts: b, https://a.example") {
		t.Errorf("the refusal names the trusted issuers: %v", err)
	}
}
