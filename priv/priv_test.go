package priv

import (
	"testing"

	"github.com/stretchr/testify/assert"
)

func TestParse(t *testing.T) {
	cases := map[string]Mask{
		"select":                  Select,
		"SELECT":                  Select,
		"create temporary tables": CreateTmpTable,
		"CREATE_TEMPORARY_TABLES": CreateTmpTable,
		"grant  option":           GrantOption,
		"show databases":          ShowDB,
		"drop role":               DropRole,
	}
	for in, want := range cases {
		got, ok := Parse(in)
		assert.True(t, ok, in)
		assert.Equal(t, want, got, in)
	}
	for _, in := range []string{"", "ALL", "PROXY", "SYSTEM_VARIABLES_ADMIN", "selec"} {
		_, ok := Parse(in)
		assert.False(t, ok, in)
	}
}

func TestNamesRoundTrip(t *testing.T) {
	for m := Mask(1); m < lastPriv; m <<= 1 {
		got, ok := Parse(m.Name())
		assert.True(t, ok, m.Name())
		assert.Equal(t, m, got)
	}
	assert.Equal(t, "SELECT, INSERT", (Insert | Select).String())
	assert.Equal(t, "USAGE", Mask(0).String())
}

func TestLevels(t *testing.T) {
	assert.Zero(t, Column.Valid()&^Table.Valid(), "column privileges exist at table level")
	assert.Zero(t, Table.Valid()&^Database.Valid(), "table privileges exist at database level")
	assert.Zero(t, Database.Valid()&^Global.Valid())
	assert.Zero(t, Global.All()&GrantOption, "ALL never includes GRANT OPTION")
	assert.NotZero(t, Global.All()&Super)
	assert.Zero(t, Database.All()&Super, "SUPER is global only")
	assert.Equal(t, Select|Insert|Update|References, Column.All())
}

func TestAccountQuoting(t *testing.T) {
	a := Account{User: "o'brien", Host: "%"}
	assert.Equal(t, `'o''brien'@'%'`, a.String())
	assert.Equal(t, "`r`@`%`", Account{User: "r", Host: "%"}.Backquoted())
}
