#pragma once

// Where the API server is and how to authenticate to it: in-cluster (service account) or a
// kubeconfig file, as client-go's clientcmd resolves them.

#include <chrono>
#include <string>
#include <string_view>

#include "oomscope/common/status.h"

namespace oomscope::kube {

// Everything a client needs to talk to one API server. PEM strings hold the data itself.
struct ClusterConfig {
  std::string server;  // "https://10.96.0.1:443" or "http://127.0.0.1:PORT" (emulator)
  std::string ca_pem;  // trusted CA certificates; empty: the system's default trust store
  bool insecure_skip_tls_verify = false;
  // Bearer token: `token` when set, else read from `token_file` (re-read when it rotates:
  // at most every `token_refresh`, and at once after a 401).
  std::string token;
  std::string token_file;
  std::chrono::seconds token_refresh{60};
  std::string client_cert_pem;  // client certificate authentication (both or neither)
  std::string client_key_pem;
  std::string user_agent;  // default "oomscope-operator/<version>"
  std::chrono::milliseconds request_timeout{30000};  // for every call but watches
  // Sent as ?fieldValidation= on every create, update and patch, as kubectl does: "Strict" makes
  // a field the server does not know a 400 instead of being dropped (Warn: a Warning header;
  // Ignore; "": none, the server's default, Warn).
  std::string field_validation = "Strict";
  std::string source;  // where this came from, for logs: "in-cluster", "kubeconfig FILE (context X)"
};

// "oomscope-operator/0.1.0".
std::string DefaultUserAgent();

// The service-account files and environment in a pod. Paths are overridable for tests.
struct InClusterPaths {
  std::string token_file = "/var/run/secrets/kubernetes.io/serviceaccount/token";
  std::string ca_file = "/var/run/secrets/kubernetes.io/serviceaccount/ca.crt";
  std::string namespace_file = "/var/run/secrets/kubernetes.io/serviceaccount/namespace";
  // Empty: read KUBERNETES_SERVICE_HOST / KUBERNETES_SERVICE_PORT from the environment.
  std::string host;
  std::string port;
};

// https://HOST:PORT with the service-account token file (re-read as it rotates) and CA.
// FailedPrecondition when not in a cluster (no KUBERNETES_SERVICE_HOST, no token file).
Result<ClusterConfig> InClusterConfig(const InClusterPaths& paths = {});

// The pod's own namespace from the service-account files ("" when unknown).
std::string InClusterNamespace(const InClusterPaths& paths = {});

// Parses a kubeconfig (yaml-cpp): the context `context` (empty: current-context), its cluster's
// server, certificate-authority-data or certificate-authority (file, relative to the kubeconfig's
// directory), insecure-skip-tls-verify; its user's token or tokenFile, client-certificate(-data)
// and client-key(-data). exec and auth-provider plugins are not supported (InvalidArgument).
Result<ClusterConfig> LoadKubeconfig(const std::string& path, std::string_view context = "");
Result<ClusterConfig> ParseKubeconfig(std::string_view yaml, const std::string& base_dir,
                                      std::string_view context = "");

// Resolution as kubectl does it: `kubeconfig_flag` if set, else $KUBECONFIG (only the FIRST file
// of a colon-separated list is read; files are not merged), else in-cluster.
Result<ClusterConfig> ResolveConfig(const std::string& kubeconfig_flag);

}  // namespace oomscope::kube
