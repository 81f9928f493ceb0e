#include "config.h"

#include <cmath>

#include "oomscope/common/config.h"

#include <set>
#include <string_view>


namespace oomscope::op {

const char* const kConfigHelp =
    "usage: oomscope-operator [options]   (each option also reads OOMSCOPE_<OPTION>, e.g. OOMSCOPE_ANALYZER_URL)\n"
    "  --kubeconfig FILE                 kubeconfig (else $KUBECONFIG, else in-cluster)\n"
    "  --listen HOST:PORT                /healthz, /readyz, /metrics (0.0.0.0:8081)\n"
    "  --namespace NS                    watch one namespace (default: all)\n"
    "  --label-selector SEL              only Deployments matching SEL\n"
    "  --analyzer-url URL                the analyzer (sidecars upload there; diagnoses poll it)\n"
    "  --upload-token-file FILE          upload token, mirrored into Secret oomscope-upload-token per namespace\n"
    "  --sidecar-image IMAGE             image of the injected oomscope-sidecar\n"
    "  --memory-factor F                 peak RSS growth per snapshot byte (SnapshotCost default)\n"
    "  --ttl DURATION                    restore a diagnosis after this long at most (30m)\n"
    "  --cooldown DURATION               no new diagnosis of a Deployment for this long after one (10m)\n"
    "  --max-concurrent N                diagnoses in progress cluster-wide (3)\n"
    "  --poll-interval DURATION          analyzer polling while a diagnosis runs (10s)\n"
    "  --native-sidecar auto|true|false  inject the sidecar as an init container with restartPolicy Always,\n"
    "                                    else as a plain container; auto (default): native when GET /version\n"
    "                                    says Kubernetes >= 1.29\n"
    "  --workers N                       reconcile workers (2)\n"
    "  --leader-election                 elect one active replica through a Lease\n"
    "  --leader-election-namespace NS    the Lease's namespace (default: the pod's, else default)\n"
    "  --leader-election-id NAME         the Lease's name (oomscope-operator)\n"
    "  --log-format json|text\n";

Result<Config> ParseConfig(int argc, char** argv, const std::map<std::string, std::string>& env) {
  static const std::set<std::string> kValued = {
      "kubeconfig", "listen", "namespace", "label-selector", "analyzer-url", "upload-token-file", "sidecar-image",
      "memory-factor", "ttl", "cooldown", "max-concurrent", "poll-interval", "native-sidecar", "workers",
      "leader-election-namespace", "leader-election-id", "log-format"};
  static const std::set<std::string> kSwitches = {"leader-election"};
  std::map<std::string, std::string> v;
  for (const std::string& name : kValued) {
    std::string var = "OOMSCOPE_";
    for (char c : name) var += c == '-' ? '_' : static_cast<char>(std::toupper(static_cast<unsigned char>(c)));
    auto it = env.find(var);
    if (it != env.end() && !it->second.empty()) v[name] = it->second;
  }
  if (auto it = env.find("OOMSCOPE_LEADER_ELECTION"); it != env.end() && (it->second == "1" || it->second == "true"))
    v["leader-election"] = "true";
  for (int i = 1; i < argc; ++i) {
    std::string arg = argv[i];
    if (arg.rfind("--", 0) != 0) return InvalidArgument("unexpected argument: " + arg);
    std::string name = arg.substr(2), value;
    if (size_t eq = name.find('='); eq != std::string::npos) value = name.substr(eq + 1), name = name.substr(0, eq);
    else if (kValued.count(name)) {
      if (i + 1 >= argc) return InvalidArgument("--" + name + " needs a value");
      value = argv[++i];
    } else if (kSwitches.count(name)) value = "true";
    if (!kValued.count(name) && !kSwitches.count(name)) return InvalidArgument("unknown option --" + name);
    v[name] = value;
  }
  Config c;
  auto get = [&](const char* k, std::string& out) {
    if (auto it = v.find(k); it != v.end()) out = it->second;
  };
  get("kubeconfig", c.kubeconfig);
  get("listen", c.listen);
  get("namespace", c.namespace_);
  get("label-selector", c.label_selector);
  get("analyzer-url", c.reconcile.analyzer_url);
  get("upload-token-file", c.upload_token_file);
  get("sidecar-image", c.reconcile.sidecar_image);
  get("leader-election-namespace", c.leader_election_namespace);
  get("leader-election-id", c.leader_election_id);
  get("log-format", c.log_format);
  c.leader_election = v.count("leader-election") && v["leader-election"] != "false";
  try {
    if (v.count("memory-factor")) c.reconcile.memory_factor = std::stod(v["memory-factor"]);
    if (v.count("max-concurrent")) c.reconcile.max_concurrent = std::stoi(v["max-concurrent"]);
    if (v.count("workers")) c.workers = std::stoi(v["workers"]);
  } catch (...) {
    return InvalidArgument("--memory-factor, --max-concurrent and --workers take numbers");
  }
  if (c.reconcile.memory_factor <= 0) return InvalidArgument("--memory-factor must be positive");
  if (c.workers < 1) return InvalidArgument("--workers must be at least 1");
  for (auto [flag, out] : {std::pair<const char*, int64_t*>{"ttl", &c.reconcile.ttl_seconds},
                           {"cooldown", &c.reconcile.cooldown_seconds},
                           {"poll-interval", &c.reconcile.poll_seconds}}) {
    if (!v.count(flag)) continue;
    Result<double> d = ParseDurationSeconds(v[flag]);
    if (!d.ok()) return InvalidArgument(std::string("--") + flag + ": " + d.status().message());
    *out = static_cast<int64_t>(std::ceil(*d));
  }
  get("native-sidecar", c.native_sidecar);
  if (c.native_sidecar != "auto" && c.native_sidecar != "true" && c.native_sidecar != "false")
    return InvalidArgument("--native-sidecar is auto, true or false");
  if (c.log_format != "json" && c.log_format != "text") return InvalidArgument("--log-format is json or text");
  if (c.listen.rfind(':') == std::string::npos) return InvalidArgument("--listen is HOST:PORT");
  return c;
}

}  // namespace oomscope::op
