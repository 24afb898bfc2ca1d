package oauthclient_test

import (
	"context"
	"log"
	"os"
	"time"

	"github.com/go-sql-driver/mysql"
	"golang.org/x/oauth2/clientcredentials"

	"github.com/authplug/authplug/oauthclient"
)

// A service logs in with tokens from its identity provider's client
// credentials grant: the token's subject (here the client ID) is the
// account's user name.
func Example() {
	idp := clientcredentials.Config{
		ClientID:     "svc-reports",
		ClientSecret: os.Getenv("CLIENT_SECRET"),
		TokenURL:     "https://idp.example/oauth2/token",
		Scopes:       []string{"select:reports"},
	}
	cfg := mysql.NewConfig()
	cfg.User, cfg.Net, cfg.Addr, cfg.DBName = "svc-reports", "tcp", "db.example:4000", "reports"
	cfg.TLSConfig = "true"
	db, err := oauthclient.Open(cfg, idp.TokenSource(context.Background()), oauthclient.WithMargin(time.Minute))
	if err != nil {
		log.Fatal(err)
	}
	defer db.Close()
	// Use db as any pool: each new connection logs in with a fresh token,
	// and none is used within a minute of its token's expiry.
}
