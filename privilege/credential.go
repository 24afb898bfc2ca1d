package privilege

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"strings"

	"github.com/authplug/authplug/authplugin"
	"github.com/authplug/authplug/mysqlerr"
	"github.com/authplug/authplug/priv"
)

// Credential is how an account authenticates: a plugin, and either a
// password the plugin turns into the stored string (IDENTIFIED BY) or the
// stored string itself (IDENTIFIED ... AS).
type Credential struct {
	Plugin     string
	password   string
	authString string
	byPassword bool
	prepared   bool // authString is the plugin's own output (Manager.Prepare)
}

// MaxPasswordLen is the longest password IDENTIFIED BY, SET PASSWORD and
// REPLACE take, in bytes, for every plugin: authplugin.MaxPasswordLen,
// MySQL's. Password hashes cost more than linear time in the password's
// length (sha256-crypt is quadratic), so without a cap one statement could
// keep a core busy for minutes.
const MaxPasswordLen = authplugin.MaxPasswordLen

// Prepare does c's plugin work (hashing a password, checking an AS string)
// now, outside any transaction, and returns a credential that a
// transaction stores without calling the plugin again: a slow hash then
// holds no lock that other account changes wait for. A refusal is the
// error the transaction would have returned, logged the same way.
func (m *Manager) Prepare(c Credential) (Credential, error) {
	if c.prepared {
		return c, nil
	}
	tx := &Tx{plugin: m.Plugin}
	s, err := tx.authString(c)
	if err != nil {
		return Credential{}, m.logRefusal(err)
	}
	return Credential{Plugin: c.Plugin, authString: s, prepared: true}, nil
}

// IdentifiedBy is IDENTIFIED WITH plugin BY 'password'.
func IdentifiedBy(plugin, password string) Credential {
	return Credential{Plugin: plugin, password: password, byPassword: true}
}

// IdentifiedAs is IDENTIFIED WITH plugin AS 'authString'.
func IdentifiedAs(plugin, authString string) Credential {
	return Credential{Plugin: plugin, authString: authString}
}

// authString is the string to store for c, as its plugin makes or accepts
// it. A refusal is 1827 or 1819 with the plugin's reason, if it gives one;
// a plugin that panics is a *panicError (1105), which Manager.Update and
// Prepare log (logRefusal).
func (tx *Tx) authString(c Credential) (s string, err error) {
	if tx.plugin == nil {
		if c.byPassword {
			return "", errors.New("privilege: IDENTIFIED BY needs the plugins: use Manager.Update")
		}
		return c.authString, nil
	}
	p := tx.plugin(c.Plugin)
	if p == nil {
		return "", mysqlerr.PluginNotLoaded(c.Plugin)
	}
	if c.prepared {
		return c.authString, nil
	}
	if c.byPassword && len(c.password) > MaxPasswordLen {
		why := fmt.Sprintf("longer than %d bytes", MaxPasswordLen)
		return "", &refusal{err: mysqlerr.NotValidPasswordReason(why), plugin: c.Plugin, clause: "IDENTIFIED BY", reason: why}
	}
	hook := "ValidateAuthString"
	secret := ""
	if c.byPassword {
		hook, secret = "GenerateAuthString", c.password
	}
	defer func() {
		if r := recover(); r != nil {
			s, err = "", pluginPanic(c.Plugin, hook, r, secret)
		}
	}()
	if c.byPassword {
		s, ok := p.GenerateAuthString(c.password)
		if !ok {
			hook = "ExplainPassword"
			why, withheld := explain(p.ExplainPassword, c.password, true)
			return "", &refusal{err: mysqlerr.NotValidPasswordReason(why), plugin: c.Plugin, clause: "IDENTIFIED BY", reason: why, withheld: withheld}
		}
		return s, nil
	}
	if !p.ValidateAuthString(c.authString) {
		hook = "ExplainAuthString"
		why, _ := explain(p.ExplainAuthString, c.authString, false)
		return "", &refusal{err: mysqlerr.PasswordFormatReason(why), plugin: c.Plugin, clause: "IDENTIFIED AS", reason: why}
	}
	return c.authString, nil
}

