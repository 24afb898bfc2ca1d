package oauth

import (
	"context"
	"crypto"
	"crypto/ecdsa"
	"crypto/ed25519"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/rsa"
	"encoding/base64"
	"strings"
	"testing"
	"time"

	"github.com/MicahParks/jwkset"
	"github.com/MicahParks/keyfunc/v3"
	"github.com/golang-jwt/jwt/v5"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/authplug/authplug/authplugin"
	"github.com/authplug/authplug/mysqlerr"
	"github.com/authplug/authplug/plugintest"
	"github.com/authplug/authplug/priv"
	"github.com/authplug/authplug/privilege"
)

const (
	issuer   = "https://idp.example.com"
	audience = "authplug"
)

type signer struct {
	kid    string
	method jwt.SigningMethod
	key    crypto.Signer
}

type idp struct {
	rsa, ec, ed signer
	now         time.Time
}

func newIDP(t *testing.T) (*idp, keyfunc.Keyfunc) {
	t.Helper()
	rk, err := rsa.GenerateKey(rand.Reader, 2048)
	require.NoError(t, err)
	ek, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	require.NoError(t, err)
	_, dk, err := ed25519.GenerateKey(rand.Reader)
	require.NoError(t, err)
	p := &idp{
		rsa: signer{"rsa-1", jwt.SigningMethodRS256, rk},
		ec:  signer{"ec-1", jwt.SigningMethodES256, ek},
		ed:  signer{"ed-1", jwt.SigningMethodEdDSA, dk},
		now: time.Now().Truncate(time.Second),
	}
	store := jwkset.NewMemoryStorage()
	for _, s := range []signer{p.rsa, p.ec, p.ed} {
		jwk, err := jwkset.NewJWKFromKey(s.key.Public(), jwkset.JWKOptions{Metadata: jwkset.JWKMetadataOptions{KID: s.kid, ALG: jwkset.ALG(s.method.Alg())}})
		require.NoError(t, err)
		require.NoError(t, store.KeyWrite(context.Background(), jwk))
	}
	raw, err := store.JSONPublic(context.Background())
	require.NoError(t, err)
	kf, err := keyfunc.NewJWKSetJSON(raw)
	require.NoError(t, err)
	return p, kf
}

func (p *idp) claims(sub string) jwt.MapClaims {
	return jwt.MapClaims{
		"iss": issuer, "aud": audience, "sub": sub, "jti": "token-1",
		"iat": p.now.Unix(), "exp": p.now.Add(15 * time.Minute).Unix(),
		"scope": "select:sales insert:sales.orders system_variables_admin openid",
	}
}

func (p *idp) sign(t *testing.T, s signer, c jwt.MapClaims) string {
	t.Helper()
	tok := jwt.NewWithClaims(s.method, c)
	tok.Header["kid"] = s.kid
	out, err := tok.SignedString(s.key)
	require.NoError(t, err)
	return out
}

const aliceAS = `{"issuer":"https://idp.example.com"}`

func kit(t *testing.T, p *idp, keys KeySource) *plugintest.Kit {
	t.Helper()
	plug, err := NewPlugin(Config{Keys: keys, Issuer: issuer, Audience: audience, Now: func() time.Time { return p.now }, MaxAge: time.Hour})
	require.NoError(t, err)
	k := plugintest.New(t, plug)
	alice := plugintest.Account("alice@example.com")
	k.Must(func(tx *privilege.Tx) error {
		if err := tx.CreateUser(alice, privilege.IdentifiedAs(PluginName, aliceAS)); err != nil {
			return err
		}
		if err := tx.Grant(alice, privilege.Object{DB: "sales"}, priv.Select|priv.Insert|priv.Delete, false); err != nil {
			return err
		}
		if err := tx.GrantDynamic(alice, "SYSTEM_VARIABLES_ADMIN", false); err != nil {
			return err
		}
		return tx.CreateUser(plugintest.Account("bob@example.com"), privilege.IdentifiedAs(PluginName,
			`{"issuer":"https://idp.example.com","bound_claims":{"tenant":["acme","globex"]},"scopes":"optional"}`))
	})
	return k
}

