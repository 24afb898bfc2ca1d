package account

import "github.com/pingcap/tidb/pkg/parser/ast"

// secretsOf lists the passwords and hashes a parsed statement carries.
func secretsOf(st *Statement) []string {
	var out []string
	if st.Replace != nil {
		out = append(out, *st.Replace)
	}
	auth := func(o *ast.AuthOption) {
		if o != nil && o.ByAuthString && !st.IsRandom(o.AuthString) {
			out = append(out, o.AuthString)
		}
		if o != nil && o.ByHashString {
			out = append(out, o.HashString)
		}
	}
	switch n := st.Node.(type) {
	case *ast.CreateUserStmt:
		for _, u := range n.Specs {
			auth(u.AuthOpt)
		}
	case *ast.AlterUserStmt:
		auth(n.CurrentAuth)
		for _, u := range n.Specs {
			auth(u.AuthOpt)
		}
	case *ast.SetPwdStmt:
		if !st.IsRandom(n.Password) {
			out = append(out, n.Password)
		}
	case *ast.GrantStmt:
		for _, u := range n.Users {
			auth(u.AuthOpt)
		}
	}
	return out
}
