// The real KubeClient over cpprestsdk. cpprestsdk stays in this file.
#include "oomscope/kube/client.h"

namespace oomscope::kube {

Result<std::unique_ptr<KubeClient>> NewKubeClient(const ClusterConfig&) {
  return Internal("NewKubeClient: not implemented yet (skeleton)");
}

}  // namespace oomscope::kube