func TestTokenLoginWithEveryAlgorithm(t *testing.T) {
	p, keys := newIDP(t)
	k := kit(t, p, keys)
	for _, s := range []signer{p.rsa, p.ec, p.ed} {
		sess, err := k.Login("alice@example.com", plugintest.Password(p.sign(t, s, p.claims("alice@example.com"))), plugintest.OverTLS())
		require.NoError(t, err, s.method.Alg())
		st := sess.State().(*Session)
		assert.Equal(t, "token-1", st.JTI)
		assert.Equal(t, issuer, st.Issuer)
	}
}

func TestScopesNarrowTheSession(t *testing.T) {
	p, keys := newIDP(t)
	k := kit(t, p, keys)
	s, err := k.Login("alice@example.com", plugintest.Password(p.sign(t, p.ec, p.claims("alice@example.com"))), plugintest.OverTLS())
	require.NoError(t, err)
	cases := []struct {
		db, table string
		p         priv.Mask
		want      uint16
	}{
		{"sales", "anything", priv.Select, 0},
		{"sales", "orders", priv.Insert, 0},
		{"sales", "customers", priv.Insert, 1142}, // scope covers orders only
		{"sales", "orders", priv.Delete, 1142},    // granted, no scope
		{"hr", "people", priv.Select, 1142},       // scope, no grant
		{"", "", priv.Select, 1227},               // global: no grant
	}
	for _, c := range cases {
		assert.Equal(t, c.want, mysqlerr.Code(s.RequestVerification(c.db, c.table, "", c.p)), "%v on %s.%s", c.p, c.db, c.table)
	}
	assert.NoError(t, s.RequestDynamicVerification("SYSTEM_VARIABLES_ADMIN", false))

	noScope := p.claims("alice@example.com")
	delete(noScope, "scope")
	s2, err := k.Login("alice@example.com", plugintest.Password(p.sign(t, p.ec, noScope)), plugintest.OverTLS())
	require.NoError(t, err)
	assert.Equal(t, uint16(1142), mysqlerr.Code(s2.RequestVerification("sales", "t", "", priv.Select)),
		"no scope claim grants nothing unless the account says scopes are optional")
}

// A token narrowed by its scopes does not reach past itself to change its
// account; create_user covers it, as do optional scopes with none given.
func TestSelfServiceNeedsAScope(t *testing.T) {
	p, keys := newIDP(t)
	k := kit(t, p, keys)
	s, err := k.Login("alice@example.com", plugintest.Password(p.sign(t, p.ec, p.claims("alice@example.com"))), plugintest.OverTLS())
	require.NoError(t, err)
	for _, ch := range []authplugin.SelfChange{authplugin.SelfPassword, authplugin.SelfDefaultRole} {
		err := s.RequestSelfChange(ch)
		assert.Equal(t, uint16(1227), mysqlerr.Code(err), "%s", ch)
	}
	c := p.claims("alice@example.com")
	c["scope"] = c["scope"].(string) + " create_user"
	s, err = k.Login("alice@example.com", plugintest.Password(p.sign(t, p.ec, c)), plugintest.OverTLS())
	require.NoError(t, err)
	assert.NoError(t, s.RequestSelfChange(authplugin.SelfDefaultRole))

	c = p.claims("bob@example.com")
	delete(c, "scope")
	c["tenant"] = "globex"
	s, err = k.Login("bob@example.com", plugintest.Password(p.sign(t, p.rsa, c)), plugintest.OverTLS())
	require.NoError(t, err)
	assert.NoError(t, s.RequestSelfChange(authplugin.SelfDefaultRole), "scopes optional, none given: the grants decide")
}

func TestExpiryMidSessionLapsesThePluginPrivileges(t *testing.T) {
	p, keys := newIDP(t)
	k := kit(t, p, keys)
	s, err := k.Login("alice@example.com", plugintest.Password(p.sign(t, p.ec, p.claims("alice@example.com"))), plugintest.OverTLS())
	require.NoError(t, err)
	require.NoError(t, s.RequestVerification("sales", "t", "", priv.Select))
	p.now = p.now.Add(15*time.Minute + 20*time.Second) // past exp, within the 30s leeway
	require.NoError(t, s.RequestVerification("sales", "t", "", priv.Select))
	p.now = p.now.Add(time.Minute) // past exp and leeway
	err = s.RequestVerification("sales", "t", "", priv.Select)
	assert.Equal(t, uint16(1045), mysqlerr.Code(err))
	assert.ErrorContains(t, err, "token expired")
	assert.ErrorContains(t, err, "reconnect with a new token")
	assert.Error(t, s.RequestDynamicVerification("SYSTEM_VARIABLES_ADMIN", false))
}

