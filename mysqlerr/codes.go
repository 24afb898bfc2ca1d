package mysqlerr

// The MySQL error numbers authplug uses: those it returns, and those of
// the engine or of a MySQL grant store that it recognises. Each one's SQL
// state and MySQL's symbol for it are in specs, the single table of them:
// Errorf takes the state from there, so that no caller can pair a number
// with the wrong state.
const (
	ErOpenAsReadonly             = 1036
	ErConCount                   = 1040
	ErDBAccessDenied             = 1044
	ErAccessDenied               = 1045
	ErNoDB                       = 1046
	ErUnknownComError            = 1047
	ErBadDB                      = 1049
	ErNonUniq                    = 1052
	ErBadField                   = 1054
	ErDupEntry                   = 1062
	ErSyntax                     = 1064
	ErNoSuchThread               = 1094
	ErKillDenied                 = 1095
	ErUnknownError               = 1105
	ErNonexistingGrant           = 1141
	ErTableAccessDenied          = 1142
	ErColumnAccessDenied         = 1143
	ErIllegalGrantForTbl         = 1144
	ErNoSuchTable                = 1146
	ErTooManyUserConns           = 1203
	ErLockWaitTimeout            = 1205
	ErLockDeadlock               = 1213
	ErWrongUsage                 = 1221
	ErUserLimitReached           = 1226
	ErSpecificAccess             = 1227
	ErNotSupportedYet            = 1235
	ErTooBigForUncompress        = 1256
	ErOptionPrevents             = 1290
	ErTruncatedWrongValue        = 1292
	ErUnsupportedPS              = 1295
	ErWarnAllowMaxPacketResult   = 1301
	ErQueryInterrupted           = 1317
	ErViewSelectVariable         = 1351
	ErProcAccessDenied           = 1370
	ErCannotUser                 = 1396
	ErCantCreateGeometryObject   = 1416
	ErPluginNotLoaded            = 1524
	ErWrongValue                 = 1525
	ErVariableIsReadonly         = 1621
	ErNotValidPassword           = 1819
	ErMustChangePassword         = 1820
	ErPasswordFormat             = 1827
	ErGISInvalidData             = 3037
	ErUnknownAuthID              = 3523
	ErRoleNotGranted             = 3530
	ErNoSystemSchemaAccess       = 3552
	ErIncorrectCurrentPassword   = 3891
	ErMissingCurrentPassword     = 3892
	ErCurrentPasswordNotRequired = 3893
	ErUserIsDefiner              = 4006
	ErRoleGrantedToItself        = 4027
)

// spec is what MySQL 8's error reference says of an error number.
type spec struct {
	state  string // SQLSTATE
	symbol string // MySQL's name for it, for reading this table against the manual
}

