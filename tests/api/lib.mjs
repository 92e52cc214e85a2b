// Shared helpers of the black-box HTTP API suite (node 20 built-ins only; the database
// helpers shell out to the `sqlite3` and `psql` command-line clients). The test files import
// everything from here; the helpers live in lib/ by topic:
//   lib/env.mjs       settings from the environment (DOUDI_URL, DOUDI_DB, DOUDI_BIN, DOUDI_PASSWORD,
//                     DOUDI_TOTP_SECRETS: set by tests/run.sh), the run's token, demo region codes
//   lib/client.mjs    HTTP client, TOTP, login() and as(), downloadXlsx
//   lib/checks.mjs    ERROR_CODES (docs/api.md's error table), expectError, expectStatus
//   lib/data.mjs      citizen ids, names, person/household payloads, users, dates
//   lib/db.mjs        dbQuery/dbExec on the server's database, runBin, audit rows
//   lib/workflow.mjs  the application workflow: the transition table, actions, driveTo …
//   lib/server.mjs    a second server (startServer, stopServer)
export * from './lib/env.mjs';
export * from './lib/client.mjs';
export * from './lib/checks.mjs';
export * from './lib/data.mjs';
export * from './lib/db.mjs';
export * from './lib/workflow.mjs';
export * from './lib/server.mjs';
