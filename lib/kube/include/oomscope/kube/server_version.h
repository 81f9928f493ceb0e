#pragma once

// The API server's version, from GET /version (readable by every authenticated user through the
// system:public-info-viewer ClusterRole), to choose features the server supports.

#include <string>

#include <nlohmann/json.hpp>

#include "oomscope/common/status.h"

namespace oomscope::kube {

struct ServerVersion {
  int major = 0;
  int minor = 0;
  std::string git_version;  // "v1.32.13"

  bool AtLeast(int want_major, int want_minor) const {
    return major > want_major || (major == want_major && minor >= want_minor);
  }
  std::string ToString() const { return std::to_string(major) + "." + std::to_string(minor); }
};

// From a /version answer: `major` "1" and `minor` "32" (managed clusters say "29+"); when those are
// empty or not numbers, from `gitVersion` ("v1.29.3-eks-1a2b3c"). InvalidArgument when neither
// reads.
Result<ServerVersion> ParseServerVersion(const nlohmann::json& version);

}  // namespace oomscope::kube
