package authplugin

import (
	"context"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// A login past its handshake deadline stops hashing: sha256-crypt looks at
// its context every ctxCheckRounds rounds.
func TestSHA256CryptStopsWithItsContext(t *testing.T) {
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	_, err := sha256CryptCtx(ctx, []byte("pw"), []byte("saltstring"), 1_000_000)
	assert.ErrorIs(t, err, context.Canceled)

	got, err := sha256CryptCtx(context.Background(), []byte("Hello world!"), []byte("saltstring"), sha256Rounds)
	require.NoError(t, err)
	assert.Equal(t, "5B8vYYiY.CVt1RlTTf8KbXBH3hsxY/GNooZaBBGWEc5", got, "the check does not change the hash")
}

func TestPasswordPluginsStopAtTheDeadline(t *testing.T) {
	expired, cancel := context.WithDeadline(context.Background(), time.Now().Add(-time.Second))
	defer cancel()
	stored, ok := sha256Generate("secret")
	require.True(t, ok)
	// Over TLS the password comes in clear, so the plugin goes straight to
	// hashing it.
	_, err := SHA256Password().AuthenticateUser(expired, AuthenticateRequest{
		User: "u", StoredAuthString: stored, InputAuthString: []byte("secret\x00"), SecureTransport: true,
	})
	assert.ErrorIs(t, err, context.DeadlineExceeded)
	assert.NotErrorIs(t, err, ErrWrongPassword)
}
