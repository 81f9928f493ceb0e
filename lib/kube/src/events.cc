#include "oomscope/kube/events.h"

namespace oomscope::kube {

nlohmann::json BuildEvent(const nlohmann::json&, const EventSpec&, std::string_view, std::string_view,
                          TimePoint) {
  return {};
}
EventRecorder::EventRecorder(KubeClient& client, std::string reporting_instance,
                             std::string reporting_controller)
    : client_(client), instance_(std::move(reporting_instance)), controller_(std::move(reporting_controller)) {}
Result<nlohmann::json> EventRecorder::Record(const nlohmann::json&, const EventSpec&) {
  return Internal("skeleton");
}

}  // namespace oomscope::kube
