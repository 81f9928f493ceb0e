#pragma once

// Which API resource a call is about, and the URL paths the API server serves it under.

#include <string>
#include <string_view>

namespace oomscope::kube {

// A resource type, as in client-go's GroupVersionResource plus the two facts a client needs to
// build URLs and objects: whether it is namespaced, and its Kind. Group "" is the core group.
struct ResourceRef {
  std::string group;      // "", "apps", "oomscope.io"
  std::string version;    // "v1", "v1alpha1"
  std::string resource;   // plural, lower case: "pods", "heapdiagnoses"
  std::string kind;       // "Pod", "HeapDiagnosis"
  bool namespaced = true;

  // "v1" or "apps/v1": the apiVersion of objects of this type.
  std::string ApiVersion() const;
  // "/api/v1" or "/apis/apps/v1".
  std::string GroupVersionPath() const;
  // The collection path: "/api/v1/namespaces/NS/pods", or "/api/v1/pods" when `ns` is empty
  // (all namespaces) or the resource is cluster-scoped.
  std::string CollectionPath(std::string_view ns) const;
  // The object path, optionally with a subresource: ".../deployments/NAME/scale".
  std::string ObjectPath(std::string_view ns, std::string_view name,
                         std::string_view subresource = "") const;
  // "deployments.apps" (or "pods"): the name RBAC and Status details use.
  std::string GroupResource() const;

  friend bool operator==(const ResourceRef&, const ResourceRef&) = default;
};

// The resources oomscope uses.
namespace resources {
const ResourceRef& Pods();                     // v1 pods
const ResourceRef& Secrets();                  // v1 secrets
const ResourceRef& Namespaces();               // v1 namespaces (cluster-scoped)
const ResourceRef& CoreEvents();               // v1 events (read-only use; we write events.k8s.io)
const ResourceRef& ReplicaSets();              // apps/v1 replicasets
const ResourceRef& Deployments();              // apps/v1 deployments (+ subresources scale, status)
const ResourceRef& HorizontalPodAutoscalers(); // autoscaling/v2 horizontalpodautoscalers
const ResourceRef& Events();                   // events.k8s.io/v1 events
const ResourceRef& Leases();                   // coordination.k8s.io/v1 leases
const ResourceRef& HeapDiagnoses();            // oomscope.io/v1alpha1 heapdiagnoses (+ status)
}  // namespace resources

// Percent-encodes a query parameter value (RFC 3986 unreserved characters stay).
std::string UrlEncode(std::string_view s);

}  // namespace oomscope::kube
