#include "tests/support/postgres.h"

#include <doctest/doctest.h>
#include <signal.h>
#include <unistd.h>

#include <chrono>
#include <cstdlib>

namespace alertd::testing {
namespace {

constexpr const char* kBin = "/usr/lib/postgresql/15/bin/";

}  // namespace

std::vector<std::string> PostgresServer::AsPostgres(std::vector<std::string> argv) const {
  if (geteuid() != 0) return argv;
  std::vector<std::string> out = {"setpriv", "--reuid=postgres", "--regid=postgres",
                                  "--clear-groups", "--"};
  out.insert(out.end(), argv.begin(), argv.end());
  return out;
}

PostgresServer::PostgresServer() {
  // Under /tmp whatever TMPDIR says: the postgres user must be able to reach it.
  char tmpl[] = "/tmp/alertd-pg-XXXXXX";
  REQUIRE(mkdtemp(tmpl) != nullptr);
  dir_ = tmpl;
  std::string out;
  if (geteuid() == 0) REQUIRE(RunCommand({"chown", "postgres:postgres", dir_}, &out) == 0);
  WriteFile(dir_ + "/pwfile", kPassword);
  if (geteuid() == 0)
    REQUIRE(RunCommand({"chown", "postgres:postgres", dir_ + "/pwfile"}, &out) == 0);
  const int rc =
      RunCommand(AsPostgres({std::string(kBin) + "initdb", "-D", dir_ + "/data", "-U", "postgres",
                             "--auth-local=trust", "--auth-host=scram-sha-256", "-E", "UTF8",
                             "--no-sync", "--pwfile=" + dir_ + "/pwfile"}),
                 &out);
  INFO(out);
  REQUIRE(rc == 0);
  port_ = FreePort();
  Start();
  Psql("CREATE USER alertd PASSWORD '" + std::string(kPassword) + "'", "postgres");
  Psql("CREATE DATABASE alertd OWNER alertd", "postgres");
}

PostgresServer::~PostgresServer() {
  Stop();
  RemoveTree(dir_);
}

void PostgresServer::Start() {
  // fsync off: the tests crash alertd, never the machine; a fast shutdown still writes
  // everything out.
  server_ = Process::Start(
      AsPostgres({std::string(kBin) + "postgres", "-D", dir_ + "/data", "-p", std::to_string(port_),
                  "-c", "listen_addresses=127.0.0.1", "-c", "unix_socket_directories=" + dir_, "-c",
                  "fsync=off", "-c", "max_connections=200"}),
      dir_ + "/server.log");
  REQUIRE(server_.started());
  const bool ready = WaitFor(
      [&] {
        std::string o;
        return RunCommand({"pg_isready", "-q", "-h", "127.0.0.1", "-p", std::to_string(port_)},
                          &o) == 0;
      },
      std::chrono::seconds(60));
  INFO(server_.Log());
  REQUIRE(ready);
}

void PostgresServer::Stop() {
  if (!server_.started() || !server_.Running()) return;
  server_.Signal(SIGINT);  // fast shutdown: no waiting for clients to leave
  server_.Stop(std::chrono::seconds(30));
}

std::string PostgresServer::dsn() const {
  return "host=127.0.0.1 port=" + std::to_string(port_) + " dbname=alertd user=alertd";
}

std::string PostgresServer::Psql(const std::string& sql, const std::string& db) {
  std::string out;
  const int rc =
      RunCommand(AsPostgres({"psql", "-X", "-q", "-t", "-A", "-v", "ON_ERROR_STOP=1", "-h", dir_,
                             "-p", std::to_string(port_), "-U", "postgres", "-d", db, "-c", sql}),
                 &out);
  INFO(sql);
  INFO(out);
  REQUIRE(rc == 0);
  return out;
}

std::string PostgresServer::NewDatabase() {
  const std::string name = "alertd_" + std::to_string(++databases_);
  Psql("CREATE DATABASE " + name + " OWNER alertd", "postgres");
  return "host=127.0.0.1 port=" + std::to_string(port_) + " dbname=" + name + " user=alertd";
}

PostgresServer& SharedPostgres() {
  static PostgresServer server;
  return server;
}

}  // namespace alertd::testing
