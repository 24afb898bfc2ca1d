package server

// statementKinds says how each statement kind of the engine's parser is
// authorized, so that a parser upgrade with a new kind fails
// TestEveryStatementKindIsClassified until someone decides. "plan": the
// engine plans it and the plan authorizer checks every node of the plan
// (planrules.go), which is where the decision is made; "authplug": authplug
// executes it itself from its own store (accounts.go, impersonate.go)
// before the engine sees it, and the plan authorizer refuses it should it
// ever reach the engine; "no plan": the engine refuses it before planning.
var statementKinds = map[string]string{
	"Select": "plan", "ParenSelect": "plan", "SetOp": "plan", "Insert": "plan", "Update": "plan",
	"Delete": "plan", "Load": "plan", "Call": "plan", "Explain": "plan", "Show": "plan",
	"ShowPrivileges": "plan", "Use": "plan", "Set": "plan", "Kill": "plan", "LockTables": "plan",
	"UnlockTables": "plan", "Analyze": "plan", "Flush": "plan", "DDL": "plan", "DBDDL": "plan",
	"AlterTable": "plan", "CreateSpatialRefSys": "plan", "SrsAttribute": "plan",
	"Begin": "plan", "Commit": "plan", "Rollback": "plan", "Savepoint": "plan",
	"RollbackSavepoint": "plan", "ReleaseSavepoint": "plan", "Prepare": "plan", "Execute": "plan",
	"Deallocate": "plan", "ChangeReplicationSource": "plan", "ChangeReplicationFilter": "plan",
	"StartReplica": "plan", "StopReplica": "plan", "ResetReplica": "plan", "PurgeBinaryLogs": "plan",
	"OtherAdmin": "plan", "OtherRead": "plan", "Stream": "plan", "InjectedStatement": "plan",
	// Compound statements: bodies of triggers and routines, planned with
	// them and checked when they run.
	"BeginEndBlock": "plan", "CaseStatement": "plan", "IfStatement": "plan", "Loop": "plan",
	"Repeat": "plan", "While": "plan", "Leave": "plan", "Iterate": "plan", "Declare": "plan",
	"OpenCursor": "plan", "FetchCursor": "plan", "CloseCursor": "plan", "Signal": "plan",
	"Resignal": "plan", "Return": "plan",
	// Account statements.
	"CreateUser": "authplug", "DropUser": "authplug", "RenameUser": "authplug", "CreateRole": "authplug",
	"DropRole": "authplug", "GrantPrivilege": "authplug", "GrantRole": "authplug", "GrantProxy": "authplug",
	"RevokePrivilege": "authplug", "RevokeAllPrivileges": "authplug", "RevokeRole": "authplug",
	"RevokeProxy": "authplug", "ShowGrants": "authplug",
}
