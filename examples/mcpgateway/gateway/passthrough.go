package gateway

import (
	"crypto/sha256"
	"database/sql"
	"fmt"
	"sync"
	"time"

	"github.com/go-sql-driver/mysql"
	"golang.org/x/oauth2"

	"github.com/authplug/authplug/examples/oauth"
	"github.com/authplug/authplug/mysqlerr"
	"github.com/authplug/authplug/oauthclient"
)

// Passthrough connections are per token, not per user: a token's scopes
// narrow its session, so two tokens of one user are two sessions. At most
// maxTokens pools of at most connsPerToken connections are open (the least
// recently used pool is closed to make room), and a pool is dropped once its
// token has expired.
const (
	maxTokens     = 64
	connsPerToken = 2
	// tokenMargin is how long before its token expires a connection is
	// retired (oauthclient); a token with less left is refused.
	tokenMargin = 5 * time.Second
)

type userPools struct {
	base *mysql.Config
	mu   sync.Mutex
	m    map[[32]byte]*userPool
}

type userPool struct {
	db      *sql.DB
	expires time.Time
	used    time.Time
}

func newUserPools(base *mysql.Config) (*userPools, error) {
	// Checked now, as oauthclient checks each pool: a token is a password.
	probe := base.Clone()
	probe.User = "probe"
	if _, err := oauthclient.NewConnector(probe, oauth2.StaticTokenSource(&oauth2.Token{AccessToken: "x"})); err != nil {
		return nil, fmt.Errorf("gateway: passthrough: %w", err)
	}
	return &userPools{base: base, m: map[[32]byte]*userPool{}}, nil
}

// get returns the pool that logs in as id.Subject with token.
func (u *userPools) get(id *oauth.Claims, token string) (*sql.DB, error) {
	if id.Subject == "" {
		return nil, mysqlerr.Errorf(mysqlerr.ErAccessDenied, "the token has no subject to log in as")
	}
	if time.Until(id.Expires) <= tokenMargin {
		return nil, mysqlerr.Errorf(mysqlerr.ErAccessDenied, "the token expires in less than %s: get a new one", tokenMargin)
	}
	key := sha256.Sum256([]byte(token))
	now := time.Now()
	u.mu.Lock()
	defer u.mu.Unlock()
	if p, ok := u.m[key]; ok {
		p.used = now
		return p.db, nil
	}
	u.evictLocked(now)
	cfg := u.base.Clone()
	cfg.User = id.Subject
	ctr, err := oauthclient.NewConnector(cfg, oauth2.StaticTokenSource(&oauth2.Token{AccessToken: token, Expiry: id.Expires}), oauthclient.WithMargin(tokenMargin))
	if err != nil {
		return nil, err
	}
	db := sql.OpenDB(ctr)
	db.SetMaxOpenConns(connsPerToken)
	db.SetMaxIdleConns(1)
	db.SetConnMaxLifetime(time.Until(id.Expires) - tokenMargin)
	u.m[key] = &userPool{db: db, expires: id.Expires, used: now}
	return db, nil
}

// evictLocked drops the expired pools and, if still full, the least
// recently used one. Closing waits for the pool's running statements, so
// it is done in the background.
func (u *userPools) evictLocked(now time.Time) {
	var lru [32]byte
	var lruUsed time.Time
	for k, p := range u.m {
		if !now.Before(p.expires.Add(-tokenMargin)) {
			delete(u.m, k)
			go p.db.Close()
			continue
		}
		if lruUsed.IsZero() || p.used.Before(lruUsed) {
			lru, lruUsed = k, p.used
		}
	}
	if len(u.m) >= maxTokens {
		p := u.m[lru]
		delete(u.m, lru)
		go p.db.Close()
	}
}

func (u *userPools) close() {
	u.mu.Lock()
	defer u.mu.Unlock()
	for k, p := range u.m {
		p.db.Close()
		delete(u.m, k)
	}
}
