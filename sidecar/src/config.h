#pragma once

#include <chrono>
#include <cstdint>
#include <map>
#include <string>
#include <vector>

#include "oomscope/common/status.h"

namespace oomscope::sidecar {

// Everything the sidecar is told, from flags or environment variables (flags win). The
// operator sets the environment; docs/sidecar.md lists every key.
struct Config {
  std::string inspector = "127.0.0.1:9229";  // OOMSCOPE_INSPECTOR, --inspector
  bool allow_remote_inspector = false;        // --allow-remote-inspector
  std::string analyzer_url;                   // OOMSCOPE_ANALYZER_URL, --analyzer-url ("" : spool only)
  std::string token_file;                     // OOMSCOPE_TOKEN_FILE, --token-file
  std::string spool_dir = "/var/lib/oomscope/spool";  // OOMSCOPE_SPOOL_DIR, --spool-dir
  uint64_t spool_max_bytes = 4ull << 30;      // OOMSCOPE_SPOOL_MAX_BYTES, --spool-max-bytes
  int series_count = 3;                       // OOMSCOPE_SERIES_COUNT, --count (0: no timed series)
  std::chrono::milliseconds series_interval{std::chrono::seconds(60)};  // OOMSCOPE_SERIES_INTERVAL_SECONDS, --interval
  // From the session's start to the first timed snapshot (OOMSCOPE_SERIES_INITIAL_DELAY_SECONDS,
  // --initial-delay; default one interval). A pod the recipe just restarted holds none of the
  // leak yet: a first snapshot taken before any traffic would see no owner to watch grow.
  std::chrono::milliseconds initial_delay{std::chrono::seconds(60)};
  std::string listen = "0.0.0.0:9464";        // OOMSCOPE_LISTEN, --listen (/metrics, /healthz, /capture)
  bool once = false;                          // --once: exit when the series is uploaded
  // OOMSCOPE_CAPTURE_MODE, --capture-mode: "auto" (the app writes each snapshot into the spool
  // itself when it shares the spool's directory, as in the recipe's pod), or "stream" (always
  // over the protocol). docs/sidecar.md, "Capture modes".
  std::string capture_mode = "auto";
  std::string diagnostic_dir;                 // OOMSCOPE_DIAGNOSTIC_DIR, --diagnostic-dir: Node's own snapshots
  std::string log_format = "json";            // OOMSCOPE_LOG_FORMAT, --log-format (json|text)
  bool gzip = false;                          // OOMSCOPE_GZIP, --gzip: Content-Encoding: gzip uploads
  // Threshold triggers: fractions of the app container's memory limit (downward API,
  // resourceFieldRef limits.memory) that heap used or RSS may cross; each fires once per series.
  uint64_t memory_limit_bytes = 0;            // OOMSCOPE_MEMORY_LIMIT_BYTES, --memory-limit (0: unknown)
  std::vector<double> heap_thresholds;        // OOMSCOPE_HEAP_THRESHOLDS, --heap-thresholds 0.6,0.8
  std::vector<double> rss_thresholds;         // OOMSCOPE_RSS_THRESHOLDS, --rss-thresholds 0.7
  std::chrono::milliseconds sample_interval{std::chrono::seconds(5)};  // OOMSCOPE_SAMPLE_INTERVAL_SECONDS, --sample-interval
  double snapshot_cost_factor = 0;            // OOMSCOPE_SNAPSHOT_COST_FACTOR, --snapshot-cost-factor:
                                              // peak RSS growth per heap byte (0: SnapshotCost default)
  // Who the snapshots are of (downward API): POD_NAME, POD_NAMESPACE, CONTAINER_NAME, WORKLOAD_NAME.
  std::string pod, ns, container, workload;
};

// Parses flags over the environment `env`. InvalidArgument with the offending key on a bad value.
Result<Config> ParseConfig(int argc, char** argv, const std::map<std::string, std::string>& env);
// "0.6,0.8": sorted fractions, each in (0, 1].
Result<std::vector<double>> ParseFractions(const std::string& text);
extern const char* const kConfigHelp;

}  // namespace oomscope::sidecar
