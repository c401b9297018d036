// Go's regexp.(*Regexp).Expand over RE2, shared by relabelling (core/relabel.cc) and the
// template function reReplaceAll (templating/functions.cc): `$$` is a dollar, `$name` and
// `${name}` the group named or numbered so (empty when it did not take part or does not
// exist), and a malformed `$` is kept as text. Hand-written because RE2's Rewrite knows only
// `\1`. Pure function; thread-safe.
#pragma once

#include <re2/re2.h>

#include <string>
#include <string_view>

namespace alertd {

// Appends `tmpl` expanded with the `ngroups` submatches `groups` of `re` to `*out`.
void AppendGoExpand(std::string* out, const RE2& re, std::string_view tmpl,
                    const re2::StringPiece* groups, int ngroups);

}  // namespace alertd
