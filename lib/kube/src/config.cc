#include "oomscope/kube/config.h"

#include <yaml-cpp/yaml.h>

#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <sstream>

#include <openssl/evp.h>

namespace oomscope::kube {
namespace {

Result<std::string> ReadFile(const std::string& path, std::string_view what) {
  std::ifstream in(path, std::ios::binary);
  if (!in) return NotFound("cannot read " + std::string(what) + " \"" + path + "\"");
  std::stringstream ss;
  ss << in.rdbuf();
  return ss.str();
}

Result<std::string> Base64Decode(const std::string& in, std::string_view what) {
  std::string clean;
  clean.reserve(in.size());
  for (char c : in) {
    if (c != '\n' && c != '\r' && c != ' ' && c != '\t') clean.push_back(c);
  }
  if (clean.size() % 4 != 0) return InvalidArgument(std::string(what) + " is not base64");
  std::string out(clean.size() / 4 * 3, '\0');
  int n = EVP_DecodeBlock(reinterpret_cast<unsigned char*>(out.data()),
                          reinterpret_cast<const unsigned char*>(clean.data()),
                          static_cast<int>(clean.size()));
  if (n < 0) return InvalidArgument(std::string(what) + " is not base64");
  size_t pad = 0;
  if (!clean.empty() && clean.back() == '=') ++pad;
  if (clean.size() > 1 && clean[clean.size() - 2] == '=') ++pad;
  out.resize(static_cast<size_t>(n) - pad);
  return out;
}

std::string Scalar(const YAML::Node& node, const char* key) {
  if (!node || !node.IsMap()) return "";
  YAML::Node v = node[key];
  return v && v.IsScalar() ? v.as<std::string>() : "";
}

// The entry of `list` (clusters, users, contexts) whose name is `name`, as its inner map.
YAML::Node Named(const YAML::Node& list, const std::string& name, const char* inner) {
  if (!list || !list.IsSequence()) return YAML::Node();
  for (const auto& e : list) {
    if (Scalar(e, "name") == name) return e[inner];
  }
  return YAML::Node();
}

std::string Resolve(const std::string& path, const std::string& base_dir) {
  if (path.empty() || path[0] == '/' || base_dir.empty()) return path;
  return (std::filesystem::path(base_dir) / path).string();
}

// A "-data" field (base64) or, failing that, the file field next to it.
Result<std::string> DataOrFile(const YAML::Node& node, const char* data_key, const char* file_key,
                               const std::string& base_dir) {
  std::string data = Scalar(node, data_key);
  if (!data.empty()) return Base64Decode(data, data_key);
  std::string file = Scalar(node, file_key);
  if (file.empty()) return std::string();
  return ReadFile(Resolve(file, base_dir), file_key);
}

}  // namespace

std::string DefaultUserAgent() { return std::string("oomscope-operator/") + OOMSCOPE_VERSION; }

Result<ClusterConfig> InClusterConfig(const InClusterPaths& paths) {
  std::string host = paths.host, port = paths.port;
  if (host.empty()) {
    const char* h = std::getenv("KUBERNETES_SERVICE_HOST");
    host = h ? h : "";
  }
  if (port.empty()) {
    const char* p = std::getenv("KUBERNETES_SERVICE_PORT");
    port = p ? p : "";
  }
  if (host.empty() || port.empty()) {
    return FailedPrecondition(
        "not running in a cluster (KUBERNETES_SERVICE_HOST/PORT unset) and no kubeconfig given");
  }
  ClusterConfig c;
  // An IPv6 service address needs brackets in a URL.
  c.server = "https://" + (host.find(':') != std::string::npos ? "[" + host + "]" : host) + ":" + port;
  if (!std::filesystem::exists(paths.token_file)) {
    return FailedPrecondition("no service-account token at " + paths.token_file);
  }
  c.token_file = paths.token_file;
  Result<std::string> ca = ReadFile(paths.ca_file, "the cluster CA");
  if (!ca.ok()) return ca.status();
  c.ca_pem = std::move(*ca);
  c.user_agent = DefaultUserAgent();
  c.source = "in-cluster (" + c.server + ")";
  return c;
}

std::string InClusterNamespace(const InClusterPaths& paths) {
  Result<std::string> ns = ReadFile(paths.namespace_file, "namespace");
  if (!ns.ok()) return "";
  std::string s = *ns;
  while (!s.empty() && (s.back() == '\n' || s.back() == ' ')) s.pop_back();
  return s;
}

Result<ClusterConfig> ParseKubeconfig(std::string_view yaml, const std::string& base_dir,
                                      std::string_view context) {
  try {
    YAML::Node root = YAML::Load(std::string(yaml));
    if (!root.IsMap()) return InvalidArgument("kubeconfig: not a YAML map");
    std::string ctx_name = context.empty() ? Scalar(root, "current-context") : std::string(context);
    if (ctx_name.empty()) return InvalidArgument("kubeconfig: no current-context and none given");
    YAML::Node ctx = Named(root["contexts"], ctx_name, "context");
    if (!ctx) return InvalidArgument("kubeconfig: no context named \"" + ctx_name + "\"");
    std::string cluster_name = Scalar(ctx, "cluster"), user_name = Scalar(ctx, "user");
    YAML::Node cluster = Named(root["clusters"], cluster_name, "cluster");
    if (!cluster) return InvalidArgument("kubeconfig: no cluster named \"" + cluster_name + "\"");

    ClusterConfig c;
    c.server = Scalar(cluster, "server");
    if (c.server.empty()) return InvalidArgument("kubeconfig: cluster \"" + cluster_name + "\" has no server");
    c.insecure_skip_tls_verify = Scalar(cluster, "insecure-skip-tls-verify") == "true";
    Result<std::string> ca =
        DataOrFile(cluster, "certificate-authority-data", "certificate-authority", base_dir);
    if (!ca.ok()) return ca.status().WithContext("kubeconfig cluster \"" + cluster_name + "\"");
    c.ca_pem = std::move(*ca);

    if (!user_name.empty()) {
      YAML::Node user = Named(root["users"], user_name, "user");
      if (!user) return InvalidArgument("kubeconfig: no user named \"" + user_name + "\"");
      if (user["exec"] || user["auth-provider"]) {
        return InvalidArgument("kubeconfig user \"" + user_name +
                               "\": exec and auth-provider plugins are not supported; use a token, "
                               "tokenFile or client certificate");
      }
      c.token = Scalar(user, "token");
      std::string token_file = Scalar(user, "tokenFile");
      if (c.token.empty() && !token_file.empty()) c.token_file = Resolve(token_file, base_dir);
      Result<std::string> cert =
          DataOrFile(user, "client-certificate-data", "client-certificate", base_dir);
      if (!cert.ok()) return cert.status().WithContext("kubeconfig user \"" + user_name + "\"");
      Result<std::string> key = DataOrFile(user, "client-key-data", "client-key", base_dir);
      if (!key.ok()) return key.status().WithContext("kubeconfig user \"" + user_name + "\"");
      c.client_cert_pem = std::move(*cert);
      c.client_key_pem = std::move(*key);
      if (c.client_cert_pem.empty() != c.client_key_pem.empty()) {
        return InvalidArgument("kubeconfig user \"" + user_name +
                               "\": a client certificate needs its key and the key its certificate");
      }
    }
    c.user_agent = DefaultUserAgent();
    c.source = "context " + ctx_name;
    return c;
  } catch (const std::exception& e) {
    return InvalidArgument(std::string("kubeconfig: ") + e.what());
  }
}

Result<ClusterConfig> LoadKubeconfig(const std::string& path, std::string_view context) {
  Result<std::string> text = ReadFile(path, "kubeconfig");
  if (!text.ok()) return text.status();
  Result<ClusterConfig> c =
      ParseKubeconfig(*text, std::filesystem::path(path).parent_path().string(), context);
  if (!c.ok()) return c.status().WithContext(path);
  c->source = "kubeconfig " + path + " (" + c->source + ")";
  return c;
}

Result<ClusterConfig> ResolveConfig(const std::string& kubeconfig_flag) {
  if (!kubeconfig_flag.empty()) return LoadKubeconfig(kubeconfig_flag);
  const char* env = std::getenv("KUBECONFIG");
  if (env != nullptr && *env != '\0') {
    std::string list = env;
    // Only the first file of the list is read: kubectl merges them, we do not.
    std::string first = list.substr(0, list.find(':'));
    if (!first.empty()) return LoadKubeconfig(first);
  }
  return InClusterConfig();
}

}  // namespace oomscope::kube
