package grantstore

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"time"

	"github.com/go-sql-driver/mysql"

	"github.com/authplug/authplug/mysqlerr"
)

// MySQL is the dialect of MySQL 8, MariaDB 10.6+ and TiDB (InnoDB-style
// transactions; names compared byte for byte, as MySQL's grant tables
// compare user names).
var MySQL = Dialect{
	name:         "mysql",
	autoKey:      "BIGINT NOT NULL AUTO_INCREMENT PRIMARY KEY",
	tableOptions: " ENGINE=InnoDB DEFAULT CHARSET=utf8mb4 COLLATE=utf8mb4_bin",
	forUpdate:    " FOR UPDATE",
	nowMicros:    "CAST(UNIX_TIMESTAMP(NOW(6)) * 1000000 AS SIGNED)",
	// Binary strings, not utf8mb4_bin: MariaDB's _bin collations (and
	// MySQL's PAD SPACE ones) ignore trailing spaces, so 'adm ' would match
	// adm's rows, and CREATE USER 'adm ' replace them. VARBINARY compares
	// every byte on both. The lengths are the utf8mb4 columns' in bytes (4
	// a character), which keeps every key within InnoDB's 3072 bytes: the
	// longest, grants', is 320 + 1020 + 3*256 + 32*4 = 2236.
	userCol:        "VARBINARY(320) NOT NULL",
	hostCol:        "VARBINARY(1020) NOT NULL",
	nameCol:        "VARBINARY(256) NOT NULL",
	writeIsolation: sql.LevelReadCommitted,
	isDuplicate: func(err error) bool {
		var me *mysql.MySQLError
		return errors.As(err, &me) && me.Number == mysqlerr.ErDupEntry
	},
	isRetryable: func(err error) bool {
		var me *mysql.MySQLError
		// Front ends registering at once deadlock on the frontends index.
		return errors.As(err, &me) && (me.Number == mysqlerr.ErLockDeadlock || me.Number == mysqlerr.ErLockWaitTimeout)
	},
}

// OpenMySQL opens (creating its tables on first use) the store in the
// MySQL, MariaDB or TiDB database dsn names, in go-sql-driver/mysql's form
// (user:pw@tcp(host:port)/dbname).
func OpenMySQL(ctx context.Context, dsn string, opts ...Option) (*Store, error) {
	cfg, err := mysql.ParseDSN(dsn)
	if err != nil {
		return nil, fmt.Errorf("grants DSN: %w", err)
	}
	if cfg.DBName == "" {
		return nil, errors.New("grants DSN names no database: user:pw@tcp(host:port)/dbname")
	}
	// An UPDATE that sets the values a row has still counts the row: a
	// renewed lease is told from a missing row by its count.
	cfg.ClientFoundRows = true
	if cfg.Timeout == 0 {
		cfg.Timeout = 5 * time.Second
	}
	c, err := mysql.NewConnector(cfg)
	if err != nil {
		return nil, fmt.Errorf("grants DSN: %w", err)
	}
	db := sql.OpenDB(c)
	// Connections die with the server they were made to; a fresh one is
	// made rather than a dead one tried.
	db.SetConnMaxIdleTime(30 * time.Second)
	s, err := Open(ctx, db, MySQL, opts...)
	if err != nil {
		db.Close()
		return nil, err
	}
	s.owned = true
	return s, nil
}
