package oauth

import (
	"flag"
	"os"
	"path/filepath"
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
