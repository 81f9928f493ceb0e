// The pure reconcile, table-driven and as a whole story: each plan is applied to the observed
// state by a tiny in-memory executor, and the tests assert on the resulting objects.
#include <doctest/doctest.h>

#include <functional>
#include <string>
#include <vector>

#include "cache_transforms.h"
#include "fixtures.h"
#include "recipe.h"
#include "reconcile.h"

namespace oomscope::op {
namespace {

using nlohmann::json;
using namespace testing;

constexpr int64_t kNow = 1795717200;  // 2026-11-26T18:20:00Z
constexpr char kNowText[] = "2026-11-26T18:20:00Z";

Observed World() {
  Observed o;
  o.ns = "shop";
  o.name = "leaky-api";
  o.deployment = Deployment();
  o.replicasets = {ReplicaSet()};
  o.now = kNow;
  o.config.sidecar_image = "oomscope:test";
  o.config.analyzer_url = "http://analyzer:8080/";
  o.config.upload_token = true;
  return o;
}

int Count(const Plan& p, Action::Kind k) {
  int n = 0;
  for (const Action& a : p.actions) n += a.kind == k;
  return n;
}

const Action* Find(const Plan& p, Action::Kind k, size_t nth = 0) {
  for (const Action& a : p.actions)
    if (a.kind == k && nth-- == 0) return &a;
  return nullptr;
}

// Applies a plan as the executor would, against the objects in `o` (resourceVersions bumped).
// Returns how many actions were applied; stops after `limit` (a crash between two steps).
size_t Apply(Observed& o, const Plan& plan, size_t limit = 1000) {
  size_t done = 0;
  for (const Action& a : plan.actions) {
    if (done == limit) break;
    ++done;
    switch (a.kind) {
      case Action::Kind::kCreateDiagnosis: {
        json hd = a.object;
        hd.erase("status");
        hd["metadata"]["creationTimestamp"] = kNowText;
        o.diagnoses.push_back(hd);
        break;
      }
      case Action::Kind::kPatchDiagnosisStatus:
        for (json& hd : o.diagnoses)
          if (hd["metadata"]["name"] == a.object["name"]) hd["status"] = a.object["status"];
        break;
      case Action::Kind::kUpdateDeployment:
        REQUIRE(a.object["metadata"]["resourceVersion"] == (*o.deployment)["metadata"]["resourceVersion"]);
        o.deployment = a.object;
        (*o.deployment)["metadata"]["resourceVersion"] =
            std::to_string(std::stoi((*o.deployment)["metadata"]["resourceVersion"].get<std::string>()) + 1);
        break;
      case Action::Kind::kUpdateHPA:
        o.hpa = a.object;
        break;
      case Action::Kind::kEnsureUploadTokenSecret:
      case Action::Kind::kEvent:
        break;
    }
  }
  return done;
}

std::string Phase(const Observed& o) {
  REQUIRE(o.diagnoses.size() == 1);
  return o.diagnoses[0]["status"].value("phase", "");
}

json Series(const std::string& state, int snapshots) {
  return json::array({{{"id", "s-1"},
                       {"namespace", "shop"},
                       {"workload", "leaky-api"},
                       {"pod", "leaky-api-abc"},
                       {"created_at", "2026-11-26T18:21:00Z"},
                       {"snapshots", snapshots},
                       {"series_length", 3},
                       {"state", state},
                       {"top_suspect",
                        {{"kind", "array"},
                         {"name", "supportedExtensions"},
                         {"constructor", "Array"},
                         {"path", "module.exports.supportedExtensions"},
                         {"retained_bytes", 104857600},
                         {"growth_bytes_per_second", 2048.5}}},
                       {"report_url", "/v1/series/s-1/report.html"}}});
}

TEST_CASE("detection: which OOMs start a diagnosis") {
  struct Case {
    const char* name;
    std::function<void(Observed&)> edit;
    bool creates;
  };
  std::vector<Case> cases = {
      {"no OOM", [](Observed&) {}, false},
      {"OOM on an opted-in Deployment", [](Observed& o) { o.pods = {OomPod("leaky-api-1", 1, kNowText)}; }, true},
      {"not opted in",
       [](Observed& o) {
         o.pods = {OomPod("leaky-api-1", 1, kNowText)};
         (*o.deployment)["metadata"].erase("annotations");
       },
       false},
      {"opted in with another value",
       [](Observed& o) {
         o.pods = {OomPod("leaky-api-1", 1, kNowText)};
         (*o.deployment)["metadata"]["annotations"]["oomscope.io/enabled"] = "false";
       },
       false},
      {"a pod of another Deployment's ReplicaSet",
       [](Observed& o) {
         o.replicasets.push_back(ReplicaSet("other-5d4", "other-uid"));
         o.pods = {OomPod("other-5d4-1", 1, kNowText, "other-5d4")};
       },
       false},
      {"another container was OOMKilled",
       [](Observed& o) {
         json p = OomPod("leaky-api-1", 1, kNowText);
         p["status"]["containerStatuses"][0]["name"] = "proxy";
         o.pods = {p};
       },
       false},
      {"terminated for another reason",
       [](Observed& o) {
         json p = OomPod("leaky-api-1", 1, kNowText);
         p["status"]["containerStatuses"][0]["lastState"]["terminated"]["reason"] = "Error";
         o.pods = {p};
       },
       false},
      {"OOMKilled in the current state",
       [](Observed& o) {
         json p = OomPod("leaky-api-1", 0, kNowText);
         json& cs = p["status"]["containerStatuses"][0];
         cs["state"] = cs["lastState"];
         cs.erase("lastState");
         o.pods = {p};
       },
       true},
      {"the container named by oomscope.io/container",
       [](Observed& o) {
         json p = OomPod("leaky-api-1", 1, kNowText);
         p["status"]["containerStatuses"][0]["name"] = "proxy";
         o.pods = {p};
         (*o.deployment)["spec"]["template"]["spec"]["containers"].push_back({{"name", "proxy"}, {"image", "x"}});
         (*o.deployment)["metadata"]["annotations"]["oomscope.io/container"] = "proxy";
       },
       true},
  };
  for (const Case& c : cases) {
    CAPTURE(c.name);
    Observed o = World();
    c.edit(o);
    Plan plan = Reconcile(o);
    CHECK(Count(plan, Action::Kind::kCreateDiagnosis) == (c.creates ? 1 : 0));
    CHECK(Count(plan, Action::Kind::kUpdateDeployment) == (c.creates ? 1 : 0));
    // The informers' caches hold pods and ReplicaSets cut down (cache_transforms.h): the same plan.
    Observed slim = o;
    for (json& p : slim.pods) SlimPod(p);
    for (json& rs : slim.replicasets) SlimReplicaSet(rs);
    Plan from_slim = Reconcile(slim);
    REQUIRE(from_slim.actions.size() == plan.actions.size());
    for (size_t i = 0; i < plan.actions.size(); ++i) CHECK(from_slim.actions[i].object == plan.actions[i].object);
    CHECK(from_slim.ooms == plan.ooms);
  }
}

TEST_CASE("cache transforms keep what the operator reads of a Pod and a ReplicaSet, and nothing else") {
  json pod = OomPod("leaky-api-1", 2, kNowText);
  pod["metadata"]["uid"] = "pod-uid";
  pod["metadata"]["resourceVersion"] = "77";
  pod["metadata"]["labels"] = {{"app", "leaky-api"}};
  pod["metadata"]["managedFields"] = json::array({{{"manager", "kubelet"}}});
  pod["metadata"]["ownerReferences"].insert(pod["metadata"]["ownerReferences"].begin(),
      {{"apiVersion", "v1"}, {"kind", "ConfigMap"}, {"name", "not-the-controller"}, {"uid", "cm"}});
  pod["spec"] = {{"containers", json::array({{{"name", "api"}, {"image", "node:20"}}})}};
  json& statuses = pod["status"]["containerStatuses"];
  statuses[0]["lastState"]["terminated"]["startedAt"] = "2026-11-26T18:00:00Z";
  statuses[0]["image"] = "node:20";
  statuses.push_back({{"name", "healthy"}, {"restartCount", 0}, {"state", {{"running", {{"startedAt", kNowText}}}}}});
  pod["status"]["phase"] = "Running";
  SlimPod(pod);
  CHECK(pod == json::parse(R"({"metadata":{"name":"leaky-api-1","namespace":"shop","uid":"pod-uid","resourceVersion":"77",
      "ownerReferences":[{"apiVersion":"apps/v1","kind":"ReplicaSet","name":"leaky-api-d59884475","uid":"rs-uid","controller":true}]},
      "status":{"containerStatuses":[{"name":"api","restartCount":2,
      "lastState":{"terminated":{"reason":"OOMKilled","exitCode":137,"finishedAt":")" + std::string(kNowText) + R"("}}}]}})"));

