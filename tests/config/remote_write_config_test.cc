#include <doctest/doctest.h>

#include <string>

#include "config/config.h"

using namespace alertd;
using namespace alertd::config;
using namespace std::chrono_literals;

namespace {
LoadResult Load(const std::string& yaml) {
  return LoadConfigString("route: {receiver: a}\nreceivers: [{name: a}]\n" + yaml,
                          "/tmp/alertd-test/alertd.yml");
}
}  // namespace

TEST_CASE("remote_write entries load with Prometheus's fields and defaults") {
  auto r = Load(
      "remote_write:\n"
      "  - url: http://rw:9090/api/v1/write\n"
      "    name: main\n"
      "    remote_timeout: 7s\n"
      "    headers: {X-Scope-OrgID: team-a}\n"
      "    basic_auth: {username: u, password: p}\n"
      "    queue_config: {capacity: 42, max_samples_per_send: 7, batch_send_deadline: 2s,\n"
      "                   min_backoff: 10ms, max_backoff: 1s}\n"
      "    write_relabel_configs:\n"
      "      - {source_labels: [__name__], regex: 'ALERTS.*', action: drop}\n"
      "  - url: https://other/write\n");
  REQUIRE_MESSAGE(r.ok(), r.ErrorText());
  REQUIRE(r.config->remote_write.size() == 2);
  const auto& a = r.config->remote_write[0];
  CHECK(a.url == "http://rw:9090/api/v1/write");
  CHECK(a.name == "main");
  CHECK(a.remote_timeout == 7s);
  CHECK(a.http_config.headers.at("X-Scope-OrgID") == "team-a");
  REQUIRE(a.http_config.basic_auth);
  CHECK(a.http_config.basic_auth->password == "p");
  CHECK(a.queue_config.capacity == 42);
  CHECK(a.queue_config.max_samples_per_send == 7);
  CHECK(a.queue_config.batch_send_deadline == 2s);
  CHECK(a.queue_config.min_backoff == 10ms);
  CHECK(a.queue_config.max_backoff == 1s);
  CHECK(a.write_relabel_configs.size() == 1);
  const auto& b = r.config->remote_write[1];
  CHECK(b.remote_timeout == 30s);
  CHECK(b.queue_config.max_samples_per_send == 500);
  CHECK(b.queue_config.min_backoff == 30ms);
  CHECK(b.name.size() == 6);  // a hash of the URL
  // Secrets never appear in the status view of the configuration.
  CHECK(r.config->redacted_yaml.find("team-a") == std::string::npos);
  CHECK(r.config->redacted_yaml.find("password: p\n") == std::string::npos);
}

TEST_CASE("bad remote_write entries are refused with file:line:col") {
  struct Row {
    const char* name;
    const char* yaml;
    const char* message;
  } rows[] = {
      {"no url", "remote_write:\n  - name: x\n", "alertd.yml:4:5: remote_write: url is required"},
      {"bad scheme", "remote_write:\n  - url: rw:9090\n",
       "alertd.yml:4:10: remote_write: url must start with http:// or https://"},
      {"unknown key", "remote_write:\n  - url: http://rw\n    queue: {}\n", "alertd.yml:5:5:"},
      {"unknown queue key",
       "remote_write:\n  - url: http://rw\n    queue_config: {max_shards: 3}\n", "max_shards"},
      {"zero timeout", "remote_write:\n  - url: http://rw\n    remote_timeout: 0s\n",
       "alertd.yml:5:21: remote_write: remote_timeout must be greater than 0"},
      {"zero capacity", "remote_write:\n  - url: http://rw\n    queue_config: {capacity: 0}\n",
       "capacity must be at least 1"},
      {"backoff order",
       "remote_write:\n  - url: http://rw\n    queue_config: {min_backoff: 2s, max_backoff: 1s}\n",
       "max_backoff must not be less than min_backoff"},
      {"duplicate names",
       "remote_write:\n  - {url: http://a, name: x}\n  - {url: http://b, name: x}\n",
       "alertd.yml:5:5: remote_write: found multiple remote write configs with name \"x\""},
      {"bad relabelling",
       "remote_write:\n  - url: http://rw\n    write_relabel_configs: [{action: nope}]\n",
       "alertd.yml:5:"},
      {"not a list", "remote_write: {url: http://rw}\n", "remote_write: expected a list"},
  };
  for (const auto& row : rows) {
    INFO(row.name);
    auto r = Load(row.yaml);
    CHECK_FALSE(r.ok());
    CHECK_MESSAGE(r.ErrorText().find(row.message) != std::string::npos, r.ErrorText());
  }
}
