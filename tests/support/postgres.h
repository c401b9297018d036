// A throwaway PostgreSQL server for tests, from Debian's `postgresql` package: a new cluster
// (initdb) in a temporary directory, listening on 127.0.0.1 on a free port, with a database
// `alertd` owned by user `alertd` who logs in with a password (scram-sha-256), as a real
// installation would. PostgreSQL refuses to run as root: when the tests run as root, the
// server runs as the `postgres` user (setpriv). A server that cannot start fails the test; it
// never skips. Not thread-safe.
#pragma once

#include <memory>
#include <string>

#include "tests/support/process.h"

namespace alertd::testing {

class PostgresServer {
 public:
  // Creates the cluster and starts it; REQUIREs every step.
  PostgresServer();
  ~PostgresServer();  // stops the server and removes the directory
  PostgresServer(const PostgresServer&) = delete;
  PostgresServer& operator=(const PostgresServer&) = delete;

  // libpq connection string without the password: "host=127.0.0.1 port=N dbname=alertd
  // user=alertd".
  std::string dsn() const;
  // The password of user `alertd`.
  static constexpr const char* kPassword = "pg-Secret-7781";
  int port() const { return port_; }

  // Fast shutdown (clients are disconnected), and start again on the same port and data.
  void Stop();
  void Start();
  // Runs `sql` as the superuser over the Unix socket; returns psql's output (tuples only,
  // unaligned). REQUIREs success.
  std::string Psql(const std::string& sql, const std::string& db = "alertd");
  // A fresh, empty database owned by `alertd`; returns a DSN for it (each test its own).
  std::string NewDatabase();

 private:
  std::vector<std::string> AsPostgres(std::vector<std::string> argv) const;
  std::string dir_;
  int port_ = 0;
  int databases_ = 0;
  Process server_;
};

// One server for a whole test binary, started on first use (tests take a NewDatabase each).
PostgresServer& SharedPostgres();

}  // namespace alertd::testing
