#include "config.h"

#include <cstdlib>
#include <string_view>

extern char** environ;

namespace oomscope::sidecar {

const char* const kConfigHelp =
    "usage: oomscope-sidecar [options]   (each option also reads the environment variable shown)\n"
    "  --inspector HOST:PORT      OOMSCOPE_INSPECTOR               app's inspector (127.0.0.1:9229; loopback only)\n"
    "  --allow-remote-inspector                                    allow a non-loopback inspector\n"
    "  --analyzer-url URL         OOMSCOPE_ANALYZER_URL            where snapshots go (empty: keep them in the spool)\n"
    "  --token-file PATH          OOMSCOPE_TOKEN_FILE              upload token (a mounted Secret)\n"
    "  --spool-dir DIR            OOMSCOPE_SPOOL_DIR               snapshots waiting for upload\n"
    "  --spool-max-bytes N        OOMSCOPE_SPOOL_MAX_BYTES         bound of the spool (oldest dropped beyond)\n"
    "  --count N                  OOMSCOPE_SERIES_COUNT            snapshots in the timed series (3)\n"
    "  --interval S               OOMSCOPE_SERIES_INTERVAL_SECONDS seconds between them (60)\n"
    "  --listen HOST:PORT         OOMSCOPE_LISTEN                  /metrics, /healthz, POST /capture (0.0.0.0:9464)\n"
    "  --log-format json|text     OOMSCOPE_LOG_FORMAT\n"
    "  --diagnostic-dir DIR       OOMSCOPE_DIAGNOSTIC_DIR          ship snapshots Node writes itself there\n"
    "                                                              (--heapsnapshot-near-heap-limit, --diagnostic-dir)\n"
    "  --once                                                      exit once the series is captured and uploaded\n"
    "  metadata from the downward API: POD_NAME, POD_NAMESPACE, CONTAINER_NAME, WORKLOAD_NAME\n";

std::map<std::string, std::string> ProcessEnvironment() {
  std::map<std::string, std::string> env;
  for (char** e = environ; *e; ++e) {
    std::string_view kv(*e);
    size_t eq = kv.find('=');
    if (eq != std::string_view::npos) env.emplace(kv.substr(0, eq), kv.substr(eq + 1));
  }
  return env;
}

Result<Config> ParseConfig(int argc, char** argv, const std::map<std::string, std::string>& env) {
  Config c;
  std::map<std::string, std::string> v;  // by flag name, environment first
  static const std::pair<const char*, const char*> kEnv[] = {
      {"inspector", "OOMSCOPE_INSPECTOR"},         {"analyzer-url", "OOMSCOPE_ANALYZER_URL"},
      {"token-file", "OOMSCOPE_TOKEN_FILE"},       {"spool-dir", "OOMSCOPE_SPOOL_DIR"},
      {"spool-max-bytes", "OOMSCOPE_SPOOL_MAX_BYTES"}, {"count", "OOMSCOPE_SERIES_COUNT"},
      {"interval", "OOMSCOPE_SERIES_INTERVAL_SECONDS"}, {"listen", "OOMSCOPE_LISTEN"},
      {"log-format", "OOMSCOPE_LOG_FORMAT"}, {"diagnostic-dir", "OOMSCOPE_DIAGNOSTIC_DIR"}};
  for (const auto& [flag, var] : kEnv) {
    auto it = env.find(var);
    if (it != env.end() && !it->second.empty()) v[flag] = it->second;
  }
  for (int i = 1; i < argc; ++i) {
    std::string a = argv[i];
    if (a == "--once") {
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
  OOMSCOPE_RETURN_IF_ERROR(number("count", 1, 1000, &count));
  OOMSCOPE_RETURN_IF_ERROR(number("interval", 0, 86400, &interval));
  OOMSCOPE_RETURN_IF_ERROR(number("spool-max-bytes", 1 << 20, 1e15, &spool));
  c.series_count = static_cast<int>(count);
  c.series_interval = std::chrono::milliseconds(static_cast<int64_t>(interval * 1000));
  c.spool_max_bytes = static_cast<uint64_t>(spool);
  for (const auto& [key, val] : v) {
    if (key == "inspector") c.inspector = val;
    else if (key == "analyzer-url") c.analyzer_url = val;
    else if (key == "token-file") c.token_file = val;
    else if (key == "spool-dir") c.spool_dir = val;
    else if (key == "listen") c.listen = val;
    else if (key == "log-format") c.log_format = val;
    else if (key == "diagnostic-dir") c.diagnostic_dir = val;
    else if (key != "count" && key != "interval" && key != "spool-max-bytes")
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
