#pragma once

// What the operator asks the analyzer (contracts.md): the series of a workload. Behind a small
// interface so that reconcile stays pure and tests can answer in memory.

#include <memory>
#include <string>

#include <nlohmann/json.hpp>

#include "oomscope/common/status.h"

namespace oomscope::op {

class AnalyzerClient {
 public:
  virtual ~AnalyzerClient() = default;
  // GET /v1/series?namespace=NS&workload=NAME: the "series" array. Thread-safe.
  virtual Result<nlohmann::json> ListSeries(const std::string& ns, const std::string& workload) = 0;
};

// Over HTTP (lib/http's client). `token` (may be empty) goes as a Bearer.
std::unique_ptr<AnalyzerClient> MakeAnalyzerClient(const std::string& base_url, const std::string& token);

}  // namespace oomscope::op
