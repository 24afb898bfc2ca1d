// Package mysqlerr defines the MySQL errors authplug returns, with the error
// numbers and SQL states MySQL clients expect, so that a host can put them on
// the wire unchanged and a caller can tell them apart with errors.As or Code.
package mysqlerr

import (
	"errors"
	"fmt"
	"strings"
)

// Error is a MySQL error: number, SQL state and message, as a client sees it.
type Error struct {
	Code     uint16
	SQLState string
	Message  string
}

func (e *Error) Error() string {
	return fmt.Sprintf("Error %d (%s): %s", e.Code, e.SQLState, e.Message)
}

// Errorf returns error number code with its SQL state (State) and the
// formatted message. code is one of the Er constants: a number that is
// not gets HY000.
func Errorf(code uint16, format string, args ...any) *Error {
	return &Error{Code: code, SQLState: State(code), Message: fmt.Sprintf(format, args...)}
}

// Received is an error the host got from below it (the engine's own, which
// the wire would carry as it is): its number and state are the engine's,
// not necessarily in this package's table. Only a host's conversion from
// the engine's error type calls it.
func Received(code uint16, state, message string) *Error {
	return &Error{Code: code, SQLState: state, Message: message}
}

// SyntaxError is 1064, a statement the parser refused; near says where.
func SyntaxError(near string) *Error {
	return Errorf(ErSyntax, "You have an error in your SQL syntax; %s", near)
}

// Code returns the MySQL error number in err's chain, or 0 when there is none.
func Code(err error) uint16 {
	var e *Error
	if errors.As(err, &e) {
		return e.Code
	}
	return 0
}

func yesNo(b bool) string {
	if b {
		return "YES"
	}
	return "NO"
}

// AccessDenied is the login refusal (1045). It is deliberately the same for an
// unknown user, a wrong password and an unusable account, so that a client
// cannot learn which accounts exist.
func AccessDenied(user, host string, usingPassword bool) *Error {
	return Errorf(ErAccessDenied, "Access denied for user '%s'@'%s' (using password: %s)", user, host, yesNo(usingPassword))
}

// DBAccessDenied is 1044, a database-level refusal.
func DBAccessDenied(user, host, db string) *Error {
	return Errorf(ErDBAccessDenied, "Access denied for user '%s'@'%s' to database '%s'", user, host, db)
}

// TableAccessDenied is 1142; command is the privilege's name, e.g. SELECT.
func TableAccessDenied(command, user, host, table string) *Error {
	return Errorf(ErTableAccessDenied, "%s command denied to user '%s'@'%s' for table '%s'", command, user, host, table)
}

// ColumnAccessDenied is 1143.
func ColumnAccessDenied(command, user, host, column, table string) *Error {
	return Errorf(ErColumnAccessDenied, "%s command denied to user '%s'@'%s' for column '%s' in table '%s'", command, user, host, column, table)
}

// SpecificAccessDenied is 1227: the operation needs one of privs.
func SpecificAccessDenied(privs ...string) *Error {
	return Errorf(ErSpecificAccess, "Access denied; you need (at least one of) the %s privilege(s) for this operation", strings.Join(privs, ", "))
}

// PluginNotLoaded is 1524.
func PluginNotLoaded(name string) *Error {
	return Errorf(ErPluginNotLoaded, "Plugin '%s' is not loaded", name)
}

// CannotUser is 1396: op is the statement (CREATE USER, DROP ROLE, ...), who
// the accounts it failed for, already quoted.
func CannotUser(op, who string) *Error {
	return Errorf(ErCannotUser, "Operation %s failed for %s", op, who)
}

// UserIsDefiner is 4006: op would leave an object (kind: "a view", "a
// trigger", "a stored routine") without its definer account.
func UserIsDefiner(op, who, kind string) *Error {
	return Errorf(ErUserIsDefiner, "Operation %s failed for %s as it is referenced as a definer account in %s.", op, who, kind)
}

// NonexistingGrant is 1141, a REVOKE of something never granted.
func NonexistingGrant(user, host string) *Error {
	return Errorf(ErNonexistingGrant, "There is no such grant defined for user '%s' on host '%s'", user, host)
}

