package tests

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"math/rand/v2"
	"path/filepath"
	"testing"

	"github.com/go-sql-driver/mysql"
	"github.com/stretchr/testify/require"

	"github.com/authplug/authplug/grantstore"
	"github.com/authplug/authplug/priv"
	"github.com/authplug/authplug/privilege"
)

// Random role/proxy/rename/drop sequences journaled into a SQL store; the
// store read back (a restart) must be exactly the in-memory data.
func TestStoreRoundTripOfRandomChanges(t *testing.T) {
	ctx := context.Background()
	t.Run("sqlite", func(t *testing.T) {
		gs, err := grantstore.OpenSQLite(ctx, filepath.Join(t.TempDir(), "g.db"))
		require.NoError(t, err)
		defer gs.Close()
		randomRoundTrip(t, gs, 1)
	})
	t.Run("mariadb", func(t *testing.T) {
		m := startMariaDB(t)
		admin := m.conn(t, "root", "")
		exec(t, admin, "CREATE DATABASE rt")
		c := mysql.NewConfig()
		c.User, c.Net, c.Addr, c.DBName = "root", "tcp", m.addr, "rt"
		gs, err := grantstore.OpenMySQL(ctx, c.FormatDSN())
		require.NoError(t, err)
		defer gs.Close()
		randomRoundTrip(t, gs, 2)
	})
}

func randomRoundTrip(t *testing.T, gs *grantstore.Store, seed uint64) {
	ctx := context.Background()
	rng := rand.New(rand.NewPCG(seed, 7))
	var names []priv.Account
	for _, u := range []string{"a", "b", "c", "A", "a "} {
		for _, h := range []string{"%", "h", "H"} {
			names = append(names, priv.Account{User: u, Host: h})
		}
	}
	pick := func() priv.Account { return names[rng.IntN(len(names))] }
	mem := privilege.NewMemStore(privilege.WithJournal(gs.Apply))
	objs := []privilege.Object{{}, {DB: "d"}, {DB: "D", Table: "T"}, {DB: "d", Table: "t", Column: "C"}}
	for round := range 400 {
		_ = mem.Update(func(tx *privilege.Tx) error {
			for range 1 + rng.IntN(5) {
				a, b := pick(), pick()
				var err error
				switch rng.IntN(12) {
				case 0, 1:
					err = tx.CreateUser(a, privilege.IdentifiedAs("mysql_native_password", ""))
				case 2:
					err = tx.CreateRole(a)
				case 3:
					err = tx.DropUser(a)
				case 4:
					err = tx.RenameUser(a, b)
				case 5:
					err = tx.GrantRole(a, b, rng.IntN(2) == 0)
				case 6:
					err = tx.RevokeRole(a, b)
				case 7:
					err = tx.GrantProxy(a, b, rng.IntN(2) == 0)
				case 8:
					err = tx.RevokeProxy(a, b)
				case 9:
					rs := tx.GrantedRoles(a)
					rng.Shuffle(len(rs), func(i, j int) { rs[i], rs[j] = rs[j], rs[i] })
					err = tx.SetDefaultRoles(a, rs)
				case 10:
					o := objs[rng.IntN(len(objs))]
					p := priv.Select
					if o.Level() != priv.Column && rng.IntN(2) == 0 {
						p |= priv.Insert
					}
					err = tx.Grant(a, o, p, rng.IntN(3) == 0)
				case 11:
					err = tx.GrantDynamic(a, "BACKUP_ADMIN", rng.IntN(2) == 0)
				}
				if err != nil && rng.IntN(5) == 0 {
					return err
				}
			}
			if rng.IntN(10) == 0 {
				return errors.New("abandoned")
			}
			return nil
		})
		if round%25 != 24 {
			continue
		}
		want := mem.Snapshot().Data()
		got, err := gs.Load(ctx)
		require.NoError(t, err, "round %d", round)
		wj, _ := json.MarshalIndent(want, "", " ")
		gj, _ := json.MarshalIndent(got, "", " ")
		require.Equal(t, string(wj), string(gj), "round %d: store read back differs", round)
		// and loading it gives the same again
		r := privilege.NewMemStore()
		require.NoError(t, r.Restore(got), "round %d", round)
		rj, _ := json.MarshalIndent(r.Snapshot().Data(), "", " ")
		require.Equal(t, string(wj), string(rj), "round %d: restart differs", round)
	}
	fmt.Println("accounts at end:", mem.Snapshot().Len())
}
