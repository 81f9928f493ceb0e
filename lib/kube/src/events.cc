#include "oomscope/kube/events.h"

#include <cstdio>

#include "oomscope/kube/object.h"
#include "oomscope/kube/resource.h"

namespace oomscope::kube {
namespace {

std::string Truncate(std::string s, size_t max) {
  if (s.size() > max) s.resize(max);
  return s;
}

}  // namespace

nlohmann::json BuildEvent(const nlohmann::json& regarding, const EventSpec& spec,
                          std::string_view reporting_controller,
                          std::string_view reporting_instance, TimePoint now) {
  std::string name = meta::Name(regarding);
  std::string ns = meta::Namespace(regarding);
  if (ns.empty()) ns = "default";
  // As client-go's recorder names events: the object's name and the time in hex nanoseconds.
  auto nanos = std::chrono::duration_cast<std::chrono::nanoseconds>(now.time_since_epoch()).count();
  char suffix[32];
  std::snprintf(suffix, sizeof suffix, "%llx", static_cast<unsigned long long>(nanos));
  std::string event_name = Truncate(name, 253 - 1 - std::string(suffix).size()) + "." + suffix;

  nlohmann::json ref = {{"apiVersion", StringAt(regarding, "/apiVersion")},
                        {"kind", StringAt(regarding, "/kind")},
                        {"name", name}};
  if (!meta::Namespace(regarding).empty()) ref["namespace"] = meta::Namespace(regarding);
  if (!meta::Uid(regarding).empty()) ref["uid"] = meta::Uid(regarding);
  if (!meta::ResourceVersion(regarding).empty()) ref["resourceVersion"] = meta::ResourceVersion(regarding);

  return {{"apiVersion", resources::Events().ApiVersion()},
          {"kind", "Event"},
          {"metadata", {{"name", event_name}, {"namespace", ns}}},
          {"eventTime", FormatMicroTime(now)},
          {"reportingController", Truncate(std::string(reporting_controller), 128)},
          {"reportingInstance", Truncate(std::string(reporting_instance), 128)},
          {"action", Truncate(spec.action, 128)},
          {"reason", Truncate(spec.reason, 128)},
          {"type", spec.type},
          {"regarding", ref},
          {"note", Truncate(spec.note, 1024)}};
}

EventRecorder::EventRecorder(KubeClient& client, std::string reporting_instance,
                             std::string reporting_controller)
    : client_(client),
      instance_(std::move(reporting_instance)),
      controller_(std::move(reporting_controller)) {}

Result<nlohmann::json> EventRecorder::Record(const nlohmann::json& regarding, const EventSpec& spec) {
  nlohmann::json ev =
      BuildEvent(regarding, spec, controller_, instance_, std::chrono::system_clock::now());
  return client_.Create(resources::Events(), StringAt(ev, "/metadata/namespace"), ev);
}

}  // namespace oomscope::kube
