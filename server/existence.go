package server

import (
	"context"
	"strings"

	ast "github.com/dolthub/vitess/go/vt/sqlparser"

	"github.com/authplug/authplug/mysqlerr"
	"github.com/authplug/authplug/priv"
)

// Some statements name a table that the engine looks up (and whose
// columns it resolves) before anything asks for a privilege on it: LOAD
// DATA's INSERT is asked after the table and its column list are bound,
// ANALYZE TABLE is asked nothing before the plan authorizer, and CREATE
// TABLE ... LIKE and FOREIGN KEY ... REFERENCES look the other table up
// first. An existing table is then refused, but a missing table or column
// fails first, with 1146 or 1054. MySQL checks the privilege first, so
// that missing and forbidden look alike: when such a statement fails on a
// missing name, the refusal it would have met is its answer.

// namedNeed is a privilege a statement needs on a table it names. When
// columnar, column grants may cover it: cols are the columns LOAD DATA
// lists.
type namedNeed struct {
	db, table string
	p         priv.Mask
	cols      []string
	columnar  bool
}

// needsOf lists, in MySQL's order, the privileges stmt needs on the tables
// it names that the engine looks up before asking for them.
func needsOf(stmt ast.Statement) []namedNeed {
	named := func(t ast.TableName, p priv.Mask) namedNeed {
		return namedNeed{db: t.DbQualifier.String(), table: t.Name.String(), p: p}
	}
	var out []namedNeed
	fks := func(d *ast.DDL) {
		if d == nil || d.TableSpec == nil {
			return
		}
		for _, c := range d.TableSpec.Constraints {
			if fk, ok := c.Details.(*ast.ForeignKeyDefinition); ok {
				out = append(out, named(fk.ReferencedTable, priv.References))
			}
		}
	}
	switch s := stmt.(type) {
	case *ast.Load:
		p := priv.Insert
		if strings.EqualFold(s.IgnoreOrReplace, ast.ReplaceStr) {
			p |= priv.Delete
		}
		n := named(s.Table, p)
		n.columnar = p == priv.Insert
		for _, c := range s.Columns {
			n.cols = append(n.cols, c.String())
		}
		out = append(out, n)
	case *ast.Analyze:
		for _, t := range s.Tables {
			out = append(out, named(t, priv.Select|priv.Insert))
		}
	case *ast.DDL:
		if s.OptLike != nil {
			for _, t := range s.OptLike.LikeTables {
				out = append(out, named(t, priv.Select))
			}
		}
		fks(s)
	case *ast.AlterTable:
		for _, d := range s.Statements {
			fks(d)
		}
	}
	return out
}

// refuseNamed is the refusal stmt meets on a table it names that the
// session may not use as the statement needs, in place of err, the
// engine's "no such table or column"; or err.
func refuseNamed(who principal, currentDB string, stmt ast.Statement, err error) error {
	for _, n := range needsOf(stmt) {
		db := orDefault(n.db, currentDB)
		if db == "" || isInfoSchema(db) {
			continue
		}
		verr := verifyEach(who, db, n.table, n.p)
		if verr == nil {
			continue
		}
		if n.columnar && who.columnGrants() && who.columnsAllow(db, n.table, n.p) {
			// The table is no secret to the session: a column it lists that
			// does not exist is refused as one it is not granted would be
			// (1143), as MySQL does.
			for _, c := range n.cols {
				if cerr := who.verify(db, n.table, c, n.p); cerr != nil {
					return cerr
				}
			}
			continue
		}
		return verr
	}
	if l, ok := stmt.(*ast.Load); ok && !bool(l.Local) && who.verify("", "", "", priv.File) != nil {
		// After the table, as the engine's check of an existing table
		// comes before the plan authorizer's FILE (insertRule).
		return mysqlerr.SpecificAccessDenied(priv.File.Names()...)
	}
	return err
}

// statementOf parses the first statement of query; the statement a SQL
// PREPARE prepares from a literal stands for it.
func statementOf(query string) (ast.Statement, bool) {
	stmt, _, err := ast.ParseOne(context.Background(), query)
	if err != nil {
		return nil, false
	}
	if p, ok := stmt.(*ast.Prepare); ok {
		if strings.HasPrefix(p.Expr, "@") {
			return nil, false
		}
		return statementOf(p.Expr)
	}
	return stmt, true
}
