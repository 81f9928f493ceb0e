#pragma once

// How the sidecar is injected: as a native sidecar (an init container with restartPolicy: Always;
// the SidecarContainers feature, beta and on by default since Kubernetes 1.29, GA in 1.33) when the
// API server is new enough, else as a plain container. --native-sidecar auto|true|false.

#include <string>

#include "oomscope/common/status.h"
#include "oomscope/kube/client.h"
#include "oomscope/kube/server_version.h"
#include "oomscope/kube/stop_signal.h"

namespace oomscope::op {

// Whether a server of this version runs init containers with restartPolicy: Always as sidecars.
bool SupportsNativeSidecar(const kube::ServerVersion& version);

// The decision for `mode` ("auto", "true", "false"): true and false as said; auto reads GET /version
// (retrying a few times with backoff; a server that never answers gets the plain container, which
// works everywhere). `why` says how it was decided, for the log.
bool DecideNativeSidecar(const std::string& mode, kube::KubeClient& client, const kube::StopSignal& stop,
                         std::string* why);

}  // namespace oomscope::op
