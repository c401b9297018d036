// `alertd test routes` against the real amtool 0.25: for the same configuration and the same
// arguments, `amtool config routes test` and alertd's command (run in-process) must print the
// same bytes on stdout and exit with the same code; `show` against `amtool config routes show`.
// The example configuration (with alertd's own keys taken out for amtool) and a nested tree
// (tests/app/fixtures/routes_nested.yml) with continue, matchers/match/match_re, anchored
// regexes, default routes and escapes. Then alertd's --details, and the binary's wiring.
#include "app/test_routes.h"

#include <doctest/doctest.h>

#include <sstream>

#include "tests/support/process.h"

using namespace alertd;
using namespace alertd::testing;

namespace {

struct Run {
  int exit_code = 0;
  std::string out, err;
};

// What follows "<prefix> error: " up to the end of that line: the message without the tool's
// name.
std::string ErrorMessage(const std::string& err, const std::string& prefix) {
  const size_t at = err.find(prefix + " error: ");
  if (at == std::string::npos) return "";
  const size_t begin = at + prefix.size() + 8;
  return err.substr(begin, err.find('\n', begin) - begin);
}

struct Fixture {
  std::string dir = MakeTempDir("alertd-test-routes");
  std::string nested = std::string(kSourceDir) + "/tests/app/fixtures/routes_nested.yml";
  std::string example = std::string(kSourceDir) + "/examples/alertd.yml";
  std::string example_am = dir + "/alertmanager.yml";  // example without alertd's own keys

  Fixture() {
    // amtool refuses keys it does not know: keep the Alertmanager part of the example (its
    // top-level keys and everything under them) and drop the routes' `escalation:`.
    static const std::vector<std::string> kAlertmanagerKeys = {
        "global:",        "route:",          "receivers:",
        "inhibit_rules:", "time_intervals:", "mute_time_intervals:",
        "templates:"};
    std::istringstream in(ReadFile(example));
    std::string line, am;
    bool keep = false;
    while (std::getline(in, line)) {
      if (!line.empty() && line[0] != ' ' && line[0] != '#') {
        keep = false;
        for (const auto& k : kAlertmanagerKeys) keep = keep || line.rfind(k, 0) == 0;
      }
      if (keep && line.find("escalation:") == std::string::npos) am += line + "\n";
    }
    WriteFile(example_am, am);
  }
  ~Fixture() { RemoveTree(dir); }

  // `amtool config routes <words...>`, with a HOME of its own (amtool reads
  // ~/.config/amtool/config.yml).
  Run Amtool(const std::vector<std::string>& words) {
    std::vector<std::string> argv = {"amtool", "config", "routes"};
    argv.insert(argv.end(), words.begin(), words.end());
    auto r = RunCommandSplit(argv, {{"HOME", dir}});
    return {r.exit_code, r.out, r.err};
  }
  static Run Alertd(const std::vector<std::string>& args) {
    std::ostringstream out, err;
    const int rc = app::TestRoutesCommand(args, out, err);
    return {rc, out.str(), err.str()};
  }
};

struct Row {
  const char* name;
  std::vector<std::string> args;  // after `amtool config routes test` / `alertd test routes`
  int exit_code;                  // what both must exit with
  bool same_error = false;        // alertd's error message must be amtool's too
};

// Runs every row through both and compares stdout and the exit code exactly.
void Compare(Fixture& f, const std::string& am_config, const std::string& alertd_config,
             const std::vector<Row>& rows) {
  for (const Row& row : rows) {
    INFO(std::string(row.name));
    std::vector<std::string> am_words = {"test", "--config.file=" + am_config};
    am_words.insert(am_words.end(), row.args.begin(), row.args.end());
    std::vector<std::string> ad_args = {"--config.file=" + alertd_config};
    ad_args.insert(ad_args.end(), row.args.begin(), row.args.end());
    const Run am = f.Amtool(am_words);
    const Run ad = Fixture::Alertd(ad_args);
    INFO("amtool stdout:\n" << am.out << "amtool stderr:\n" << am.err);
    INFO("alertd stdout:\n" << ad.out << "alertd stderr:\n" << ad.err);
    CHECK(am.exit_code == row.exit_code);
    CHECK(ad.exit_code == am.exit_code);
    CHECK(ad.out == am.out);
    if (row.same_error) {
      CHECK(!ErrorMessage(am.err, "amtool:").empty());
      CHECK(ErrorMessage(ad.err, "alertd test routes:") == ErrorMessage(am.err, "amtool:"));
    }
  }
}

}  // namespace

