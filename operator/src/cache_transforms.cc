#include "cache_transforms.h"

namespace oomscope::op {
namespace {

using nlohmann::json;

// Moves `key` from `from` into `to` when present.
void Take(json& from, json& to, const char* key) {
  if (from.contains(key)) to[key] = std::move(from[key]);
}

json SlimMetadata(json& obj) {
  json out = json::object();
  if (!obj.contains("metadata") || !obj["metadata"].is_object()) return out;
  json& md = obj["metadata"];
  for (const char* k : {"name", "namespace", "uid", "resourceVersion", "deletionTimestamp"}) Take(md, out, k);
  if (md.contains("ownerReferences") && md["ownerReferences"].is_array()) {
    for (json& ref : md["ownerReferences"]) {
      if (!ref.is_object() || !ref.value("controller", false)) continue;
      json kept = json::object();
      for (const char* k : {"apiVersion", "kind", "name", "uid", "controller"}) Take(ref, kept, k);
      out["ownerReferences"] = json::array({std::move(kept)});
      break;
    }
  }
  return out;
}

// {reason, exitCode, finishedAt} of `state`.terminated, or null.
json Terminated(const json& status, const char* state) {
  if (!status.contains(state) || !status.at(state).is_object()) return nullptr;
  const json& s = status.at(state);
  if (!s.contains("terminated") || !s.at("terminated").is_object()) return nullptr;
  const json& t = s.at("terminated");
  json out = json::object();
  for (const char* k : {"reason", "exitCode", "finishedAt"})
    if (t.contains(k)) out[k] = t.at(k);
  return out;
}

}  // namespace

void SlimPod(json& pod) {
  if (!pod.is_object()) return;
  json slim = {{"metadata", SlimMetadata(pod)}};
  if (pod.contains("status") && pod["status"].is_object()) {
    const json& status = pod["status"];
    json kept = json::array();
    if (status.contains("containerStatuses") && status.at("containerStatuses").is_array()) {
      for (const json& cs : status.at("containerStatuses")) {
        if (!cs.is_object()) continue;
        json state = Terminated(cs, "state"), last = Terminated(cs, "lastState");
        if (state.is_null() && last.is_null()) continue;
        json c = {{"name", cs.value("name", "")}, {"restartCount", cs.value("restartCount", 0)}};
        if (!state.is_null()) c["state"] = {{"terminated", std::move(state)}};
        if (!last.is_null()) c["lastState"] = {{"terminated", std::move(last)}};
        kept.push_back(std::move(c));
      }
    }
    if (!kept.empty()) slim["status"] = {{"containerStatuses", std::move(kept)}};
  }
  pod = std::move(slim);
}

void SlimReplicaSet(json& replicaset) {
  if (!replicaset.is_object()) return;
  json slim = {{"metadata", SlimMetadata(replicaset)}};
  replicaset = std::move(slim);
}

}  // namespace oomscope::op