  json healthy = OomPod("leaky-api-2", 0, kNowText);
  healthy["status"]["containerStatuses"][0].erase("lastState");
  SlimPod(healthy);
  CHECK_FALSE(healthy.contains("status"));  // never terminated: its metadata is all that is kept
  json terminating = OomPod("leaky-api-3", 0, kNowText);
  terminating["metadata"]["deletionTimestamp"] = kNowText;
  SlimPod(terminating);
  CHECK(terminating["metadata"]["deletionTimestamp"] == kNowText);

  json rs = ReplicaSet();
  rs["spec"] = {{"replicas", 3}};
  rs["metadata"]["labels"] = {{"app", "leaky-api"}};
  SlimReplicaSet(rs);
  CHECK(rs == json{{"metadata", {{"name", "leaky-api-d59884475"}, {"namespace", "shop"},
                                 {"ownerReferences", ReplicaSet()["metadata"]["ownerReferences"]}}}});
}

TEST_CASE("an OOM creates one HeapDiagnosis that tells the story") {
  Observed o = World();
  o.pods = {OomPod("leaky-api-1", 1, "2026-11-26T18:19:50Z"), OomPod("leaky-api-2", 3, "2026-11-26T18:19:40Z")};
  Plan plan = Reconcile(o);
  REQUIRE(Count(plan, Action::Kind::kCreateDiagnosis) == 1);
  const json& hd = Find(plan, Action::Kind::kCreateDiagnosis)->object;
  CHECK(hd["apiVersion"] == "oomscope.io/v1alpha1");
  CHECK(hd["kind"] == "HeapDiagnosis");
  CHECK(hd["metadata"]["namespace"] == "shop");
  CHECK(hd["metadata"]["name"] == DiagnosisName("leaky-api", "leaky-api-2", 3));
  CHECK(hd["spec"] == json{{"deployment", "leaky-api"}, {"container", "api"}, {"triggerPod", "leaky-api-2"},
                           {"triggerRestartCount", 3}, {"detectedAt", kNowText}, {"ttlSeconds", 1800}});
  // The recipe follows in the same plan, right after the create: no status write comes first.
  CHECK(Count(plan, Action::Kind::kUpdateDeployment) == 1);
  CHECK(plan.actions[0].kind == Action::Kind::kCreateDiagnosis);
  CHECK(plan.actions[1].kind == Action::Kind::kEnsureUploadTokenSecret);
  CHECK(plan.actions[2].kind == Action::Kind::kUpdateDeployment);
  CHECK(Count(plan, Action::Kind::kPatchDiagnosisStatus) == 1);
  CHECK(Find(plan, Action::Kind::kPatchDiagnosisStatus)->object["status"]["phase"] == "Capturing");
  bool oom_event = false;
  for (const Action& a : plan.actions) oom_event |= a.kind == Action::Kind::kEvent && a.object["reason"] == "OOMKilled";
  CHECK(oom_event);
  CHECK(plan.ooms.size() == 2);
  CHECK(plan.requeue_after_seconds == 10);
  // The name is stable: a retried create is idempotent.
  CHECK(DiagnosisName("leaky-api", "leaky-api-2", 3) == DiagnosisName("leaky-api", "leaky-api-2", 3));
  CHECK(DiagnosisName("leaky-api", "leaky-api-2", 3) != DiagnosisName("leaky-api", "leaky-api-2", 4));
}

TEST_CASE("the whole story: detect, apply, capture, analyze, restore exactly") {
  Observed o = World();
  o.hpa = Hpa();
  const json original = *o.deployment;
  const json original_hpa = *o.hpa;
  o.pods = {OomPod("leaky-api-1", 1, "2026-11-26T18:19:50Z")};

  // Detection and the recipe come in one plan.
  Plan apply = Reconcile(o);
  REQUIRE(Count(apply, Action::Kind::kCreateDiagnosis) == 1);
  REQUIRE(Count(apply, Action::Kind::kUpdateDeployment) == 1);
  CHECK(Find(apply, Action::Kind::kUpdateDeployment)->recipe);
  CHECK(Count(apply, Action::Kind::kEnsureUploadTokenSecret) == 1);
  // The HPA is pinned before the Deployment shrinks, so that it does not scale it back up.
  size_t hpa_at = 0, dep_at = 0;
  for (size_t i = 0; i < apply.actions.size(); ++i) {
    if (apply.actions[i].kind == Action::Kind::kUpdateHPA) hpa_at = i;
    if (apply.actions[i].kind == Action::Kind::kUpdateDeployment) dep_at = i;
  }
  CHECK(hpa_at < dep_at);
  Apply(o, apply);
  CHECK(Phase(o) == "Capturing");
  CHECK((*o.deployment)["spec"]["replicas"] == 1);
  CHECK((*o.hpa)["spec"]["minReplicas"] == 1);
  CHECK((*o.hpa)["spec"]["maxReplicas"] == 1);
  const json& status = o.diagnoses[0]["status"];
  CHECK(status["memoryLimit"] == (*o.deployment)["spec"]["template"]["spec"]["containers"][0]["resources"]["limits"]["memory"]);
  CHECK(status["snapshotAffordable"] == true);
  CHECK(status["conditions"][0]["type"] == "Applied");
  CHECK(status["conditions"][0]["status"] == "True");

  // Level-based: nothing more to do until the analyzer says something.
  Plan idle = Reconcile(o);
  CHECK(idle.actions.empty());
  CHECK(idle.requeue_after_seconds == 10);

  o.series = Series("collecting", 1);
  Apply(o, Reconcile(o));
  CHECK(Phase(o) == "Capturing");
  CHECK(o.diagnoses[0]["status"]["snapshots"] == 1);
  CHECK(o.diagnoses[0]["status"]["seriesId"] == "s-1");

  o.series = Series("analyzing", 3);
  Apply(o, Reconcile(o));
  CHECK(Phase(o) == "Analyzing");

  o.series = Series("complete", 3);
  Plan restore = Reconcile(o);
  REQUIRE(Count(restore, Action::Kind::kUpdateDeployment) == 1);
  CHECK(Find(restore, Action::Kind::kUpdateDeployment)->restore_reason == "completed");
  CHECK(Find(restore, Action::Kind::kPatchDiagnosisStatus)->object["status"]["phase"] == "Restoring");
  Apply(o, restore);
  CHECK(Phase(o) == "Completed");
  json want = original;
  want["metadata"]["resourceVersion"] = "102";  // two updates later
  CHECK(*o.deployment == want);
  CHECK(*o.hpa == original_hpa);
  const json& done = o.diagnoses[0]["status"];
  CHECK(done["topSuspect"] == json{{"name", "supportedExtensions"},
                                   {"constructor", "Array"},
                                   {"path", "module.exports.supportedExtensions"},
                                   {"retainedBytes", 104857600},
                                   {"growthBytesPerSecond", 2048.5}});
  CHECK(done["reportURL"] == "http://analyzer:8080/v1/series/s-1/report.html");
  CHECK(done["restoredAt"] == kNowText);

  // Over: the same OOM does not start another diagnosis.
  Plan after = Reconcile(o);
  CHECK(after.actions.empty());
}

TEST_CASE("a crash after any step converges to the same end") {
  // Run the story with the executor stopping after k actions of one plan, then resume.
  for (size_t crash_after = 0; crash_after < 10; ++crash_after) {
    CAPTURE(crash_after);
    Observed o = World();
    o.hpa = Hpa();
    const json original_spec = (*o.deployment)["spec"];
    o.pods = {OomPod("leaky-api-1", 1, "2026-11-26T18:19:50Z")};
    Apply(o, Reconcile(o), crash_after);  // the detect-and-apply plan, interrupted
    for (int i = 0; i < 4; ++i) Apply(o, Reconcile(o));
    CHECK(Phase(o) == "Capturing");
    CHECK((*o.deployment)["spec"]["replicas"] == 1);
    CHECK((*o.hpa)["spec"]["maxReplicas"] == 1);
    o.series = Series("complete", 3);
    Apply(o, Reconcile(o), crash_after);  // the restore plan, interrupted
    for (int i = 0; i < 4; ++i) Apply(o, Reconcile(o));
    CHECK(Phase(o) == "Completed");
    CHECK((*o.deployment)["spec"] == original_spec);
    CHECK(*o.hpa == Hpa());
    CHECK_FALSE(SavedOriginal(*o.deployment));
  }
}

// A diagnosis in Capturing, the recipe applied.
Observed Capturing() {
  Observed o = World();
  o.hpa = Hpa();
  o.pods = {OomPod("leaky-api-1", 1, "2026-11-26T18:19:50Z")};
  Apply(o, Reconcile(o));
  Apply(o, Reconcile(o));
  REQUIRE(Phase(o) == "Capturing");
  return o;
}

TEST_CASE("restore triggers: TTL, opt-out, a deleted HeapDiagnosis, a failed analysis") {
  struct Case {
    const char* name;
    std::function<void(Observed&)> edit;
    std::string reason;       // restores_total{reason}
    std::string final_phase;  // "" when the diagnosis is gone
  };
  std::vector<Case> cases = {
      {"TTL passed", [](Observed& o) { o.now += 1800; }, "ttl", "Failed"},
      {"annotation removed",
       [](Observed& o) { (*o.deployment)["metadata"]["annotations"].erase("oomscope.io/enabled"); }, "opted_out",
       "Failed"},
      {"HeapDiagnosis deleted", [](Observed& o) { o.diagnoses.clear(); }, "deleted", ""},
      {"analysis failed", [](Observed& o) { o.series = Series("failed", 1); }, "completed", "Failed"},
      {"analysis complete", [](Observed& o) { o.series = Series("complete", 3); }, "completed", "Completed"},
  };
  for (const Case& c : cases) {
    CAPTURE(c.name);
    Observed o = Capturing();
    json want_spec = Deployment()["spec"];
    c.edit(o);
    Plan plan = Reconcile(o);
    if (!c.final_phase.empty()) {
      REQUIRE(Find(plan, Action::Kind::kUpdateDeployment));
      CHECK(Find(plan, Action::Kind::kUpdateDeployment)->restore_reason == c.reason);
    }
    Apply(o, plan);
    Apply(o, Reconcile(o));
    CHECK((*o.deployment)["spec"] == want_spec);
    CHECK_FALSE(SavedOriginal(*o.deployment));
    CHECK(*o.hpa == Hpa());
    if (!c.final_phase.empty()) CHECK(Phase(o) == c.final_phase);
    // The pod still shows its OOM until the rollout replaces it: no second diagnosis for it.
    if (c.final_phase.empty()) CHECK(o.diagnoses.empty());
  }
}

TEST_CASE("not before the TTL: the requeue lands on the deadline") {
  Observed o = Capturing();
  o.now += 1795;
  Plan plan = Reconcile(o);
  CHECK(Count(plan, Action::Kind::kUpdateDeployment) == 0);
  CHECK(plan.requeue_after_seconds == 5);
}

TEST_CASE("the Deployment deleted mid-diagnosis: Failed, the HPA unpinned") {
  Observed o = Capturing();
  o.deployment.reset();
  Apply(o, Reconcile(o));
  CHECK(Phase(o) == "Failed");
  CHECK(*o.hpa == Hpa());
  CHECK(Reconcile(o).actions.empty());
}

TEST_CASE("cooldown and the cluster-wide cap hold a new OOM back") {
  struct Case {
    const char* name;
    int64_t restored_ago;      // seconds since the last diagnosis was restored; <0: none
    int active_elsewhere;
    bool creates;
  };
  for (const Case& c : std::vector<Case>{{"no earlier diagnosis", -1, 0, true},
                                         {"within the cooldown", 60, 0, false},
                                         {"after the cooldown", 601, 0, true},
                                         {"the cap is reached", -1, 3, false},
                                         {"below the cap", -1, 2, true}}) {
    CAPTURE(c.name);
    Observed o = World();
    o.now = kNow + 3600;
    o.active_elsewhere = c.active_elsewhere;
    o.pods = {OomPod("leaky-api-9", 1, "2026-11-26T19:19:59Z")};
    if (c.restored_ago >= 0) {
      o.diagnoses.push_back(
          {{"apiVersion", "oomscope.io/v1alpha1"},
           {"kind", "HeapDiagnosis"},
           {"metadata", {{"name", "leaky-api-oom-old"}, {"namespace", "shop"}}},
           {"spec", {{"deployment", "leaky-api"}, {"container", "api"}, {"triggerPod", "leaky-api-1"},
                     {"triggerRestartCount", 1}, {"detectedAt", "2026-11-26T18:00:00Z"}}},
           {"status", {{"phase", "Completed"}, {"restoredAt", "2026-11-26T19:" +
                                                                  std::string(c.restored_ago == 60 ? "19:00Z" : "09:59Z")}}}});
    }
    Plan plan = Reconcile(o);
    CHECK(Count(plan, Action::Kind::kCreateDiagnosis) == (c.creates ? 1 : 0));
    if (!c.creates) CHECK(plan.requeue_after_seconds.has_value());
  }
}

TEST_CASE("an OOM already diagnosed never triggers again, even after an operator restart") {
  Observed o = Capturing();
  o.series = Series("complete", 3);
  Apply(o, Reconcile(o));
  REQUIRE(Phase(o) == "Completed");
  o.now += 3600;  // long after the cooldown; the old pod still shows its OOM
  CHECK(Reconcile(o).actions.empty());
  // The same pod OOMs again later: that is new.
  o.pods = {OomPod("leaky-api-1", 2, "2026-11-26T19:19:00Z")};
  CHECK(Count(Reconcile(o), Action::Kind::kCreateDiagnosis) == 1);
}

TEST_CASE("a 409 recomputes from the fresh object and keeps the change that raced") {
  Observed o = World();
  o.pods = {OomPod("leaky-api-1", 1, "2026-11-26T18:19:50Z")};
  Plan stale = Reconcile(o);
  // Someone else updates the Deployment before our write lands: the executor gets a 409, re-reads.
  (*o.deployment)["metadata"]["resourceVersion"] = "200";
  (*o.deployment)["spec"]["template"]["metadata"]["labels"]["version"] = "v2";
  Plan fresh = Reconcile(o);
  const json& update = Find(fresh, Action::Kind::kUpdateDeployment)->object;
  CHECK(update["metadata"]["resourceVersion"] == "200");
  CHECK(update["spec"]["template"]["metadata"]["labels"]["version"] == "v2");
  CHECK(update["spec"]["replicas"] == 1);
  CHECK(Find(stale, Action::Kind::kUpdateDeployment)->object["metadata"]["resourceVersion"] == "100");
}

TEST_CASE("a recipe that cannot apply fails the diagnosis once, and is not retried") {
  Observed o = World();
  (*o.deployment)["spec"]["template"]["spec"]["containers"].push_back({{"name", "oomscope-sidecar"}, {"image", "x"}});
  o.pods = {OomPod("leaky-api-1", 1, "2026-11-26T18:19:50Z")};
  Plan plan = Reconcile(o);
  CHECK(Count(plan, Action::Kind::kUpdateDeployment) == 0);
  Apply(o, plan);
  CHECK(Phase(o) == "Failed");
  CHECK(Reconcile(o).actions.empty());
}

TEST_CASE("a refused write marks the diagnosis Failed with the server's message") {
  Observed o = Capturing();
  json patch = FailedStatusPatch(o.diagnoses[0], "exceeded quota: mem", kNow);
  CHECK(patch["status"]["phase"] == "Failed");
  CHECK(patch["status"]["message"] == "exceeded quota: mem");
}

}  // namespace
}  // namespace oomscope::op
