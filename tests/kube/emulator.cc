#include "emulator.h"

#include "oomscope/kube/object.h"
#include "oomscope/kube/resource.h"

namespace oomscope::kube::testing {

Emulator::Emulator(std::vector<std::string> extra_args) {
  std::vector<std::string> argv = {"node", std::string(OOMSCOPE_SOURCE_DIR) + "/tests/emulator/apiserver.js",
                                    "--port", "0"};
  argv.insert(argv.end(), extra_args.begin(), extra_args.end());
  process_ = std::make_unique<oomscope::testing::ChildProcess>(argv, "listening ");
  if (process_->ok()) url_ = process_->ready();
}

std::unique_ptr<KubeClient> Emulator::Client() const {
  ClusterConfig c;
  c.server = url_;
  c.ca_pem = ca_pem_;
  c.request_timeout = std::chrono::seconds(10);
  Result<std::unique_ptr<KubeClient>> client = NewKubeClient(c);
  if (!client.ok()) return nullptr;
  return std::move(*client);
}

std::string MakeNamespace(KubeClient& client, const std::string& name) {
  nlohmann::json ns = {{"apiVersion", "v1"}, {"kind", "Namespace"}, {"metadata", {{"name", name}}}};
  (void)client.Create(resources::Namespaces(), "", ns);
  return name;
}

const ResourceRef& ConfigMaps() {
  static const ResourceRef* r = new ResourceRef{"", "v1", "configmaps", "ConfigMap", true};
  return *r;
}

nlohmann::json ConfigMap(const std::string& ns, const std::string& name, const std::string& value,
                         const std::string& label) {
  nlohmann::json cm = {{"apiVersion", "v1"},
                       {"kind", "ConfigMap"},
                       {"metadata", {{"name", name}, {"namespace", ns}}},
                       {"data", {{"key", value}}}};
  if (!label.empty()) cm["metadata"]["labels"]["group"] = label;
  return cm;
}

nlohmann::json Deployment(const std::string& ns, const std::string& name) {
  return nlohmann::json::parse(R"({
    "apiVersion": "apps/v1", "kind": "Deployment",
    "metadata": {"name": ")" + name + R"(", "namespace": ")" + ns + R"(", "labels": {"app": ")" + name + R"("}},
    "spec": {"replicas": 2, "selector": {"matchLabels": {"app": ")" + name + R"("}},
      "template": {"metadata": {"labels": {"app": ")" + name + R"("}},
        "spec": {"containers": [{"name": "api", "image": "node:20",
          "env": [{"name": "NODE_ENV", "value": "production"}],
          "resources": {"limits": {"memory": "256Mi"}}}]}}}})");
}

}  // namespace oomscope::kube::testing
