#pragma once

// A plain HTTP call for tests (the emulator's /_emulator endpoints, the operator's /metrics).

#include <string>

namespace oomscope::op::testing {

struct HttpAnswer {
  int status = 0;  // 0: no answer
  std::string body;
};

HttpAnswer HttpCall(const std::string& method, const std::string& url, const std::string& body = "");

}  // namespace oomscope::op::testing
