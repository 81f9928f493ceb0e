#include "oomscope/kube/config.h"

namespace oomscope::kube {

std::string DefaultUserAgent() { return std::string("oomscope-operator/") + OOMSCOPE_VERSION; }
Result<ClusterConfig> InClusterConfig(const InClusterPaths&) { return Internal("skeleton"); }
std::string InClusterNamespace(const InClusterPaths&) { return ""; }
Result<ClusterConfig> LoadKubeconfig(const std::string&, std::string_view) { return Internal("skeleton"); }
Result<ClusterConfig> ParseKubeconfig(std::string_view, const std::string&, std::string_view) {
  return Internal("skeleton");
}
Result<ClusterConfig> ResolveConfig(const std::string&) { return Internal("skeleton"); }

}  // namespace oomscope::kube