// IllegalGrantForTable is 1144: a privilege that does not exist at table or
// column level.
func IllegalGrantForTable() *Error {
	return Errorf(ErIllegalGrantForTbl, "Illegal GRANT/REVOKE command; please consult the manual to see which privileges can be used")
}

// WrongUsage is 1221, e.g. "DB GRANT" and "GLOBAL PRIVILEGES".
func WrongUsage(a, b string) *Error {
	return Errorf(ErWrongUsage, "Incorrect usage of %s and %s", a, b)
}

// RoleNotGranted is 3530; role and user are already quoted account names.
func RoleNotGranted(role, user string) *Error {
	return Errorf(ErRoleNotGranted, "%s is not granted to %s", role, user)
}

// PasswordFormat is 1827, an AS string the plugin rejects.
func PasswordFormat() *Error {
	return Errorf(ErPasswordFormat, "The password hash doesn't have the expected format.")
}

// UnknownPrivilege refuses a dynamic privilege that no extension registered.
// MySQL reports it as a syntax error (1064); the message says which name.
func UnknownPrivilege(name string) *Error {
	return Errorf(ErSyntax, "Unknown privilege '%s'", name)
}

// NotValidPassword is 1819: the plugin refused to make a credential from
// the password.
func NotValidPassword() *Error {
	return Errorf(ErNotValidPassword, "Your password does not satisfy the current policy requirements")
}

// UnknownAuthID is 3523: a role or account that does not exist.
func UnknownAuthID(who string) *Error {
	return Errorf(ErUnknownAuthID, "Unknown authorization ID %s", who)
}

// RoleGrantedToItself is 4027: the GRANT would make a loop of roles.
func RoleGrantedToItself(user, role string) *Error {
	return Errorf(ErRoleGrantedToItself, "User account %s is directly or indirectly granted to the role %s. The GRANT would create a loop in the role graph.", user, role)
}

// PasswordFormatReason is 1827 with the plugin's reason for refusing the AS
// string; without a reason it is PasswordFormat.
func PasswordFormatReason(reason string) *Error {
	if reason == "" {
		return PasswordFormat()
	}
	return Errorf(ErPasswordFormat, "The password hash doesn't have the expected format: %s", reason)
}

// NotValidPasswordReason is 1819 with the plugin's reason for refusing the
// password; without a reason it is NotValidPassword.
func NotValidPasswordReason(reason string) *Error {
	if reason == "" {
		return NotValidPassword()
	}
	return Errorf(ErNotValidPassword, "Your password does not satisfy the current policy requirements: %s", reason)
}

// IncorrectCurrentPassword is 3891: ALTER USER ... REPLACE named a password
// that is not the account's.
func IncorrectCurrentPassword() *Error {
	return Errorf(ErIncorrectCurrentPassword, "Incorrect current password. Specify the correct password which has to be replaced.")
}

// NotSupportedYet is 1235; what names the unsupported feature.
func NotSupportedYet(what string) *Error {
	return Errorf(ErNotSupportedYet, "This version of authplug doesn't yet support '%s'", what)
}

// OpenAsReadonly is 1036: a write to a table that cannot be written.
func OpenAsReadonly(table string) *Error {
	return Errorf(ErOpenAsReadonly, "Table '%s' is read only", table)
}

// NoSystemSchemaAccess is 3552: a statement that would create, drop or
// change objects of a system schema.
func NoSystemSchemaAccess(schema string) *Error {
	return Errorf(ErNoSystemSchemaAccess, "Access to system schema '%s' is rejected.", schema)
}

// MissingCurrentPassword is 3892: the account requires its current password
// (PASSWORD REQUIRE CURRENT) and the change named none.
func MissingCurrentPassword() *Error {
	return Errorf(ErMissingCurrentPassword, "Current password needs to be specified in the REPLACE clause in order to change it.")
}

