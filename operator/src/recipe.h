#pragma once

// The debugging recipe as a pure transformation of a Deployment (and of the HPA that targets it),
// and its exact inverse. docs/operator.md explains each step; the original value of every field
// the recipe touches is saved in the `oomscope.io/original` annotation of the same object, in the
// same update, so that the restore needs nothing but the object itself.
//
// Objects are nlohmann::json as the API server returns them; functions never modify their input.

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "oomscope/common/snapshot_cost.h"
#include "oomscope/common/status.h"

namespace oomscope::op {

inline constexpr char kEnabledAnnotation[] = "oomscope.io/enabled";
inline constexpr char kContainerAnnotation[] = "oomscope.io/container";
inline constexpr char kMaxMemoryAnnotation[] = "oomscope.io/max-memory";
inline constexpr char kOriginalAnnotation[] = "oomscope.io/original";
// When a diagnosis deleted by the user ended (JSON {"diagnosis","restoredAt"}), for the cooldown.
inline constexpr char kLastDiagnosisAnnotation[] = "oomscope.io/last-diagnosis";
inline constexpr char kSidecarName[] = "oomscope-sidecar";
inline constexpr char kSpoolVolume[] = "oomscope-spool";
inline constexpr char kTokenVolume[] = "oomscope-upload-token";
inline constexpr char kTokenSecret[] = "oomscope-upload-token";
inline constexpr char kSharedMountPath[] = "/oomscope";
inline constexpr char kTokenMountPath[] = "/var/run/secrets/oomscope";
inline constexpr char kInspectFlag[] = "--inspect=127.0.0.1:9229";
// Node writes a snapshot itself when the heap nears its limit, into the shared volume the sidecar
// ships from: the leak may kill the pod again before the sidecar's timed series is done.
inline constexpr char kNodeWritesFlags[] = "--heapsnapshot-near-heap-limit=1 --diagnostic-dir=/oomscope";
// The name a `valueFrom` NODE_OPTIONS is moved to, so the new literal can expand it.
inline constexpr char kRenamedNodeOptions[] = "OOMSCOPE_ORIGINAL_NODE_OPTIONS";

struct RecipeOptions {
  std::string diagnosis;       // the HeapDiagnosis name, recorded in the annotation
  std::string container;       // the target container
  std::string sidecar_image;
  std::string analyzer_url;
  bool upload_token = false;   // mount the oomscope-upload-token Secret
  bool native_sidecar = true;  // initContainer with restartPolicy Always (server >= 1.29)
  double memory_factor = kDefaultSnapshotCost.rss_growth_per_file_byte;  // peak RSS growth per snapshot byte
};

struct RecipeResult {
  nlohmann::json deployment;              // the updated object (same resourceVersion)
  std::optional<int64_t> memory_limit;    // the new limit, when the container had one
  bool snapshot_affordable = true;
  std::vector<std::string> notes;         // what the HeapDiagnosis should say (valueFrom, cap)
};

// The container the recipe targets: `oomscope.io/container`, else the first. NotFound if the
// annotation names a container the template does not have.
Result<std::string> TargetContainer(const nlohmann::json& deployment);

bool OptedIn(const nlohmann::json& deployment);

// The saved originals on an object, or nullopt when the object carries none (or it is corrupt).
std::optional<nlohmann::json> SavedOriginal(const nlohmann::json& object);

// Applies the recipe. FailedPrecondition when the Deployment already carries a saved original.
Result<RecipeResult> ApplyRecipe(const nlohmann::json& deployment, const RecipeOptions& options);

// Puts back exactly the fields the recipe touched, from the saved annotation, and removes it.
// Everything else (changes made meanwhile) is kept. FailedPrecondition without the annotation.
Result<nlohmann::json> RestoreRecipe(const nlohmann::json& deployment);

// Pins an HPA to one replica (min = max = 1), saving the originals on it.
Result<nlohmann::json> PinHPA(const nlohmann::json& hpa, const std::string& diagnosis);
Result<nlohmann::json> RestoreHPA(const nlohmann::json& hpa);

}  // namespace oomscope::op
