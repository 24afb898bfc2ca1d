package oauth

import (
	"encoding/json"
	"io"
	"sync"
	"time"

	"github.com/authplug/authplug/extension"
)

// Auditor writes one JSON line per login (accepted or refused, with the
// reason), statement and disconnect: the authenticated identity, the
// effective one while impersonating, and a token's jti and issuer. Never a
// token or a password: statement texts come from the host with passwords
// redacted, and refusal reasons never carry credentials.
type Auditor struct {
	mu  sync.Mutex
	w   io.Writer
	now func() time.Time
}

// NewAuditor writes to w.
func NewAuditor(w io.Writer) *Auditor { return &Auditor{w: w, now: time.Now} }

// Record is one audit line.
type Record struct {
	Time             string `json:"time"`
	Event            string `json:"event"`
	Outcome          string `json:"outcome,omitempty"`
	ConnectionID     uint64 `json:"connection_id"`
	User             string `json:"user,omitempty"`
	Client           string `json:"client,omitempty"`
	Account          string `json:"account,omitempty"`
	EffectiveAccount string `json:"effective_account,omitempty"`
	Plugin           string `json:"plugin,omitempty"`
	Issuer           string `json:"issuer,omitempty"`
	JTI              string `json:"jti,omitempty"`
	Reason           string `json:"reason,omitempty"`
	DB               string `json:"db,omitempty"`
	Statement        string `json:"statement,omitempty"`
	AffectedRows     uint64 `json:"affected_rows,omitempty"`
	Error            string `json:"error,omitempty"`
}

func (a *Auditor) write(r Record) {
	r.Time = a.now().UTC().Format(time.RFC3339Nano)
	b, err := json.Marshal(r)
	if err != nil {
		return
	}
	a.mu.Lock()
	defer a.mu.Unlock()
	a.w.Write(append(b, '\n'))
}

func tokenOf(state any) (issuer, jti string) {
	if s, ok := state.(*Session); ok {
		return s.Issuer, s.JTI
	}
	return "", ""
}

// Handler is the session handler factory for extension.WithSessionHandlerFactory.
func (a *Auditor) Handler() *extension.SessionHandler {
	return &extension.SessionHandler{
		OnConnectionEvent: func(tp extension.ConnEventTp, info *extension.ConnEventInfo) {
			r := Record{ConnectionID: info.ConnectionID, User: info.User, Client: info.ClientHost, Plugin: info.Plugin}
			switch tp {
			case extension.ConnHandshakeAccepted:
				r.Event, r.Outcome, r.Account = "login", "accepted", info.Account.String()
				r.Issuer, r.JTI = tokenOf(info.PluginState)
			case extension.ConnHandshakeRejected:
				r.Event, r.Outcome = "login", "rejected"
				if r.Client == "" {
					r.Client = info.RemoteAddr
				}
				if info.Reason != nil {
					r.Reason = info.Reason.Error()
				}
			case extension.ConnDisconnected:
				r.Event = "disconnect"
				if info.Account.User != "" || info.Account.Host != "" {
					r.Account = info.Account.String()
				}
			default:
				return
			}
			a.write(r)
		},
		OnStmtEvent: func(tp extension.StmtEventTp, info *extension.StmtEventInfo) {
			r := Record{
				Event: "statement", Outcome: tp.String(), ConnectionID: info.ConnectionID,
				User: info.User, Client: info.ClientHost, Account: info.Account.String(),
				DB: info.CurrentDB, Statement: info.Text, AffectedRows: info.AffectedRows,
			}
			if info.EffectiveAccount != info.Account {
				r.EffectiveAccount = info.EffectiveAccount.String()
			}
			r.Issuer, r.JTI = tokenOf(info.PluginState)
			if info.Err != nil {
				r.Error = info.Err.Error()
			}
			a.write(r)
		},
	}
}
