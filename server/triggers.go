package server

import (
	"errors"
	"strings"
	"sync"

	"github.com/dolthub/go-mysql-server/sql"
	"github.com/dolthub/go-mysql-server/sql/analyzer"
	"github.com/dolthub/go-mysql-server/sql/plan"
	"github.com/dolthub/go-mysql-server/sql/transform"
)

// go-mysql-server binds a trigger's body in the firing session's current
// database, so an unqualified name in the body could reach a table of the
// session's choosing. MySQL binds it in the trigger's own database. The
// engine's trigger rule is wrapped to run with the written table's
// database as the current one.

const applyTriggersRule = "applyTriggers"

var errNoTriggerRule = errors.New("authplug: the engine has no " + applyTriggersRule + " analyzer rule to bind trigger bodies in their database; refusing to start")

// bindTriggersInTheirDatabase wraps the rule in a's batches, and once in
// the engine's package-level rule list, which the analyzer uses directly for
// simple INSERTs and UPDATEs. The wrapped rule is MySQL's behaviour for any
// engine in the process.
func bindTriggersInTheirDatabase(a *analyzer.Analyzer) error {
	wrapGlobalTriggerRule.Do(func() {
		for i, r := range analyzer.OnceAfterAll {
			if r.Id.String() == applyTriggersRule {
				analyzer.OnceAfterAll[i].Apply = inWrittenDatabase(r.Apply)
				globalTriggerRuleWrapped = true
			}
		}
	})
	if !globalTriggerRuleWrapped {
		return errNoTriggerRule
	}
	for _, b := range a.Batches {
		for i, r := range b.Rules {
			if r.Id.String() != applyTriggersRule {
				continue
			}
			// The batch may share its rules with the package-level list
			// (wrapped above); wrapping twice is harmless, but change a copy.
			b.Rules = append([]analyzer.Rule(nil), b.Rules...)
			b.Rules[i].Apply = inWrittenDatabase(r.Apply)
			break
		}
	}
	return nil
}

var (
	wrapGlobalTriggerRule    sync.Once
	globalTriggerRuleWrapped bool
)

func inWrittenDatabase(apply analyzer.RuleFunc) analyzer.RuleFunc {
	return func(ctx *sql.Context, a *analyzer.Analyzer, n sql.Node, scope *plan.Scope, sel analyzer.RuleSelector, qf *sql.QueryFlags) (sql.Node, transform.TreeIdentity, error) {
		if !qf.DmlIsSet() {
			return apply(ctx, a, n, scope, sel, qf)
		}
		db := writtenDatabase(n)
		prev := ctx.GetCurrentDatabase()
		if db == "" || strings.EqualFold(db, prev) {
			return apply(ctx, a, n, scope, sel, qf)
		}
		ctx.SetCurrentDatabase(db)
		defer ctx.SetCurrentDatabase(prev)
		return apply(ctx, a, n, scope, sel, qf)
	}
}

// writtenDatabase is the database of the table a DML statement writes.
func writtenDatabase(n sql.Node) string {
	db := ""
	transform.Inspect(n, func(n sql.Node) bool {
		switch t := n.(type) {
		case *plan.InsertInto:
			if t.Database() != nil {
				db = t.Database().Name()
			}
		case *plan.Update:
			db = t.Database()
		case *plan.DeleteFrom:
			db = t.Database()
		default:
			return db == ""
		}
		return false
	})
	return db
}