// minEchoLen is the shortest password whose presence in a reason counts as
// an echo: shorter ones turn up in ordinary words by chance.
const minEchoLen = 4

// explain asks the plugin's optional explainer why it refused input. When
// input is a secret and the reason contains it, the reason is withheld: the
// contract forbids that, and this keeps a plugin that breaks it from putting
// the password in the client's error and the log.
func explain(explainer func(string) error, input string, secret bool) (reason string, withheld bool) {
	if explainer == nil {
		return "", false
	}
	err := explainer(input)
	if err == nil {
		return "", false
	}
	reason = strings.TrimSpace(err.Error())
	if secret && len(input) >= minEchoLen && strings.Contains(reason, input) {
		return "", true
	}
	return reason, false
}

// refusal is a plugin's refusal of a credential: the MySQL error the client
// gets, and what Manager.Update logs about it. It unwraps to the MySQL
// error, so errors.As and mysqlerr.Code see 1827 or 1819.
type refusal struct {
	err      *mysqlerr.Error
	plugin   string
	clause   string // IDENTIFIED BY or IDENTIFIED AS
	reason   string
	withheld bool // the plugin's reason contained the password
}

func (r *refusal) Error() string { return r.err.Error() }
func (r *refusal) Unwrap() error { return r.err }

// logRefusal logs the refusal or plugin panic err carries, if any, and
// returns err. It is for Manager.Update, which has the logger a Tx lacks;
// the input itself is never logged.
func (m *Manager) logRefusal(err error) error {
	var pe *panicError
	if errors.As(err, &pe) {
		logPanic(context.Background(), m.log, pe)
		return err
	}
	var r *refusal
	if !errors.As(err, &r) {
		return err
	}
	reason := r.reason
	switch {
	case r.withheld:
		reason = "(withheld: the plugin's reason contained the password)"
	case reason == "":
		reason = "(the plugin gave none)"
	}
	m.log.LogAttrs(context.Background(), slog.LevelInfo, "credential refused",
		slog.String("plugin", r.plugin), slog.String("clause", r.clause),
		slog.Int("code", int(r.err.Code)), slog.String("reason", reason))
	return err
}

// CheckCurrentPassword is the check of ALTER USER ... REPLACE 'current':
// nil if current is a's password, 3891 if it is not. An account whose
// plugin stores no password (no VerifyPassword) cannot be checked, which is
// 1235 rather than MySQL's silent acceptance: a REPLACE that checked
// nothing would look like one that did. A VerifyPassword that panics is a
// *panicError (1105), logged by Manager.Update.
func (tx *Tx) CheckCurrentPassword(a priv.Account, current string) (err error) {
	e := tx.get(a)
	if e == nil {
		return mysqlerr.CannotUser("ALTER USER", a.String())
	}
	if tx.plugin == nil {
		return errors.New("privilege: checking a password needs the plugins: use Manager.Update")
	}
	p := tx.plugin(e.user.Plugin)
	if p == nil {
		return mysqlerr.PluginNotLoaded(e.user.Plugin)
	}
	if p.VerifyPassword == nil {
		return mysqlerr.NotSupportedYet("REPLACE of the current password of an account using " + e.user.Plugin)
	}
	if len(current) > MaxPasswordLen {
		// No stored password is this long: refused without hashing it.
		return mysqlerr.IncorrectCurrentPassword()
	}
	defer func() {
		if r := recover(); r != nil {
			err = pluginPanic(e.user.Plugin, "VerifyPassword", r, current)
		}
	}()
	if !p.VerifyPassword(e.user.AuthString, current) {
		return mysqlerr.IncorrectCurrentPassword()
	}
	return nil
}
