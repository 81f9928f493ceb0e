// oomscope-operator as a process against the Kubernetes API emulator (tests/emulator), with an
// in-test analyzer that answers GET /v1/series as contracts.md says. The emulator runs with
// --field-validation Strict, so every object the operator writes must validate against v1.32.
#include <doctest/doctest.h>
#include <unistd.h>

#include <chrono>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <functional>
#include <mutex>
#include <set>
#include <thread>

#include "child_process.h"
#include "metrics_doc.h"
#include "http_call.h"
#include "oomscope/http/server.h"
#include "oomscope/kube/client.h"
#include "oomscope/kube/object.h"
#include "oomscope/kube/resource.h"
#include "oomscope/common/snapshot_cost.h"
#include "oomscope/common/config.h"
#include "recipe.h"

namespace oomscope::op {
namespace {

using nlohmann::json;
using oomscope::testing::ChildProcess;
using testing::HttpCall;
namespace res = kube::resources;
namespace fs = std::filesystem;

// The chart's CRD: the one source of the HeapDiagnosis schema.
std::string CrdPath() {
  return std::string(OOMSCOPE_SOURCE_DIR) + "/charts/oomscope/crds/heapdiagnoses.oomscope.io.yaml";
}

// Polls `done` until it holds or `timeout` passes (what a user watching kubectl would do).
bool Eventually(const std::function<bool()>& done, std::chrono::seconds timeout = std::chrono::seconds(90)) {
  auto deadline = std::chrono::steady_clock::now() + timeout;
  while (std::chrono::steady_clock::now() < deadline) {
    if (done()) return true;
    std::this_thread::sleep_for(std::chrono::milliseconds(50));
  }
  return done();
}

// The analyzer as the operator sees it: GET /v1/series, answered from `series`.
class Analyzer {
 public:
  Analyzer() : server_(http::MakeServer("127.0.0.1", 0)) {
    server_->Route("GET", "/v1/series", [this](const http::Request&) {
      std::lock_guard<std::mutex> lock(mu_);
      return http::Response{200, "application/json", json{{"series", series_}}.dump()};
    });
    REQUIRE(server_->Start().ok());
  }
  ~Analyzer() { server_->Stop(); }
  std::string url() const { return "http://127.0.0.1:" + std::to_string(server_->port()); }
  void Set(const std::string& state, int snapshots) {
    std::lock_guard<std::mutex> lock(mu_);
    series_ = json::array({{{"id", "s-1"}, {"namespace", "shop"}, {"workload", "leaky-api"}, {"pod", "p"},
                            {"container", "api"}, {"created_at", "2099-01-01T00:00:00Z"},
                            {"updated_at", "2099-01-01T00:00:00Z"}, {"snapshots", snapshots}, {"series_length", 3},
                            {"state", state},
                            {"top_suspect", {{"kind", "array"}, {"name", "supportedExtensions"}, {"constructor", "Array"},
                                             {"path", "validators.supportedExtensions"}, {"retained_bytes", 1048576},
                                             {"growth_bytes_per_second", 512.0}}},
                            {"report_url", "/v1/series/s-1/report.html"}}});
  }

 private:
  std::unique_ptr<http::Server> server_;
  std::mutex mu_;
  json series_ = json::array();
};

struct Cluster {
  // `emulator_args`: more flags for the emulator (e.g. --server-version).
  explicit Cluster(const std::vector<std::string>& emulator_args = {})
      : dir(fs::temp_directory_path() / ("oomscope-op-" + std::to_string(getpid()) + "-" + std::to_string(++counter))),
        emulator(EmulatorArgv(emulator_args), "listening ") {
    REQUIRE(emulator.ok());
    url = emulator.ready();
    fs::create_directories(dir);
    kubeconfig = (dir / "kubeconfig").string();
    std::ofstream(kubeconfig) << "apiVersion: v1\nkind: Config\ncurrent-context: emu\n"
                              << "clusters: [{name: emu, cluster: {server: \"" << url << "\"}}]\n"
                              << "users: [{name: u, user: {token: test}}]\n"
                              << "contexts: [{name: emu, context: {cluster: emu, user: u}}]\n";
    std::ofstream(dir / "token") << "upload-secret\n";
    kube::ClusterConfig cc;
    cc.server = url;
    cc.user_agent = "oomscope-test";
    auto c = kube::NewKubeClient(cc);
    REQUIRE(c.ok());
    client = std::move(*c);
  }
  ~Cluster() { fs::remove_all(dir); }