TEST_CASE("alertd test routes prints what amtool config routes test prints, on the example") {
  Fixture f;
  Compare(f, f.example_am, f.example,
          {
              {"no labels: the root", {}, 0},
              {"critical: continue, then the next sibling", {"severity=critical"}, 0},
              {"warning", {"alertname=DiskFull", "severity=warning"}, 0},
              {"no route matches", {"severity=info"}, 0},
              {"quoted value", {"severity=\"critical\""}, 0},
              {"--tree", {"--tree", "severity=critical", "instance=a:9100"}, 0},
              {"--tree on the root", {"--tree"}, 0},
              {"--verify.receivers matches",
               {"--verify.receivers=oncall-pagerduty,team-slack", "severity=critical"},
               0},
              {"--verify.receivers in another order",
               {"--verify.receivers=team-slack,oncall-pagerduty", "severity=critical"},
               1},
              {"--verify.receivers as its own word, with --tree",
               {"--tree", "--verify.receivers", "team-slack", "severity=warning", "x=y"},
               0},
              {"--verify.receivers fails", {"--verify.receivers=team-slack", "severity=none"}, 1},
          });

  // `config routes show` and `config routes` (show is amtool's default).
  const Run ad = Fixture::Alertd({"show", "--config", f.example});
  const Run am = f.Amtool({"show", "--config.file=" + f.example_am});
  INFO(am.out << am.err << ad.out << ad.err);
  CHECK(am.exit_code == 0);
  CHECK(ad.exit_code == 0);
  CHECK(ad.out == am.out);
  CHECK(ad.out.find("{severity=\"critical\"}  continue: true  receiver: oncall-pagerduty") !=
        std::string::npos);
  CHECK(f.Amtool({"--config.file=" + f.example_am}).out == ad.out);
  CHECK(Fixture::Alertd({"--config.file", f.example, "show"}).out == am.out);
}

TEST_CASE("alertd test routes prints what amtool prints on a nested tree") {
  Fixture f;
  const std::string& c = f.nested;
  Compare(
      f, c, c,
      {
          {"default", {"alertname=X"}, 0},
          {"continue into a child, then the next sibling",
           {"team=db", "severity=critical", "env=prod"},
           0},
          {"match_re is anchored: staging matches stag.*, continue to the default child",
           {"team=web", "severity=critical", "env=staging"},
           0},
          {"match_re is anchored: a prefix is not a match",
           {"team=web", "severity=critical", "env=xstaging"},
           0},
          {"=~ is anchored: dbx is not db", {"team=dbx", "severity=critical"}, 0},
          {"!= and !~ on a missing label", {"team=db", "severity=critical"}, 0},
          {"continue: true in a child and at the top", {"team=db", "service=pgsql"}, 0},
          {"the child with != fails, the next one matches", {"team=db", "service=pgbouncer"}, 0},
          {"siblings with equal matchers: the first without continue wins", {"team=db"}, 0},
          {"a route without matchers continues, the default child after it", {"instance=web-2"}, 0},
          {"web-1x: only the default child", {"instance=web-12"}, 0},
          {"anchored regex: xweb-2 is not web-[0-9]+", {"instance=xweb-2"}, 0},
          {"escaped quote in the value", {"severity=critical", "msg=\"say \\\"hi\\\"\""}, 0},
          {"backslash", {"severity=critical", "path=C:\\\\temp"}, 0},
          {"a lone backslash stays", {"severity=critical", "path=C:\\temp"}, 0},
          {"a tab in the value", {"note=a\tb"}, 0},
          {"\\n is a newline", {"note=x\\ny"}, 0},
          {"spaces around the tokens", {" severity = critical ", "team =db"}, 0},
          {"the last of a repeated label wins", {"severity=warning", "severity=critical"}, 0},
          {"an empty value", {"severity=critical", "team="}, 0},
          {"a comma is part of the value", {"team=db,web", "severity=critical"}, 0},
          {"a colon in the name", {"a:b=c"}, 0},
          {"flags after the labels", {"team=db", "--tree", "service=pg"}, 0},
          {"--tree deep", {"--tree", "team=web", "severity=critical", "env=staging"}, 0},
          {"--tree with continue at two depths", {"--tree", "team=db", "service=pg"}, 0},
          {"--tree with a default child", {"--tree", "instance=web-3"}, 0},
          {"--tree with quotes and tabs", {"--tree", "note=a\tb"}, 0},
          {"--verify.receivers passes",
           {"--verify.receivers=crit-prod,crit2", "team=db", "severity=critical", "env=prod"},
           0},
          {"--verify.receivers fails",
           {"--verify.receivers=crit-prod", "team=db", "severity=critical", "env=prod"},
           1},
          {"--verify.receivers fails with --tree",
           {"--tree", "--verify.receivers=web", "instance=web-2"},
           1},
          {"--verify.receivers empty checks nothing", {"--verify.receivers=", "a=b"}, 0},
          {"--verify.receivers empty as its own word", {"--verify.receivers", "", "a=b"}, 0},
          {"not a label", {"severity"}, 1, true},
          {"not a label name", {"1a=b"}, 1, true},
          {"!= is not a label", {"a!=b"}, 1, true},
          {"=~ is not a label", {"a=~b"}, 1, true},
          {"an invalid regex", {"a=~("}, 1},
          {"an opening quote without its end", {"a=\"b"}, 1, true},
          {"a quote inside", {"a=b\"c"}, 1, true},
          {"an escaped closing quote", {"a=\"b\\\""}, 1, true},
          {"the bad label after good ones", {"severity=critical", "x"}, 1, true},
          {"an unknown flag", {"--bogus", "a=b"}, 1},
      });

  const Run ad = Fixture::Alertd({"show", "--config.file=" + c});
  const Run am = f.Amtool({"show", "--config.file=" + c});
  INFO(am.out << ad.out << ad.err);
  CHECK(am.exit_code == 0);
  CHECK(ad.exit_code == 0);
  CHECK(ad.out == am.out);
  // What the comparison covers: Alertmanager 0.25 shows match_re anchored, a tab as it is.
  CHECK(ad.out.find("{env=~\"^(?:stag.*)$\"}  continue: true  receiver: crit-stag") !=
        std::string::npos);
  CHECK(ad.out.find("{note=\"a\tb\"}") != std::string::npos);
  CHECK(ad.out.find("\u2502\u00a0\u00a0 \u251c\u2500\u2500 {env=\"prod\"}") != std::string::npos);
}

