#include "oomscope/kube/resource.h"

namespace oomscope::kube {

std::string ResourceRef::ApiVersion() const { return group.empty() ? version : group + "/" + version; }

std::string ResourceRef::GroupVersionPath() const {
  return group.empty() ? "/api/" + version : "/apis/" + group + "/" + version;
}

std::string ResourceRef::CollectionPath(std::string_view ns) const {
  std::string p = GroupVersionPath();
  if (namespaced && !ns.empty()) p.append("/namespaces/").append(ns);
  return p + "/" + resource;
}

std::string ResourceRef::ObjectPath(std::string_view ns, std::string_view name,
                                    std::string_view subresource) const {
  std::string p = CollectionPath(ns);
  p.append("/").append(name);
  if (!subresource.empty()) p.append("/").append(subresource);
  return p;
}

std::string ResourceRef::GroupResource() const {
  return group.empty() ? resource : resource + "." + group;
}

namespace resources {
#define OOMSCOPE_RESOURCE(fn, g, v, r, k, nsd)        \
  const ResourceRef& fn() {                           \
    static const ResourceRef* ref = new ResourceRef{g, v, r, k, nsd}; \
    return *ref;                                      \
  }
OOMSCOPE_RESOURCE(Pods, "", "v1", "pods", "Pod", true)
OOMSCOPE_RESOURCE(Secrets, "", "v1", "secrets", "Secret", true)
OOMSCOPE_RESOURCE(Namespaces, "", "v1", "namespaces", "Namespace", false)
OOMSCOPE_RESOURCE(CoreEvents, "", "v1", "events", "Event", true)
OOMSCOPE_RESOURCE(ReplicaSets, "apps", "v1", "replicasets", "ReplicaSet", true)
OOMSCOPE_RESOURCE(Deployments, "apps", "v1", "deployments", "Deployment", true)
OOMSCOPE_RESOURCE(HorizontalPodAutoscalers, "autoscaling", "v2", "horizontalpodautoscalers",
                  "HorizontalPodAutoscaler", true)
OOMSCOPE_RESOURCE(Events, "events.k8s.io", "v1", "events", "Event", true)
OOMSCOPE_RESOURCE(Leases, "coordination.k8s.io", "v1", "leases", "Lease", true)
OOMSCOPE_RESOURCE(HeapDiagnoses, "oomscope.io", "v1alpha1", "heapdiagnoses", "HeapDiagnosis", true)
#undef OOMSCOPE_RESOURCE
}  // namespace resources

std::string UrlEncode(std::string_view s) {
  static const char* kHex = "0123456789ABCDEF";
  std::string out;
  out.reserve(s.size());
  for (unsigned char c : s) {
    if ((c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '-' ||
        c == '_' || c == '.' || c == '~') {
      out.push_back(static_cast<char>(c));
    } else {
      out.push_back('%');
      out.push_back(kHex[c >> 4]);
      out.push_back(kHex[c & 15]);
    }
  }
  return out;
}

}  // namespace oomscope::kube