func TestBoundClaimsAndOptionalScopes(t *testing.T) {
	p, keys := newIDP(t)
	k := kit(t, p, keys)
	c := p.claims("bob@example.com")
	delete(c, "scope")
	c["tenant"] = "globex"
	s, err := k.Login("bob@example.com", plugintest.Password(p.sign(t, p.rsa, c)), plugintest.OverTLS())
	require.NoError(t, err)
	assert.True(t, s.State().(*Session).AllScopes)
	c["tenant"] = "initech"
	_, err = k.Login("bob@example.com", plugintest.Password(p.sign(t, p.rsa, c)), plugintest.OverTLS())
	assert.Equal(t, uint16(1045), mysqlerr.Code(err))
}

// Every refused binding is 1827 with the reason, which is logged too.
func TestAccountBindingsAreStrict(t *testing.T) {
	p, keys := newIDP(t)
	k := kit(t, p, keys)
	for _, c := range []struct{ as, reason string }{
		{``, `empty: give a JSON object such as {"issuer":"..."}`},
		{`not json`, "malformed JSON at byte 2: invalid character 'o' in literal null (expecting 'u')"},
		{`{"issuer":`, "malformed JSON: unexpected EOF"},
		{`5`, "must be a JSON object, not a JSON number"},
		{`["issuer"]`, "must be a JSON object, not a JSON array"},
		{`{}`, "issuer is required"},
		{`null`, "issuer is required"},
		{`{"issuer":""}`, "issuer is required"},
		{`{"issuer":"x","unknown":1}`, `unknown key "unknown" (the keys are issuer, claim, audience, bound_claims and scopes)`},
		{`{"Issuer":"x"}`, `unknown key "Issuer"`},
		{`{"issuer":"x"} trailing`, "trailing data after the JSON object"},
		{`{"issuer":"x"}}`, "trailing data after the JSON object"},
		{`{"issuer":"x","scopes":"maybe"}`, `scopes must be "required" or "optional"`},
		{`{"issuer":"x","bound_claims":{"t":1}}`, `bound claim "t": must be a string or a list of strings`},
		{`{"issuer":"x","bound_claims":{"t":[]}}`, `bound claim "t": empty list`},
		{`{"issuer":"x","bound_claims":{"t":[1]}}`, `bound claim "t": must be a list of strings`},
		{`{"issuer":"x","bound_claims":[]}`, "bound_claims must be an object"},
		{`{"issuer":5}`, "issuer must be a string"},
		{`{"issuer":"x","claim":true}`, "claim must be a string"},
		{`{"issuer":"x","audience":["a"]}`, "audience must be a string"},
		{`{"issuer":"x","scopes":1}`, "scopes must be a string"},
	} {
		err := k.Exec(func(tx *privilege.Tx) error {
			return tx.CreateUser(plugintest.Account("x"), privilege.IdentifiedAs(PluginName, c.as))
		})
		assert.Equal(t, uint16(1827), mysqlerr.Code(err), "AS %s", c.as)
		assert.ErrorContains(t, err, "The password hash doesn't have the expected format: "+c.reason, "AS %s", c.as)
		_, perr := ParseBinding(c.as)
		assert.Contains(t, k.Logs(), strings.ReplaceAll(perr.Error(), `"`, `\"`), "the reason is logged")
	}
	err := k.Exec(func(tx *privilege.Tx) error {
		return tx.CreateUser(plugintest.Account("x"), privilege.IdentifiedBy(PluginName, "a password"))
	})
	assert.Equal(t, uint16(1819), mysqlerr.Code(err), "token accounts have no password")
	assert.ErrorContains(t, err, `requirements: authentication_oauth accounts have no password: bind one with IDENTIFIED WITH authentication_oauth AS '{"issuer":"..."}'`)
	assert.NotContains(t, err.Error(), "a password")
	assert.NotContains(t, k.Logs(), "a password")
}

