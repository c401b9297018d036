// The Amazon SNS integration, as Alertmanager 0.25's notify/sns: an SNS Publish call (Query
// API, form-encoded, Version 2010-03-31) to `api_url` (templated; default
// https://sns.<region>.amazonaws.com/) signed with AWS Signature Version 4
// (notifiers/sns/sigv4.h): TopicArn (a ".fifo" topic also gets MessageGroupId and
// MessageDeduplicationId, the group key's hash), PhoneNumber or TargetArn; Subject; Message (at
// most 256 KiB, 1,600 bytes for SMS, a message attribute "truncated" when cut); `attributes`
// as String message attributes. Errors are classified by HTTP status as Alertmanager's Retrier
// does (CheckHttpResponse), with SNS's error message.
//
// Credentials: sigv4.access_key and secret_key, else the AWS_ACCESS_KEY_ID,
// AWS_SECRET_ACCESS_KEY (and AWS_SESSION_TOKEN) environment variables; the region from
// sigv4.region, else AWS_REGION or AWS_DEFAULT_REGION. Unlike Alertmanager, alertd does not
// read ~/.aws profiles nor assume roles through STS: `sigv4.profile` and `sigv4.role_arn` are
// refused when the configuration loads. A message cut to the size limit is cut at a UTF-8
// character boundary (Alertmanager cuts at the byte, which can leave invalid UTF-8 that SNS
// refuses).
//
// Thread-safe (immutable after construction).
#pragma once

#include <map>
#include <memory>
#include <string>

#include "config/config.h"
#include "config/notifier_config.h"
#include "core/result.h"
#include "notifiers/deps.h"
#include "notifiers/notifier.h"

namespace alertd::notifiers {

// `sns_configs` entries; defaults are Alertmanager 0.25's (DefaultSNSConfig).
struct SnsConfig final : config::NotifierConfig {
  static const config::NotifierKind kKind;  // "sns"; read by notifiers/sns/config.cc
  std::string_view kind() const override { return "sns"; }
  bool resolved() const override { return send_resolved; }

  bool send_resolved = true;
  config::HTTPClientConfig http_config;  // default global.http_config
  std::string api_url;                   // templated; empty: the region's endpoint
  std::string region;                    // sigv4.region
  std::string access_key;                // sigv4.access_key
  std::string secret_key;                // sigv4.secret_key; secret
  std::string topic_arn;                 // exactly one of topic_arn, phone_number, target_arn
  std::string phone_number;
  std::string target_arn;
  std::string subject = R"({{ template "sns.default.subject" . }})";
  std::string message = R"({{ template "sns.default.message" . }})";
  std::map<std::string, std::string> attributes;  // names and values templated
};

Result<std::unique_ptr<Notifier>> NewNotifier(const SnsConfig& cfg, const Deps& deps);

}  // namespace alertd::notifiers
