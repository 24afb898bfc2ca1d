package server

import (
	"context"
	"errors"
	"fmt"
	"testing"

	"github.com/stretchr/testify/assert"

	"github.com/authplug/authplug/mysqlerr"
	"github.com/authplug/authplug/privilege"
)

// What a client sees of an account statement that failed below the
// statement tells it nothing of the grant store (its address, database)
// nor of accounts the statement did not name.
func TestNeutralErrorHidesTheStore(t *testing.T) {
	ctx := context.Background()
	raw := fmt.Errorf("saving grants: %w", errors.New("dial tcp 10.1.2.3:3306: connect: connection refused"))
	behind := &privilege.CatchUpError{From: 7, Upto: 7, Err: mysqlerr.UnknownAuthID("`ghost`@`%`")}
	canceled, cancel := context.WithCancel(ctx)
	cancel()
	for name, c := range map[string]struct {
		ctx   context.Context
		fence error
		err   error
		code  uint16
	}{
		"store error":        {ctx, nil, raw, mysqlerr.ErUnknownError},
		"store error fenced": {ctx, mysqlerr.GrantStoreUnreachable(), raw, mysqlerr.ErUnknownComError},
		"behind":             {ctx, nil, fmt.Errorf("saving grants: %w", behind), mysqlerr.ErUnknownComError},
		"unacknowledged":     {ctx, nil, fmt.Errorf("%w: %w", privilege.ErrUnacknowledged, raw), mysqlerr.ErUnknownError},
		"interrupted":        {canceled, nil, canceled.Err(), mysqlerr.ErQueryInterrupted},
	} {
		got := neutralError(c.ctx, c.fence, c.err)
		assert.Equal(t, c.code, mysqlerr.Code(got), name)
		assert.NotContains(t, got.Error(), "10.1.2.3", name)
		assert.NotContains(t, got.Error(), "ghost", name)
	}
	assert.Contains(t, neutralError(ctx, nil, fmt.Errorf("%w: %w", privilege.ErrUnacknowledged, raw)).Error(), "saved",
		"a saved change is not reported as failed")
}
