#include <doctest/doctest.h>

#include "templating/template.h"

TEST_CASE("smoke") {
  alertd::templating::TemplateSet set(alertd::templating::Dialect::kAlertmanager);
  auto r = set.ExecuteText("{{ printf \"%d-%s\" 3 \"x\" }}", alertd::templating::Value());
  CHECK(r.output == "3-x");
}