  static std::vector<std::string> EmulatorArgv(const std::vector<std::string>& extra) {
    std::vector<std::string> argv = {"node", std::string(OOMSCOPE_SOURCE_DIR) + "/tests/emulator/apiserver.js",
                                     "--port", "0", "--crd", CrdPath(), "--field-validation", "Strict"};
    argv.insert(argv.end(), extra.begin(), extra.end());
    return argv;
  }

  json Must(Result<json> r) {
    if (!r.ok()) FAIL(r.status().ToString());
    return *r;
  }
  json Get(const kube::ResourceRef& r, const std::string& name, const std::string& ns = "shop") {
    return Must(client->Get(r, ns, name));
  }
  void Fault(const json& fault) { REQUIRE(HttpCall("POST", url + "/_emulator/faults", fault.dump()).status / 100 == 2); }
  // Watch lag for matching events (a real watch cache runs behind the store).
  void WatchDelay(const json& delay) {
    REQUIRE(HttpCall("POST", url + "/_emulator/watch-delays", delay.dump()).status == 201);
  }
  json Requests() { return json::parse(HttpCall("GET", url + "/_emulator/requests").body); }

  // A Deployment (opted in unless `opted_in` is false), its ReplicaSet and one pod.
  json MakeApp(const std::string& name, bool opted_in) {
    json d = {{"apiVersion", "apps/v1"}, {"kind", "Deployment"},
              {"metadata", {{"name", name}, {"namespace", "shop"}}},
              {"spec", {{"replicas", 3}, {"selector", {{"matchLabels", {{"app", name}}}}},
                        {"template", {{"metadata", {{"labels", {{"app", name}}}}},
                                      {"spec", {{"containers", json::array({{{"name", "api"}, {"image", "node:20"},
                                          {"env", json::array({{{"name", "NODE_ENV"}, {"value", "production"}}})},
                                          {"resources", {{"requests", {{"memory", "128Mi"}}}, {"limits", {{"memory", "256Mi"}}}}},
                                          {"livenessProbe", {{"httpGet", {{"path", "/healthz"}, {"port", 8080}}}}},
                                          {"readinessProbe", {{"httpGet", {{"path", "/ready"}, {"port", 8080}}}}}}})}}}}}}}};
    if (opted_in) d["metadata"]["annotations"] = {{"oomscope.io/enabled", "true"}};
    json created = Must(client->Create(res::Deployments(), "shop", d));
    json rs = {{"apiVersion", "apps/v1"}, {"kind", "ReplicaSet"},
               {"metadata", {{"name", name + "-7d4b9c"}, {"namespace", "shop"}, {"labels", {{"app", name}}},
                             {"ownerReferences", json::array({{{"apiVersion", "apps/v1"}, {"kind", "Deployment"},
                                 {"name", name}, {"uid", kube::meta::Uid(created)}, {"controller", true}}})}}},
               {"spec", {{"replicas", 1}, {"selector", {{"matchLabels", {{"app", name}}}}},
                         {"template", d["spec"]["template"]}}}};
    json rs_created = Must(client->Create(res::ReplicaSets(), "shop", rs));
    json pod = {{"apiVersion", "v1"}, {"kind", "Pod"},
                {"metadata", {{"name", name + "-7d4b9c-x1"}, {"namespace", "shop"}, {"labels", {{"app", name}}},
                              {"ownerReferences", json::array({{{"apiVersion", "apps/v1"}, {"kind", "ReplicaSet"},
                                  {"name", name + "-7d4b9c"}, {"uid", kube::meta::Uid(rs_created)}, {"controller", true}}})}}},
                {"spec", {{"containers", json::array({{{"name", "api"}, {"image", "node:20"}}})}}}};
    Must(client->Create(res::Pods(), "shop", pod));
    return created;
  }