func TestBindingMustNameTheTrustedIssuer(t *testing.T) {
	p, keys := newIDP(t)
	plug, err := NewPlugin(Config{Keys: keys, Audience: audience, Issuer: issuer, Now: func() time.Time { return p.now }})
	require.NoError(t, err)
	k := plugintest.New(t, plug)
	err = k.Exec(func(tx *privilege.Tx) error {
		return tx.CreateUser(plugintest.Account("x"), privilege.IdentifiedAs(PluginName, `{"issuer":"https://evil.example.com"}`))
	})
	assert.Equal(t, uint16(1827), mysqlerr.Code(err))
	assert.ErrorContains(t, err, "expected format: issuer must be one the server trusts: "+issuer)
	assert.Contains(t, k.Logs(), "issuer must be one the server trusts")
	assert.NoError(t, k.Exec(func(tx *privilege.Tx) error {
		return tx.CreateUser(plugintest.Account("x"), privilege.IdentifiedAs(PluginName, aliceAS))
	}))
}

func b64(s string) string { return base64.RawURLEncoding.EncodeToString([]byte(s)) }

// Every hostile token is refused with 1045, and the reason is logged.
func TestHostileTokens(t *testing.T) {
	p, keys := newIDP(t)
	k := kit(t, p, keys)
	user := "alice@example.com"
	good := p.sign(t, p.ec, p.claims(user))
	parts := strings.Split(good, ".")
	with := func(f func(jwt.MapClaims)) string {
		c := p.claims(user)
		f(c)
		return p.sign(t, p.ec, c)
	}
	rsaPub := p.rsa.key.Public().(*rsa.PublicKey)
	hmacWithPublicKey := func() string {
		tok := jwt.NewWithClaims(jwt.SigningMethodHS256, p.claims(user))
		tok.Header["kid"] = p.rsa.kid
		s, err := tok.SignedString(rsaPub.N.Bytes())
		require.NoError(t, err)
		return s
	}()
	noneAlg := func() string {
		tok := jwt.NewWithClaims(jwt.SigningMethodNone, p.claims(user))
		s, err := tok.SignedString(jwt.UnsafeAllowNoneSignatureType)
		require.NoError(t, err)
		return s
	}()
	wrongKeyType := func() string { // an EdDSA header with the RSA key's kid
		tok := jwt.NewWithClaims(jwt.SigningMethodEdDSA, p.claims(user))
		tok.Header["kid"] = p.rsa.kid
		s, err := tok.SignedString(p.ed.key)
		require.NoError(t, err)
		return s
	}()
	// Validly signed raw tokens, so that only the rule under test can refuse
	// them, not a broken signature.
	signRaw := func(header, payload string) string {
		in := b64(header) + "." + b64(payload)
		sig, err := jwt.SigningMethodES256.Sign(in, p.ec.key)
		require.NoError(t, err)
		return in + "." + base64.RawURLEncoding.EncodeToString(sig)
	}
	payload := mustDecode(parts[1])
	header := func(extra string) string {
		return signRaw(`{"alg":"ES256","kid":"ec-1","typ":"JWT"`+extra+`}`, payload)
	}
	unknownKid := func() string {
		tok := jwt.NewWithClaims(jwt.SigningMethodES256, p.claims(user))
		tok.Header["kid"] = "nobody-knows"
		s, _ := tok.SignedString(p.ec.key)
		return s
	}()

	cases := map[string]string{
		"alg none":                         noneAlg,
		"HS256 signed with the public key": hmacWithPublicKey,
		"expired":                          with(func(c jwt.MapClaims) { c["exp"] = p.now.Add(-time.Minute).Unix() }),
		"not yet valid":                    with(func(c jwt.MapClaims) { c["nbf"] = p.now.Add(time.Minute).Unix() }),
		"iat in the future":                with(func(c jwt.MapClaims) { c["iat"] = p.now.Add(time.Minute).Unix() }),
		"too old":                          with(func(c jwt.MapClaims) { c["iat"] = p.now.Add(-2 * time.Hour).Unix() }),
		"no iat":                           with(func(c jwt.MapClaims) { delete(c, "iat") }),
		"wrong issuer":                     with(func(c jwt.MapClaims) { c["iss"] = "https://evil.example.com" }),
		"wrong audience":                   with(func(c jwt.MapClaims) { c["aud"] = "someone-else" }),
		"missing exp":                      with(func(c jwt.MapClaims) { delete(c, "exp") }),
		"unknown kid":                      unknownKid,
		"tampered payload":                 parts[0] + "." + b64(strings.Replace(mustDecode(parts[1]), "select:sales", "select:hr", 1)) + "." + parts[2],
		"tampered signature":               parts[0] + "." + parts[1] + "." + flip(parts[2]),
		"truncated":                        good[:len(good)-10],
		"extra segments":                   good + ".e30",
		"bad base64":                       parts[0] + ".!!!!." + parts[2],
		"non-JSON header":                  b64("not json") + "." + parts[1] + "." + parts[2],
		"huge token":                       good + strings.Repeat("A", 20<<10),
		"token for another user":           with(func(c jwt.MapClaims) { c["sub"] = "bob@example.com" }),
		"subject of the wrong type":        with(func(c jwt.MapClaims) { c["sub"] = 42 }),
		"scope of the wrong type":          with(func(c jwt.MapClaims) { c["scope"] = []string{"select:sales"} }),
		"groups of the wrong type":         with(func(c jwt.MapClaims) { c["groups"] = 42 }),
		"groups with a non-string":         with(func(c jwt.MapClaims) { c["groups"] = []any{"analyst", 1} }),
		"scp of the wrong type":            with(func(c jwt.MapClaims) { c["scp"] = map[string]any{"select": true} }),
		"scp and scope that disagree":      with(func(c jwt.MapClaims) { c["scp"] = []string{"select:sales", "delete:sales"} }),
		"empty password":                   "",
		"nested JWT":                       header(`,"cty":"JWT"`),
		"crit header":                      header(`,"crit":["exp"]`),
		"duplicate claims":                 parts[0] + "." + b64(`{"sub":"bob@example.com","sub":"alice@example.com"}`) + "." + parts[2],
		"duplicate header members":         b64(`{"alg":"none","alg":"ES256","kid":"ec-1"}`) + "." + parts[1] + "." + parts[2],
		"key of the wrong type":            wrongKeyType,
	}
	require.GreaterOrEqual(t, len(cases), 25)
	for name, tok := range cases {
		before := len(k.Logs())
		_, err := k.Login(user, plugintest.Password(tok), plugintest.OverTLS())
		assert.Equal(t, uint16(1045), mysqlerr.Code(err), "%s: %v", name, err)
		logged := k.Logs()[before:]
		assert.Contains(t, logged, "login refused", name)
		if tok != "" && len(tok) > 20 {
			assert.NotContains(t, logged, tok[len(tok)-20:], "%s: the token never reaches the log", name)
		}
	}
	_, err := k.Login(user, plugintest.Password(good), plugintest.OverTLS())
	assert.NoError(t, err, "the untouched token still works")
	_, err = k.Login(user, plugintest.Password(header("")), plugintest.OverTLS())
	assert.NoError(t, err, "a raw-signed token without the hostile parts works, so the cases above test their rule")
}

