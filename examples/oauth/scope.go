package oauth

import (
	"strings"
	"unicode"

	"github.com/authplug/authplug/priv"
)

// Scope is one entry of a token's scope claim: priv[:db[.table]], e.g.
// "select:sales", "insert:sales.orders", "system_variables_admin". A static
// privilege without a target covers every database; a dynamic privilege
// never has one.
type Scope struct {
	Priv    priv.Mask
	Dynamic string
	DB      string
	Table   string
}

// ParseScopes reads a space-separated scope claim. An entry that names no
// privilege authplug knows (OIDC's "openid", "email", ...) or has a malformed
// target grants nothing: it is returned in ignored, for the log.
func ParseScopes(claim string, isDynamic func(string) bool) (scopes []Scope, ignored []string) {
	return parseScopeEntries(strings.Fields(claim), isDynamic)
}

// parseScopeEntries reads scope entries, from scope or scp (see ParseScopes).
func parseScopeEntries(entries []string, isDynamic func(string) bool) (scopes []Scope, ignored []string) {
	for _, entry := range entries {
		s, ok := parseScope(entry, isDynamic)
		if !ok {
			ignored = append(ignored, entry)
			continue
		}
		scopes = append(scopes, s)
	}
	return scopes, ignored
}

func parseScope(entry string, isDynamic func(string) bool) (Scope, bool) {
	// An scp list entry may hold anything; no scope has a space.
	if strings.ContainsFunc(entry, unicode.IsSpace) || entry == "" {
		return Scope{}, false
	}
	name, target, hasTarget := strings.Cut(entry, ":")
	var s Scope
	if m, ok := priv.Parse(name); ok {
		s.Priv = m
	} else if d := strings.ToUpper(name); isDynamic != nil && isDynamic(d) && !hasTarget {
		s.Dynamic = d
	} else {
		return Scope{}, false
	}
	if hasTarget {
		db, table, _ := strings.Cut(target, ".")
		if db == "" || strings.ContainsAny(target, ":*%") || strings.Count(target, ".") > 1 {
			return Scope{}, false
		}
		s.DB, s.Table = strings.ToLower(db), strings.ToLower(table)
	}
	return s, true
}

// covers reports whether the scope allows static privilege p on db.table
// (empty names for wider objects).
func (s Scope) covers(p priv.Mask, db, table string) bool {
	if s.Priv&p != p {
		return false
	}
	switch {
	case s.DB == "":
		return true
	case s.DB != db:
		return false
	case s.Table == "":
		return true
	}
	return s.Table == table
}
