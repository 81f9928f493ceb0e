#pragma once

// The bearer token, fixed or read from a file that the kubelet rotates (projected service-account
// tokens are replaced about hourly). The file is re-read at most every `refresh`, and on demand
// after a 401. Thread-safe.

#include <chrono>
#include <mutex>
#include <string>

namespace oomscope::kube {

class TokenSource {
 public:
  TokenSource(std::string token, std::string file, std::chrono::seconds refresh)
      : token_(std::move(token)), file_(std::move(file)), refresh_(refresh) {}

  // The current token ("" when none).
  std::string Get();
  // Re-reads the file now; true when that changed the token (worth retrying a 401).
  bool Refresh();

 private:
  bool ReadLocked();

  std::mutex mu_;
  std::string token_;
  const std::string file_;
  const std::chrono::seconds refresh_;
  std::chrono::steady_clock::time_point read_at_{};
  bool read_once_ = false;
};

}  // namespace oomscope::kube