// specs holds every number above (a test checks that none is missing).
var specs = map[uint16]spec{
	ErOpenAsReadonly:             {"HY000", "ER_OPEN_AS_READONLY"},
	ErConCount:                   {"08004", "ER_CON_COUNT_ERROR"},
	ErDBAccessDenied:             {"42000", "ER_DBACCESS_DENIED_ERROR"},
	ErAccessDenied:               {"28000", "ER_ACCESS_DENIED_ERROR"},
	ErNoDB:                       {"3D000", "ER_NO_DB_ERROR"},
	ErUnknownComError:            {"08S01", "ER_UNKNOWN_COM_ERROR"},
	ErBadDB:                      {"42000", "ER_BAD_DB_ERROR"},
	ErNonUniq:                    {"23000", "ER_NON_UNIQ_ERROR"},
	ErBadField:                   {"42S22", "ER_BAD_FIELD_ERROR"},
	ErDupEntry:                   {"23000", "ER_DUP_ENTRY"},
	ErSyntax:                     {"42000", "ER_PARSE_ERROR"},
	ErNoSuchThread:               {"HY000", "ER_NO_SUCH_THREAD"},
	ErKillDenied:                 {"HY000", "ER_KILL_DENIED_ERROR"},
	ErUnknownError:               {"HY000", "ER_UNKNOWN_ERROR"},
	ErNonexistingGrant:           {"42000", "ER_NONEXISTING_GRANT"},
	ErTableAccessDenied:          {"42000", "ER_TABLEACCESS_DENIED_ERROR"},
	ErColumnAccessDenied:         {"42000", "ER_COLUMNACCESS_DENIED_ERROR"},
	ErIllegalGrantForTbl:         {"42000", "ER_ILLEGAL_GRANT_FOR_TABLE"},
	ErNoSuchTable:                {"42S02", "ER_NO_SUCH_TABLE"},
	ErTooManyUserConns:           {"42000", "ER_TOO_MANY_USER_CONNECTIONS"},
	ErLockWaitTimeout:            {"HY000", "ER_LOCK_WAIT_TIMEOUT"},
	ErLockDeadlock:               {"40001", "ER_LOCK_DEADLOCK"},
	ErWrongUsage:                 {"HY000", "ER_WRONG_USAGE"},
	ErUserLimitReached:           {"42000", "ER_USER_LIMIT_REACHED"},
	ErSpecificAccess:             {"42000", "ER_SPECIFIC_ACCESS_DENIED_ERROR"},
	ErNotSupportedYet:            {"42000", "ER_NOT_SUPPORTED_YET"},
	ErTooBigForUncompress:        {"HY000", "ER_TOO_BIG_FOR_UNCOMPRESS"},
	ErOptionPrevents:             {"HY000", "ER_OPTION_PREVENTS_STATEMENT"},
	ErTruncatedWrongValue:        {"22007", "ER_TRUNCATED_WRONG_VALUE"},
	ErUnsupportedPS:              {"HY000", "ER_UNSUPPORTED_PS"},
	ErWarnAllowMaxPacketResult:   {"HY000", "ER_WARN_ALLOW_MAX_PACKET_RESULT"},
	ErQueryInterrupted:           {"70100", "ER_QUERY_INTERRUPTED"},
	ErViewSelectVariable:         {"HY000", "ER_VIEW_SELECT_VARIABLE"},
	ErProcAccessDenied:           {"42000", "ER_PROCACCESS_DENIED_ERROR"},
	ErCannotUser:                 {"HY000", "ER_CANNOT_USER"},
	ErCantCreateGeometryObject:   {"22003", "ER_CANT_CREATE_GEOMETRY_OBJECT"},
	ErPluginNotLoaded:            {"HY000", "ER_PLUGIN_IS_NOT_LOADED"},
	ErWrongValue:                 {"HY000", "ER_WRONG_VALUE"},
	ErVariableIsReadonly:         {"HY000", "ER_VARIABLE_IS_READONLY"},
	ErNotValidPassword:           {"HY000", "ER_NOT_VALID_PASSWORD"},
	ErMustChangePassword:         {"HY000", "ER_MUST_CHANGE_PASSWORD"},
	ErPasswordFormat:             {"HY000", "ER_PASSWORD_FORMAT"},
	ErGISInvalidData:             {"22023", "ER_GIS_INVALID_DATA"},
	ErUnknownAuthID:              {"HY000", "ER_UNKNOWN_AUTHID"},
	ErRoleNotGranted:             {"HY000", "ER_ROLE_NOT_GRANTED"},
	ErNoSystemSchemaAccess:       {"HY000", "ER_NO_SYSTEM_SCHEMA_ACCESS"},
	ErIncorrectCurrentPassword:   {"HY000", "ER_INCORRECT_CURRENT_PASSWORD"},
	ErMissingCurrentPassword:     {"HY000", "ER_MISSING_CURRENT_PASSWORD"},
	ErCurrentPasswordNotRequired: {"HY000", "ER_CURRENT_PASSWORD_NOT_REQUIRED"},
	ErUserIsDefiner:              {"HY000", "ER_CANNOT_USER_REFERENCED_AS_DEFINER"},
	ErRoleGrantedToItself:        {"HY000", "ER_ROLE_GRANTED_TO_ITSELF"},
}

// State is the SQL state MySQL sends with error number code: the table's,
// or HY000 ("general error"), MySQL's own for a number that has none of
// its own, for a number authplug does not know.
func State(code uint16) string {
	if s, ok := specs[code]; ok {
		return s.state
	}
	return "HY000"
}
