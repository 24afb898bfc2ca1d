package oauth

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/netip"
	"net/url"
	"strings"
	"time"
)

const (
	// maxDocumentSize caps every JWKS and discovery document read: whoever
	// answers for an IdP cannot make the server read without end.
	maxDocumentSize = 1 << 20
	// fetchTimeout bounds every fetch, the bytes of its body included.
	fetchTimeout = 10 * time.Second
)

// ErrDocumentTooLarge is a fetched document over the size cap.
var ErrDocumentTooLarge = errors.New("document over the size cap")

// checkFetchURL is the https rule: keys fetched over plain http could be
// anyone's. allowHTTPLoopback admits http to a loopback address, which
// never leaves the machine.
func checkFetchURL(raw string, allowHTTPLoopback bool) error {
	u, err := url.Parse(raw)
	if err != nil {
		return err
	}
	if u.Host == "" {
		return fmt.Errorf("%q is not an absolute URL", raw)
	}
	switch {
	case u.Scheme == "https":
		return nil
	case u.Scheme == "http" && allowHTTPLoopback && isLoopback(u.Hostname()):
		return nil
	case u.Scheme == "http" && allowHTTPLoopback:
		return fmt.Errorf("%s: plain http only to a loopback address", raw)
	}
	return fmt.Errorf("%s: must be https (plain http is allowed only to a loopback address, with --oauth-allow-http-loopback)", raw)
}

func isLoopback(host string) bool {
	if strings.EqualFold(host, "localhost") {
		return true
	}
	ip, err := netip.ParseAddr(host)
	return err == nil && ip.IsLoopback()
}

// fetchClient is c.HTTPClient (or a default one) with the https rule
// applied to every request, redirects included, every body capped and a
// timeout.
func (c Config) fetchClient() *http.Client {
	var hc http.Client
	if c.HTTPClient != nil {
		hc = *c.HTTPClient
	}
	base := hc.Transport
	if base == nil {
		base = http.DefaultTransport
	}
	hc.Transport = guard{base: base, allowHTTPLoopback: c.AllowHTTPLoopback, max: maxDocumentSize}
	if hc.Timeout == 0 || hc.Timeout > fetchTimeout {
		hc.Timeout = fetchTimeout
	}
	return &hc
}

type guard struct {
	base              http.RoundTripper
	allowHTTPLoopback bool
	max               int64
}

func (g guard) RoundTrip(req *http.Request) (*http.Response, error) {
	if err := checkFetchURL(req.URL.String(), g.allowHTTPLoopback); err != nil {
		return nil, err
	}
	resp, err := g.base.RoundTrip(req)
	if err != nil {
		return nil, err
	}
	if resp.ContentLength > g.max {
		resp.Body.Close()
		return nil, fmt.Errorf("%w: %d bytes, the cap is %d", ErrDocumentTooLarge, resp.ContentLength, g.max)
	}
	resp.Body = &cappedBody{ReadCloser: resp.Body, left: g.max}
	return resp, nil
}

// cappedBody fails a read past its cap rather than cutting the body short,
// which could leave a truncated document that still parses.
type cappedBody struct {
	io.ReadCloser
	left int64
}

func (b *cappedBody) Read(p []byte) (int, error) {
	if b.left <= 0 {
		var one [1]byte
		if n, err := b.ReadCloser.Read(one[:]); n == 0 {
			return 0, err
		}
		return 0, ErrDocumentTooLarge
	}
	if int64(len(p)) > b.left {
		p = p[:b.left]
	}
	n, err := b.ReadCloser.Read(p)
	b.left -= int64(n)
	return n, err
}

// discover reads the JWKS URL from issuer's OpenID Connect discovery
// document. The document must name issuer exactly: one that names another
// could hand this issuer's tokens to another IdP's keys.
func discover(ctx context.Context, hc *http.Client, issuer string, allowHTTPLoopback bool) (string, error) {
	ctx, cancel := context.WithTimeout(ctx, fetchTimeout)
	defer cancel()
	u := strings.TrimSuffix(issuer, "/") + "/.well-known/openid-configuration"
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, u, nil)
	if err != nil {
		return "", fmt.Errorf("discovery: %w", err)
	}
	resp, err := hc.Do(req)
	if err != nil {
		return "", fmt.Errorf("discovery: %w", err)
	}
	defer resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		return "", fmt.Errorf("discovery: %s answered %s", u, resp.Status)
	}
	var doc struct {
		Issuer  string `json:"issuer"`
		JWKSURI string `json:"jwks_uri"`
	}
	if err := json.NewDecoder(resp.Body).Decode(&doc); err != nil {
		return "", fmt.Errorf("discovery: %s: %w", u, err)
	}
	if doc.Issuer != issuer {
		return "", fmt.Errorf("discovery: %s names the issuer %q, not %q", u, doc.Issuer, issuer)
	}
	if doc.JWKSURI == "" {
		return "", fmt.Errorf("discovery: %s has no jwks_uri", u)
	}
	if err := checkFetchURL(doc.JWKSURI, allowHTTPLoopback); err != nil {
		return "", fmt.Errorf("discovery: jwks_uri: %w", err)
	}
	return doc.JWKSURI, nil
}