// CurrentPasswordNotRequired is 3893: REPLACE names a current password in
// a change of another account's.
func CurrentPasswordNotRequired() *Error {
	return Errorf(ErCurrentPasswordNotRequired, "Do not specify the current password while changing it for other users.")
}

// MustChangePassword is 1820: a session whose password has expired ran
// something other than changing it (sandbox mode).
func MustChangePassword() *Error {
	return Errorf(ErMustChangePassword, "You must reset your password using ALTER USER statement before executing this statement.")
}

// Login refusals echo the user name the client sent, which is the client's
// to choose: MySQL limits a user name to 32 characters, and no log line or
// error text repeats more than that.
const MaxUserNameLen = 32 // USERNAME_CHAR_LENGTH

// BoundedName is name cut to MaxUserNameLen characters, with "…" when it
// was longer, for error texts and logs.
func BoundedName(name string) string {
	n := 0
	for i := range name {
		if n == MaxUserNameLen {
			return name[:i] + "…"
		}
		n++
	}
	return name
}

// AccountGone is 1045 for a session whose account was dropped or renamed
// since it logged in: what it authenticated as no longer exists, even if
// an account of the same name does again.
func AccountGone(user, host string) *Error {
	return Errorf(ErAccessDenied, "Access denied for user '%s'@'%s' (the account was dropped or renamed)", BoundedName(user), host)
}

// LoginDenied is AccessDenied (1045) with the user name bounded.
func LoginDenied(user, host string, usingPassword bool) *Error {
	return AccessDenied(BoundedName(user), host, usingPassword)
}

// TooManyConnections is 1040: max_connections sessions are open, and the
// one more kept for CONNECTION_ADMIN or SUPER is taken or the account holds
// neither.
func TooManyConnections() *Error {
	return Errorf(ErConCount, "Too many connections")
}

// UserLimitReached is 1226: the account already has its
// MAX_USER_CONNECTIONS sessions open; limit is that number.
func UserLimitReached(user string, limit int) *Error {
	return Errorf(ErUserLimitReached, "User '%s' has exceeded the 'max_user_connections' resource (current value: %d)",
		BoundedName(user), limit)
}

// TooManyUserConnections is 1203: the account, which has no
// MAX_USER_CONNECTIONS of its own, already has the global
// max_user_connections sessions open.
func TooManyUserConnections(user string) *Error {
	return Errorf(ErTooManyUserConns, "User %s already has more than 'max_user_connections' active connections", BoundedName(user))
}

// GrantStoreUnreachable is 1047: this front end has lost its grant store
// lease and refuses statements until it has renewed it and caught up (its
// grants may be behind). 1047 is what a Galera node out of the primary
// component answers with (SQLSTATE 08S01, a communication failure), which
// load balancers and drivers already take as "use another node"; 1105
// would say nothing.
func GrantStoreUnreachable() *Error {
	return Errorf(ErUnknownComError, "authplug: the grant store is unreachable; statements are refused until this front end has caught up with it")
}

// AccountStatementFailed is 1105 for an account statement that failed in
// the grant store (or a plugin): the cause, whose text may hold the
// store's address, database and other accounts, is for the server's log,
// not for a client that may hold no privilege at all.
func AccountStatementFailed() *Error {
	return Errorf(ErUnknownError, "authplug: the grant store refused the change; see the server log")
}

// ChangeUnacknowledged is 1105 for a change the grant store has saved,
// but that some live front end had not applied when the statement gave up
// waiting: it must not be run again as if it had failed.
func ChangeUnacknowledged() *Error {
	return Errorf(ErUnknownError, "authplug: the change is saved, but some front ends have not applied it yet; see the server log")
}

// PluginFailed is 1105 for a request refused because an authentication
// plugin or extension hook failed (it panicked): the plugin's name and the
// panic, which may hold its secrets, are for the server's log only.
func PluginFailed() *Error {
	return Errorf(ErUnknownError, "authplug: the authentication plugin failed; see the server log")
}

// QueryInterrupted is 1317: the statement was killed (KILL QUERY) or its
// connection closed.
func QueryInterrupted() *Error {
	return Errorf(ErQueryInterrupted, "Query execution was interrupted")
}
