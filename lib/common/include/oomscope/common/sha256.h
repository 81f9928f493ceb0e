#pragma once

#include <memory>
#include <string>
#include <string_view>

#include "oomscope/common/status.h"

namespace oomscope {

// Incremental SHA-256 (OpenSSL underneath): the content hash that makes uploads idempotent.
class Sha256 {
 public:
  Sha256();
  ~Sha256();
  Sha256(const Sha256&) = delete;
  Sha256& operator=(const Sha256&) = delete;
  void Update(std::string_view data);
  std::string HexDigest();  // 64 lowercase hex digits; the object is spent afterwards

 private:
  struct Impl;
  std::unique_ptr<Impl> impl_;
};

// Hashes a file in fixed-size pieces (memory stays flat whatever its size).
Result<std::string> Sha256File(const std::string& path);

}  // namespace oomscope