TEST_CASE("alertd test routes exits 1 without a usable configuration, as amtool does") {
  Fixture f;
  const std::string bad = f.dir + "/bad.yml";
  WriteFile(bad, "route:\n  receiver: nobody\nreceivers:\n  - name: someone\n");
  for (const std::string& path : {f.dir + "/missing.yml", bad}) {
    CAPTURE(path);
    const Run am = f.Amtool({"test", "--config.file=" + path, "a=b"});
    const Run ad = Fixture::Alertd({"--config.file=" + path, "a=b"});
    INFO(am.err << ad.err);
    CHECK(am.exit_code == 1);
    CHECK(ad.exit_code == 1);
    CHECK(ad.out == am.out);
    CHECK(ad.out.empty());
  }
  const Run no_config = Fixture::Alertd({"a=b"});
  CHECK(no_config.exit_code == 1);
  CHECK(no_config.err.find("--config FILE is required") != std::string::npos);
  const Run bad_labels = Fixture::Alertd({"--config", bad, "nope"});
  // The configuration is read before the labels, as amtool does.
  CHECK(bad_labels.exit_code == 1);
  CHECK(bad_labels.err.find("bad.yml:") != std::string::npos);
  CHECK(bad_labels.err.find("nobody") != std::string::npos);
  CHECK(Fixture::Alertd({"show", "--config", f.example, "a=b"}).exit_code == 1);
  CHECK(Fixture::Alertd({"show", "--config", f.example, "--tree"}).exit_code == 1);
}

