// Inspector discovery over HTTP (/json/list, /json/version), through lib/http's small client.
#include <nlohmann/json.hpp>

#include "oomscope/cdp/inspector.h"
#include "oomscope/http/client.h"

namespace oomscope::cdp {
namespace {

Result<nlohmann::json> GetJson(const Endpoint& ep, const std::string& path,
                               std::chrono::milliseconds timeout) {
  Result<http::ClientResponse> resp = http::Get("http://" + ep.ToString() + path, timeout);
  if (!resp.ok()) return Unavailable("no inspector at " + ep.ToString() + ": " + resp.status().message());
  if (resp->status != 200) {
    return Unavailable("inspector at " + ep.ToString() + path + " answered HTTP " + std::to_string(resp->status));
  }
  nlohmann::json j = nlohmann::json::parse(resp->body, nullptr, false);
  if (j.is_discarded()) return Corruption("inspector at " + ep.ToString() + path + " sent no JSON");
  return j;
}

std::string Str(const nlohmann::json& j, const char* key) {
  auto it = j.find(key);
  return it != j.end() && it->is_string() ? it->get<std::string>() : "";
}

}  // namespace

Result<std::vector<Target>> ListTargets(const Endpoint& ep, std::chrono::milliseconds timeout) {
  Result<nlohmann::json> j = GetJson(ep, "/json/list", timeout);
  if (!j.ok()) return j.status();
  if (!j->is_array()) return Corruption("inspector /json/list is not an array");
  std::vector<Target> out;
  for (const auto& t : *j) {
    if (!t.is_object()) continue;
    Target x{Str(t, "id"), Str(t, "type"), Str(t, "title"), Str(t, "url"), Str(t, "webSocketDebuggerUrl")};
    if (!x.websocket_url.empty()) out.push_back(std::move(x));
  }
  return out;
}

Result<VersionInfo> GetVersion(const Endpoint& ep, std::chrono::milliseconds timeout) {
  Result<nlohmann::json> j = GetJson(ep, "/json/version", timeout);
  if (!j.ok()) return j.status();
  if (!j->is_object()) return Corruption("inspector /json/version is not an object");
  VersionInfo v{Str(*j, "Browser"), Str(*j, "Protocol-Version"), ""};
  if (v.browser.rfind("node.js/", 0) == 0) v.node_version = v.browser.substr(8);
  return v;
}

}  // namespace oomscope::cdp
