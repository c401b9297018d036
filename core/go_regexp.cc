#include "core/go_regexp.h"

namespace alertd {
namespace {

bool IsWordByte(unsigned char c) {
  // Go's extract accepts Unicode letters and digits too; a group named with non-ASCII letters
  // is taken as a word here by counting every non-ASCII byte as a letter.
  return c == '_' || (c >= '0' && c <= '9') || (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') ||
         c >= 0x80;
}

}  // namespace

void AppendGoExpand(std::string* out_ptr, const RE2& re, std::string_view tmpl,
                    const re2::StringPiece* groups, int ngroups) {
  std::string& out = *out_ptr;
  while (!tmpl.empty()) {
    const size_t d = tmpl.find('$');
    if (d == std::string_view::npos) break;
    out.append(tmpl.substr(0, d));
    tmpl.remove_prefix(d + 1);
    if (!tmpl.empty() && tmpl[0] == '$') {
      out.push_back('$');
      tmpl.remove_prefix(1);
      continue;
    }
    std::string_view s = tmpl;
    bool brace = false;
    if (!s.empty() && s[0] == '{') {
      brace = true;
      s.remove_prefix(1);
    }
    size_t i = 0;
    while (i < s.size() && IsWordByte(static_cast<unsigned char>(s[i]))) ++i;
    if (i == 0 || (brace && (i >= s.size() || s[i] != '}'))) {
      out.push_back('$');  // malformed: the `$` stays as text
      continue;
    }
    const std::string_view name = s.substr(0, i);
    tmpl = s.substr(i + (brace ? 1 : 0));
    int num = 0;
    for (char c : name) {
      if (c < '0' || c > '9' || num >= 100000000) {
        num = -1;
        break;
      }
      num = num * 10 + (c - '0');
    }
    if (name.size() > 1 && name[0] == '0') num = -1;
    if (num < 0) {
      const auto& names = re.NamedCapturingGroups();
      auto it = names.find(std::string(name));
      if (it != names.end()) num = it->second;
    }
    if (num >= 0 && num < ngroups && groups[num].data() != nullptr) {
      out.append(groups[num].data(), groups[num].size());
    }
  }
  out.append(tmpl);
}

}  // namespace alertd
