#pragma once

// Reconcile: a pure function from what the operator observes about one Deployment (its pods, the
// HPA that targets it, its HeapDiagnoses, the analyzer's series) to a Plan of typed actions that
// an executor applies in order (STYLE.md). Level-based: every state the executor can leave behind
// (a crash between two actions included) is a valid input that leads on to the same end.

#include <cstdint>
#include <optional>
#include <string>
#include <utility>
#include <vector>

#include <nlohmann/json.hpp>

#include "oomscope/common/snapshot_cost.h"

namespace oomscope::op {

struct ReconcileConfig {
  std::string sidecar_image = "ghcr.io/oomscope/oomscope:latest";
  std::string analyzer_url;       // also the base of the report URL copied into the status
  bool upload_token = false;      // mount the mirrored token Secret in the sidecar
  double memory_factor = kDefaultSnapshotCost.rss_growth_per_file_byte;
  int64_t ttl_seconds = 30 * 60;
  int64_t cooldown_seconds = 10 * 60;
  int64_t poll_seconds = 10;      // analyzer polling while a diagnosis runs
  int max_concurrent = 3;         // diagnoses in progress, cluster-wide
  bool native_sidecar = true;     // the server supports restartPolicy: Always init containers
};

struct Observed {
  std::string ns, name;                      // the Deployment's key
  std::optional<nlohmann::json> deployment;  // absent: not found (deleted)
  std::vector<nlohmann::json> replicasets;   // the namespace's ReplicaSets (owner chain)
  std::vector<nlohmann::json> pods;          // pods that may belong to the Deployment
  std::optional<nlohmann::json> hpa;         // the HPA whose scaleTargetRef is the Deployment
  std::vector<nlohmann::json> diagnoses;     // HeapDiagnoses with spec.deployment == name
  int active_elsewhere = 0;                  // diagnoses in progress for other Deployments
  std::optional<nlohmann::json> series;      // the analyzer's "series" array, when fetched
  std::string analyzer_error;                // why it was not, if it was asked
  int64_t now = 0;                           // unix seconds
  ReconcileConfig config;
};

struct Action {
  enum class Kind {
    kCreateDiagnosis,         // object: the HeapDiagnosis (AlreadyExists counts as done)
    kPatchDiagnosisStatus,    // object: {"name": N, "status": {...}} merge-patched on /status
    kUpdateDeployment,        // object: the whole Deployment, guarded by its resourceVersion
    kUpdateHPA,               // object: the whole HPA, guarded likewise
    kEnsureUploadTokenSecret, // create or update oomscope-upload-token in ns
    kEvent,                   // object: {"type","reason","note","action"} about the Deployment
  };
  Action(Kind k, nlohmann::json o, std::string diagnosis_name = "", bool applies_recipe = false,
         std::string restore = "")
      : kind(k), object(std::move(o)), diagnosis(std::move(diagnosis_name)), recipe(applies_recipe),
        restore_reason(std::move(restore)) {}

  Kind kind;
  nlohmann::json object;
  // For updates: the diagnosis to mark Failed (with the API's message) when the server refuses the
  // write for good (403 quota, 422 LimitRange), instead of retrying.
  std::string diagnosis;
  bool recipe = false;         // this update applies the recipe (recipes_applied_total)
  std::string restore_reason;  // this update restores (restores_total{reason})
};

struct Plan {
  std::vector<Action> actions;
  std::optional<int64_t> requeue_after_seconds;
  // OOMs seen in this Deployment, as "pod/container/restartCount" (oomscope_operator_ooms_seen_total
  // counts each once).
  std::vector<std::string> ooms;
  std::string summary;  // one line for the log
};

Plan Reconcile(const Observed& observed);

// Whether a HeapDiagnosis is still running (not Completed or Failed).
bool DiagnosisActive(const nlohmann::json& diagnosis);

// The status merge patch that marks a diagnosis Failed with `message` (the executor's answer to a
// write the server refused for good).
nlohmann::json FailedStatusPatch(const nlohmann::json& diagnosis, const std::string& message, int64_t now);

// The HeapDiagnosis name for an OOM: deterministic, so a retried or repeated create is idempotent.
std::string DiagnosisName(const std::string& deployment, const std::string& pod, int64_t restart_count);

}  // namespace oomscope::op
