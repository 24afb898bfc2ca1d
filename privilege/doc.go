// Package privilege decides who may log in and what each session may do.
//
// A request is allowed only if the stored grants allow it and, for the
// session's own requests, the session's auth plugin allows it too: the
// plugin can narrow a session (token scopes), never widen it. Checks on
// behalf of another account (a view's definer, the target of ALTER USER) use
// the stored grants only.
//
// The package example goes from a store to a check; the types, in the order
// a host meets them:
//
// # Stored accounts and grants
//
//   - Store gives the current Snapshot; it is read on every check and must
//     be cheap. Updater is a Store that can change: Update runs a Tx.
//   - MemStore is the Store and Updater every host uses: snapshots in memory,
//     swapped atomically, so checks never lock. Its StoreOptions save each
//     change before it is published: WithJournal (what the change changed,
//     a Change) or WithPersist (the whole Snapshot); Restore loads what was
//     saved. WithShared makes it one front end of a store several share,
//     through a SharedBackend. Package grantstore keeps all of it in SQL
//     tables.
//   - Snapshot is an immutable view of every account and grant: User (an
//     account's own row), its grants on an Object (global, database, table
//     or column), dynamic privileges, roles, default roles, proxy grants,
//     and the Definer of each DefinedObject (views, triggers, routines).
//     Data (AccountData, GrantData, RoleGrant, ProxyGrant, ...) is the same
//     in plain, JSON-ready form, to save, load and list.
//   - Tx is one change: CreateUser (with a Credential, IdentifiedBy or
//     IdentifiedAs, and UserOptions such as RequireSSL or FailedLoginLock),
//     Grant, Revoke, GrantRole, GrantProxy, RenameUser, DropUser, ... It is
//     applied whole or not at all. Hosts change accounts through
//     Manager.Update, which passes passwords and AS strings through the
//     account's plugin; package account turns SQL statements into these
//     calls.
//
// # Decisions
//
//   - Manager makes every decision over a Store, with the auth plugins and
//     dynamic privileges given by Options (WithPlugins, and
//     extension.Extensions.ManagerOptions for a set of extensions).
//   - LoginRequest is what the host knows of a login attempt;
//     Manager.ConnectionVerification authenticates it through the account's
//     plugin and returns a Session, or a LoginError: always the same 1045
//     for the client, with the reason for the log.
//   - Session is one authenticated connection: RequestVerification and
//     RequestDynamicVerification check its own requests (stored grants,
//     then its plugin); the May* methods are MySQL's grantor rules; SET
//     ROLE, impersonation (Impersonate, Revert) and password expiry
//     (PasswordExpired) live there too. Manager.RequestVerificationWithUser
//     checks on behalf of another account, stored grants only.
//
// # Limits around logins
//
//   - LoginThrottle delays guesses from one client address, as MySQL's
//     connection_control does; ThrottledLoginError is its refusal.
//   - UserConnections counts open sessions per account for
//     MAX_USER_CONNECTIONS.
//   - FailureCounter keeps FAILED_LOGIN_ATTEMPTS counts outside the process
//     (WithFailureCounter), for a store several front ends share.
//
// Refusals are mysqlerr values with MySQL's numbers (1045, 1142, 1143, 1044,
// 1227, ...), ready for the wire. A plugin's panic is recovered here and
// fails only its request; the rules a plugin must keep are in package
// authplugin.
package privilege
