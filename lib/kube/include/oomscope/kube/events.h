#pragma once

// Kubernetes Events (events.k8s.io/v1) about an object, as `kubectl describe` shows them.

#include <chrono>
#include <string>
#include <string_view>

#include <nlohmann/json.hpp>

#include "oomscope/common/status.h"
#include "oomscope/kube/client.h"
#include "oomscope/kube/time.h"

namespace oomscope::kube {

struct EventSpec {
  std::string type = "Normal";  // "Normal" | "Warning"
  std::string reason;           // UpperCamelCase, e.g. "OOMKillDetected" (max 128)
  std::string action;           // UpperCamelCase, e.g. "DetectOOMKill" (max 128)
  std::string note;             // human-readable (truncated to 1 kB, the API's limit)
};

// The events.k8s.io/v1 Event object for `regarding` (any object with apiVersion, kind and
// metadata): name "<name>.<unique suffix>", namespace of the regarding object (or "default"),
// eventTime in MicroTime, reportingController and reportingInstance. Pure.
nlohmann::json BuildEvent(const nlohmann::json& regarding, const EventSpec& spec,
                          std::string_view reporting_controller,
                          std::string_view reporting_instance, TimePoint now);

// Thread-safe.
class EventRecorder {
 public:
  EventRecorder(KubeClient& client, std::string reporting_instance,
                std::string reporting_controller = "oomscope.io/operator");
  // POSTs the event; the created Event, or the API's Status.
  Result<nlohmann::json> Record(const nlohmann::json& regarding, const EventSpec& spec);

 private:
  KubeClient& client_;
  std::string instance_, controller_;
};

}  // namespace oomscope::kube
