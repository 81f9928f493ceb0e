#include "executor.h"

#include <chrono>
#include <cstdio>

#include "oomscope/common/log.h"
#include "oomscope/kube/api_status.h"
#include "oomscope/kube/object.h"
#include "oomscope/kube/resource.h"
#include "recipe.h"

namespace oomscope::op {
namespace {

using nlohmann::json;
namespace res = kube::resources;

bool Terminal(const Status& st) {
  return st.code() == Code::kPermissionDenied || st.code() == Code::kInvalidArgument;
}

}  // namespace

std::string Base64(const std::string& bytes) {
  static constexpr char kAlphabet[] = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
  std::string out;
  size_t i = 0;
  for (; i + 2 < bytes.size(); i += 3) {
    uint32_t v = (uint32_t{static_cast<unsigned char>(bytes[i])} << 16) |
                 (uint32_t{static_cast<unsigned char>(bytes[i + 1])} << 8) | static_cast<unsigned char>(bytes[i + 2]);
    for (int s = 18; s >= 0; s -= 6) out += kAlphabet[(v >> s) & 63];
  }
  if (i < bytes.size()) {
    uint32_t v = uint32_t{static_cast<unsigned char>(bytes[i])} << 16;
    if (i + 1 < bytes.size()) v |= uint32_t{static_cast<unsigned char>(bytes[i + 1])} << 8;
    out += kAlphabet[(v >> 18) & 63];
    out += kAlphabet[(v >> 12) & 63];
    out += i + 1 < bytes.size() ? kAlphabet[(v >> 6) & 63] : '=';
    out += '=';
  }
  return out;
}

Executor::Executor(kube::KubeClient& client, kube::EventRecorder& events, Metrics& metrics, std::string upload_token)
    : client_(client), events_(events), metrics_(metrics), token_(std::move(upload_token)) {}

void Executor::RecordEvent(const json& regarding, const json& event) {
  kube::EventSpec spec;
  spec.type = event.value("type", "Normal");
  spec.reason = event.value("reason", "");
  spec.action = event.value("action", "");
  spec.note = event.value("note", "");
  Result<json> created = events_.Record(regarding, spec);
  if (!created.ok()) {
    metrics_.ApiErrors(kube::ParseApiStatus(created.status()).code).Increment();
    log::Warn("cannot record an event", {{"reason", spec.reason}, {"error", created.status().message()}});
  }
}

Status Executor::EnsureTokenSecret(const std::string& ns) {
  const std::string data = Base64(token_);
  Result<json> current = client_.Get(res::Secrets(), ns, kTokenSecret);
  if (current.ok()) {
    if (kube::StringAt(*current, "/data/token") == data) return Status::Ok();
    json updated = *current;
    updated["data"] = {{"token", data}};
    Result<json> written = client_.Update(res::Secrets(), ns, updated);
    return written.ok() ? Status::Ok() : written.status();
  }
  if (current.status().code() != Code::kNotFound) return current.status();
  json secret = {{"apiVersion", "v1"},
                 {"kind", "Secret"},
                 {"metadata",
                  {{"name", kTokenSecret},
                   {"namespace", ns},
                   {"labels", {{"app.kubernetes.io/managed-by", "oomscope"}}}}},
                 {"type", "Opaque"},
                 {"data", {{"token", data}}}};
  Result<json> created = client_.Create(res::Secrets(), ns, secret);
  if (!created.ok() && created.status().code() != Code::kAlreadyExists) return created.status();
  return Status::Ok();
}

Status Executor::Refused(const Observed& o, const Action& a, const Status& st, const json& regarding,
                         ExecutionReport& report) {
  const std::string message = "the API server refused the recipe: " + kube::ParseApiStatus(st).message;
  json hd = {{"metadata", {{"name", a.diagnosis}}}};
  for (const json& d : o.diagnoses)
    if (kube::meta::Name(d) == a.diagnosis) hd = d;
  const int64_t now =
      std::chrono::duration_cast<std::chrono::seconds>(std::chrono::system_clock::now().time_since_epoch()).count();
  json patch = FailedStatusPatch(hd, message, now);
  Result<json> patched = client_.Patch(res::HeapDiagnoses(), o.ns, a.diagnosis, kube::PatchType::kMerge,
                                       {{"status", patch["status"]}}, "status");
  if (!patched.ok()) return patched.status();
  // The controller's cache may not show this write at the next reconcile, which would then see the
  // diagnosis still Applying and apply the recipe again.
  report.writes.push_back({"HeapDiagnosis", a.diagnosis, kube::meta::ResourceVersion(*patched)});
  metrics_.DiagnosesTotal("Failed").Increment();
  RecordEvent(regarding, {{"type", "Warning"}, {"reason", "RecipeRefused"}, {"action", "ApplyRecipe"}, {"note", message}});
  log::Warn("recipe refused", {{"deployment", o.ns + "/" + o.name}, {"diagnosis", a.diagnosis}, {"error", st.message()}});
  return Status::Ok();
}

Status Executor::Execute(const Observed& o, const Plan& plan, ExecutionReport* report) {
  ExecutionReport scratch;
  ExecutionReport& r = report != nullptr ? *report : scratch;
  auto timed = [&r](const char* what, auto&& call) {
    const auto start = std::chrono::steady_clock::now();
    auto result = call();
    char buf[64];
    std::snprintf(buf, sizeof buf, "%s%s=%.1fms", r.calls.empty() ? "" : " ", what,
                  std::chrono::duration<double, std::milli>(std::chrono::steady_clock::now() - start).count());
    r.calls += buf;
    return result;
  };
  auto wrote = [&r](const char* kind, const std::string& name, const Result<json>& res) {
    if (res.ok()) r.writes.push_back({kind, name, kube::meta::ResourceVersion(*res)});
  };
  json regarding = o.deployment ? *o.deployment
                                : json{{"apiVersion", "apps/v1"},
                                       {"kind", "Deployment"},
                                       {"metadata", {{"name", o.name}, {"namespace", o.ns}}}};
  regarding["apiVersion"] = "apps/v1";
  regarding["kind"] = "Deployment";
  for (const Action& a : plan.actions) {
    Status st;
    switch (a.kind) {
      case Action::Kind::kCreateDiagnosis: {
        json hd = a.object;
        hd.erase("status");
        Result<json> created = timed("create", [&] { return client_.Create(res::HeapDiagnoses(), o.ns, hd); });
        wrote("HeapDiagnosis", kube::meta::Name(hd), created);
        if (!created.ok() && created.status().code() == Code::kAlreadyExists) {
          // Created before: the next reconcile reads it (fresh: its version here is unknown) and goes on.
          r.writes.push_back({"HeapDiagnosis", kube::meta::Name(hd), ""});
          return Status::Ok();
        }
        st = created.status();
        break;
      }
      case Action::Kind::kPatchDiagnosisStatus: {
        const std::string name = a.object.value("name", "");
        Result<json> patched = timed("status", [&] {
          return client_.Patch(res::HeapDiagnoses(), o.ns, name, kube::PatchType::kMerge,
                               {{"status", a.object["status"]}}, "status");
        });
        wrote("HeapDiagnosis", name, patched);
        st = patched.status();
        const std::string phase = kube::StringAt(a.object, "/status/phase");
        if (patched.ok() && (phase == "Completed" || phase == "Failed")) metrics_.DiagnosesTotal(phase).Increment();
        break;
      }
      case Action::Kind::kUpdateDeployment: {
        Result<json> updated = timed("update", [&] { return client_.Update(res::Deployments(), o.ns, a.object); });
        wrote("Deployment", o.name, updated);
        st = updated.status();
        if (updated.ok()) {
          regarding = *updated;
          regarding["apiVersion"] = "apps/v1";
          regarding["kind"] = "Deployment";
          if (a.recipe) metrics_.recipes_applied->Increment();
          if (!a.restore_reason.empty()) metrics_.RestoresTotal(a.restore_reason).Increment();
        }
        break;
      }
      case Action::Kind::kUpdateHPA: {
        Result<json> updated = timed("hpa", [&] { return client_.Update(res::HorizontalPodAutoscalers(), o.ns, a.object); });
        wrote("HPA", kube::meta::Name(a.object), updated);
        st = updated.status();
        break;
      }
      case Action::Kind::kEnsureUploadTokenSecret:
        st = timed("secret", [&] { return EnsureTokenSecret(o.ns); });
        break;
      case Action::Kind::kEvent:
        timed("event", [&] {
          RecordEvent(regarding, a.object);
          return 0;
        });
        break;
    }
    if (st.ok()) continue;
    metrics_.ApiErrors(kube::ParseApiStatus(st).code).Increment();
    if (Terminal(st) && !a.diagnosis.empty()) return Refused(o, a, st, regarding, r);
    return st;
  }
  return Status::Ok();
}

}  // namespace oomscope::op