func mustDecode(s string) string {
	b, err := base64.RawURLEncoding.DecodeString(s)
	if err != nil {
		panic(err)
	}
	return string(b)
}

func flip(sig string) string {
	b := []byte(sig)
	if b[5] == 'A' {
		b[5] = 'B'
	} else {
		b[5] = 'A'
	}
	return string(b)
}

func TestParseScopes(t *testing.T) {
	scopes, ignored := ParseScopes("select:sales insert:Sales.Orders system_variables_admin SELECT openid select:a.b.c select: drop:x:y backup_admin:db", privilege.IsMySQLDynamicPrivilege)
	assert.Equal(t, []Scope{
		{Priv: priv.Select, DB: "sales"},
		{Priv: priv.Insert, DB: "sales", Table: "orders"},
		{Dynamic: "SYSTEM_VARIABLES_ADMIN"},
		{Priv: priv.Select},
	}, scopes)
	assert.Equal(t, []string{"openid", "select:a.b.c", "select:", "drop:x:y", "backup_admin:db"}, ignored,
		"entries that name nothing known, or a malformed target, grant nothing")
}

// The precheck is what refuses these validly signed tokens; the parser
// alone would accept some of them (the duplicate claim, where the last
// member wins).
func TestPrecheckRefusesWhatTheParserAccepts(t *testing.T) {
	p, keys := newIDP(t)
	good := p.sign(t, p.ec, p.claims("alice@example.com"))
	payload := mustDecode(strings.Split(good, ".")[1])
	signRaw := func(header, payload string) string {
		in := b64(header) + "." + b64(payload)
		sig, err := jwt.SigningMethodES256.Sign(in, p.ec.key)
		require.NoError(t, err)
		return in + "." + base64.RawURLEncoding.EncodeToString(sig)
	}
	dup := strings.Replace(payload, `"sub":"alice@example.com"`, `"sub":"bob@example.com","sub":"alice@example.com"`, 1)
	cases := []struct {
		name, token   string
		parserAccepts bool
	}{
		{"crit header", signRaw(`{"alg":"ES256","kid":"ec-1","crit":["exp"]}`, payload), true},
		{"nested JWT", signRaw(`{"alg":"ES256","kid":"ec-1","cty":"JWT"}`, payload), true},
		{"duplicate claim, the last one for the account", signRaw(`{"alg":"ES256","kid":"ec-1"}`, dup), true},
	}
	v, err := NewVerifier(t.Context(), Config{Audience: audience, Issuer: issuer, Keys: keys, Now: func() time.Time { return p.now }})
	require.NoError(t, err)
	for _, c := range cases {
		_, err := jwt.NewParser(jwt.WithValidMethods(Algorithms), jwt.WithTimeFunc(func() time.Time { return p.now })).Parse(c.token, keys.Keyfunc)
		assert.Equal(t, c.parserAccepts, err == nil, "%s: parser alone: %v", c.name, err)
		_, err = v.verifyFor(t.Context(), []byte(c.token), "alice@example.com", Binding{Issuer: issuer, Claim: "sub"})
		assert.ErrorIs(t, err, ErrTokenShape, c.name)
	}
}

