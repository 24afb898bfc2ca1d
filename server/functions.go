package server

// pureFunctions are the built-in functions, by the name the engine gives
// their expressions, that compute from their arguments and the session and
// reach nothing outside: no files, no tables, no other sessions. The list is
// written out rather than taken from the engine's registry so that a
// function a new engine version adds is refused until someone classifies it
// (TestEveryEngineFunctionIsClassified). LOAD_FILE is not here: see
// fileFunctions.
var pureFunctions = map[string]bool{}

func init() {
	for _, n := range []string{
		"abs", "acos", "adddate", "any_value", "ascii", "asin", "atan", "atan2", "avg", "bin",
		"bin_to_uuid", "bit_and", "bit_count", "bit_length", "bit_or", "bit_xor", "ceil", "ceiling",
		"char", "char_length", "character_length", "charset", "coalesce", "coercibility", "collation",
		"compress", "concat", "concat_ws", "connection_id", "conv", "convert_tz", "cos", "cot", "count",
		"countdistinct", "crc32", "curdate", "current_date", "current_time", "current_timestamp",
		"current_user", "curtime", "database", "date", "date_add", "date_format", "date_sub", "datediff",
		"datetime", "day", "dayname", "dayofmonth", "dayofweek", "dayofyear", "degrees", "dense_rank",
		"elt", "exp", "extract", "field", "find_in_set", "first", "first_value", "floor", "format",
		"found_rows", "from_base64", "from_days", "from_unixtime", "geomcollection", "geometrycollection",
		"get_format", "get_lock", "greatest", "group_concat", "gtid_subtract", "hex", "hour", "if",
		"ifnull", "inet6_aton", "inet6_ntoa", "inet_aton", "inet_ntoa", "instr", "is_binary",
		"is_free_lock", "is_ipv4", "is_ipv4_compat", "is_ipv4_mapped", "is_ipv6", "is_used_lock",
		"is_uuid", "isnull", "json_array", "json_array_append", "json_array_insert", "json_arrayagg",
		"json_contains", "json_contains_path", "json_depth", "json_extract", "json_insert", "json_keys",
		"json_length", "json_merge", "json_merge_patch", "json_merge_preserve", "json_object",
		"json_objectagg", "json_overlaps", "json_pretty", "json_quote", "json_remove", "json_replace",
		"json_schema_valid", "json_schema_validation_report", "json_search", "json_set",
		"json_storage_free", "json_storage_size", "json_table", "json_type", "json_unquote", "json_valid",
		"json_value", "lag", "last", "last_day", "last_insert_id", "last_insert_uuid", "last_value",
		"lcase", "lead", "least", "left", "length", "linestring", "ln", "localtime", "localtimestamp",
		"locate", "log", "log10", "log2", "lower", "lpad", "ltrim", "max", "md5", "microsecond", "mid",
		"min", "minute", "mod", "month", "monthname", "multilinestring", "multipoint", "multipolygon",
		"now", "ntile", "nullif", "octet_length", "ord", "percent_rank", "pi", "point", "polygon", "pow",
		"power", "quarter", "quote", "radians", "rand", "random_bytes", "rank", "regexp_instr",
		"regexp_like", "regexp_replace", "regexp_substr", "release_all_locks", "release_lock", "repeat",
		"replace", "reverse", "right", "round", "row_count", "row_number", "rpad", "rtrim", "schema",
		"second", "session_user", "sha", "sha1", "sha2", "sign", "sin", "sleep", "soundex", "space",
		"sqrt", "st_area", "st_asbinary", "st_asgeojson", "st_astext", "st_aswkb", "st_aswkt",
		"st_dimension", "st_distance", "st_endpoint", "st_equal", "st_geomcollfromtext",
		"st_geomcollfromtxt", "st_geomcollfromwkb", "st_geometrycollectionfromtext",
		"st_geometrycollectionfromwkb", "st_geometryfromtext", "st_geometryfromwkb", "st_geomfromgeojson",
		"st_geomfromtext", "st_geomfromwkb", "st_intersects", "st_isclosed", "st_latitude", "st_length",
		"st_linefromtext", "st_linefromwkb", "st_linestringfromtext", "st_linestringfromwkb",
		"st_longitude", "st_mlinefromtext", "st_mlinefromwkb", "st_mpointfromtext", "st_mpointfromwkb",
		"st_mpolyfromtext", "st_mpolyfromwkb", "st_multilinestringfromtext", "st_multilinestringfromwkb",
		"st_multipointfromtext", "st_multipointfromwkb", "st_multipolygonfromtext",
		"st_multipolygonfromwkb", "st_perimeter", "st_pointfromtext", "st_pointfromwkb",
		"st_polyfromtext", "st_polyfromwkb", "st_polygonfromtext", "st_polygonfromwkb", "st_srid",
		"st_startpoint", "st_swapxy", "st_within", "st_x", "st_y", "std", "stddev", "stddev_pop",
		"stddev_samp", "str_to_date", "strcmp", "subdate", "substr", "substring", "substring_index",
		"sum", "sysdate", "system_user", "tan", "time", "time_format", "time_to_sec", "timediff",
		"timestamp", "timestampdiff", "to_base64", "to_days", "ucase", "uncompress",
		"uncompressed_length", "unhex", "unix_timestamp", "upper", "user", "utc_date", "utc_time",
		"utc_timestamp", "uuid", "uuid_to_bin", "validate_password_strength", "values", "var_pop",
		"var_samp", "variance", "vec_distance", "vec_distance_l2_squared", "version", "week", "weekday",
		"weekofyear", "year", "yearweek",
		// Names the engine's expressions answer to where they differ from the
		// registry's.
		"anyvalue", "bitand", "bitor", "bitxor", "jsonarray", "st_equals", "stddevpop", "stddevsamp",
		"uncompressedlength", "validatepasswordstrength", "varpop", "varsamp",
	} {
		pureFunctions[n] = true
	}
}
