#pragma once

// Applies a Plan with the Kubernetes API, in order, stopping at the first failure. Writes to the
// Deployment and HPA are whole-object PUTs guarded by the resourceVersion the plan was computed
// from, so a 409 means "re-read and recompute" (the caller requeues). A write the server refuses
// for good (403, e.g. a quota; 400/422, e.g. a LimitRange) marks the diagnosis Failed with the
// server's message and records a Warning Event, so that it is reported, not looped on.

#include <string>
#include <vector>

#include "metrics.h"
#include "oomscope/common/status.h"
#include "oomscope/kube/client.h"
#include "oomscope/kube/events.h"
#include "reconcile.h"

namespace oomscope::op {

// What one Execute did, for the controller: the versions it wrote (so that the next reconcile can
// tell whether the informers' caches show them yet) and how long each API call took (the log).
struct ExecutionReport {
  struct Write {
    std::string kind;  // "Deployment", "HeapDiagnosis" or "HPA"
    std::string name;
    std::string resource_version;  // "" when unknown (e.g. an AlreadyExists create)
  };
  std::vector<Write> writes;
  std::string calls;  // "create=3.1ms update=2.0ms ..."
};

class Executor {
 public:
  // `upload_token`: the content mirrored into oomscope-upload-token Secrets (contracts.md).
  Executor(kube::KubeClient& client, kube::EventRecorder& events, Metrics& metrics, std::string upload_token);

  // OK when the plan is applied, or its failure was terminal and recorded; otherwise the error
  // (retry with backoff; Conflict: re-read and recompute at once).
  Status Execute(const Observed& observed, const Plan& plan, ExecutionReport* report = nullptr);

 private:
  Status EnsureTokenSecret(const std::string& ns);
  void RecordEvent(const nlohmann::json& regarding, const nlohmann::json& event);
  // Marks the diagnosis Failed for a terminal refusal `st`; the status write goes into `report`.
  Status Refused(const Observed& o, const Action& a, const Status& st, const nlohmann::json& regarding,
                 ExecutionReport& report);

  kube::KubeClient& client_;
  kube::EventRecorder& events_;
  Metrics& metrics_;
  std::string token_;
};

std::string Base64(const std::string& bytes);

}  // namespace oomscope::op
