package privilege_test

import (
	"sync"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/authplug/authplug/mysqlerr"
	"github.com/authplug/authplug/plugintest"
	"github.com/authplug/authplug/privilege"
)

func TestMaxUserConnectionsIsPerAccount(t *testing.T) {
	k := plugintest.New(t)
	k.Must(func(tx *privilege.Tx) error {
		if err := tx.CreateUser(alice, privilege.IdentifiedBy(native, "pw"), privilege.MaxUserConnections(2)); err != nil {
			return err
		}
		return tx.CreateUser(bob, privilege.IdentifiedBy(native, "pw"))
	})
	uc := privilege.NewUserConnections(0)
	open := func(user string) (func(), error) {
		sess, err := k.Login(user, plugintest.Password("pw"))
		require.NoError(t, err)
		return uc.Open(sess)
	}
	r1, err := open("alice")
	require.NoError(t, err)
	_, err = open("alice")
	require.NoError(t, err)
	_, err = open("alice")
	assert.EqualError(t, err, "Error 1226 (42000): User 'alice' has exceeded the 'max_user_connections' resource (current value: 2)")
	assert.Equal(t, 2, uc.Count(alice), "a refused session is not counted")

	for range 5 {
		_, err := open("bob")
		require.NoError(t, err, "other accounts, without a limit, are not affected")
	}

	r1()
	r1() // releasing twice gives back one count
	assert.Equal(t, 1, uc.Count(alice))
	_, err = open("alice")
	assert.NoError(t, err, "a closed session makes room")

	// ALTER USER applies to the sessions opened after it.
	k.Must(func(tx *privilege.Tx) error { return tx.AlterUser(alice, privilege.MaxUserConnections(0)) })
	_, err = open("alice")
	assert.NoError(t, err)
}

func TestGlobalMaxUserConnections(t *testing.T) {
	k := plugintest.New(t)
	k.Must(func(tx *privilege.Tx) error {
		if err := tx.CreateUser(alice, privilege.IdentifiedBy(native, "pw")); err != nil {
			return err
		}
		return tx.CreateUser(bob, privilege.IdentifiedBy(native, "pw"), privilege.MaxUserConnections(3))
	})
	uc := privilege.NewUserConnections(1)
	login := func(user string) *privilege.Session {
		sess, err := k.Login(user, plugintest.Password("pw"))
		require.NoError(t, err)
		return sess
	}
	_, err := uc.Open(login("alice"))
	require.NoError(t, err)
	_, err = uc.Open(login("alice"))
	assert.Equal(t, uint16(mysqlerr.ErTooManyUserConns), mysqlerr.Code(err))
	assert.EqualError(t, err, "Error 1203 (42000): User alice already has more than 'max_user_connections' active connections")
	for range 3 {
		_, err = uc.Open(login("bob"))
		require.NoError(t, err, "an account's own limit replaces the global one")
	}
}

// Opens and releases from many goroutines leave the count exact.
func TestUserConnectionsUnderConcurrency(t *testing.T) {
	k := plugintest.New(t)
	k.Must(func(tx *privilege.Tx) error {
		return tx.CreateUser(alice, privilege.IdentifiedBy(native, "pw"), privilege.MaxUserConnections(5))
	})
	sess, err := k.Login("alice", plugintest.Password("pw"))
	require.NoError(t, err)
	uc := privilege.NewUserConnections(0)
	var wg sync.WaitGroup
	var mu sync.Mutex
	opened := 0
	for range 50 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			release, err := uc.Open(sess)
			if err != nil {
				return
			}
			mu.Lock()
			opened++
			assert.LessOrEqual(t, uc.Count(alice), 5)
			mu.Unlock()
			release()
		}()
	}
	wg.Wait()
	assert.Positive(t, opened)
	assert.Zero(t, uc.Count(alice))
	assert.Zero(t, uc.Total())
}
