#pragma once

// A small blocking HTTP client for control-plane reads: the inspector's /json endpoints, the
// operator polling the analyzer, the demo polling its children. Bodies are small and read whole;
// streamed uploads have their own adapter (sidecar/src/uploader_cpprest.cc). cpprestsdk
// underneath, confined to client_cpprest.cc.

#include <chrono>
#include <map>
#include <string>

#include "oomscope/common/status.h"

namespace oomscope::http {

struct ClientResponse {
  int status = 0;
  std::string body;
};

// GET `url` ("http://host:port/path?query") with extra request `headers`. Any HTTP status is a
// result; a transport failure (refused, reset, timeout, bad URL) is Unavailable naming the URL.
Result<ClientResponse> Get(const std::string& url, std::chrono::milliseconds timeout,
                           const std::map<std::string, std::string>& headers = {});

}  // namespace oomscope::http
