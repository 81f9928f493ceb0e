#include "config.h"

#include "oomscope/common/config.h"

#include <algorithm>
#include <cstdlib>
#include <string_view>

namespace oomscope::sidecar {

const char* const kConfigHelp =
    "usage: oomscope-sidecar [options]   (each option also reads the environment variable shown)\n"
    "  --inspector HOST:PORT      OOMSCOPE_INSPECTOR               app's inspector (127.0.0.1:9229; loopback only)\n"
    "  --allow-remote-inspector                                    allow a non-loopback inspector\n"
    "  --analyzer-url URL         OOMSCOPE_ANALYZER_URL            where snapshots go (empty: keep them in the spool)\n"
    "  --token-file PATH          OOMSCOPE_TOKEN_FILE              upload token (a mounted Secret)\n"
    "  --spool-dir DIR            OOMSCOPE_SPOOL_DIR               snapshots waiting for upload\n"
    "  --spool-max-bytes N        OOMSCOPE_SPOOL_MAX_BYTES         bound of the spool (oldest dropped beyond)\n"
    "  --count N                  OOMSCOPE_SERIES_COUNT            snapshots in the timed series (3; 0: none)\n"
    "  --interval S               OOMSCOPE_SERIES_INTERVAL_SECONDS seconds between them (60)\n"
    "  --initial-delay S          OOMSCOPE_SERIES_INITIAL_DELAY_SECONDS  seconds from the session's start to the first\n"
    "                                                              timed snapshot (default: one interval, so a pod that\n"
    "                                                              just restarted serves traffic first)\n"
    "  --listen HOST:PORT         OOMSCOPE_LISTEN                  /metrics, /healthz, POST /capture (0.0.0.0:9464)\n"
    "  --log-format json|text     OOMSCOPE_LOG_FORMAT\n"
    "  --diagnostic-dir DIR       OOMSCOPE_DIAGNOSTIC_DIR          ship snapshots Node writes itself there\n"
    "                                                              (--heapsnapshot-near-heap-limit, --diagnostic-dir)\n"
    "  --gzip                     OOMSCOPE_GZIP=1                  upload with Content-Encoding: gzip (compressed while sent)\n"
    "  --memory-limit BYTES       OOMSCOPE_MEMORY_LIMIT_BYTES      the app container's memory limit (downward API\n"
    "                                                              resourceFieldRef limits.memory; 512Mi, 1Gi also read)\n"
    "  --heap-thresholds F,F      OOMSCOPE_HEAP_THRESHOLDS         capture when heap used crosses these fractions of the limit\n"
    "  --rss-thresholds F,F       OOMSCOPE_RSS_THRESHOLDS          capture when RSS crosses these fractions of the limit\n"
    "  --sample-interval S        OOMSCOPE_SAMPLE_INTERVAL_SECONDS seconds between memory samples (5)\n"
    "  --snapshot-cost-factor F   OOMSCOPE_SNAPSHOT_COST_FACTOR    peak RSS growth per heap byte while a snapshot is\n"
    "                                                              written (default 10; raised for the process when a\n"
    "                                                              capture measures more, docs/sidecar.md)\n"
    "  --capture-mode auto|stream OOMSCOPE_CAPTURE_MODE            auto: the app writes each snapshot into the spool itself\n"
    "                                                              when it can and the sidecar can read it (a shared volume,\n"
    "                                                              one user); stream: always over the inspector protocol\n"
    "  --once                                                      exit once the series is captured and uploaded\n"
    "  metadata from the downward API: POD_NAME, POD_NAMESPACE, CONTAINER_NAME, WORKLOAD_NAME\n";

Result<std::vector<double>> ParseFractions(const std::string& text) {
  std::vector<double> out;
  size_t at = 0;
  while (at <= text.size()) {
    size_t comma = text.find(',', at);
    std::string item = text.substr(at, comma == std::string::npos ? std::string::npos : comma - at);
    char* end = nullptr;
    double d = std::strtod(item.c_str(), &end);
    if (item.empty() || *end != '\0' || !(d > 0) || d > 1)
      return InvalidArgument("'" + item + "' is not a fraction in (0, 1]");
    out.push_back(d);
    if (comma == std::string::npos) break;
    at = comma + 1;
  }
  std::sort(out.begin(), out.end());
  return out;
}

Result<Config> ParseConfig(int argc, char** argv, const std::map<std::string, std::string>& env) {
  Config c;
  std::map<std::string, std::string> v;  // by flag name, environment first
  static const std::pair<const char*, const char*> kEnv[] = {
      {"inspector", "OOMSCOPE_INSPECTOR"},         {"analyzer-url", "OOMSCOPE_ANALYZER_URL"},
      {"token-file", "OOMSCOPE_TOKEN_FILE"},       {"spool-dir", "OOMSCOPE_SPOOL_DIR"},
      {"spool-max-bytes", "OOMSCOPE_SPOOL_MAX_BYTES"}, {"count", "OOMSCOPE_SERIES_COUNT"},
      {"interval", "OOMSCOPE_SERIES_INTERVAL_SECONDS"}, {"listen", "OOMSCOPE_LISTEN"},
      {"initial-delay", "OOMSCOPE_SERIES_INITIAL_DELAY_SECONDS"},
      {"log-format", "OOMSCOPE_LOG_FORMAT"}, {"diagnostic-dir", "OOMSCOPE_DIAGNOSTIC_DIR"},
      {"memory-limit", "OOMSCOPE_MEMORY_LIMIT_BYTES"}, {"heap-thresholds", "OOMSCOPE_HEAP_THRESHOLDS"},
      {"rss-thresholds", "OOMSCOPE_RSS_THRESHOLDS"}, {"sample-interval", "OOMSCOPE_SAMPLE_INTERVAL_SECONDS"},
      {"snapshot-cost-factor", "OOMSCOPE_SNAPSHOT_COST_FACTOR"}, {"capture-mode", "OOMSCOPE_CAPTURE_MODE"}};
  for (const auto& [flag, var] : kEnv) {
    auto it = env.find(var);
    if (it != env.end() && !it->second.empty()) v[flag] = it->second;
  }
  if (auto it = env.find("OOMSCOPE_GZIP"); it != env.end()) c.gzip = it->second == "1" || it->second == "true";
  for (int i = 1; i < argc; ++i) {
    std::string a = argv[i];
    if (a == "--gzip") {
      c.gzip = true;
    } else if (a == "--once") {
      c.once = true;
    } else if (a == "--allow-remote-inspector") {
      c.allow_remote_inspector = true;
    } else if (a.rfind("--", 0) == 0 && i + 1 < argc) {
      v[a.substr(2)] = argv[++i];
    } else {
      return InvalidArgument("unknown argument '" + a + "'");
    }
  }
  auto number = [&](const char* key, double lo, double hi, double* out) -> Status {
    auto it = v.find(key);
    if (it == v.end()) return Status::Ok();
    char* end = nullptr;
    double d = std::strtod(it->second.c_str(), &end);
    if (end == it->second.c_str() || *end != '\0' || d < lo || d > hi)
      return InvalidArgument(std::string(key) + ": '" + it->second + "' is not a number in range");
    *out = d;
    return Status::Ok();
  };
  double count = c.series_count, interval = 60, spool = static_cast<double>(c.spool_max_bytes);
  double sample = 5, cost = 0, initial_delay = -1;
  OOMSCOPE_RETURN_IF_ERROR(number("initial-delay", 0, 86400, &initial_delay));
  OOMSCOPE_RETURN_IF_ERROR(number("count", 0, 1000, &count));
  OOMSCOPE_RETURN_IF_ERROR(number("sample-interval", 0.05, 3600, &sample));
  OOMSCOPE_RETURN_IF_ERROR(number("snapshot-cost-factor", 0, 1000, &cost));
  c.sample_interval = std::chrono::milliseconds(static_cast<int64_t>(sample * 1000));
  c.snapshot_cost_factor = cost;
  if (auto it = v.find("memory-limit"); it != v.end()) {
    Result<int64_t> limit = ParseQuantity(it->second);
    if (!limit.ok()) return limit.status().WithContext("memory-limit");
    if (*limit < 0) return InvalidArgument("memory-limit: negative: " + it->second);
    c.memory_limit_bytes = static_cast<uint64_t>(*limit);
  }
  for (auto [key, out] : {std::pair{"heap-thresholds", &c.heap_thresholds}, std::pair{"rss-thresholds", &c.rss_thresholds}}) {
    if (auto it = v.find(key); it != v.end()) {
      Result<std::vector<double>> f = ParseFractions(it->second);
      if (!f.ok()) return f.status().WithContext(key);
      *out = *f;
    }
  }
  OOMSCOPE_RETURN_IF_ERROR(number("interval", 0, 86400, &interval));
  OOMSCOPE_RETURN_IF_ERROR(number("spool-max-bytes", 1 << 20, 1e15, &spool));
  c.series_count = static_cast<int>(count);
  c.series_interval = std::chrono::milliseconds(static_cast<int64_t>(interval * 1000));
  c.initial_delay = initial_delay < 0 ? c.series_interval
                                      : std::chrono::milliseconds(static_cast<int64_t>(initial_delay * 1000));
  c.spool_max_bytes = static_cast<uint64_t>(spool);
  for (const auto& [key, val] : v) {
    if (key == "inspector") c.inspector = val;
    else if (key == "analyzer-url") c.analyzer_url = val;
    else if (key == "token-file") c.token_file = val;
    else if (key == "spool-dir") c.spool_dir = val;
    else if (key == "listen") c.listen = val;
    else if (key == "log-format") c.log_format = val;
    else if (key == "diagnostic-dir") c.diagnostic_dir = val;
    else if (key == "capture-mode" && (val == "auto" || val == "stream")) c.capture_mode = val;
    else if (key == "capture-mode") return InvalidArgument("capture-mode: '" + val + "' is not auto or stream");
    else if (key != "count" && key != "interval" && key != "spool-max-bytes" && key != "memory-limit" &&
             key != "heap-thresholds" && key != "rss-thresholds" && key != "sample-interval" &&
             key != "snapshot-cost-factor" && key != "initial-delay")
      return InvalidArgument("unknown option --" + key);
  }
  auto get = [&](const char* k) {
    auto it = env.find(k);
    return it == env.end() ? std::string() : it->second;
  };
  c.pod = get("POD_NAME");
  c.ns = get("POD_NAMESPACE");
  c.container = get("CONTAINER_NAME");
  c.workload = get("WORKLOAD_NAME");
  return c;
}

}  // namespace oomscope::sidecar
