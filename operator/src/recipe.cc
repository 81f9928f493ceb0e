#include "recipe.h"

#include <algorithm>
#include <cmath>

#include "oomscope/common/snapshot_cost.h"
#include "oomscope/common/config.h"

namespace oomscope::op {
namespace {

using nlohmann::json;

std::optional<std::string> Annotation(const json& object, const char* key) {
  const json* a = object.contains("metadata") ? &object["metadata"] : nullptr;
  if (!a || !a->contains("annotations") || !(*a)["annotations"].is_object()) return std::nullopt;
  auto it = (*a)["annotations"].find(key);
  if (it == (*a)["annotations"].end() || !it->is_string()) return std::nullopt;
  return it->get<std::string>();
}

// Index of the element of `list` whose "name" is `name`, or -1.
int FindNamed(const json& list, const std::string& name) {
  if (!list.is_array()) return -1;
  for (size_t i = 0; i < list.size(); ++i)
    if (list[i].is_object() && list[i].value("name", "") == name) return static_cast<int>(i);
  return -1;
}

void EraseNamed(json& parent, const char* key, const std::string& name) {
  if (!parent.contains(key)) return;
  int i = FindNamed(parent[key], name);
  if (i >= 0) parent[key].erase(static_cast<size_t>(i));
}

// Removes `parent[key]` when the recipe created it and it is empty again.
void EraseIfCreatedAndEmpty(json& parent, const char* key, const json& created) {
  if (!parent.contains(key) || !parent[key].empty()) return;
  if (std::find(created.begin(), created.end(), json(key)) != created.end()) parent.erase(key);
}

// Makes `parent[key]` an array, noting in `created` when it did not exist.
json& EnsureArray(json& parent, const char* key, json& created) {
  if (!parent.contains(key) || parent[key].is_null()) {
    parent[key] = json::array();
    created.push_back(key);
  }
  return parent[key];
}

// Removes the saved original, and the annotations map when nothing else is left in it.
void EraseAnnotation(json& object) {
  json& annotations = object["metadata"]["annotations"];
  annotations.erase(kOriginalAnnotation);
  if (annotations.empty()) object["metadata"].erase("annotations");
}

json SidecarContainer(const json& deployment, const RecipeOptions& o) {
  json env = json::array({
      {{"name", "POD_NAME"}, {"valueFrom", {{"fieldRef", {{"fieldPath", "metadata.name"}}}}}},
      {{"name", "POD_NAMESPACE"}, {"valueFrom", {{"fieldRef", {{"fieldPath", "metadata.namespace"}}}}}},
      {{"name", "CONTAINER_NAME"}, {"value", o.container}},
      {{"name", "WORKLOAD_NAME"}, {"value", deployment["metadata"].value("name", "")}},
      // The app container's limit, for the sidecar's headroom check before a capture.
      {{"name", "OOMSCOPE_MEMORY_LIMIT_BYTES"},
       {"valueFrom",
        {{"resourceFieldRef", {{"containerName", o.container}, {"resource", "limits.memory"}, {"divisor", "1"}}}}}},
      {{"name", "OOMSCOPE_INSPECTOR"}, {"value", "127.0.0.1:9229"}},
      {{"name", "OOMSCOPE_SPOOL_DIR"}, {"value", std::string(kSharedMountPath) + "/spool"}},
      {{"name", "OOMSCOPE_DIAGNOSTIC_DIR"}, {"value", kSharedMountPath}},
  });
  if (!o.analyzer_url.empty()) env.push_back({{"name", "OOMSCOPE_ANALYZER_URL"}, {"value", o.analyzer_url}});
  json mounts = json::array({{{"name", kSpoolVolume}, {"mountPath", kSharedMountPath}}});
  if (o.upload_token) {
    env.push_back({{"name", "OOMSCOPE_TOKEN_FILE"}, {"value", std::string(kTokenMountPath) + "/token"}});
    mounts.push_back({{"name", kTokenVolume}, {"mountPath", kTokenMountPath}, {"readOnly", true}});
  }
  json c = {{"name", kSidecarName},
            {"image", o.sidecar_image},
            {"imagePullPolicy", "IfNotPresent"},
            {"env", env},
            {"volumeMounts", mounts},
            {"resources", {{"requests", {{"cpu", "10m"}, {"memory", "32Mi"}}}, {"limits", {{"memory", "64Mi"}}}}}};
  if (o.native_sidecar) c["restartPolicy"] = "Always";
  // Least privilege; and the app's user when its container names one (a pod-level user applies
  // to both already), so that the app can write its snapshots into the shared volume for the
  // sidecar to read (docs/sidecar.md, "Capture modes"). Root is not copied: the sidecar stays
  // non-root, and streams.
  json security = {{"allowPrivilegeEscalation", false},
                   {"readOnlyRootFilesystem", true},
                   {"capabilities", {{"drop", json::array({"ALL"})}}}};
  for (const json& app : deployment.value("/spec/template/spec/containers"_json_pointer, json::array())) {
    if (app.value("name", "") != o.container || !app.contains("securityContext")) continue;
    const json& sc = app["securityContext"];
    if (sc.value("runAsUser", int64_t{0}) > 0) security["runAsUser"] = sc["runAsUser"];
    if (sc.value("runAsGroup", int64_t{0}) > 0 && security.contains("runAsUser")) security["runAsGroup"] = sc["runAsGroup"];
  }
  c["securityContext"] = std::move(security);
  return c;
}

// NODE_OPTIONS gains the inspector (and Node's own near-limit snapshot). Returns the saved entries.
json EditNodeOptions(json& container, std::vector<std::string>& notes, json& created) {
  std::string flags = std::string(kInspectFlag) + " " + kNodeWritesFlags;
  json& env = EnsureArray(container, "env", created);
  json saved = json::array();
  int i = FindNamed(env, "NODE_OPTIONS");
  if (i < 0) {
    if (container.contains("envFrom"))
      notes.push_back("NODE_OPTIONS is not in env; if envFrom sets it, the recipe's value replaces it until the restore");
    env.push_back({{"name", "NODE_OPTIONS"}, {"value", flags}});
    saved.push_back({{"name", "NODE_OPTIONS"}, {"entry", nullptr}});
  } else if (env[i].contains("valueFrom")) {
    // Kubernetes expands $(VAR) in a value from the entries defined before it: keep the original
    // source under another name and build the new value from it.
    saved.push_back({{"name", "NODE_OPTIONS"}, {"entry", env[i]}});
    saved.push_back({{"name", kRenamedNodeOptions}, {"entry", nullptr}});
    env[i]["name"] = kRenamedNodeOptions;
    env.insert(env.begin() + i + 1,
               json{{"name", "NODE_OPTIONS"}, {"value", std::string("$(") + kRenamedNodeOptions + ") " + flags}});
    notes.push_back(std::string("NODE_OPTIONS came from valueFrom: it is now ") + kRenamedNodeOptions +
                    " and NODE_OPTIONS expands it, followed by the inspector flags");
  } else {
    saved.push_back({{"name", "NODE_OPTIONS"}, {"entry", env[i]}});
    std::string value = env[i].value("value", "");
    env[i]["value"] = value.empty() ? flags : value + " " + flags;
  }
  return saved;
}

}  // namespace

bool OptedIn(const json& deployment) { return Annotation(deployment, kEnabledAnnotation) == "true"; }

std::optional<json> SavedOriginal(const json& object) {
  std::optional<std::string> text = Annotation(object, kOriginalAnnotation);
  if (!text) return std::nullopt;
  json parsed = json::parse(*text, nullptr, /*allow_exceptions=*/false);
  if (!parsed.is_object()) return std::nullopt;
  return parsed;
}

Result<std::string> TargetContainer(const json& deployment) {
  const json containers = deployment.value("/spec/template/spec/containers"_json_pointer, json::array());
  if (!containers.is_array() || containers.empty()) return NotFound("the pod template has no containers");
  if (std::optional<std::string> named = Annotation(deployment, kContainerAnnotation)) {
    if (FindNamed(containers, *named) < 0)
      return NotFound("oomscope.io/container names \"" + *named + "\", which the pod template does not have");
    return *named;
  }
  return containers[0].value("name", "");
}

Result<RecipeResult> ApplyRecipe(const json& deployment, const RecipeOptions& o) {
  if (SavedOriginal(deployment)) return FailedPrecondition("the recipe is already applied");
  RecipeResult r;
  r.deployment = deployment;
  json& d = r.deployment;
  json& pod = d["spec"]["template"]["spec"];
  int ci = FindNamed(pod["containers"], o.container);
  if (ci < 0) return NotFound("container \"" + o.container + "\" is not in the pod template");
  if (FindNamed(pod["containers"], kSidecarName) >= 0 || FindNamed(pod.value("initContainers", json()), kSidecarName) >= 0)
    return FailedPrecondition(std::string("the pod template already has a container named ") + kSidecarName);
  json created = json::array();
  json orig = {{"diagnosis", o.diagnosis}, {"container", o.container}};

  orig["replicas"] = d["spec"].contains("replicas") ? d["spec"]["replicas"] : json(nullptr);
  d["spec"]["replicas"] = 1;

  json& c = pod["containers"][static_cast<size_t>(ci)];
  orig["env"] = EditNodeOptions(c, r.notes, created);

  json probes = json::object();
  for (const char* p : {"livenessProbe", "readinessProbe", "startupProbe"}) {
    probes[p] = c.contains(p) ? c[p] : json(nullptr);
    c.erase(p);
  }
  orig["probes"] = probes;

  orig["memory"] = nullptr;
  const json* limit_text = c.contains("resources") ? &c["resources"] : nullptr;
  if (limit_text && c["resources"].contains("limits") && c["resources"]["limits"].contains("memory"))
    limit_text = &c["resources"]["limits"]["memory"];
  else
    limit_text = nullptr;
  if (!limit_text || !limit_text->is_string()) {
    r.notes.push_back("the container has no memory limit: the recipe leaves its resources as they are");
  } else {
    Result<int64_t> limit = ParseQuantity(limit_text->get<std::string>());
    if (!limit.ok()) return limit.status();
    SnapshotCost cost = kDefaultSnapshotCost;
    cost.rss_growth_per_file_byte = o.memory_factor;
    // At the OOM the heap had grown to about the limit; writing its snapshot costs on top of that.
    int64_t needed = *limit + static_cast<int64_t>(cost.PeakGrowthBytes(static_cast<uint64_t>(*limit)));
    const int64_t mi = int64_t{1} << 20;
    needed = (needed + mi - 1) / mi * mi;
    int64_t new_limit = needed;
    if (std::optional<std::string> cap_text = Annotation(d, kMaxMemoryAnnotation)) {
      Result<int64_t> cap = ParseQuantity(*cap_text);
      if (!cap.ok()) {
        r.notes.push_back("oomscope.io/max-memory is not a quantity (" + *cap_text + "); no cap applied");
      } else if (*cap < needed) {
        new_limit = std::max(*cap, *limit);
        r.snapshot_affordable = false;
        r.notes.push_back("oomscope.io/max-memory caps the limit at " + FormatQuantity(new_limit) +
                          "; a full heap snapshot needs about " + FormatQuantity(needed) +
                          ", so the pod may be OOMKilled while writing one");
      }
    }
    json saved = {{"limit", *limit_text}, {"request", nullptr}};
    json& res = c["resources"];
    if (res.contains("requests") && res["requests"].contains("memory") && res["requests"]["memory"].is_string()) {
      saved["request"] = res["requests"]["memory"];
      Result<int64_t> request = ParseQuantity(res["requests"]["memory"].get<std::string>());
      if (!request.ok()) return request.status();
      // The request grows by what the limit grows by, so the scheduler reserves the snapshot's cost.
      res["requests"]["memory"] = FormatQuantity(std::min(new_limit, *request + (new_limit - *limit)));
    }
    res["limits"]["memory"] = FormatQuantity(new_limit);
    orig["memory"] = saved;
    r.memory_limit = new_limit;
  }

  json& mounts = EnsureArray(c, "volumeMounts", created);
  mounts.push_back({{"name", kSpoolVolume}, {"mountPath", kSharedMountPath}});
  json& volumes = EnsureArray(pod, "volumes", created);
  volumes.push_back({{"name", kSpoolVolume}, {"emptyDir", json::object()}});
  json added_volumes = json::array({kSpoolVolume});
  if (o.upload_token) {
    volumes.push_back({{"name", kTokenVolume}, {"secret", {{"secretName", kTokenSecret}}}});
    added_volumes.push_back(kTokenVolume);
  }
  orig["volumes"] = added_volumes;
  orig["volumeMounts"] = json::array({kSpoolVolume});

  const char* list = o.native_sidecar ? "initContainers" : "containers";
  EnsureArray(pod, list, created).push_back(SidecarContainer(d, o));
  orig["sidecar"] = list;
  orig["created"] = created;

  d["metadata"]["annotations"][kOriginalAnnotation] = orig.dump();
  return r;
}

Result<json> RestoreRecipe(const json& deployment) {
  std::optional<json> orig = SavedOriginal(deployment);
  if (!orig) return FailedPrecondition("the Deployment carries no saved original");
  json d = deployment;
  const json created = orig->value("created", json::array());
  if (orig->contains("replicas") && !(*orig)["replicas"].is_null())
    d["spec"]["replicas"] = (*orig)["replicas"];
  else
    d["spec"].erase("replicas");
  json& pod = d["spec"]["template"]["spec"];
  int ci = FindNamed(pod.value("containers", json::array()), orig->value("container", ""));
  if (ci >= 0) {
    json& c = pod["containers"][static_cast<size_t>(ci)];
    const json saved_env = orig->value("env", json::array());
    for (const json& saved : saved_env) {
      const std::string name = saved.value("name", "");
      if (!c.contains("env")) c["env"] = json::array();
      int i = FindNamed(c["env"], name);
      if (saved["entry"].is_null()) {
        if (i >= 0) c["env"].erase(static_cast<size_t>(i));
      } else if (i >= 0) {
        c["env"][static_cast<size_t>(i)] = saved["entry"];
      } else {
        c["env"].push_back(saved["entry"]);
      }
    }
    EraseIfCreatedAndEmpty(c, "env", created);
    const json saved_probes = orig->value("probes", json::object());
    for (const auto& [probe, value] : saved_probes.items()) {
      if (value.is_null())
        c.erase(probe);
      else
        c[probe] = value;
    }
    const json& memory = (*orig)["memory"];
    if (memory.is_object()) {
      c["resources"]["limits"]["memory"] = memory["limit"];
      if (memory["request"].is_null()) {
        if (c["resources"].contains("requests")) c["resources"]["requests"].erase("memory");
      } else {
        c["resources"]["requests"]["memory"] = memory["request"];
      }
    }
    const json saved_mounts = orig->value("volumeMounts", json::array());
    for (const json& name : saved_mounts) EraseNamed(c, "volumeMounts", name);
    EraseIfCreatedAndEmpty(c, "volumeMounts", created);
  }
  const std::string list = orig->value("sidecar", "");
  if (list == "initContainers" || list == "containers") {
    EraseNamed(pod, list.c_str(), kSidecarName);
    EraseIfCreatedAndEmpty(pod, list.c_str(), created);
  }
  const json saved_volumes = orig->value("volumes", json::array());
  for (const json& name : saved_volumes) EraseNamed(pod, "volumes", name);
  EraseIfCreatedAndEmpty(pod, "volumes", created);
  EraseAnnotation(d);
  return d;
}

Result<json> PinHPA(const json& hpa, const std::string& diagnosis) {
  if (SavedOriginal(hpa)) return FailedPrecondition("the HPA is already pinned");
  json h = hpa;
  json orig = {{"diagnosis", diagnosis},
               {"minReplicas", h["spec"].contains("minReplicas") ? h["spec"]["minReplicas"] : json(nullptr)},
               {"maxReplicas", h["spec"].value("maxReplicas", json(nullptr))}};
  h["spec"]["minReplicas"] = 1;
  h["spec"]["maxReplicas"] = 1;
  h["metadata"]["annotations"][kOriginalAnnotation] = orig.dump();
  return h;
}

Result<json> RestoreHPA(const json& hpa) {
  std::optional<json> orig = SavedOriginal(hpa);
  if (!orig) return FailedPrecondition("the HPA carries no saved original");
  json h = hpa;
  for (const char* key : {"minReplicas", "maxReplicas"}) {
    if (!orig->contains(key) || (*orig)[key].is_null())
      h["spec"].erase(key);
    else
      h["spec"][key] = (*orig)[key];
  }
  EraseAnnotation(h);
  return h;
}

}  // namespace oomscope::op
