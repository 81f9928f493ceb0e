#include "config.h"

#include "oomscope/common/config.h"

namespace oomscope::analyzer {

const char* const kConfigHelp =
    "usage: oomscope-analyzer [options]   (each option also reads the environment variable shown)\n"
    "  --listen HOST:PORT            API, web UI, /healthz, /readyz, /metrics (OOMSCOPE_LISTEN; default 0.0.0.0:8080; port 0: any)\n"
    "  --store DIR                   the snapshot store (OOMSCOPE_STORE; default /var/lib/oomscope/store)\n"
    "  --token-file FILE             bearer token for uploads and deletes (OOMSCOPE_TOKEN_FILE; none: no auth)\n"
    "  --read-token                  GETs of /v1 need the token too (OOMSCOPE_READ_TOKEN)\n"
    "  --max-upload-bytes N          largest snapshot accepted, uncompressed (OOMSCOPE_MAX_UPLOAD_BYTES; default 4Gi)\n"
    "  --retention-age DURATION      series not updated for this long are deleted (OOMSCOPE_RETENTION_AGE; default 168h)\n"
    "  --retention-bytes N           bound on stored snapshot bytes; oldest series go first (OOMSCOPE_RETENTION_BYTES; 0: none)\n"
    "  --memory-budget-bytes N       memory analyses and upload checks may use at once (OOMSCOPE_MEMORY_BUDGET_BYTES; default 2Gi)\n"
    "  --concurrency N               analyses at once (OOMSCOPE_CONCURRENCY; default 1)\n"
    "  --series-quiet DURATION       an open-ended series is complete after this long without uploads (OOMSCOPE_SERIES_QUIET; default 5m)\n"
    "  --log-format json|text        (OOMSCOPE_LOG_FORMAT; default json)\n";

Result<uint64_t> ParseBytes(const std::string& text) {
  Result<int64_t> q = ParseQuantity(text);
  if (!q.ok()) return q.status();
  if (*q < 0) return InvalidArgument("a byte count cannot be negative: \"" + text + "\"");
  return static_cast<uint64_t>(*q);
}

Result<double> ParseDuration(const std::string& text) { return ParseDurationSeconds(text); }

Result<Config> ParseConfig(int argc, char** argv, const std::map<std::string, std::string>& env) {
  static const std::pair<const char*, const char*> kKeys[] = {
      {"listen", "OOMSCOPE_LISTEN"},
      {"store", "OOMSCOPE_STORE"},
      {"token-file", "OOMSCOPE_TOKEN_FILE"},
      {"max-upload-bytes", "OOMSCOPE_MAX_UPLOAD_BYTES"},
      {"retention-age", "OOMSCOPE_RETENTION_AGE"},
      {"retention-bytes", "OOMSCOPE_RETENTION_BYTES"},
      {"memory-budget-bytes", "OOMSCOPE_MEMORY_BUDGET_BYTES"},
      {"concurrency", "OOMSCOPE_CONCURRENCY"},
      {"series-quiet", "OOMSCOPE_SERIES_QUIET"},
      {"log-format", "OOMSCOPE_LOG_FORMAT"},
  };
  std::map<std::string, std::string> v;
  for (const auto& [flag, var] : kKeys)
    if (auto it = env.find(var); it != env.end() && !it->second.empty()) v[flag] = it->second;
  Config c;
  if (auto it = env.find("OOMSCOPE_READ_TOKEN"); it != env.end()) c.read_token = it->second == "1" || it->second == "true";
  for (int i = 1; i < argc; ++i) {
    std::string a = argv[i];
    if (a == "--read-token") {
      c.read_token = true;
      continue;
    }
    if (a.rfind("--", 0) != 0) return InvalidArgument("unexpected argument " + a);
    std::string name = a.substr(2), value;
    if (size_t eq = name.find('='); eq != std::string::npos) {
      value = name.substr(eq + 1);
      name = name.substr(0, eq);
    } else if (i + 1 < argc) {
      value = argv[++i];
    } else {
      return InvalidArgument("--" + name + " needs a value");
    }
    bool known = false;
    for (const auto& [flag, var] : kKeys) known = known || name == flag;
    if (!known) return InvalidArgument("unknown option --" + name);
    v[name] = value;
  }
  auto bytes = [&](const char* key, uint64_t* out) -> Status {
    if (!v.count(key)) return Status::Ok();
    Result<uint64_t> b = ParseBytes(v[key]);
    if (!b.ok()) return b.status().WithContext(std::string("--") + key);
    *out = *b;
    return Status::Ok();
  };
  auto duration = [&](const char* key, double* out) -> Status {
    if (!v.count(key)) return Status::Ok();
    Result<double> d = ParseDuration(v[key]);
    if (!d.ok()) return d.status().WithContext(std::string("--") + key);
    *out = *d;
    return Status::Ok();
  };
  if (v.count("listen")) c.listen = v["listen"];
  if (v.count("store")) c.store = v["store"];
  if (v.count("token-file")) c.token_file = v["token-file"];
  if (v.count("log-format")) c.log_format = v["log-format"];
  OOMSCOPE_RETURN_IF_ERROR(bytes("max-upload-bytes", &c.max_upload_bytes));
  OOMSCOPE_RETURN_IF_ERROR(bytes("retention-bytes", &c.retention_bytes));
  OOMSCOPE_RETURN_IF_ERROR(bytes("memory-budget-bytes", &c.memory_budget_bytes));
  OOMSCOPE_RETURN_IF_ERROR(duration("retention-age", &c.retention_age_seconds));
  OOMSCOPE_RETURN_IF_ERROR(duration("series-quiet", &c.series_quiet_seconds));
  if (v.count("concurrency")) {
    try {
      c.concurrency = std::stoi(v["concurrency"]);
    } catch (const std::exception&) {
      c.concurrency = 0;
    }
    if (c.concurrency < 1 || c.concurrency > 64) return InvalidArgument("--concurrency: a number from 1 to 64");
  }
  if (c.log_format != "json" && c.log_format != "text") return InvalidArgument("--log-format: json or text");
  if (c.listen.rfind(':') == std::string::npos) return InvalidArgument("--listen: HOST:PORT");
  return c;
}

}  // namespace oomscope::analyzer
