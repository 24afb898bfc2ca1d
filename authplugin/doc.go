// Package authplugin is the contract between authplug and an authentication
// plugin: how a plugin authenticates a login, stores and checks credentials,
// and narrows the privileges of the sessions it authenticated. It also holds
// the built-in MySQL password plugins.
//
// The fields mirror TiDB's extension AuthPlugin so that a TiDB plugin ports
// with a thin shim. Two things differ on purpose: AuthenticateUser receives a
// context (it may do network round trips) and returns per-session state, which
// every later VerifyPrivilege call of that session receives; and requests are
// passed by value, so the per-statement checks do not allocate.
//
// Four fields have no TiDB counterpart and are optional, so a TiDB plugin
// that leaves them unset behaves as it did there:
//
//   - ExplainAuthString and ExplainPassword say why ValidateAuthString or
//     GenerateAuthString refused, so the client's 1827 or 1819 and the log
//     carry a reason. The boolean functions still decide; an explanation
//     never turns a refusal into an acceptance.
//   - VerifyPassword checks a cleartext password against a stored string,
//     for ALTER USER ... REPLACE; only plugins that store a password hash
//     can set it.
//   - MaxAuthDataLen bounds the client's first response (InputAuthString): a
//     longer one is refused with the usual 1045 before the plugin is
//     called. 0 means DefaultMaxAuthDataLen (16 KiB, room for a signed
//     token). caching_sha2_password and sha256_password set MaxPasswordLen
//     (256 bytes, MySQL's limit); a password read later, in a full authentication, is
//     bounded by the plugin itself, as any plugin must bound what it reads
//     through AuthConn.
//
// A reason is shown to the client and logged: it must never contain the
// password, token or other secret it explains.
//
// # Rules for plugins
//
// What the manager (package privilege) guarantees a plugin, and what it
// expects of one. The package example shows a token plugin that keeps them.
//
// Names. A plugin's Name must be lower case: CREATE USER ... IDENTIFIED WITH
// lower-cases the name it is given (plugin names are case-insensitive in
// MySQL), and Validate refuses any other. In an AuthorizeRequest, DB, Table
// and Column arrive lower-cased, as grants compare them, and PrivName upper
// case: compare them with names you lower-case (or upper-case) once, when
// the session starts, not per check. User names are not folded: User is
// the name exactly as the client sent it, which MySQL compares
// case-sensitively, and AccountHost and StoredAuthString are the account's
// as stored.
//
// Concurrency. AuthenticateUser runs for many logins at once, and
// VerifyPrivilege, VerifyDynamicPrivilege and the session state's
// ValidateSession for every privilege check of every statement of every
// session the plugin authenticated, from all their connections at once,
// several times per statement (a plan checks each object it touches).
// Every function of an AuthPlugin must be safe for concurrent use; the
// simplest session state is one that is never changed after
// AuthenticateUser returns it.
//
// Verify* must not block. VerifyPrivilege, VerifyDynamicPrivilege and
// ValidateSession receive no context and sit on the per-statement path,
// which costs tens of nanoseconds: they must decide from the request and the
// session state alone, with no I/O, no lock held for long and no call that
// can wait. Anything that needs the network (a key fetch, an introspection
// endpoint) belongs in AuthenticateUser, which stores its outcome in the
// session state. VerifyPrivilege is asked only after the stored grants
// allowed the request (it can narrow, never widen), and only for the
// session's own requests: checks on behalf of another account (a view's
// definer, the target of ALTER USER) use the stored grants alone. Priv may
// hold more than one privilege (REPLACE asks for INSERT and DELETE at
// once): allow only when every one is covered.
//
// The login deadline. AuthenticateUser's ctx ends when the login must be
// over (in the server, the handshake timeout, 10 s from accept by default).
// A plugin passes ctx to every call that can wait (AuthConn, HTTP requests) and
// returns when ctx is done: the client has given up by then, and until the
// plugin returns the connection still holds its place under
// max_connections.
//
// Errors are logged, never shown. AuthenticateUser's error refuses the login
// with the same 1045 as a wrong password, whatever it says; its text goes to
// the server's log and the audit events (ConnHandshakeRejected's Reason),
// and it counts as a failed login for FAILED_LOGIN_ATTEMPTS. Say there what
// an operator needs to know, and never the password or token. A Verify* that
// returns false refuses with the error the stored grants would have given
// (1142, 1143, 1044, or 1227 for global and dynamic privileges); nothing
// the plugin says reaches the client. The exceptions are the optional
// interfaces below, whose errors are meant for the client.
//
// Panics. A panic in any of the plugin's functions or its session state's
// methods is recovered by the manager, logged once at error level with the
// plugin's name, the function and the stack (the panic's value withheld if
// it contains the password or token being checked), and fails that one
// request with a neutral error: 1105 "authplug: the authentication plugin
// failed; see the server log" for a check or an account statement, the usual
// 1045 for a login (AuthenticateUser, ActivateRoles). A Verify* that panics
// has refused. The connection and the server go on.
//
// Session state. What AuthenticateUser returns is kept with the session and
// passed as SessionState to every Verify* call. It may implement optional
// interfaces:
//
//   - SessionValidator: ValidateSession is asked before every check of the
//     session and, in the server, before every command; an error refuses
//     them all. The error is
//     what the client sees: return a MySQL error (the sample OAuth plugin
//     returns a 1045 saying to reconnect with a new token); any other error
//     reaches the client as 1105 with its text. A panic refuses with 1105
//     too.
//   - SelfServiceGate: AllowSelfChange is asked before the session changes
//     its own account (SET PASSWORD, SET DEFAULT ROLE ... TO CURRENT_USER()),
//     which MySQL allows without privileges. nil allows; a MySQL error is
//     shown as it is; any other error is answered with 1227 naming CREATE
//     USER. A state without it allows these changes, as MySQL does.
//   - RoleActivator: ActivateRoles chooses the session's active roles at
//     login, from the roles granted to the account and its default roles;
//     whatever it returns is intersected with the granted ones.
//
// Which host is which. AuthenticateRequest.AccountHost is the host part of
// the account the login matched, a pattern such as "%"; the client's
// address is RemoteAddr. AuthorizeRequest.ClientHost is where the session
// connected from, an IP address or "localhost" (loopback and Unix socket
// clients), never the account's pattern.
//
// Input is bounded. InputAuthString is at most AuthDataLimit bytes
// (MaxAuthDataLen, or DefaultMaxAuthDataLen): a longer response is refused
// with 1045 before AuthenticateUser is called, as is a user name longer than
// 32 characters. What a plugin reads later through AuthConn is bounded by
// nothing but the plugin: check each packet's length before using it.
//
// Decoys. For a plugin that sets VerifyPassword, the manager calls
// GenerateAuthString once, when it is made, with a random password, and may
// run a login refused before any plugin was asked (no such account, a
// locked one, ...) through AuthenticateUser against that decoy hash, with
// AccountHost "%", discarding the result: so that such a login cannot be
// told from a wrong password. AuthenticateUser must therefore have no side
// effect that assumes the account exists.
package authplugin
