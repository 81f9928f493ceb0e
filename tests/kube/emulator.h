#pragma once

// The API server emulator (tests/emulator/apiserver.js) as a child process, and its /_emulator/
// admin endpoints (faults, drop-watches, compact, requests).

#include <memory>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "child_process.h"
#include "oomscope/common/status.h"
#include "oomscope/kube/client.h"

namespace oomscope::kube::testing {

// POST/GET/DELETE on the emulator's admin API. The only cpprestsdk use of the tests.
Result<nlohmann::json> AdminCall(const std::string& base_url, const std::string& method,
                                 const std::string& path, const nlohmann::json& body = nullptr,
                                 const std::string& ca_pem = "");

class Emulator {
 public:
  explicit Emulator(std::vector<std::string> extra_args = {});
  bool ok() const { return process_->ok() && !url_.empty(); }
  const std::string& url() const { return url_; }

  Result<nlohmann::json> Admin(const std::string& method, const std::string& path,
                               const nlohmann::json& body = nullptr) const {
    return AdminCall(url_, method, path, body, ca_pem_);
  }
  void set_ca_pem(std::string pem) { ca_pem_ = std::move(pem); }
  // A client with no credentials (the emulator then treats us as an admin).
  std::unique_ptr<KubeClient> Client() const;

 private:
  std::unique_ptr<oomscope::testing::ChildProcess> process_;
  std::string url_;
  std::string ca_pem_;
};

// A fresh namespace for a test case.
std::string MakeNamespace(KubeClient& client, const std::string& name);

const ResourceRef& ConfigMaps();
nlohmann::json ConfigMap(const std::string& ns, const std::string& name,
                         const std::string& value = "v", const std::string& label = "");
nlohmann::json Deployment(const std::string& ns, const std::string& name);

}  // namespace oomscope::kube::testing