TEST_CASE("alertd test routes --details adds group labels, group key and escalation") {
  Fixture f;
  const Run r = Fixture::Alertd({"--config", f.example, "--details", "severity=critical",
                                 "alertname=Down", "instance=a:9100", "job=node"});
  INFO(r.out << r.err);
  REQUIRE(r.exit_code == 0);
  // amtool's line first, unchanged.
  CHECK(r.out.rfind("oncall-pagerduty,team-slack\n", 0) == 0);
  CHECK(r.out.find("route {}/{severity=\"critical\"} (" + f.example + ":") != std::string::npos);
  CHECK(r.out.find("  receiver: oncall-pagerduty\n") != std::string::npos);
  CHECK(r.out.find("  group_by: [alertname, instance]\n") != std::string::npos);
  CHECK(r.out.find("  group: {alertname=\"Down\", instance=\"a:9100\"}\n") != std::string::npos);
  CHECK(r.out.find("  group_key: {}/{severity=\"critical\"}:{alertname=\"Down\", "
                   "instance=\"a:9100\"}\n") != std::string::npos);
  CHECK(r.out.find("  group_wait: 10s, group_interval: 1m, repeat_interval: 4h\n") !=
        std::string::npos);
  CHECK(r.out.find("  escalation: critical (after 2m: managers-email)\n") != std::string::npos);
  // team-slack's route names no escalation policy.
  CHECK(r.out.find("  receiver: team-slack\n") != std::string::npos);
  CHECK(r.out.find("  escalation: none\n") != std::string::npos);

  // On the nested tree: group_by ['...'] groups by every label; the warning comes last.
  const Run n = Fixture::Alertd(
      {"--config", f.nested, "--details", "--verify.receivers=x", "severity=critical", "team=ops"});
  INFO(n.out);
  CHECK(n.exit_code == 1);
  CHECK(n.out.find("  group_by: [...]\n  group: {severity=\"critical\", team=\"ops\"}\n") !=
        std::string::npos);
  CHECK(
      n.out.ends_with("\n  escalation: none\n"
                      "WARNING: Expected receivers did not match resolved receivers.\n"));
}

TEST_CASE("amtool's label syntax") {
  struct LabelRow {
    const char* name;
    const char* arg;
    const char* label;  // nullptr: an error
    const char* value;
  };
  const LabelRow rows[] = {
      {"plain", "a=b", "a", "b"},
      {"quoted", "a=\"b c\"", "a", "b c"},
      {"spaces trimmed", "  a  =  b c  ", "a", "b c"},
      {"escapes", "a=\"x\\\"y\\\\z\\nw\"", "a", "x\"y\\z\nw"},
      {"a spurious escape stays", "a=x\\ty", "a", "x\\ty"},
      {"empty", "a=", "a", ""},
      {"equals in the value", "a==b", "a", "=b"},
      {"no operator", "a", nullptr, nullptr},
      {"a space in the name", "a b=c", nullptr, nullptr},
      {"not equal", "a!=b", nullptr, nullptr},
      {"unterminated quote", "a=\"b", nullptr, nullptr},
      {"invalid UTF-8", "a=\xff", nullptr, nullptr},
  };
  for (const auto& row : rows) {
    INFO(std::string(row.name));
    auto l = app::ParseLabelArgument(row.arg);
    if (row.label == nullptr) {
      CHECK(!l.ok());
    } else {
      REQUIRE_MESSAGE(l.ok(), l.status().message());
      CHECK(l->first == row.label);
      CHECK(l->second == row.value);
    }
  }
}

TEST_CASE("the alertd binary runs test routes with amtool's exit codes") {
  Fixture f;
  const std::string bin = kAlertdBinary;
  auto ok =
      RunCommandSplit({bin, "test", "routes", "--config.file=" + f.example,
                       "--verify.receivers=oncall-pagerduty,team-slack", "severity=critical"});
  INFO(ok.out << ok.err);
  CHECK(ok.exit_code == 0);
  CHECK(ok.out == "oncall-pagerduty,team-slack\n");
  auto fail = RunCommandSplit(
      {bin, "test", "routes", "--config", f.example, "--verify.receivers=x", "severity=warning"});
  CHECK(fail.exit_code == 1);
  CHECK(fail.out == "team-slack\nWARNING: Expected receivers did not match resolved receivers.\n");
  auto bad = RunCommandSplit({bin, "test", "routes", "-c", f.example, "severity"});
  CHECK(bad.exit_code == 1);
  CHECK(bad.err.find("Failed to parse labels: bad matcher format: severity") != std::string::npos);
  auto show = RunCommandSplit({bin, "test", "routes", "show", "--config", f.example});
  CHECK(show.exit_code == 0);
  CHECK(show.out == f.Amtool({"show", "--config.file=" + f.example_am}).out);
  auto help = RunCommandSplit({bin, "test", "routes", "--help"});
  CHECK(help.exit_code == 0);
  CHECK(help.out.find("--verify.receivers") != std::string::npos);
}
