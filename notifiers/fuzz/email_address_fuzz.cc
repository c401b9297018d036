// libFuzzer target: random text into the email address-list parser, which reads the rendered
// `to` and `from` templates (label values included) for the SMTP envelope. It must never
// crash, and no accepted address may carry a control character (CR/LF would inject SMTP
// commands), a space or lack an '@'.
#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <string_view>

#include "notifiers/email/email.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  std::string_view in(reinterpret_cast<const char*>(data), size);
  auto list = alertd::notifiers::internal::ParseAddressList(in);
  if (!list.ok()) return 0;
  if (list->empty()) std::abort();
  for (const auto& addr : *list) {
    if (addr.find('@') == std::string::npos) std::abort();
    for (unsigned char c : addr) {
      if (c < 0x20 || c == 0x7f || c == ' ') std::abort();
    }
  }
  return 0;
}
