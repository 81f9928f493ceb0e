#pragma once

// Small objects built in code, as the API server would return them, for the operator's tests.

#include <string>

#include <nlohmann/json.hpp>

namespace oomscope::op::testing {

using nlohmann::json;

// An opted-in Deployment "shop/leaky-api" with 3 replicas, probes, and a 512Mi limit.
inline json Deployment() {
  return json::parse(R"({
    "apiVersion": "apps/v1", "kind": "Deployment",
    "metadata": {"name": "leaky-api", "namespace": "shop", "uid": "dep-uid", "resourceVersion": "100",
                 "annotations": {"oomscope.io/enabled": "true"}},
    "spec": {"replicas": 3, "selector": {"matchLabels": {"app": "leaky-api"}},
      "template": {"metadata": {"labels": {"app": "leaky-api"}},
        "spec": {"containers": [{"name": "api", "image": "node:20",
          "env": [{"name": "NODE_ENV", "value": "production"}],
          "resources": {"requests": {"memory": "256Mi", "cpu": "100m"}, "limits": {"memory": "512Mi"}},
          "livenessProbe": {"httpGet": {"path": "/healthz", "port": 8080}},
          "readinessProbe": {"httpGet": {"path": "/ready", "port": 8080}}}]}}}})");
}

inline json ReplicaSet(const std::string& name = "leaky-api-d59884475", const std::string& owner_uid = "dep-uid") {
  return {{"apiVersion", "apps/v1"},
          {"kind", "ReplicaSet"},
          {"metadata",
           {{"name", name},
            {"namespace", "shop"},
            {"ownerReferences",
             json::array({{{"apiVersion", "apps/v1"}, {"kind", "Deployment"}, {"name", "leaky-api"},
                           {"uid", owner_uid}, {"controller", true}}})}}}};
}

// A pod of `rs` whose container "api" was OOMKilled `restarts` times, the last at `finished`.
inline json OomPod(const std::string& name, int restarts, const std::string& finished,
                   const std::string& rs = "leaky-api-d59884475") {
  return {{"apiVersion", "v1"},
          {"kind", "Pod"},
          {"metadata",
           {{"name", name},
            {"namespace", "shop"},
            {"ownerReferences", json::array({{{"apiVersion", "apps/v1"}, {"kind", "ReplicaSet"}, {"name", rs},
                                              {"uid", "rs-uid"}, {"controller", true}}})}}},
          {"status",
           {{"containerStatuses",
             json::array({{{"name", "api"},
                           {"restartCount", restarts},
                           {"state", {{"waiting", {{"reason", "CrashLoopBackOff"}}}}},
                           {"lastState",
                            {{"terminated",
                              {{"exitCode", 137}, {"reason", "OOMKilled"}, {"finishedAt", finished}}}}}}})}}}};
}

inline json Hpa(bool with_min = true) {
  json h = {{"apiVersion", "autoscaling/v2"},
            {"kind", "HorizontalPodAutoscaler"},
            {"metadata", {{"name", "leaky-api"}, {"namespace", "shop"}, {"resourceVersion", "50"}}},
            {"spec",
             {{"scaleTargetRef", {{"apiVersion", "apps/v1"}, {"kind", "Deployment"}, {"name", "leaky-api"}}},
              {"maxReplicas", 10}}}};
  if (with_min) h["spec"]["minReplicas"] = 2;
  return h;
}

}  // namespace oomscope::op::testing