  void OomKill(const std::string& pod, int restarts = 1) {
    json patch = {{"status", {{"containerStatuses", json::array({{{"name", "api"}, {"image", "node:20"},
        {"imageID", ""}, {"ready", false}, {"started", false}, {"restartCount", restarts},
        {"state", {{"waiting", {{"reason", "CrashLoopBackOff"}}}}},
        {"lastState", {{"terminated", {{"exitCode", 137}, {"reason", "OOMKilled"},
                                       {"startedAt", "2026-11-26T23:18:18Z"}, {"finishedAt", "2099-01-01T00:00:00Z"}}}}}}})}}}};
    Must(client->Patch(res::Pods(), "shop", pod, kube::PatchType::kMerge, patch, "status"));
  }

  // An HPA of 2..6 replicas scaling Deployment `name`, named after it.
  json MakeHPA(const std::string& name) {
    return Must(client->Create(res::HorizontalPodAutoscalers(), "shop",
        {{"apiVersion", "autoscaling/v2"}, {"kind", "HorizontalPodAutoscaler"},
         {"metadata", {{"name", name}, {"namespace", "shop"}}},
         {"spec", {{"scaleTargetRef", {{"apiVersion", "apps/v1"}, {"kind", "Deployment"}, {"name", name}}},
                   {"minReplicas", 2}, {"maxReplicas", 6}}}}));
  }

  void Setup() {
    Must(client->Create(res::Namespaces(), "", {{"apiVersion", "v1"}, {"kind", "Namespace"}, {"metadata", {{"name", "shop"}}}}));
  }

  std::vector<json> Diagnoses() {
    auto list = client->List(res::HeapDiagnoses(), "shop");
    REQUIRE(list.ok());
    return list->items;
  }
  std::string Phase() {
    std::vector<json> hds = Diagnoses();
    return hds.size() == 1 ? kube::StringAt(hds[0], "/status/phase") : std::to_string(hds.size()) + " diagnoses";
  }
  bool RecipeApplied(const std::string& name = "leaky-api") {
    return SavedOriginal(Get(res::Deployments(), name)).has_value();
  }

  static inline int counter = 0;
  fs::path dir;
  ChildProcess emulator;
  std::string url, kubeconfig;
  std::unique_ptr<kube::KubeClient> client;
};

struct Operator {
  Operator(Cluster& c, const Analyzer& a, std::vector<std::string> extra = {})
      : proc(Argv(c, a, std::move(extra)), "INFO listening port=", ChildProcess::Stream::kStderr) {
    REQUIRE(proc.ok());
    port = std::stoi(proc.ready());
  }
  static std::vector<std::string> Argv(Cluster& c, const Analyzer& a, std::vector<std::string> extra) {
    std::vector<std::string> argv = {OOMSCOPE_OPERATOR, "--kubeconfig", c.kubeconfig, "--listen", "127.0.0.1:0",
                                     "--analyzer-url", a.url(), "--upload-token-file", (c.dir / "token").string(),
                                     "--sidecar-image", "oomscope:test", "--log-format", "text",
                                     "--poll-interval", "1s", "--cooldown", "0s"};
    argv.insert(argv.end(), extra.begin(), extra.end());
    return argv;
  }
  std::string Metrics() { return HttpCall("GET", "http://127.0.0.1:" + std::to_string(port) + "/metrics").body; }
  // The value of one sample line ("name{labels} value"), or -1.
  double Sample(const std::string& series) {
    std::string m = Metrics();
    size_t at = m.find("\n" + series + " ");
    if (at == std::string::npos) return -1;
    return std::stod(m.substr(at + series.size() + 2));
  }
  bool Ready() { return HttpCall("GET", "http://127.0.0.1:" + std::to_string(port) + "/readyz").status == 200; }