func createTokenUser(user, as string) func(tx *privilege.Tx) error {
	return func(tx *privilege.Tx) error {
		return tx.CreateUser(plugintest.Account(user), privilege.IdentifiedAs(PluginName, as))
	}
}

func TestGroupsActivateGrantedRolesOnly(t *testing.T) {
	p, keys := newIDP(t)
	k := kit(t, p, keys)
	alice := plugintest.Account("alice@example.com")
	k.Must(func(tx *privilege.Tx) error {
		for _, r := range []string{"analyst", "auditor", "admin"} {
			if err := tx.CreateRole(plugintest.Account(r)); err != nil {
				return err
			}
		}
		if err := tx.Grant(plugintest.Account("analyst"), privilege.Object{DB: "hr"}, priv.Select, false); err != nil {
			return err
		}
		if err := tx.Grant(plugintest.Account("admin"), privilege.Object{}, priv.AllGlobal, false); err != nil {
			return err
		}
		if err := tx.GrantRole(plugintest.Account("analyst"), alice, false); err != nil {
			return err
		}
		return tx.GrantRole(plugintest.Account("auditor"), alice, false)
	})
	c := p.claims("alice@example.com")
	c["scope"] = "select"
	c["groups"] = []string{"analyst", "admin"} // admin was never granted to alice
	s, err := k.Login("alice@example.com", plugintest.Password(p.sign(t, p.ec, c)), plugintest.OverTLS())
	require.NoError(t, err)
	assert.Equal(t, []priv.Account{plugintest.Account("analyst")}, s.ActiveRoles())
	assert.NoError(t, s.RequestVerification("hr", "people", "", priv.Select), "through the analyst role")
	assert.Error(t, s.RequestVerification("payroll", "pay", "", priv.Select), "a token never grants a role")

	delete(c, "groups")
	s2, err := k.Login("alice@example.com", plugintest.Password(p.sign(t, p.ec, c)), plugintest.OverTLS())
	require.NoError(t, err)
	assert.Empty(t, s2.ActiveRoles(), "no groups, no default roles: nothing active")
}

// staticKeys is a key lookup as a KeySource.
type staticKeys jwt.Keyfunc

func (k staticKeys) KeyfuncCtx(context.Context) jwt.Keyfunc { return jwt.Keyfunc(k) }
