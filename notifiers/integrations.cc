// config::NotifierKinds() from the list in notifiers/integrations.h. Compiled into config/:
// it needs only the kinds (config types and readers), not the notifiers.
#include "notifiers/integrations.h"

namespace alertd::config {
namespace {

template <typename... T>
std::span<const NotifierKind> KindsOf(notifiers::NotifierList<T...>) {
  static const NotifierKind kinds[] = {T::kKind...};
  return kinds;
}

}  // namespace

std::span<const NotifierKind> NotifierKinds() { return KindsOf(notifiers::AllNotifiers{}); }

}  // namespace alertd::config
