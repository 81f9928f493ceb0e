#include "sidecar_mode.h"

#include <chrono>

#include "oomscope/common/backoff.h"

namespace oomscope::op {

bool SupportsNativeSidecar(const kube::ServerVersion& version) { return version.AtLeast(1, 29); }

bool DecideNativeSidecar(const std::string& mode, kube::KubeClient& client, const kube::StopSignal& stop,
                         std::string* why) {
  if (mode == "true" || mode == "false") {
    *why = "--native-sidecar " + mode;
    return mode == "true";
  }
  Backoff backoff(std::chrono::milliseconds(200), std::chrono::seconds(5));
  Status last;
  for (int attempt = 0; attempt < 6 && !stop.stopped(); ++attempt) {
    Result<kube::ServerVersion> v = client.Version();
    if (v.ok()) {
      const bool native = SupportsNativeSidecar(*v);
      *why = "server " + v->git_version + (native ? " >= 1.29" : " < 1.29");
      return native;
    }
    last = v.status();
    // A server that refuses /version (403, 404) will not change its mind.
    if (!last.retryable()) break;
    stop.WaitFor(backoff.Next());
  }
  *why = "GET /version failed (" + last.message() + "): a plain container, which every version runs";
  return false;
}

}  // namespace oomscope::op
