// The recipe and its restore, as pure transformations of Deployment and HPA objects.
#include <doctest/doctest.h>

#include <functional>
#include <string>
#include <vector>

#include "fixtures.h"
#include "oomscope/common/snapshot_cost.h"
#include "oomscope/common/config.h"
#include "recipe.h"

namespace oomscope::op {
namespace {

using nlohmann::json;
using testing::Deployment;

RecipeOptions Options(bool native = true, bool token = true) {
  return {"leaky-api-oom-1", "api", "oomscope:test", "http://analyzer:8080", token, native,
          kDefaultSnapshotCost.rss_growth_per_file_byte};
}

// The limit the recipe should give a container limited to `limit` bytes: the heap at the OOM plus
// what writing its snapshot costs (SnapshotCost), rounded up to a MiB.
int64_t Needed(int64_t limit) {
  int64_t n = limit + static_cast<int64_t>(kDefaultSnapshotCost.PeakGrowthBytes(static_cast<uint64_t>(limit)));
  return (n + (1 << 20) - 1) / (1 << 20) * (1 << 20);
}

const json& Api(const json& d) { return d["spec"]["template"]["spec"]["containers"][0]; }

std::string EnvValue(const json& container, const std::string& name) {
  for (const json& e : container.value("env", json::array()))
    if (e["name"] == name) return e.contains("value") ? e["value"].get<std::string>() : "<valueFrom>";
  return "<absent>";
}

TEST_CASE("quantities parse to bytes and format back exactly") {
  struct Case {
    std::string text;
    int64_t bytes;
  };
  for (const Case& c : std::vector<Case>{{"512Mi", 512ll << 20},
                                         {"1Gi", 1ll << 30},
                                         {"1.5Gi", 3ll << 29},
                                         {"1G", 1000000000},
                                         {"128974848", 128974848},
                                         {"129e6", 129000000},
                                         {"100k", 100000},
                                         {"1500m", 2}}) {
    CAPTURE(c.text);
    Result<int64_t> parsed = ParseQuantity(c.text);
    REQUIRE(parsed.ok());
    CHECK(*parsed == c.bytes);
  }
  CHECK_FALSE(ParseQuantity("lots").ok());
  CHECK_FALSE(ParseQuantity("12Xi").ok());
  CHECK(FormatQuantity(4ll << 30) == "4Gi");
  CHECK(FormatQuantity(3840ll << 20) == "3840Mi");
  CHECK(FormatQuantity(1000) == "1000");
}

TEST_CASE("the recipe makes one pod with the inspector, no probes, room for a snapshot and the sidecar") {
  Result<RecipeResult> r = ApplyRecipe(Deployment(), Options());
  REQUIRE(r.ok());
  const json& d = r->deployment;
  CHECK(d["spec"]["replicas"] == 1);
  CHECK(d["metadata"]["resourceVersion"] == "100");  // the update is guarded by what was read
  const json& api = Api(d);
  CHECK(EnvValue(api, "NODE_OPTIONS") ==
        "--inspect=127.0.0.1:9229 --heapsnapshot-near-heap-limit=1 --diagnostic-dir=/oomscope");
  CHECK(EnvValue(api, "NODE_ENV") == "production");
  CHECK_FALSE(api.contains("livenessProbe"));
  CHECK_FALSE(api.contains("readinessProbe"));
  // 512Mi at the OOM, plus 7x that to write its snapshot: 4Gi; the request grows by as much.
  CHECK(api["resources"]["limits"]["memory"] == FormatQuantity(Needed(512ll << 20)));
  CHECK(api["resources"]["requests"]["memory"] == FormatQuantity(Needed(512ll << 20) - (256ll << 20)));
  CHECK(api["resources"]["requests"]["cpu"] == "100m");
  CHECK(r->memory_limit == Needed(512ll << 20));
  CHECK(r->snapshot_affordable);
  CHECK(api["volumeMounts"] == json::parse(R"([{"name":"oomscope-spool","mountPath":"/oomscope"}])"));
  const json& pod = d["spec"]["template"]["spec"];
  CHECK(pod["volumes"] == json::parse(R"([{"name":"oomscope-spool","emptyDir":{}},
      {"name":"oomscope-upload-token","secret":{"secretName":"oomscope-upload-token"}}])"));
  REQUIRE(pod["initContainers"].size() == 1);
  const json& sidecar = pod["initContainers"][0];
  CHECK(sidecar["name"] == "oomscope-sidecar");
  CHECK(sidecar["restartPolicy"] == "Always");
  CHECK(sidecar["image"] == "oomscope:test");
  CHECK(sidecar["securityContext"] == json::parse(R"({"allowPrivilegeEscalation":false,"readOnlyRootFilesystem":true,
      "capabilities":{"drop":["ALL"]}})"));
  CHECK(EnvValue(sidecar, "OOMSCOPE_ANALYZER_URL") == "http://analyzer:8080");
  CHECK(EnvValue(sidecar, "OOMSCOPE_TOKEN_FILE") == "/var/run/secrets/oomscope/token");
  CHECK(EnvValue(sidecar, "WORKLOAD_NAME") == "leaky-api");
  CHECK(EnvValue(sidecar, "CONTAINER_NAME") == "api");
  CHECK(EnvValue(sidecar, "POD_NAME") == "<valueFrom>");
  bool limit_env = false;
  for (const json& e : sidecar["env"])
    if (e["name"] == "OOMSCOPE_MEMORY_LIMIT_BYTES")
      limit_env = e["valueFrom"]["resourceFieldRef"] ==
                  json{{"containerName", "api"}, {"resource", "limits.memory"}, {"divisor", "1"}};
  CHECK(limit_env);
  std::optional<json> saved = SavedOriginal(d);
  REQUIRE(saved);
  CHECK((*saved)["diagnosis"] == "leaky-api-oom-1");
  CHECK((*saved)["replicas"] == 3);
  CHECK((*saved)["probes"]["livenessProbe"] == Api(Deployment())["livenessProbe"]);
}

TEST_CASE("the sidecar runs as the app's user when the app's container names one (not root)") {
  json d = Deployment();
  d["spec"]["template"]["spec"]["containers"][0]["securityContext"] = {{"runAsUser", 1000}, {"runAsGroup", 3000}};
  Result<RecipeResult> r = ApplyRecipe(d, Options());
  REQUIRE(r.ok());
  const json& sc = r->deployment["spec"]["template"]["spec"]["initContainers"][0]["securityContext"];
  CHECK(sc["runAsUser"] == 1000);
  CHECK(sc["runAsGroup"] == 3000);
  CHECK(sc["allowPrivilegeEscalation"] == false);
  d["spec"]["template"]["spec"]["containers"][0]["securityContext"] = {{"runAsUser", 0}, {"runAsGroup", 0}};
  r = ApplyRecipe(d, Options());
  REQUIRE(r.ok());
  const json& root = r->deployment["spec"]["template"]["spec"]["initContainers"][0]["securityContext"];
  CHECK_FALSE(root.contains("runAsUser"));
  CHECK_FALSE(root.contains("runAsGroup"));
}

TEST_CASE("NODE_OPTIONS: appended to a value, added when absent, expanded from a valueFrom") {
  struct Case {
    const char* name;
    std::function<void(json&)> edit;
    std::string want_value;
    std::string want_renamed;  // OOMSCOPE_ORIGINAL_NODE_OPTIONS
  };
  const std::string flags = "--inspect=127.0.0.1:9229 --heapsnapshot-near-heap-limit=1 --diagnostic-dir=/oomscope";
  std::vector<Case> cases = {
      {"absent", [](json&) {}, flags, "<absent>"},
      {"a value",
       [](json& c) { c["env"].push_back({{"name", "NODE_OPTIONS"}, {"value", "--max-old-space-size=400"}}); },
       "--max-old-space-size=400 " + flags, "<absent>"},
      {"empty", [](json& c) { c["env"].push_back({{"name", "NODE_OPTIONS"}, {"value", ""}}); }, flags, "<absent>"},
      {"no env at all", [](json& c) { c.erase("env"); }, flags, "<absent>"},
      {"valueFrom",
       [](json& c) {
         c["env"].push_back({{"name", "NODE_OPTIONS"},
                             {"valueFrom", {{"configMapKeyRef", {{"name", "node"}, {"key", "options"}}}}}});
       },
       "$(OOMSCOPE_ORIGINAL_NODE_OPTIONS) " + flags, "<valueFrom>"},
  };
  for (const Case& c : cases) {
    CAPTURE(c.name);
    json d = Deployment();
    c.edit(d["spec"]["template"]["spec"]["containers"][0]);
    Result<RecipeResult> r = ApplyRecipe(d, Options());
    REQUIRE(r.ok());
    const json& api = Api(r->deployment);
    CHECK(EnvValue(api, "NODE_OPTIONS") == c.want_value);
    CHECK(EnvValue(api, "OOMSCOPE_ORIGINAL_NODE_OPTIONS") == c.want_renamed);
    if (c.want_renamed != "<absent>") {
      // $(VAR) only expands variables defined earlier in the list.
      const json& env = api["env"];
      size_t renamed = 0, options = 0;
      for (size_t i = 0; i < env.size(); ++i) {
        if (env[i]["name"] == "OOMSCOPE_ORIGINAL_NODE_OPTIONS") renamed = i;
        if (env[i]["name"] == "NODE_OPTIONS") options = i;
      }
      CHECK(renamed + 1 == options);
      bool said = false;
      for (const std::string& note : r->notes) said |= note.find("valueFrom") != std::string::npos;
      CHECK(said);
    }
    Result<json> restored = RestoreRecipe(r->deployment);
    REQUIRE(restored.ok());
    CHECK(*restored == d);
  }
}

TEST_CASE("memory: the cap from oomscope.io/max-memory, and no limit at all") {
  struct Case {
    const char* name;
    std::string cap;  // empty: no annotation
    std::string limit;  // empty: no limit
    std::string want_limit;
    bool affordable;
  };
  for (const Case& c : std::vector<Case>{{"no cap", "", "512Mi", FormatQuantity(Needed(512ll << 20)), true},
                                         {"generous cap", "64Gi", "512Mi", FormatQuantity(Needed(512ll << 20)), true},
                                         {"tight cap", "1Gi", "512Mi", "1Gi", false},
                                         {"cap below the limit never lowers it", "256Mi", "512Mi", "512Mi", false},
                                         {"odd limit rounds up to Mi", "", "100M", FormatQuantity(Needed(100000000)), true},
                                         {"no limit", "", "", "", true}}) {
    CAPTURE(c.name);
    json d = Deployment();
    if (!c.cap.empty()) d["metadata"]["annotations"]["oomscope.io/max-memory"] = c.cap;
    json& res = d["spec"]["template"]["spec"]["containers"][0]["resources"];
    if (c.limit.empty()) res.erase("limits");
    else res["limits"]["memory"] = c.limit;
    Result<RecipeResult> r = ApplyRecipe(d, Options());
    REQUIRE(r.ok());
    const json& api = Api(r->deployment);
    if (c.want_limit.empty()) {
      CHECK_FALSE(r->memory_limit.has_value());
      CHECK(api["resources"] == res);
    } else {
      CHECK(api["resources"]["limits"]["memory"] == c.want_limit);
    }
    CHECK(r->snapshot_affordable == c.affordable);
    if (!c.affordable) {
      REQUIRE_FALSE(r->notes.empty());
      CHECK(r->notes.back().find("max-memory") != std::string::npos);
    }
    Result<json> restored = RestoreRecipe(r->deployment);
    REQUIRE(restored.ok());
    CHECK(*restored == d);
  }
}

TEST_CASE("restore puts back exactly what the recipe touched, across template shapes") {
  struct Case {
    const char* name;
    std::function<void(json&)> edit;  // on the Deployment before the recipe
    bool native = true;
    bool token = true;
  };
  std::vector<Case> cases = {
      {"the fixture", [](json&) {}},
      {"plain sidecar container", [](json&) {}, false},
      {"no token", [](json&) {}, true, false},
      {"no probes, a startup probe",
       [](json& d) {
         json& c = d["spec"]["template"]["spec"]["containers"][0];
         c.erase("livenessProbe");
         c.erase("readinessProbe");
         c["startupProbe"] = {{"exec", {{"command", {"true"}}}}};
       }},
      {"no replicas field", [](json& d) { d["spec"].erase("replicas"); }},
      {"existing volumes, mounts and init containers",
       [](json& d) {
         json& pod = d["spec"]["template"]["spec"];
         pod["volumes"] = json::array({{{"name", "data"}, {"emptyDir", json::object()}}});
         pod["initContainers"] = json::array({{{"name", "migrate"}, {"image", "busybox"}}});
         pod["containers"][0]["volumeMounts"] = json::array({{{"name", "data"}, {"mountPath", "/data"}}});
       }},
      {"no memory request", [](json& d) { d["spec"]["template"]["spec"]["containers"][0]["resources"].erase("requests"); }},
      {"second container targeted",
       [](json& d) {
         d["spec"]["template"]["spec"]["containers"].push_back({{"name", "proxy"}, {"image", "envoy"}});
         d["metadata"]["annotations"]["oomscope.io/container"] = "api";
       }},
  };
  for (const Case& c : cases) {
    CAPTURE(c.name);
    json d = Deployment();
    c.edit(d);
    Result<RecipeResult> r = ApplyRecipe(d, Options(c.native, c.token));
    REQUIRE(r.ok());
    CHECK(r->deployment != d);
    Result<json> restored = RestoreRecipe(r->deployment);
    REQUIRE(restored.ok());
    CHECK(*restored == d);
  }
}

TEST_CASE("restore keeps what the user changed meanwhile") {
  json d = Deployment();
  Result<RecipeResult> r = ApplyRecipe(d, Options());
  REQUIRE(r.ok());
  json changed = r->deployment;
  json& api = changed["spec"]["template"]["spec"]["containers"][0];
  api["image"] = "node:22";
  api["env"].push_back({{"name", "FEATURE_X"}, {"value", "on"}});
  api["resources"]["requests"]["cpu"] = "200m";
  changed["metadata"]["labels"]["team"] = "payments";
  changed["metadata"]["resourceVersion"] = "123";
  Result<json> restored = RestoreRecipe(changed);
  REQUIRE(restored.ok());
  json want = d;
  json& want_api = want["spec"]["template"]["spec"]["containers"][0];
  want_api["image"] = "node:22";
  want_api["env"].push_back({{"name", "FEATURE_X"}, {"value", "on"}});
  want_api["resources"]["requests"]["cpu"] = "200m";
  want["metadata"]["labels"]["team"] = "payments";
  want["metadata"]["resourceVersion"] = "123";
  CHECK(*restored == want);
}

TEST_CASE("the recipe refuses twice, a taken sidecar name, and a missing container") {
  Result<RecipeResult> once = ApplyRecipe(Deployment(), Options());
  REQUIRE(once.ok());
  CHECK(ApplyRecipe(once->deployment, Options()).status().code() == Code::kFailedPrecondition);
  CHECK(RestoreRecipe(Deployment()).status().code() == Code::kFailedPrecondition);

  json taken = Deployment();
  taken["spec"]["template"]["spec"]["containers"].push_back({{"name", "oomscope-sidecar"}, {"image", "x"}});
  CHECK(ApplyRecipe(taken, Options()).status().code() == Code::kFailedPrecondition);

  RecipeOptions other = Options();
  other.container = "worker";
  CHECK(ApplyRecipe(Deployment(), other).status().code() == Code::kNotFound);

  json d = Deployment();
  CHECK(*TargetContainer(d) == "api");
  d["metadata"]["annotations"]["oomscope.io/container"] = "worker";
  CHECK(TargetContainer(d).status().code() == Code::kNotFound);
  CHECK(OptedIn(Deployment()));
  d["metadata"]["annotations"]["oomscope.io/enabled"] = "yes";
  CHECK_FALSE(OptedIn(d));
}

TEST_CASE("an HPA is pinned to one replica and restored exactly") {
  for (bool with_min : {true, false}) {
    CAPTURE(with_min);
    json h = testing::Hpa(with_min);
    Result<json> pinned = PinHPA(h, "leaky-api-oom-1");
    REQUIRE(pinned.ok());
    CHECK((*pinned)["spec"]["minReplicas"] == 1);
    CHECK((*pinned)["spec"]["maxReplicas"] == 1);
    CHECK(PinHPA(*pinned, "again").status().code() == Code::kFailedPrecondition);
    Result<json> restored = RestoreHPA(*pinned);
    REQUIRE(restored.ok());
    CHECK(*restored == h);
  }
}

}  // namespace
}  // namespace oomscope::op
