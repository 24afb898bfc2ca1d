// Logs in with mysql2's default options (no TLS) and runs one query.
// Usage: node login.js HOST PORT USER PASSWORD
// Prints the query's result as JSON, or "ERROR <errno> <message>" and
// exits 1.
'use strict';
const mysql = require('mysql2');

const [host, port, user, password] = process.argv.slice(2);
const conn = mysql.createConnection({ host, port: Number(port), user, password });
conn.query('SELECT CURRENT_USER() AS who', (err, rows) => {
  if (err) {
    console.log(`ERROR ${err.errno} ${err.message}`);
    conn.destroy();
    process.exit(1);
  }
  console.log(JSON.stringify(rows));
  conn.end();
});
