#include "app/test_routes.h"

#include <fmt/format.h>

#include <CLI/CLI.hpp>
#include <algorithm>
#include <memory>
#include <ostream>
#include <set>

#include "core/duration.h"
#include "core/matcher.h"
#include "core/utf8.h"
#include "router/route.h"

namespace alertd::app {
namespace {

constexpr const char* kErrorPrefix = "alertd test routes: error: ";

// Go's regexp `\s`.
bool IsSpace(char c) { return c == ' ' || c == '\t' || c == '\n' || c == '\f' || c == '\r'; }
bool IsNameStart(char c) {
  return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || c == '_' || c == ':';
}
bool IsNameChar(char c) { return IsNameStart(c) || (c >= '0' && c <= '9'); }

// pkg/labels openMetricsEscape: the quoting of Matcher.String() in Alertmanager 0.25. alertd's
// Matcher::String() quotes as Go does (strconv.Quote), which differs for control characters;
// amtool's tree shows the 0.25 form.
std::string OpenMetricsEscape(std::string_view s) {
  std::string out;
  for (char c : s) {
    if (c == '\\')
      out += "\\\\";
    else if (c == '\n')
      out += "\\n";
    else if (c == '"')
      out += "\\\"";
    else
      out += c;
  }
  return out;
}

// A route's line in amtool's trees (cli/routing.go getRouteTreeSlug).
std::string RouteSlug(const config::Route& r, bool show_continue, bool show_receiver) {
  std::string slug;
  if (r.matchers.empty()) {
    slug = "default-route";
  } else {
    Matchers ms = r.matchers;
    // labels.Matchers.Less, as dispatch.NewRoute sorts them: name, value, type.
    std::sort(ms.begin(), ms.end(), [](const Matcher& a, const Matcher& b) {
      if (a.name() != b.name()) return a.name() < b.name();
      if (a.value() != b.value()) return a.value() < b.value();
      return a.type() < b.type();
    });
    slug = "{";
    for (size_t i = 0; i < ms.size(); ++i) {
      if (i) slug += ',';
      slug += fmt::format("{}{}\"{}\"", ms[i].name(), MatchTypeString(ms[i].type()),
                          OpenMetricsEscape(ms[i].value()));
    }
    slug += '}';
  }
  if (r.continue_ && show_continue) slug += "  continue: true";
  if (show_receiver) slug += "  receiver: " + r.receiver;
  return slug;
}

// A tree as github.com/xlab/treeprint v1.0.0 (the version Debian's amtool 0.25 is built with)
// prints it: "." on the first line, then one line per node with box-drawing edges; a level
// whose branch goes on below is drawn "│" and two no-break spaces and a space.
struct TreeNode {
  std::string value;
  std::vector<TreeNode> children;
};

void PrintTreeNodes(const std::vector<TreeNode>& nodes, std::vector<bool>* ended,
                    std::string* out) {
  for (size_t i = 0; i < nodes.size(); ++i) {
    const bool last = i + 1 == nodes.size();
    for (bool e : *ended) *out += e ? "    " : "\u2502\u00a0\u00a0 ";
    *out += last ? "\u2514\u2500\u2500 " : "\u251c\u2500\u2500 ";
    *out += nodes[i].value;
    *out += '\n';
    ended->push_back(last);
    PrintTreeNodes(nodes[i].children, ended, out);
    ended->pop_back();
  }
}

std::string TreeString(const TreeNode& top) {
  std::string out = ".\n";
  std::vector<bool> ended;
  PrintTreeNodes({top}, &ended, &out);
  return out;
}

TreeNode FullTree(const config::Route& r) {
  TreeNode n{RouteSlug(r, true, true), {}};
  for (const auto& c : r.routes) n.children.push_back(FullTree(c));
  return n;
}

// cli/routing.go getMatchingTree: the routes an alert passes through on its way to the routes
// it ends on, which show their receivers. They are exactly the ends RouteTree::Match finds and
// their ancestors.
TreeNode MatchingTree(const router::RouteNode& n, const std::set<const router::RouteNode*>& path) {
  TreeNode t;
  for (const auto& c : n.children) {
    if (path.count(c.get())) t.children.push_back(MatchingTree(*c, path));
  }
  t.value = RouteSlug(*n.config, false, t.children.empty());
  return t;
}

std::string Join(const std::vector<std::string>& v, std::string_view sep) {
  std::string out;
  for (size_t i = 0; i < v.size(); ++i) {
    if (i) out += sep;
    out += v[i];
  }
  return out;
}

// --details: what alertd does with the alert on one of the routes it reaches.
std::string RouteDetails(const config::Config& cfg, const router::RouteNode& n,
                         const LabelSet& labels) {
  const config::Route& r = *n.config;
  const LabelSet group = router::GroupLabels(r, labels);
  std::string out = fmt::format("route {} ({})\n", n.key, r.pos.String());
  out += "  receiver: " + r.receiver + "\n";
  out += "  group_by: [" + (r.group_by_all ? std::string("...") : Join(r.group_by, ", ")) + "]\n";
  out += "  group: " + group.String() + "\n";
  out += "  group_key: " + router::GroupKey(n, group) + "\n";
  out += fmt::format("  group_wait: {}, group_interval: {}, repeat_interval: {}\n",
                     FormatDuration(r.group_wait), FormatDuration(r.group_interval),
                     FormatDuration(r.repeat_interval));
  if (!r.mute_time_intervals.empty()) {
    out += "  mute_time_intervals: [" + Join(r.mute_time_intervals, ", ") + "]\n";
  }
  if (!r.active_time_intervals.empty()) {
    out += "  active_time_intervals: [" + Join(r.active_time_intervals, ", ") + "]\n";
  }
  const config::EscalationPolicy* p =
      r.escalation.empty() ? nullptr : cfg.FindEscalationPolicy(r.escalation);
  if (p == nullptr) {
    out += "  escalation: none\n";
  } else {
    std::vector<std::string> steps;
    for (const auto& s : p->steps) {
      steps.push_back("after " + FormatDuration(s.after) + ": " + Join(s.receivers, ", "));
    }
    if (p->repeat > 0) steps.push_back(fmt::format("repeat {}", p->repeat));
    out += "  escalation: " + p->name + " (" + Join(steps, "; ") + ")\n";
  }
  return out;
}

}  // namespace

Result<std::pair<std::string, std::string>> ParseLabelArgument(std::string_view s) {
  // ParseMatcher's regexp, by hand:
  //   ^\s*([a-zA-Z_:][a-zA-Z0-9_:]*)\s*(=~|=|!=|!~)\s*((?s).*?)\s*$
  const auto bad = [&] {
    return Status::InvalidArgument(fmt::format("bad matcher format: {}", s));
  };
  size_t i = 0;
  while (i < s.size() && IsSpace(s[i])) ++i;
  if (i == s.size() || !IsNameStart(s[i])) return bad();
  const size_t name_begin = i;
  while (i < s.size() && IsNameChar(s[i])) ++i;
  const std::string name(s.substr(name_begin, i - name_begin));
  while (i < s.size() && IsSpace(s[i])) ++i;
  MatchType type;
  if (s.substr(i, 2) == "=~") {
    type = MatchType::kRegexMatch;
    i += 2;
  } else if (s.substr(i, 1) == "=") {
    type = MatchType::kEqual;
    i += 1;
  } else if (s.substr(i, 2) == "!=") {
    type = MatchType::kNotEqual;
    i += 2;
  } else if (s.substr(i, 2) == "!~") {
    type = MatchType::kRegexNoMatch;
    i += 2;
  } else {
    return bad();
  }
  while (i < s.size() && IsSpace(s[i])) ++i;
  size_t end = s.size();
  while (end > i && IsSpace(s[end - 1])) --end;
  const std::string_view token = s.substr(i, end - i);  // ms[3]

  std::string_view raw = token;
  bool expect_trailing_quote = false;
  if (!raw.empty() && raw.front() == '"') {
    raw.remove_prefix(1);
    expect_trailing_quote = true;
  }
  if (!IsValidUtf8(raw)) {
    return Status::InvalidArgument(fmt::format("matcher value not valid UTF-8: {}", token));
  }
  const auto unescaped_quote = [&] {
    return Status::InvalidArgument(
        fmt::format("matcher value contains unescaped double quote: {}", token));
  };
  // The special characters are ASCII, so going byte by byte over valid UTF-8 does what Go's
  // loop over runes does.
  std::string value;
  bool escaped = false;
  for (size_t k = 0; k < raw.size(); ++k) {
    const char c = raw[k];
    if (escaped) {
      escaped = false;
      if (c == 'n')
        value += '\n';
      else if (c == '"' || c == '\\')
        value += c;
      else
        value += {'\\', c};  // a spurious escape stays literal
      continue;
    }
    if (c == '\\') {
      if (k + 1 < raw.size()) {
        escaped = true;
        continue;
      }
      value += '\\';  // a '\' as the last byte is literal
    } else if (c == '"') {
      if (!expect_trailing_quote || k + 1 < raw.size()) return unescaped_quote();
      expect_trailing_quote = false;
    } else {
      value += c;
    }
  }
  if (expect_trailing_quote) return unescaped_quote();
  if (type == MatchType::kRegexMatch || type == MatchType::kRegexNoMatch) {
    // labels.NewMatcher compiles the regex before parseLabels looks at the type.
    auto m = Matcher::Create(type, name, value);
    if (!m.ok()) return m.status();
  }
  if (type != MatchType::kEqual) {
    return Status::InvalidArgument("labels must be specified as key=value pairs");
  }
  return std::make_pair(name, value);
}

std::string RouteTreeText(const config::Config& cfg) {
  return "Routing tree:\n" + TreeString(FullTree(cfg.route)) + "\n";
}

int TestRoutes(const config::Config& cfg, const TestRoutesOptions& opts, std::ostream& out,
               std::ostream& err) {
  if (opts.show) {
    out << RouteTreeText(cfg);
    return 0;
  }
  LabelSet labels;
  for (const auto& arg : opts.labels) {
    auto l = ParseLabelArgument(arg);
    if (!l.ok()) {
      err << kErrorPrefix << "Failed to parse labels: " << l.status().message() << "\n";
      return 1;
    }
    labels.Set(l->first, l->second);  // a repeated name: the last one wins, as in amtool
  }
  // The tree only lives during this call: it borrows `cfg` rather than sharing it.
  const router::RouteTree tree{
      std::shared_ptr<const config::Config>(std::shared_ptr<void>(), &cfg)};
  const std::vector<const router::RouteNode*> ends = tree.Match(labels);
  if (opts.tree) {
    std::set<const router::RouteNode*> path;
    for (const router::RouteNode* n : ends) {
      for (const router::RouteNode* p = n; p != nullptr; p = p->parent) path.insert(p);
    }
    out << "Matching routes:\n" << TreeString(MatchingTree(tree.root(), path)) << "\n\n";
  }
  std::vector<std::string> receivers;
  for (const router::RouteNode* n : ends) receivers.push_back(n->config->receiver);
  const std::string slug = Join(receivers, ",");
  out << slug << "\n";
  if (opts.details) {
    for (const router::RouteNode* n : ends) out << RouteDetails(cfg, *n, labels);
  }
  if (!opts.verify_receivers.empty() && opts.verify_receivers != slug) {
    out << "WARNING: Expected receivers did not match resolved receivers.\n";
    return 1;
  }
  return 0;
}

int RunTestRoutes(const TestRoutesOptions& opts, std::ostream& out, std::ostream& err) {
  if (opts.config_path.empty()) {
    err << kErrorPrefix << "--config FILE is required\n";
    return 1;
  }
  auto loaded = config::LoadConfigFile(opts.config_path);
  if (!loaded.ok()) {
    err << loaded.ErrorText();
    return 1;
  }
  return TestRoutes(*loaded.config, opts, out, err);
}

int TestRoutesCommand(const std::vector<std::string>& args, std::ostream& out, std::ostream& err) {
  TestRoutesOptions opts;
  CLI::App app{
      "Print the receivers an alert with the given labels reaches, as `amtool config routes "
      "test` does; exit 1 when --verify.receivers differs. `show`: print the route tree, as "
      "`amtool config routes show` does.",
      "alertd test routes"};
  app.add_option("-c,--config,--config.file", opts.config_path, "configuration file");
  app.add_option("--verify.receivers", opts.verify_receivers,
                 "a,b: exit 1 unless the alert reaches exactly these receivers, in this order");
  app.add_flag("--tree", opts.tree, "print the matching routes as a tree first");
  app.add_flag("--details", opts.details,
               "alertd: after the receivers, each route's group labels, group key, timers and "
               "escalation policy");
  app.add_option("labels", opts.labels, "label=value or label=\"value\": the alert's labels");
  // Flags after `show` (`show --config F`) are the parent's: fallthrough.
  auto* show = app.add_subcommand("show", "print the whole route tree")->fallthrough();
  // CLI11 pops from the back. `--flag=` with nothing after the '=' is kingpin's empty value
  // (for --verify.receivers: check nothing), where CLI11 would take the next word: drop it.
  std::vector<std::string> reversed;
  for (auto it = args.rbegin(); it != args.rend(); ++it) {
    if (it->size() > 3 && it->rfind("--", 0) == 0 && it->find('=') + 1 == it->size()) continue;
    reversed.push_back(*it);
  }
  try {
    app.parse(reversed);
  } catch (const CLI::ParseError& e) {
    // kingpin exits 1 on every usage error; CLI11 has a code per kind.
    return app.exit(e, out, err) == 0 ? 0 : 1;
  }
  opts.show = show->parsed();
  if (opts.show &&
      (!opts.labels.empty() || opts.tree || opts.details || !opts.verify_receivers.empty())) {
    err << kErrorPrefix << "show takes only --config\n";
    return 1;
  }
  return RunTestRoutes(opts, out, err);
}

}  // namespace alertd::app
