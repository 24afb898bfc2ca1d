package authplugin

import (
	"strconv"
	"testing"
)

// FuzzAuthString feeds stored strings (what IDENTIFIED WITH ... AS and the
// grants file supply) and passwords to the password plugins.
func FuzzAuthString(f *testing.F) {
	f.Add("", "")
	f.Add("*6BB4837EB74329105EE4568DDA7DC67ED2CA2AD9", "123456")
	f.Add("*6bb4837eb74329105ee4568dda7dc67ed2ca2ad9", "123456")
	f.Add("*6BB4837EB74329105EE4568DDA7DC67ED2CA2AD", "x")
	f.Add("$A$005$abcdefghijklmnopqrst0123456789012345678901234567890123", "pw")
	f.Add("$A$000$abcdefghijklmnopqrst0123456789012345678901234567890123", "pw")
	f.Add("$A$FFF$abcdefghijklmnopqrst0123456789012345678901234567890123", "pw")
	f.Add("$5$rounds=5000$salt$hash", "pw")
	plugins := []*AuthPlugin{NativePassword(), CachingSHA2Password(), SHA256Password()}
	f.Fuzz(func(t *testing.T, stored, password string) {
		for _, p := range plugins {
			valid := p.ValidateAuthString(stored)
			if explained := p.ExplainAuthString(stored); valid != (explained == nil) {
				t.Fatalf("%s %q: ValidateAuthString %v but ExplainAuthString %v", p.Name, stored, valid, explained)
			}
			// The hash's cost is the stored string's to choose (up to 4M
			// rounds): keep each input cheap, as a login's is bounded by
			// its deadline.
			if cheap(stored) && len(password) <= 64 {
				if p.VerifyPassword(stored, password) && !valid {
					t.Fatalf("%s: password accepted by the invalid stored string %q", p.Name, stored)
				}
			}
		}
		if len(password) > 64 {
			return
		}
		// What a plugin generates, it accepts, and only for that password;
		// native only, as the crypt formats cost milliseconds per hash.
		for _, p := range plugins[:1] {
			s, ok := p.GenerateAuthString(password)
			if !ok {
				continue
			}
			if !p.ValidateAuthString(s) || !p.VerifyPassword(s, password) {
				t.Fatalf("%s: generated %q does not verify its own password", p.Name, s)
			}
			if p.VerifyPassword(s, password+"x") {
				t.Fatalf("%s: generated %q verifies another password", p.Name, s)
			}
		}
	})
}

// cheap reports whether a stored string names few enough hash rounds for a
// fuzz iteration: the crypt formats carry their round count in the string.
func cheap(stored string) bool {
	if len(stored) < 7 || stored[0] != '$' {
		return true
	}
	n, err := strconv.ParseUint(stored[3:6], 16, 16)
	return err != nil || n <= sha2DefaultRounds
}
