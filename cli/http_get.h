#pragma once

// A small blocking HTTP GET for the demo's polling of the analyzer (and /metrics). cpprestsdk
// underneath, confined to http_get_cpprest.cc.

#include <chrono>
#include <string>

#include "oomscope/common/status.h"

namespace oomscope::cli {

struct HttpResult {
  int status = 0;
  std::string body;
};

// GET `url` ("http://127.0.0.1:PORT/path?query"). A transport failure is Unavailable; any HTTP
// status is a result.
Result<HttpResult> HttpGet(const std::string& url, std::chrono::milliseconds timeout);

}  // namespace oomscope::cli
