package oauth

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"io/fs"
	"strings"
	"time"

	"github.com/authplug/authplug/extension"
)

// tokenCommand mints a token signed by the dev IdP in the data directory:
// the quick start's stand-in for an identity provider.
var tokenCommand = extension.Command{
	Name:    "token",
	Summary: "print a token signed by the dev IdP key in --data-dir (for trying token login)",
	Declare: func(fl *flag.FlagSet) extension.CommandFunc {
		sub := fl.String("sub", "", "subject: the account's user name (required)")
		scope := fl.String("scope", "", `space-separated scopes, e.g. "select:demo insert:demo.greetings"`)
		groups := fl.String("groups", "", "comma-separated groups")
		ttl := fl.Duration("ttl", 15*time.Minute, "lifetime")
		issuer := fl.String("issuer", DevIssuer, "issuer")
		audience := fl.String("audience", DefaultAudience, "audience")
		return func(_ context.Context, h extension.Host, out io.Writer) error {
			if *sub == "" {
				return errors.New("token: --sub is required")
			}
			// Never LoadDevIdP here: a key made now, in a directory the
			// server does not use, would sign tokens it rejects.
			dev, err := OpenDevIdP(h.DataDir)
			if errors.Is(err, fs.ErrNotExist) {
				return fmt.Errorf("token: %s holds no dev IdP key (%s): start the server once with --data-dir %s and without --oauth-jwks-file or --oauth-jwks-url, which creates it, or give this command the server's --data-dir", h.DataDir, devKeyFile, h.DataDir)
			}
			if err != nil {
				return fmt.Errorf("token: %w", err)
			}
			var gs []string
			for _, g := range strings.Split(*groups, ",") {
				if g = strings.TrimSpace(g); g != "" {
					gs = append(gs, g)
				}
			}
			tok, err := dev.Mint(TokenRequest{Issuer: *issuer, Audience: *audience, Subject: *sub, Scope: *scope, Groups: gs, TTL: *ttl})
			if err != nil {
				return fmt.Errorf("token: %w", err)
			}
			_, err = fmt.Fprintln(out, tok)
			return err
		}
	},
}
