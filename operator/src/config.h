#pragma once

// oomscope-operator's command line (contracts.md). Every flag also reads OOMSCOPE_<NAME>
// (upper case, '-' as '_'); the flag wins.

#include <map>
#include <string>

#include "oomscope/common/status.h"
#include "reconcile.h"

namespace oomscope::op {

struct Config {
  std::string kubeconfig;                    // else KUBECONFIG, else in-cluster
  std::string listen = "0.0.0.0:8081";       // /healthz, /readyz, /metrics
  std::string namespace_;                    // "" : all
  std::string label_selector;                // on Deployments
  std::string upload_token_file;
  bool leader_election = false;
  std::string leader_election_namespace;     // default: the pod's namespace, else "default"
  std::string leader_election_id = "oomscope-operator";
  std::string log_format = "json";
  int workers = 2;
  std::string native_sidecar = "auto";       // auto (by the server's version), true, false
  ReconcileConfig reconcile;                 // analyzer URL, sidecar image, factor, TTL, cooldown, cap
};

extern const char* const kConfigHelp;

// Flags over the environment `env` (OOMSCOPE_<FLAG>); durations and quantities in lib/common's
// syntax. InvalidArgument names the offending flag.
Result<Config> ParseConfig(int argc, char** argv, const std::map<std::string, std::string>& env);

}  // namespace oomscope::op
