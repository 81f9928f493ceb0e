#pragma once

#include <cstdint>
#include <map>
#include <string>

#include "oomscope/common/status.h"

namespace oomscope::analyzer {

// Everything the analyzer is told, from flags or OOMSCOPE_<NAME> environment variables (flags
// win). contracts.md and --help list them.
struct Config {
  std::string listen = "0.0.0.0:8080";      // OOMSCOPE_LISTEN
  std::string store = "/var/lib/oomscope/store";  // OOMSCOPE_STORE
  std::string token_file;                   // OOMSCOPE_TOKEN_FILE ("" : uploads need no token)
  bool read_token = false;                  // OOMSCOPE_READ_TOKEN, --read-token: GETs need the token too
  uint64_t max_upload_bytes = 4ull << 30;   // OOMSCOPE_MAX_UPLOAD_BYTES
  double retention_age_seconds = 168 * 3600.0;  // OOMSCOPE_RETENTION_AGE
  uint64_t retention_bytes = 0;             // OOMSCOPE_RETENTION_BYTES (0: no bound but the disk)
  uint64_t memory_budget_bytes = 2ull << 30;  // OOMSCOPE_MEMORY_BUDGET_BYTES
  int concurrency = 1;                      // OOMSCOPE_CONCURRENCY
  double series_quiet_seconds = 300;        // OOMSCOPE_SERIES_QUIET: open-ended series complete after
  std::string log_format = "json";          // OOMSCOPE_LOG_FORMAT
};

Result<Config> ParseConfig(int argc, char** argv, const std::map<std::string, std::string>& env);
// Flag values through lib/common's shared syntax (oomscope/common/config.h).
// "1073741824", "4Gi", "512Mi", "1G": bytes.
Result<uint64_t> ParseBytes(const std::string& text);
// "168h", "30m", "10s", "1h30m", "90" (seconds).
Result<double> ParseDuration(const std::string& text);
extern const char* const kConfigHelp;

}  // namespace oomscope::analyzer