  ChildProcess proc;
  int port = 0;
};

int Count(const json& requests, const std::string& verb, const std::string& resource, const std::string& name) {
  int n = 0;
  for (const json& r : requests)
    n += r.value("verb", "") == verb && r.value("resource", "") == resource && r.value("name", "") == name &&
         r.value("subresource", "") == "";
  return n;
}

TEST_CASE("an OOMKilled pod of an opted-in Deployment: recipe applied, analysis copied, restored exactly") {
  Cluster c;
  Analyzer analyzer;
  c.Setup();
  json original = c.MakeApp("leaky-api", true);
  json bystander = c.MakeApp("bystander", false);
  json hpa = c.MakeHPA("leaky-api");
  Operator op(c, analyzer);
  INFO("operator op log (last 64 KiB):\n" << op.proc.Output());
  REQUIRE(Eventually([&] { return op.Ready(); }));
  // One conflict on the recipe's update: the retry reads the Deployment from the server (so the
  // RBAC recorded below holds every verb the operator may use, `get deployments` included).
  c.Fault({{"verb", "update"}, {"resource", "deployments"}, {"name", "leaky-api"}, {"status", 409}, {"count", 1}});
  c.OomKill("bystander-7d4b9c-x1");
  c.OomKill("leaky-api-7d4b9c-x1");

  REQUIRE(Eventually([&] { return c.Phase() == "Capturing"; }));
  json d = c.Get(res::Deployments(), "leaky-api");
  CHECK(d["spec"]["replicas"] == 1);
  const json& pod = d["spec"]["template"]["spec"];
  const json& api = pod["containers"][0];
  CHECK_FALSE(api.contains("livenessProbe"));
  CHECK_FALSE(api.contains("readinessProbe"));
  // 256Mi at the OOM plus what writing its snapshot costs (SnapshotCost), the request by as much.
  const int64_t limit = 256ll << 20;
  const int64_t needed = limit + static_cast<int64_t>(kDefaultSnapshotCost.PeakGrowthBytes(limit));
  CHECK(api["resources"]["limits"]["memory"] == FormatQuantity(needed));
  CHECK(api["resources"]["requests"]["memory"] == FormatQuantity(needed - (128ll << 20)));
  bool node_options = false;
  for (const json& e : api["env"])
    node_options |= e["name"] == "NODE_OPTIONS" && e.value("value", "").find("--inspect=127.0.0.1:9229") == 0;
  CHECK(node_options);
  REQUIRE(pod.contains("initContainers"));
  CHECK(pod["initContainers"][0]["name"] == "oomscope-sidecar");
  CHECK(pod["initContainers"][0]["restartPolicy"] == "Always");
  json h = c.Get(res::HorizontalPodAutoscalers(), "leaky-api");
  CHECK(h["spec"]["minReplicas"] == 1);
  CHECK(h["spec"]["maxReplicas"] == 1);
  json secret = c.Get(res::Secrets(), "oomscope-upload-token");
  CHECK(secret["data"]["token"] == "dXBsb2FkLXNlY3JldA==");  // "upload-secret"
  json hd = c.Diagnoses()[0];
  CHECK(hd["spec"]["deployment"] == "leaky-api");
  CHECK(hd["spec"]["triggerPod"] == "leaky-api-7d4b9c-x1");
  CHECK(hd["status"]["memoryLimit"] == FormatQuantity(needed));

  analyzer.Set("analyzing", 2);
  REQUIRE(Eventually([&] { return c.Phase() == "Analyzing"; }));
  analyzer.Set("complete", 3);
  REQUIRE(Eventually([&] { return c.Phase() == "Completed"; }));
  hd = c.Diagnoses()[0];
  CHECK(hd["status"]["topSuspect"]["name"] == "supportedExtensions");
  CHECK(hd["status"]["snapshots"] == 3);
  CHECK(hd["status"]["reportURL"] == analyzer.url() + "/v1/series/s-1/report.html");
  json restored = c.Get(res::Deployments(), "leaky-api");
  CHECK(restored["spec"] == original["spec"]);
  CHECK(restored["metadata"]["annotations"] == original["metadata"]["annotations"]);
  json h2 = c.Get(res::HorizontalPodAutoscalers(), "leaky-api");
  CHECK(h2["spec"] == hpa["spec"]);
  CHECK_FALSE(h2["metadata"].contains("annotations"));

  // The Deployment without the annotation was never touched.
  json b = c.Get(res::Deployments(), "bystander");
  CHECK(b["metadata"]["resourceVersion"] == bystander["metadata"]["resourceVersion"]);
  json requests = c.Requests();
  CHECK(Count(requests, "update", "deployments", "bystander") == 0);
  CHECK(Count(requests, "patch", "deployments", "bystander") == 0);
  CHECK(op.Sample("oomscope_operator_recipes_applied_total") == 1);
  CHECK(op.Sample("oomscope_operator_restores_total{reason=\"completed\"}") == 1);
  CHECK(op.Sample("oomscope_operator_diagnoses_total{phase=\"Completed\"}") == 1);
  CHECK(op.Sample("oomscope_operator_ooms_seen_total") == 1);

  // docs/metrics.md lists exactly what the operator exports.
  {
    const std::string section = oomscope::testing::MetricsDocSection(
        std::string(OOMSCOPE_SOURCE_DIR) + "/docs/metrics.md", "## oomscope-operator");
    REQUIRE_FALSE(section.empty());
    const std::string metrics = op.Metrics();
    for (const char* prefix : {"oomscope_operator_", "oomscope_reconcile_"}) {
      const std::set<std::string> exported = oomscope::testing::ExportedFamilies(metrics, prefix);
      const std::set<std::string> documented = oomscope::testing::DocumentedFamilies(section, prefix);
      std::string missing, extra;
      for (const std::string& f : documented) if (!exported.count(f)) missing += f + " ";
      for (const std::string& f : exported) if (!documented.count(f)) extra += f + " ";
      INFO("documented, not exported: " << missing);
      INFO("exported, not documented: " << extra);
      // Nothing undocumented is exported. The other way, two families have no sample (and so no
      // line at all) until their first event; the fault cases below assert them.
      CHECK(extra.empty());
      std::set<std::string> expected = documented;
      expected.erase("oomscope_operator_api_errors_total");
      expected.erase("oomscope_operator_watch_restarts_total");
      for (const std::string& f : expected) CHECK_MESSAGE(exported.count(f), f);
    }
  }

  // What the operator did, for the chart's RBAC test: (group, resource, verb), no warnings.
  std::set<std::tuple<std::string, std::string, std::string>> rbac;
  for (const json& r : requests) {
    if (r.value("userAgent", "").find("oomscope-operator") == std::string::npos) continue;
    CHECK_FALSE(r.contains("warnings"));
    std::string resource = r.value("resource", "");
    if (!r.value("subresource", "").empty()) resource += "/" + r.value("subresource", "");
    rbac.insert({r.value("group", ""), resource, r.value("verb", "")});
  }
  json out = json::array();
  for (const auto& [g, r, v] : rbac) out.push_back({{"group", g}, {"resource", r}, {"verb", v}});
  std::ofstream(fs::current_path() / "operator-rbac-observed.json") << out.dump(2) << "\n";
  CHECK(rbac.count({"apps", "deployments", "update"}));
}

TEST_CASE("from the OOM to the Deployment update: the diagnosis created, the token mirrored, the update; nothing read") {
  Cluster c;
  Analyzer analyzer;
  c.Setup();
  c.MakeApp("leaky-api", true);
  Operator op(c, analyzer);
  INFO("operator op log (last 64 KiB):\n" << op.proc.Output());
  REQUIRE(Eventually([&] { return op.Ready(); }));
  REQUIRE(HttpCall("DELETE", c.url + "/_emulator/requests").status / 100 == 2);
  c.OomKill("leaky-api-7d4b9c-x1");
  REQUIRE(Eventually([&] { return c.RecipeApplied(); }));
  std::vector<std::string> calls;
  for (const json& r : c.Requests()) {
    if (r.value("userAgent", "").rfind("oomscope-operator/", 0) != 0 || r.value("verb", "") == "watch") continue;
    calls.push_back(r.value("verb", "") + " " + r.value("resource", ""));
    if (calls.back() == "update deployments") break;
  }
  // The caches answer the reads (the Deployment, its diagnoses); the create is the durable record.
  CHECK(calls == std::vector<std::string>{"create heapdiagnoses", "get secrets", "create secrets", "update deployments"});
}

TEST_CASE("an API server older than 1.29: the sidecar is a plain container, unless --native-sidecar true") {
  for (const char* mode : {"auto", "true"}) {
    CAPTURE(mode);
    Cluster c({"--server-version", "v1.28.4"});
    Analyzer analyzer;
    c.Setup();
    c.MakeApp("leaky-api", true);
    Operator op(c, analyzer, {"--native-sidecar", mode});
    INFO("operator op log (last 64 KiB):\n" << op.proc.Output());
    c.OomKill("leaky-api-7d4b9c-x1");
    REQUIRE(Eventually([&] { return c.Phase() == "Capturing"; }));
    const json pod = c.Get(res::Deployments(), "leaky-api")["spec"]["template"]["spec"];
    bool in_containers = false;
    for (const json& k : pod["containers"]) in_containers |= k["name"] == "oomscope-sidecar";
    bool in_init = false;
    for (const json& k : pod.value("initContainers", json::array())) in_init |= k["name"] == "oomscope-sidecar";
    CHECK(in_containers == (std::string(mode) == "auto"));
    CHECK(in_init == (std::string(mode) == "true"));
    // The version was read only when the flag left it to the server.
    int version_reads = 0;
    for (const json& r : c.Requests()) version_reads += r.value("resource", "") == "/version";
    CHECK(version_reads == (std::string(mode) == "auto" ? 1 : 0));
  }
}

TEST_CASE("restore on TTL and on opt-out; the user's changes meanwhile are kept") {
  for (const char* how : {"ttl", "opt-out"}) {
    CAPTURE(how);
    Cluster c;
    Analyzer analyzer;
    c.Setup();
    json original = c.MakeApp("leaky-api", true);
    Operator op(c, analyzer, {"--ttl", std::string(how) == "ttl" ? "3s" : "10m"});
    INFO("operator op log (last 64 KiB):\n" << op.proc.Output());
    c.OomKill("leaky-api-7d4b9c-x1");
    REQUIRE(Eventually([&] { return c.RecipeApplied(); }));
    json d = c.Get(res::Deployments(), "leaky-api");
    d["metadata"]["labels"]["team"] = "payments";  // the user, meanwhile
    if (std::string(how) == "opt-out") d["metadata"]["annotations"].erase("oomscope.io/enabled");
    c.Must(c.client->Update(res::Deployments(), "shop", d));
    REQUIRE(Eventually([&] { return c.Phase() == "Failed" && !c.RecipeApplied(); }));
    json restored = c.Get(res::Deployments(), "leaky-api");
    CHECK(restored["spec"] == original["spec"]);
    CHECK(restored["metadata"]["labels"]["team"] == "payments");
    std::string reason = std::string(how) == "ttl" ? "ttl" : "opted_out";
    CHECK(op.Sample("oomscope_operator_restores_total{reason=\"" + reason + "\"}") == 1);
  }
}

TEST_CASE("killed between steps and restarted: converges, nothing lost") {
  Cluster c;
  Analyzer analyzer;
  c.Setup();
  json original = c.MakeApp("leaky-api", true);
  // The Deployment update keeps failing: the first operator gets as far as the diagnosis.
  c.Fault({{"verb", "update"}, {"resource", "deployments"}, {"status", 500}, {"count", 1000}});
  {
    Operator first(c, analyzer);
    INFO("operator first log (last 64 KiB):\n" << first.proc.Output());
    c.OomKill("leaky-api-7d4b9c-x1");
    REQUIRE(Eventually([&] { return c.Phase() == "Applying"; }));
    first.proc.Kill();
  }
  REQUIRE(HttpCall("DELETE", c.url + "/_emulator/faults").status / 100 == 2);
  Operator second(c, analyzer);
  INFO("operator second log (last 64 KiB):\n" << second.proc.Output());
  REQUIRE(Eventually([&] { return c.Phase() == "Capturing"; }));
  CHECK(c.Diagnoses().size() == 1);
  CHECK(c.Get(res::Deployments(), "leaky-api")["spec"]["replicas"] == 1);
  second.proc.Kill();  // and again, mid-diagnosis
  analyzer.Set("complete", 3);
  Operator third(c, analyzer);
  INFO("operator third log (last 64 KiB):\n" << third.proc.Output());
  REQUIRE(Eventually([&] { return c.Phase() == "Completed"; }));
  CHECK(c.Get(res::Deployments(), "leaky-api")["spec"] == original["spec"]);
  CHECK(c.Diagnoses().size() == 1);
}

TEST_CASE("dropped watches and 410 Gone: the OOM is not missed") {
  Cluster c;
  Analyzer analyzer;
  c.Setup();
  c.MakeApp("leaky-api", true);
  Operator op(c, analyzer);
  INFO("operator op log (last 64 KiB):\n" << op.proc.Output());
  REQUIRE(Eventually([&] { return op.Ready(); }));
  REQUIRE(HttpCall("POST", c.url + "/_emulator/drop-watches", "{}").status == 200);
  c.OomKill("leaky-api-7d4b9c-x1");  // while the watches are down
  REQUIRE(HttpCall("POST", c.url + "/_emulator/compact", "{}").status == 200);
  REQUIRE(HttpCall("POST", c.url + "/_emulator/drop-watches", "{}").status == 200);
  REQUIRE(Eventually([&] { return c.RecipeApplied(); }));
  CHECK(Eventually([&] { return op.Sample("oomscope_operator_watch_restarts_total{reason=\"dropped\",resource=\"pods\"}") >= 1; }));
}

TEST_CASE("a 409 on the Deployment update is retried from a fresh read") {
  Cluster c;
  Analyzer analyzer;
  c.Setup();
  c.MakeApp("leaky-api", true);
  c.Fault({{"verb", "update"}, {"resource", "deployments"}, {"name", "leaky-api"}, {"status", 409}, {"count", 2}});
  Operator op(c, analyzer);
  INFO("operator op log (last 64 KiB):\n" << op.proc.Output());
  c.OomKill("leaky-api-7d4b9c-x1");
  REQUIRE(Eventually([&] { return c.Phase() == "Capturing"; }));
  CHECK(c.RecipeApplied());
  CHECK(op.Sample("oomscope_operator_api_errors_total{code=\"409\"}") >= 2);
}

TEST_CASE("a refused update (403 quota) is a Failed diagnosis, an Event and a metric, not a loop") {
  Cluster c;
  Analyzer analyzer;
  c.Setup();
  json original = c.MakeApp("leaky-api", true);
  c.Fault({{"verb", "update"}, {"resource", "deployments"}, {"name", "leaky-api"}, {"status", 403}, {"count", 1}});
  // The Failed status reaches the operator's cache late: the reconciles in between must not take
  // the diagnosis for one still applying (they did, under load in CI, and applied the recipe).
  c.WatchDelay({{"resource", "heapdiagnoses"}, {"type", "MODIFIED"}, {"ms", 2500}});
  Operator op(c, analyzer);
  INFO("operator op log (last 64 KiB):\n" << op.proc.Output());
  c.OomKill("leaky-api-7d4b9c-x1");
  REQUIRE(Eventually([&] { return c.Phase() == "Failed"; }));
  json hd = c.Diagnoses()[0];
  CHECK(hd["status"]["message"].get<std::string>().find("refused") != std::string::npos);
  REQUIRE(Eventually([&] {
    auto events = c.client->List(res::Events(), "shop");
    if (!events.ok()) return false;
    for (const json& e : events->items)
      if (e.value("reason", "") == "RecipeRefused") return true;
    return false;
  }));
  CHECK(op.Sample("oomscope_operator_api_errors_total{code=\"403\"}") == 1);
  CHECK(op.Sample("oomscope_operator_diagnoses_total{phase=\"Failed\"}") == 1);
  // Still serving, and no second attempt.
  CHECK(op.Ready());
  CHECK(Count(c.Requests(), "update", "deployments", "leaky-api") == 1);
  CHECK(c.Get(res::Deployments(), "leaky-api")["spec"] == original["spec"]);
}

TEST_CASE("every watch 2 s behind the store: one recipe, one restore, the Deployment and HPA back exactly") {
  // A busy API server's watch cache runs behind its writes. The operator must act on its own
  // writes (read-your-writes), not on what its caches still show.
  Cluster c;
  Analyzer analyzer;
  c.Setup();
  json original = c.MakeApp("leaky-api", true);
  json hpa = c.MakeHPA("leaky-api");
  Operator op(c, analyzer);
  INFO("operator op log (last 64 KiB):\n" << op.proc.Output());
  REQUIRE(Eventually([&] { return op.Ready(); }));
  c.WatchDelay({{"ms", 2000}, {"count", 1000000}});
  c.OomKill("leaky-api-7d4b9c-x1");
  REQUIRE(Eventually([&] { return c.Phase() == "Capturing"; }));
  CHECK(c.Get(res::HorizontalPodAutoscalers(), "leaky-api")["spec"]["maxReplicas"] == 1);
  analyzer.Set("complete", 3);
  REQUIRE(Eventually([&] { return c.Phase() == "Completed"; }));
  CHECK(c.Get(res::Deployments(), "leaky-api")["spec"] == original["spec"]);
  CHECK(c.Get(res::HorizontalPodAutoscalers(), "leaky-api")["spec"] == hpa["spec"]);
  // Let the caches catch up, and the reconciles they trigger run: still nothing done twice.
  std::this_thread::sleep_for(std::chrono::seconds(3));
  json requests = c.Requests();
  CHECK(Count(requests, "update", "deployments", "leaky-api") == 2);
  CHECK(Count(requests, "update", "horizontalpodautoscalers", "leaky-api") == 2);
  CHECK(Count(requests, "create", "heapdiagnoses", "") == 1);
  CHECK(c.Diagnoses().size() == 1);
  CHECK(op.Sample("oomscope_operator_recipes_applied_total") == 1);
  CHECK(op.Sample("oomscope_operator_restores_total{reason=\"completed\"}") == 1);
  CHECK(c.Get(res::Deployments(), "leaky-api")["spec"] == original["spec"]);
}

TEST_CASE("the Deployment deleted mid-diagnosis: the diagnosis fails, the HPA is unpinned") {
  Cluster c;
  Analyzer analyzer;
  c.Setup();
  c.MakeApp("leaky-api", true);
  json hpa = c.MakeHPA("leaky-api");
  // The pinned HPA reaches the operator's cache late: unpinning must not wait for it.
  c.WatchDelay({{"resource", "horizontalpodautoscalers"}, {"type", "MODIFIED"}, {"ms", 5000}});
  Operator op(c, analyzer);
  INFO("operator op log (last 64 KiB):\n" << op.proc.Output());
  c.OomKill("leaky-api-7d4b9c-x1");
  REQUIRE(Eventually([&] { return c.Phase() == "Capturing"; }));
  REQUIRE(c.client->Delete(res::Deployments(), "shop", "leaky-api").ok());
  REQUIRE(Eventually([&] { return c.Phase() == "Failed"; }));
  CHECK(c.Get(res::HorizontalPodAutoscalers(), "leaky-api")["spec"] == hpa["spec"]);
  CHECK(op.Ready());
}

TEST_CASE("two replicas with leader election: one leads, the other stands by, one recipe") {
  Cluster c;
  Analyzer analyzer;
  c.Setup();
  c.MakeApp("leaky-api", true);
  std::vector<std::string> le = {"--leader-election", "--leader-election-namespace", "shop"};
  Operator a(c, analyzer, le);
  INFO("operator a log (last 64 KiB):\n" << a.proc.Output());
  Operator b(c, analyzer, le);
  INFO("operator b log (last 64 KiB):\n" << b.proc.Output());
  REQUIRE(Eventually([&] { return a.Sample("oomscope_operator_leader") + b.Sample("oomscope_operator_leader") == 1; }));
  CHECK(Eventually([&] { return a.Ready() && b.Ready(); }));
  json lease = c.Get(res::Leases(), "oomscope-operator");
  CHECK_FALSE(kube::StringAt(lease, "/spec/holderIdentity").empty());
  c.OomKill("leaky-api-7d4b9c-x1");
  REQUIRE(Eventually([&] { return c.Phase() == "Capturing"; }));
  CHECK(Count(c.Requests(), "update", "deployments", "leaky-api") == 1);
  CHECK(a.Sample("oomscope_operator_leader") + b.Sample("oomscope_operator_leader") == 1);
}

}  // namespace
}  // namespace oomscope::op
