#include "reconcile.h"

#include <algorithm>
#include <cstdio>

#include "oomscope/kube/object.h"
#include "oomscope/kube/time.h"
#include "oomscope/common/config.h"
#include "recipe.h"

namespace oomscope::op {
namespace {

using nlohmann::json;

constexpr char kApiVersion[] = "oomscope.io/v1alpha1";

std::optional<int64_t> Seconds(const json& value) {
  if (!value.is_string()) return std::nullopt;
  Result<kube::TimePoint> t = kube::ParseTime(value.get<std::string>());
  if (!t.ok()) return std::nullopt;
  return std::chrono::duration_cast<std::chrono::seconds>(t->time_since_epoch()).count();
}

std::string Rfc3339(int64_t seconds) {
  return kube::FormatTime(kube::TimePoint(std::chrono::seconds(seconds)));
}

std::string Phase(const json& hd) {
  std::string phase = kube::StringAt(hd, "/status/phase");
  return phase.empty() ? "Detected" : phase;
}

// Sets a metav1.Condition in `status.conditions`, keeping lastTransitionTime when the status
// does not change.
void SetCondition(json& status, const std::string& type, bool value, const std::string& reason,
                  const std::string& message, int64_t now) {
  if (!status.contains("conditions") || !status["conditions"].is_array()) status["conditions"] = json::array();
  const std::string v = value ? "True" : "False";
  for (json& c : status["conditions"]) {
    if (c.value("type", "") != type) continue;
    if (c.value("status", "") != v) c["lastTransitionTime"] = Rfc3339(now);
    c["status"] = v;
    c["reason"] = reason;
    c["message"] = message;
    return;
  }
  status["conditions"].push_back(
      {{"type", type}, {"status", v}, {"lastTransitionTime", Rfc3339(now)}, {"reason", reason}, {"message", message}});
}

Action StatusAction(const json& hd, const json& status) {
  return {Action::Kind::kPatchDiagnosisStatus, {{"name", kube::meta::Name(hd)}, {"status", status}}};
}

Action EventAction(const std::string& type, const std::string& reason, const std::string& action,
                   const std::string& note) {
  return {Action::Kind::kEvent, {{"type", type}, {"reason", reason}, {"action", action}, {"note", note}}};
}

// One OOMKilled container of a pod of the Deployment.
struct Oom {
  std::string pod;
  int64_t restart_count = 0;
  std::optional<int64_t> finished_at;
};

std::vector<Oom> FindOoms(const Observed& o, const std::string& container) {
  const std::string uid = kube::meta::Uid(*o.deployment);
  std::vector<std::string> owned_rs;
  for (const json& rs : o.replicasets) {
    kube::OwnerReference owner = kube::meta::ControllerOf(rs);
    if (owner.kind == "Deployment" && (owner.uid == uid || (uid.empty() && owner.name == o.name)))
      owned_rs.push_back(kube::meta::Name(rs));
  }
  std::vector<Oom> ooms;
  for (const json& pod : o.pods) {
    kube::OwnerReference owner = kube::meta::ControllerOf(pod);
    if (owner.kind != "ReplicaSet" || kube::meta::Namespace(pod) != o.ns ||
        std::find(owned_rs.begin(), owned_rs.end(), owner.name) == owned_rs.end())
      continue;
    const json statuses = pod.value("/status/containerStatuses"_json_pointer, json::array());
    for (const json& cs : statuses) {
      if (!cs.is_object() || cs.value("name", "") != container) continue;
      for (const char* where : {"/lastState/terminated", "/state/terminated"}) {
        const json terminated = cs.value(json::json_pointer(where), json());
        if (!terminated.is_object() || terminated.value("reason", "") != "OOMKilled") continue;
        ooms.push_back({kube::meta::Name(pod), cs.value("restartCount", int64_t{0}), Seconds(terminated.value("finishedAt", json()))});
        break;
      }
    }
  }
  return ooms;
}

// Whether `oom` happened after the diagnosis `last` (or is the very one it recorded).
bool NewerThan(const Oom& oom, const json& last) {
  if (kube::StringAt(last, "/spec/triggerPod") == oom.pod &&
      oom.restart_count <= kube::IntAt(last, "/spec/triggerRestartCount", -1))
    return false;
  std::optional<int64_t> boundary = Seconds(last.value("/spec/detectedAt"_json_pointer, json()));
  std::optional<int64_t> restored = Seconds(last.value("/status/restoredAt"_json_pointer, json()));
  if (restored && (!boundary || *restored > *boundary)) boundary = restored;
  if (oom.finished_at && boundary) return *oom.finished_at > *boundary;
  return kube::StringAt(last, "/spec/triggerPod") != oom.pod;
}

// The analyzer's series for this diagnosis: same namespace and workload, created since detection.
std::optional<json> MatchingSeries(const Observed& o, const json& hd) {
  if (!o.series || !o.series->is_array()) return std::nullopt;
  std::optional<int64_t> detected = Seconds(hd.value("/spec/detectedAt"_json_pointer, json()));
  std::optional<json> best;
  std::optional<int64_t> best_created;
  for (const json& s : *o.series) {
    if (!s.is_object() || s.value("namespace", "") != o.ns || s.value("workload", "") != o.name) continue;
    std::optional<int64_t> created = Seconds(s.value("created_at", json()));
    // A series begun before this incident belongs to an earlier one (a minute of clock slack).
    if (detected && created && *created + 60 < *detected) continue;
    if (!best || (created && (!best_created || *created > *best_created))) best = s, best_created = created;
  }
  return best;
}

// Copies what the analyzer knows into `status`.
void CopySeries(const Observed& o, const json& series, json& status) {
  status["seriesId"] = series.value("id", "");
  status["snapshots"] = series.value("snapshots", int64_t{0});
  if (series.contains("top_suspect") && series["top_suspect"].is_object()) {
    const json& t = series["top_suspect"];
    json suspect = json::object();
    if (t.contains("name") && t["name"].is_string()) suspect["name"] = t["name"];
    if (t.contains("constructor") && t["constructor"].is_string()) suspect["constructor"] = t["constructor"];
    if (t.contains("path") && t["path"].is_string()) suspect["path"] = t["path"];
    if (t.contains("retained_bytes") && t["retained_bytes"].is_number())
      suspect["retainedBytes"] = t["retained_bytes"].get<int64_t>();
    if (t.contains("growth_bytes_per_second") && t["growth_bytes_per_second"].is_number())
      suspect["growthBytesPerSecond"] = t["growth_bytes_per_second"].get<double>();
    status["topSuspect"] = suspect;
  }
  std::string report = series.value("report_url", "");
  if (!report.empty()) {
    std::string base = o.config.analyzer_url;
    while (!base.empty() && base.back() == '/') base.pop_back();
    status["reportURL"] = report.front() == '/' ? base + report : report;
  }
}

struct RestoreReason {
  std::string label;         // restores_total{reason}: completed, ttl, opted_out, deleted
  std::string condition;     // the Restored condition's reason
  std::string final_phase;   // Completed or Failed
  std::string message;
};

std::optional<RestoreReason> ReasonFromCondition(const json& hd) {
  const json conditions = hd.value("/status/conditions"_json_pointer, json::array());
  for (const json& c : conditions) {
    if (c.value("type", "") != "Restored") continue;
    const std::string r = c.value("reason", "");
    const std::string m = c.value("message", "");
    if (r == "AnalysisComplete") return RestoreReason{"completed", r, "Completed", m};
    if (r == "AnalysisFailed") return RestoreReason{"completed", r, "Failed", m};
    if (r == "TTLExpired") return RestoreReason{"ttl", r, "Failed", m};
    if (r == "OptedOut") return RestoreReason{"opted_out", r, "Failed", m};
  }
  return std::nullopt;
}

void Restore(const Observed& o, const std::string& diagnosis, const std::string& reason, Plan& plan) {
  if (o.deployment && SavedOriginal(*o.deployment)) {
    Result<json> restored = RestoreRecipe(*o.deployment);
    if (restored.ok()) {
      Action a{Action::Kind::kUpdateDeployment, *restored};
      a.restore_reason = reason;
      plan.actions.push_back(a);
    }
  }
  if (o.hpa && SavedOriginal(*o.hpa)) {
    Result<json> restored = RestoreHPA(*o.hpa);
    if (restored.ok()) plan.actions.push_back({Action::Kind::kUpdateHPA, *restored});
  }
  (void)diagnosis;
}

// A diagnosis is running: carry it one step further.
void Advance(const Observed& o, const json& hd, Plan& plan) {
  const std::string name = kube::meta::Name(hd);
  const std::string phase = Phase(hd);
  const json status = hd.value("status", json::object());
  const std::optional<json> dep_orig = o.deployment ? SavedOriginal(*o.deployment) : std::nullopt;
  const bool applied = dep_orig && dep_orig->value("diagnosis", "") == name;
  std::optional<json> series = MatchingSeries(o, hd);

  std::optional<RestoreReason> reason;
  if (!o.deployment) {
    json next = status;
    next["phase"] = "Failed";
    next["message"] = "the Deployment was deleted during the diagnosis";
    SetCondition(next, "Restored", false, "DeploymentDeleted", "the Deployment was deleted", o.now);
    Restore(o, name, "deleted", plan);  // the HPA, if it was pinned
    plan.actions.push_back(StatusAction(hd, next));
    plan.summary = "deployment deleted: diagnosis " + name + " failed";
    return;
  }
  const int64_t ttl = kube::IntAt(hd, "/spec/ttlSeconds", o.config.ttl_seconds);
  std::optional<int64_t> detected = Seconds(hd.value("/spec/detectedAt"_json_pointer, json()));
  if (!detected) detected = Seconds(hd.value("/metadata/creationTimestamp"_json_pointer, json()));
  if (phase == "Restoring") {
    reason = ReasonFromCondition(hd);
    if (!reason) reason = RestoreReason{"completed", "AnalysisComplete", "Completed", "restored"};
  } else if (!OptedIn(*o.deployment)) {
    reason = RestoreReason{"opted_out", "OptedOut", "Failed", "oomscope.io/enabled was removed from the Deployment"};
  } else if (detected && o.now >= *detected + ttl) {
    reason = RestoreReason{"ttl", "TTLExpired", "Failed",
                           "the TTL (" + std::to_string(ttl) + "s) passed before the analysis completed"};
  } else if (series && series->value("state", "") == "complete") {
    reason = RestoreReason{"completed", "AnalysisComplete", "Completed", "the analysis is complete"};
  } else if (series && series->value("state", "") == "failed") {
    reason = RestoreReason{"completed", "AnalysisFailed", "Failed", "the analysis failed: " + series->value("error", "")};
  }

  if (reason) {
    json restoring = status;
    if (series) CopySeries(o, *series, restoring);
    if (phase != "Restoring") {
      restoring["phase"] = "Restoring";
      restoring["message"] = reason->message;
      SetCondition(restoring, "Restored", false, reason->condition, reason->message, o.now);
      if (reason->condition == "AnalysisComplete") SetCondition(restoring, "Analyzed", true, "SeriesComplete", "", o.now);
      plan.actions.push_back(StatusAction(hd, restoring));
    }
    Restore(o, name, reason->label, plan);
    json done = restoring;
    done["phase"] = reason->final_phase;
    done["message"] = reason->message;
    done["restoredAt"] = Rfc3339(o.now);
    SetCondition(done, "Restored", true, reason->condition, reason->message, o.now);
    plan.actions.push_back(StatusAction(hd, done));
    plan.actions.push_back(EventAction(reason->final_phase == "Completed" ? "Normal" : "Warning", "Restored",
                                       "Restore", "diagnosis " + name + ": " + reason->message +
                                                      "; the Deployment is back to its original spec"));
    plan.summary = "restore (" + reason->label + ") for " + name;
    return;
  }

  if (phase == "Detected" || phase == "Applying") {
    if (applied) {  // a crash after the Deployment update: only the status is missing
      json next = status;
      next["phase"] = "Capturing";
      SetCondition(next, "Applied", true, "RecipeApplied", "the debugging recipe is applied", o.now);
      plan.actions.push_back(StatusAction(hd, next));
      plan.requeue_after_seconds = o.config.poll_seconds;
      plan.summary = "recipe already applied for " + name;
      return;
    }
    RecipeOptions options{name,
                          kube::StringAt(hd, "/spec/container"),
                          o.config.sidecar_image,
                          o.config.analyzer_url,
                          o.config.upload_token,
                          o.config.native_sidecar,
                          o.config.memory_factor};
    Result<RecipeResult> recipe = ApplyRecipe(*o.deployment, options);
    if (!recipe.ok()) {
      json next = status;
      next["phase"] = "Failed";
      next["message"] = "the recipe cannot be applied: " + recipe.status().message();
      plan.actions.push_back(StatusAction(hd, next));
      plan.actions.push_back(EventAction("Warning", "RecipeFailed", "ApplyRecipe", next["message"]));
      plan.summary = "recipe impossible for " + name;
      return;
    }
    if (phase != "Applying") {
      json applying = status;
      applying["phase"] = "Applying";
      applying["message"] = "applying the debugging recipe";
      plan.actions.push_back(StatusAction(hd, applying));
    }
    if (o.config.upload_token) plan.actions.push_back({Action::Kind::kEnsureUploadTokenSecret, json::object(), name});
    if (o.hpa && !SavedOriginal(*o.hpa)) {
      Result<json> pinned = PinHPA(*o.hpa, name);
      if (pinned.ok()) plan.actions.push_back({Action::Kind::kUpdateHPA, *pinned, name});
    }
    Action update{Action::Kind::kUpdateDeployment, recipe->deployment, name, /*recipe=*/true};
    plan.actions.push_back(update);
    json next = status;
    next["phase"] = "Capturing";
    std::string message = "recipe applied: replicas 1, inspector on, probes off, sidecar injected";
    for (const std::string& note : recipe->notes) message += "; " + note;
    next["message"] = message;
    next["snapshotAffordable"] = recipe->snapshot_affordable;
    if (recipe->memory_limit) next["memoryLimit"] = FormatQuantity(*recipe->memory_limit);
    SetCondition(next, "Applied", true, "RecipeApplied", message, o.now);
    plan.actions.push_back(StatusAction(hd, next));
    plan.actions.push_back(EventAction("Normal", "RecipeApplied", "ApplyRecipe", "diagnosis " + name + ": " + message));
    plan.requeue_after_seconds = o.config.poll_seconds;
    plan.summary = "apply recipe for " + name;
    return;
  }

  // Capturing or Analyzing.
  if (!applied) {
    json next = status;
    next["phase"] = "Failed";
    next["message"] = "the Deployment no longer carries oomscope.io/original: it cannot be restored by the operator";
    Restore(o, name, "deleted", plan);
    plan.actions.push_back(StatusAction(hd, next));
    plan.actions.push_back(EventAction("Warning", "OriginalLost", "Restore", next["message"]));
    plan.summary = "saved original lost for " + name;
    return;
  }
  json next = status;
  if (series) {
    CopySeries(o, *series, next);
    const std::string state = series->value("state", "");
    next["phase"] = state == "analyzing" ? "Analyzing" : "Capturing";
    if (series->value("snapshots", 0) > 0)
      SetCondition(next, "Captured", true, "SnapshotsReceived",
                   std::to_string(series->value("snapshots", 0)) + " snapshot(s) received", o.now);
  } else if (!o.analyzer_error.empty()) {
    next["message"] = "waiting for the analyzer: " + o.analyzer_error;
  }
  if (next != status) plan.actions.push_back(StatusAction(hd, next));
  int64_t wait = o.config.poll_seconds;
  if (detected) wait = std::max<int64_t>(1, std::min(wait, *detected + ttl - o.now));
  plan.requeue_after_seconds = wait;
  plan.summary = "diagnosis " + name + " " + next.value("phase", phase);
}

}  // namespace


bool DiagnosisActive(const json& hd) {
  const std::string phase = Phase(hd);
  return phase != "Completed" && phase != "Failed";
}

json FailedStatusPatch(const json& hd, const std::string& message, int64_t now) {
  json status = hd.value("status", json::object());
  status["phase"] = "Failed";
  status["message"] = message;
  SetCondition(status, "Applied", false, "Refused", message, now);
  return {{"name", kube::meta::Name(hd)}, {"status", status}};
}

std::string DiagnosisName(const std::string& deployment, const std::string& pod, int64_t restart_count) {
  uint32_t h = 2166136261u;  // FNV-1a: stable across builds and versions
  for (char c : pod + "/" + std::to_string(restart_count)) h = (h ^ static_cast<unsigned char>(c)) * 16777619u;
  char suffix[16];
  std::snprintf(suffix, sizeof suffix, "-oom-%08x", h);
  return deployment.substr(0, 253 - 13) + suffix;
}

Plan Reconcile(const Observed& o) {
  Plan plan;
  const json* active = nullptr;
  const json* last = nullptr;  // the latest diagnosis, by detection time
  std::optional<int64_t> last_at;
  for (const json& hd : o.diagnoses) {
    if (DiagnosisActive(hd) && (!active || kube::meta::Name(hd) < kube::meta::Name(*active))) active = &hd;
    std::optional<int64_t> at = Seconds(hd.value("/spec/detectedAt"_json_pointer, json()));
    if (!last || (at && (!last_at || *at > *last_at))) last = &hd, last_at = at;
  }
  if (active) {
    Advance(o, *active, plan);
    return plan;
  }
  // A diagnosis deleted by the user left its end time on the Deployment.
  json marker;
  if (o.deployment) {
    const std::string text = kube::meta::Annotation(*o.deployment, kLastDiagnosisAnnotation);
    json parsed = json::parse(text.empty() ? "null" : text, nullptr, false);
    std::optional<int64_t> at = parsed.is_object() ? Seconds(parsed.value("restoredAt", json())) : std::nullopt;
    if (at && (!last_at || *at > *last_at)) {
      marker = {{"metadata", {{"name", parsed.value("diagnosis", "")}}},
                {"spec", {{"detectedAt", parsed["restoredAt"]}}},
                {"status", {{"restoredAt", parsed["restoredAt"]}}}};
      last = &marker;
      last_at = at;
    }
  }

  // No diagnosis running: whatever still carries a saved original goes back.
  if (o.deployment) {
    if (std::optional<json> orig = SavedOriginal(*o.deployment)) {
      const std::string diagnosis = orig->value("diagnosis", "");
      bool exists = std::any_of(o.diagnoses.begin(), o.diagnoses.end(),
                                [&](const json& hd) { return kube::meta::Name(hd) == diagnosis; });
      const std::string reason = exists ? "completed" : "deleted";
      Restore(o, diagnosis, reason, plan);
      if (!exists && !plan.actions.empty() && plan.actions[0].kind == Action::Kind::kUpdateDeployment) {
        // The diagnosis is gone, and with it the record of the OOM it answered: keep when it ended
        // on the Deployment, so that the same OOM (its pod is still there until the rollout) does
        // not start another one, and the cooldown holds.
        plan.actions[0].object["metadata"]["annotations"][kLastDiagnosisAnnotation] =
            json{{"diagnosis", diagnosis}, {"restoredAt", Rfc3339(o.now)}}.dump();
      }
      plan.actions.push_back(EventAction("Normal", "Restored", "Restore",
                                         "diagnosis " + diagnosis + (exists ? " is over" : " was deleted") +
                                             "; the Deployment is back to its original spec"));
      plan.summary = "restore (" + reason + ") after " + diagnosis;
      return plan;
    }
  }
  if (o.hpa && SavedOriginal(*o.hpa)) {
    Restore(o, "", "completed", plan);
    plan.summary = "unpin the HPA";
  }
  if (!o.deployment || !OptedIn(*o.deployment)) return plan;

  Result<std::string> container = TargetContainer(*o.deployment);
  if (!container.ok()) {
    plan.summary = container.status().message();
    return plan;
  }
  std::vector<Oom> ooms = FindOoms(o, *container);
  std::optional<Oom> trigger;
  for (const Oom& oom : ooms) {
    plan.ooms.push_back(oom.pod + "/" + *container + "/" + std::to_string(oom.restart_count));
    if (last && !NewerThan(oom, *last)) continue;
    if (!trigger || oom.restart_count > trigger->restart_count) trigger = oom;
  }
  if (!trigger) return plan;

  if (last) {
    std::optional<int64_t> ended = Seconds(last->value("/status/restoredAt"_json_pointer, json()));
    if (!ended) ended = last_at;
    if (ended && o.now < *ended + o.config.cooldown_seconds) {
      plan.requeue_after_seconds = *ended + o.config.cooldown_seconds - o.now;
      plan.summary = "OOM in cooldown";
      return plan;
    }
  }
  if (o.active_elsewhere >= o.config.max_concurrent) {
    plan.requeue_after_seconds = 30;
    plan.summary = "OOM deferred: " + std::to_string(o.active_elsewhere) + " diagnoses in progress (--max-concurrent)";
    return plan;
  }

  const std::string name = DiagnosisName(o.name, trigger->pod, trigger->restart_count);
  json labels = {{"app.kubernetes.io/managed-by", "oomscope"}};
  if (o.name.size() <= 63) labels["oomscope.io/deployment"] = o.name;
  json hd = {{"apiVersion", kApiVersion},
             {"kind", "HeapDiagnosis"},
             {"metadata", {{"name", name}, {"namespace", o.ns}, {"labels", labels}}},
             {"spec",
              {{"deployment", o.name},
               {"container", *container},
               {"triggerPod", trigger->pod},
               {"triggerRestartCount", trigger->restart_count},
               {"detectedAt", Rfc3339(o.now)},
               {"ttlSeconds", o.config.ttl_seconds}}}};
  plan.actions.push_back({Action::Kind::kCreateDiagnosis, hd});
  const std::string message = "container " + *container + " of pod " + trigger->pod + " was OOMKilled (restart " +
                              std::to_string(trigger->restart_count) + ")";
  // Straight on to the recipe in the same plan, with no status write before the Deployment update:
  // the time from the OOM to the update is what matters (the pod keeps leaking). The created
  // HeapDiagnosis is the durable record (no status yet reads as Detected); a crash or a failed
  // update leaves it so, and the next reconcile carries on from there (marking it Applying).
  hd["status"] = {{"phase", "Applying"}, {"message", message}};
  Plan apply;
  Advance(o, hd, apply);
  for (Action& a : apply.actions) plan.actions.push_back(std::move(a));
  plan.actions.push_back(EventAction("Warning", "OOMKilled", "Detect", message + "; diagnosis " + name));
  plan.requeue_after_seconds = apply.requeue_after_seconds;
  plan.summary = "new diagnosis " + name + "; " + apply.summary;
  return plan;
}

}  // namespace oomscope::op
