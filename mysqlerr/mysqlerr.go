// Package mysqlerr defines the MySQL errors authplug returns, with the error
// numbers and SQL states MySQL clients expect, so that a host can put them on
// the wire unchanged and a caller can tell them apart with errors.As or Code.
package mysqlerr

import (
	"errors"
	"fmt"
	"strings"
)

// MySQL error numbers used by authplug.
const (
	ErAccessDenied       = 1045 // ER_ACCESS_DENIED_ERROR
	ErDBAccessDenied     = 1044 // ER_DBACCESS_DENIED_ERROR
	ErTableAccessDenied  = 1142 // ER_TABLEACCESS_DENIED_ERROR
	ErColumnAccessDenied = 1143 // ER_COLUMNACCESS_DENIED_ERROR
	ErNonexistingGrant   = 1141 // ER_NONEXISTING_GRANT
	ErIllegalGrantForTbl = 1144 // ER_ILLEGAL_GRANT_FOR_TABLE
	ErWrongUsage         = 1221 // ER_WRONG_USAGE
	ErSpecificAccess     = 1227 // ER_SPECIFIC_ACCESS_DENIED_ERROR
	ErCannotUser         = 1396 // ER_CANNOT_USER
	ErUserIsDefiner      = 4006 // ER_CANNOT_USER_REFERENCED_AS_DEFINER
	ErPluginNotLoaded    = 1524 // ER_PLUGIN_IS_NOT_LOADED
	ErRoleNotGranted     = 3530 // ER_ROLE_NOT_GRANTED
	ErPasswordFormat     = 1827 // ER_PASSWORD_FORMAT
	ErSyntax             = 1064 // ER_PARSE_ERROR
	ErBadDB              = 1049 // ER_BAD_DB_ERROR

	ErNoSuchThread     = 1094 // ER_NO_SUCH_THREAD
	ErKillDenied       = 1095 // ER_KILL_DENIED_ERROR
	ErNotSupportedYet  = 1235 // ER_NOT_SUPPORTED_YET
	ErOptionPrevents   = 1290 // ER_OPTION_PREVENTS_STATEMENT
	ErProcAccessDenied = 1370 // ER_PROCACCESS_DENIED_ERROR
	ErUnsupportedPS    = 1295 // ER_UNSUPPORTED_PS

	ErViewSelectVariable = 1351 // ER_VIEW_SELECT_VARIABLE

	ErNotValidPassword         = 1819 // ER_NOT_VALID_PASSWORD
	ErIncorrectCurrentPassword = 3891 // ER_INCORRECT_CURRENT_PASSWORD

	ErUnknownAuthID       = 3523 // ER_UNKNOWN_AUTHID
	ErRoleGrantedToItself = 3573 // ER_ROLE_GRANT_TO_ITSELF
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

// New returns an error with the given number, state and formatted message.
func New(code uint16, state, format string, args ...any) *Error {
	return &Error{Code: code, SQLState: state, Message: fmt.Sprintf(format, args...)}
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
	return New(ErAccessDenied, "28000", "Access denied for user '%s'@'%s' (using password: %s)", user, host, yesNo(usingPassword))
}

// DBAccessDenied is 1044, a database-level refusal.
func DBAccessDenied(user, host, db string) *Error {
	return New(ErDBAccessDenied, "42000", "Access denied for user '%s'@'%s' to database '%s'", user, host, db)
}

// TableAccessDenied is 1142; command is the privilege's name, e.g. SELECT.
func TableAccessDenied(command, user, host, table string) *Error {
	return New(ErTableAccessDenied, "42000", "%s command denied to user '%s'@'%s' for table '%s'", command, user, host, table)
}

// ColumnAccessDenied is 1143.
func ColumnAccessDenied(command, user, host, column, table string) *Error {
	return New(ErColumnAccessDenied, "42000", "%s command denied to user '%s'@'%s' for column '%s' in table '%s'", command, user, host, column, table)
}

// SpecificAccessDenied is 1227: the operation needs one of privs.
func SpecificAccessDenied(privs ...string) *Error {
	return New(ErSpecificAccess, "42000", "Access denied; you need (at least one of) the %s privilege(s) for this operation", strings.Join(privs, ", "))
}

// PluginNotLoaded is 1524.
func PluginNotLoaded(name string) *Error {
	return New(ErPluginNotLoaded, "HY000", "Plugin '%s' is not loaded", name)
}

// CannotUser is 1396: op is the statement (CREATE USER, DROP ROLE, ...), who
// the accounts it failed for, already quoted.
func CannotUser(op, who string) *Error {
	return New(ErCannotUser, "HY000", "Operation %s failed for %s", op, who)
}

// UserIsDefiner is 4006: op would leave an object (kind: "a view", "a
// trigger", "a stored routine") without its definer account.
func UserIsDefiner(op, who, kind string) *Error {
	return New(ErUserIsDefiner, "HY000", "Operation %s failed for %s as it is referenced as a definer account in %s.", op, who, kind)
}

// NonexistingGrant is 1141, a REVOKE of something never granted.
func NonexistingGrant(user, host string) *Error {
	return New(ErNonexistingGrant, "42000", "There is no such grant defined for user '%s' on host '%s'", user, host)
}

// IllegalGrantForTable is 1144: a privilege that does not exist at table or
// column level.
func IllegalGrantForTable() *Error {
	return New(ErIllegalGrantForTbl, "42000", "Illegal GRANT/REVOKE command; please consult the manual to see which privileges can be used")
}

// WrongUsage is 1221, e.g. "DB GRANT" and "GLOBAL PRIVILEGES".
func WrongUsage(a, b string) *Error {
	return New(ErWrongUsage, "HY000", "Incorrect usage of %s and %s", a, b)
}

// RoleNotGranted is 3530; role and user are already quoted account names.
func RoleNotGranted(role, user string) *Error {
	return New(ErRoleNotGranted, "HY000", "%s is not granted to %s", role, user)
}

// PasswordFormat is 1827, an AS string the plugin rejects.
func PasswordFormat() *Error {
	return New(ErPasswordFormat, "HY000", "The password hash doesn't have the expected format.")
}

// UnknownPrivilege refuses a dynamic privilege that no extension registered.
// MySQL reports it as a syntax error (1064); the message says which name.
func UnknownPrivilege(name string) *Error {
	return New(ErSyntax, "42000", "Unknown privilege '%s'", name)
}

// NotValidPassword is 1819: the plugin refused to make a credential from
// the password.
func NotValidPassword() *Error {
	return New(ErNotValidPassword, "HY000", "Your password does not satisfy the current policy requirements")
}

// UnknownAuthID is 3523: a role or account that does not exist.
func UnknownAuthID(who string) *Error {
	return New(ErUnknownAuthID, "HY000", "Unknown authorization ID %s", who)
}

// RoleGrantedToItself is 3573: the GRANT would make a loop of roles.
func RoleGrantedToItself(user, role string) *Error {
	return New(ErRoleGrantedToItself, "HY000", "User account %s is directly or indirectly granted to the role %s. The GRANT would create a loop in the role graph.", user, role)
}

// PasswordFormatReason is 1827 with the plugin's reason for refusing the AS
// string; without a reason it is PasswordFormat.
func PasswordFormatReason(reason string) *Error {
	if reason == "" {
		return PasswordFormat()
	}
	return New(ErPasswordFormat, "HY000", "The password hash doesn't have the expected format: %s", reason)
}

// NotValidPasswordReason is 1819 with the plugin's reason for refusing the
// password; without a reason it is NotValidPassword.
func NotValidPasswordReason(reason string) *Error {
	if reason == "" {
		return NotValidPassword()
	}
	return New(ErNotValidPassword, "HY000", "Your password does not satisfy the current policy requirements: %s", reason)
}

// IncorrectCurrentPassword is 3891: ALTER USER ... REPLACE named a password
// that is not the account's.
func IncorrectCurrentPassword() *Error {
	return New(ErIncorrectCurrentPassword, "HY000", "Incorrect current password. Specify the correct password which has to be replaced.")
}

// NotSupportedYet is 1235; what names the unsupported feature.
func NotSupportedYet(what string) *Error {
	return New(ErNotSupportedYet, "42000", "This version of authplug doesn't yet support '%s'", what)
}

// The mysql schema's grant tables are read-only views of authplug's store.
const (
	ErOpenAsReadonly       = 1036 // ER_OPEN_AS_READONLY
	ErNoSystemSchemaAccess = 3552 // ER_NO_SYSTEM_SCHEMA_ACCESS
)

// OpenAsReadonly is 1036: a write to a table that cannot be written.
func OpenAsReadonly(table string) *Error {
	return New(ErOpenAsReadonly, "HY000", "Table '%s' is read only", table)
}

// NoSystemSchemaAccess is 3552: a statement that would create, drop or
// change objects of a system schema.
func NoSystemSchemaAccess(schema string) *Error {
	return New(ErNoSystemSchemaAccess, "HY000", "Access to system schema '%s' is rejected.", schema)
}

// Account statements: password changes and their options.
const (
	ErNoDB                       = 1046 // ER_NO_DB_ERROR
	ErWrongValue                 = 1525 // ER_WRONG_VALUE
	ErMissingCurrentPassword     = 3892 // ER_MISSING_CURRENT_PASSWORD
	ErCurrentPasswordNotRequired = 3893 // ER_CURRENT_PASSWORD_NOT_REQUIRED
)

// MissingCurrentPassword is 3892: the account requires its current password
// (PASSWORD REQUIRE CURRENT) and the change named none.
func MissingCurrentPassword() *Error {
	return New(ErMissingCurrentPassword, "HY000", "Current password needs to be specified in the REPLACE clause in order to change it.")
}

// CurrentPasswordNotRequired is 3893: REPLACE names a current password in
// a change of another account's.
func CurrentPasswordNotRequired() *Error {
	return New(ErCurrentPasswordNotRequired, "HY000", "Do not specify the current password while changing it for other users.")
}

// Expired passwords (MySQL 8: Server Handling of Expired Passwords).
const ErMustChangePassword = 1820 // ER_MUST_CHANGE_PASSWORD

// MustChangePassword is 1820: a session whose password has expired ran
// something other than changing it (sandbox mode).
func MustChangePassword() *Error {
	return New(ErMustChangePassword, "HY000", "You must reset your password using ALTER USER statement before executing this statement.")
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
	return New(ErAccessDenied, "28000", "Access denied for user '%s'@'%s' (the account was dropped or renamed)", BoundedName(user), host)
}

// LoginDenied is AccessDenied (1045) with the user name bounded.
func LoginDenied(user, host string, usingPassword bool) *Error {
	return AccessDenied(BoundedName(user), host, usingPassword)
}

// Connection limits (MySQL 8: max_connections, max_user_connections and
// "Setting Account Resource Limits").
const (
	ErConCount         = 1040 // ER_CON_COUNT_ERROR
	ErTooManyUserConns = 1203 // ER_TOO_MANY_USER_CONNECTIONS
	ErUserLimitReached = 1226 // ER_USER_LIMIT_REACHED
)

// TooManyConnections is 1040: max_connections sessions are open, and the
// one more kept for CONNECTION_ADMIN or SUPER is taken or the account holds
// neither.
func TooManyConnections() *Error {
	return New(ErConCount, "08004", "Too many connections")
}

// UserLimitReached is 1226: the account already has its
// MAX_USER_CONNECTIONS sessions open; limit is that number.
func UserLimitReached(user string, limit int) *Error {
	return New(ErUserLimitReached, "42000", "User '%s' has exceeded the 'max_user_connections' resource (current value: %d)",
		BoundedName(user), limit)
}

// TooManyUserConnections is 1203: the account, which has no
// MAX_USER_CONNECTIONS of its own, already has the global
// max_user_connections sessions open.
func TooManyUserConnections(user string) *Error {
	return New(ErTooManyUserConns, "42000", "User %s already has more than 'max_user_connections' active connections", BoundedName(user))
}

// A front end sharing its grant store with others (issue 10) refuses
// statements while it cannot renew its lease: its grants may be behind.
// 1047 is what a Galera node out of the primary component answers with
// (SQLSTATE 08S01, a communication failure), which load balancers and
// drivers already take as "use another node"; 1105 would say nothing.
const ErUnknownComError = 1047 // ER_UNKNOWN_COM_ERROR

// GrantStoreUnreachable is 1047: this front end has lost its grant store
// lease and refuses statements until it has renewed it and caught up.
func GrantStoreUnreachable() *Error {
	return New(ErUnknownComError, "08S01", "authplug: the grant store is unreachable; statements are refused until this front end has caught up with it")
}

// Account statements that fail below the statement itself: in the grant
// store, its driver or the network.
const (
	ErUnknownError     = 1105 // ER_UNKNOWN_ERROR
	ErQueryInterrupted = 1317 // ER_QUERY_INTERRUPTED
)

// AccountStatementFailed is 1105 for an account statement that failed in
// the grant store (or a plugin): the cause, whose text may hold the
// store's address, database and other accounts, is for the server's log,
// not for a client that may hold no privilege at all.
func AccountStatementFailed() *Error {
	return New(ErUnknownError, "HY000", "authplug: the grant store refused the change; see the server log")
}

// ChangeUnacknowledged is 1105 for a change the grant store has saved,
// but that some live front end had not applied when the statement gave up
// waiting: it must not be run again as if it had failed.
func ChangeUnacknowledged() *Error {
	return New(ErUnknownError, "HY000", "authplug: the change is saved, but some front ends have not applied it yet; see the server log")
}

// PluginFailed is 1105 for a request refused because an authentication
// plugin or extension hook failed (it panicked): the plugin's name and the
// panic, which may hold its secrets, are for the server's log only.
func PluginFailed() *Error {
	return New(ErUnknownError, "HY000", "authplug: the authentication plugin failed; see the server log")
}

// QueryInterrupted is 1317: the statement was killed (KILL QUERY) or its
// connection closed.
func QueryInterrupted() *Error {
	return New(ErQueryInterrupted, "70100", "Query execution was interrupted")
}
