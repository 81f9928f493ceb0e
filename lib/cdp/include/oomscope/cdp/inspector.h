#pragma once

#include <chrono>
#include <cstdint>
#include <string>
#include <vector>

#include "oomscope/common/status.h"

namespace oomscope::cdp {

// Where a V8 inspector listens. The inspector is remote code execution: oomscope connects to a
// loopback address only, unless a caller explicitly allows otherwise.
struct Endpoint {
  std::string host;
  uint16_t port = 9229;
  std::string ToString() const;
};

// Parses "127.0.0.1:9229", "localhost:9229", "[::1]:9229" or a bare port ("9229").
// InvalidArgument for a malformed value, PermissionDenied for a non-loopback host without
// `allow_remote`.
Result<Endpoint> ParseEndpoint(const std::string& text, bool allow_remote = false);
bool IsLoopbackHost(const std::string& host);

// One debuggable target as /json/list describes it.
struct Target {
  std::string id, type, title, url, websocket_url;
};

// What /json/version says: "Browser" is "node.js/v20.20.2" for Node.
struct VersionInfo {
  std::string browser, protocol_version;
  std::string node_version;  // "v20.20.2", or "" when the inspector is not Node's
};

// Discovery over the inspector's HTTP endpoints. Unavailable when nothing listens (the app may
// still be starting: callers retry with backoff), Corruption for an unexpected answer.
Result<std::vector<Target>> ListTargets(const Endpoint& ep, std::chrono::milliseconds timeout);
Result<VersionInfo> GetVersion(const Endpoint& ep, std::chrono::milliseconds timeout);

}  // namespace oomscope::cdp
