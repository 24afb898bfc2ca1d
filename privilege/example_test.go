package privilege_test

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net"

	"github.com/authplug/authplug/authplugin"
	"github.com/authplug/authplug/plugintest"
	"github.com/authplug/authplug/priv"
	"github.com/authplug/authplug/privilege"
)

// A host's whole use of the package: a store, a manager over it, accounts
// and grants changed in a transaction, a login that makes a session, and
// the session's checks, which follow every later change.
func Example() {
	store := privilege.NewMemStore()
	m, err := privilege.NewManager(store, privilege.WithLogger(slog.New(slog.DiscardHandler)))
	if err != nil {
		panic(err)
	}

	alice := priv.Account{User: "alice", Host: "%"}
	orders := privilege.Object{DB: "shop", Table: "orders"}
	err = m.Update(func(tx *privilege.Tx) error { // CREATE USER and GRANT, in one change
		return errors.Join(
			tx.CreateUser(alice, privilege.IdentifiedBy(authplugin.NativePasswordName, "s3cret")),
			tx.Grant(alice, orders, priv.Select|priv.Insert, false),
		)
	})
	if err != nil {
		panic(err)
	}

	// The host sent salt in its handshake; the client answered with the
	// scramble of its password (plugintest computes it as a client would).
	salt := []byte("0123456789abcdefghij")
	req := privilege.LoginRequest{
		User:       "alice",
		RemoteAddr: &net.TCPAddr{IP: net.IPv4(127, 0, 0, 1), Port: 50000},
		AuthData:   plugintest.NativeScramble("s3cret", salt),
		Salt:       salt,
	}
	s, err := m.ConnectionVerification(context.Background(), req)
	if err != nil {
		panic(err)
	}
	fmt.Println(s.User(), s.ClientHost(), s.Account())
	fmt.Println(s.RequestVerification("shop", "orders", "", priv.Select))
	fmt.Println(s.RequestVerification("shop", "orders", "", priv.Delete))

	// A REVOKE applies to the open session from its next check.
	err = m.Update(func(tx *privilege.Tx) error { return tx.Revoke(alice, orders, priv.Select) })
	if err != nil {
		panic(err)
	}
	fmt.Println(s.RequestVerification("shop", "orders", "", priv.Select))

	req.AuthData = plugintest.NativeScramble("wrong", salt)
	_, err = m.ConnectionVerification(context.Background(), req)
	fmt.Println(err)
	// Output:
	// alice localhost 'alice'@'%'
	// <nil>
	// Error 1142 (42000): DELETE command denied to user 'alice'@'localhost' for table 'orders'
	// Error 1142 (42000): SELECT command denied to user 'alice'@'localhost' for table 'orders'
	// Error 1045 (28000): Access denied for user 'alice'@'localhost' (using password: YES)
}
