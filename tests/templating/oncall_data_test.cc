// alertd's .OnCall in notification templates: the person an escalation step with `schedule:`
// pages, and empty strings (not an error) in every other notification.
#include <doctest/doctest.h>

#include "templating/notification.h"
#include "templating/template.h"

using namespace alertd::templating;

TEST_CASE("notification templates see the person on call as .OnCall, empty elsewhere") {
  TemplateSet set(Dialect::kAlertmanager);
  REQUIRE(set.AddDefaults().ok());
  NotificationData paged;
  paged.receiver = "oncall-email";
  paged.on_call = {"alice", "alice@example.com", "U024BE7LH", "+4930123456"};
  const char* text =
      "{{ .OnCall.Name }}|{{ .OnCall.Email }}|<@{{ .OnCall.Slack }}>|{{ .OnCall.Phone }}";
  ExecResult r = RenderNotification(set, text, paged);
  REQUIRE_MESSAGE(r.ok(), r.status.message());
  CHECK(r.output == "alice|alice@example.com|<@U024BE7LH>|+4930123456");
  ExecResult empty = RenderNotification(set, text, NotificationData{});
  REQUIRE_MESSAGE(empty.ok(), empty.status.message());
  CHECK(empty.output == "||<@>|");
}
