// The analyzer client over lib/http's small client.
#include "analyzer_client.h"

#include <chrono>

#include "oomscope/http/client.h"

namespace oomscope::op {
namespace {

// Percent-encodes a query value (namespace and workload names are DNS labels, but nothing here
// relies on it).
std::string QueryEscape(const std::string& s) {
  static const char kHex[] = "0123456789ABCDEF";
  std::string out;
  for (unsigned char c : s) {
    if ((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '-' || c == '.' ||
        c == '_' || c == '~') {
      out += static_cast<char>(c);
    } else {
      out += '%';
      out += kHex[c >> 4];
      out += kHex[c & 15];
    }
  }
  return out;
}

class HttpAnalyzerClient : public AnalyzerClient {
 public:
  HttpAnalyzerClient(std::string base_url, std::string token) : base_url_(std::move(base_url)) {
    while (!base_url_.empty() && base_url_.back() == '/') base_url_.pop_back();
    if (!token.empty()) headers_["Authorization"] = "Bearer " + token;
  }

  Result<nlohmann::json> ListSeries(const std::string& ns, const std::string& workload) override {
    const std::string url =
        base_url_ + "/v1/series?namespace=" + QueryEscape(ns) + "&workload=" + QueryEscape(workload);
    Result<http::ClientResponse> r = http::Get(url, std::chrono::seconds(10), headers_);
    if (!r.ok()) return Unavailable("analyzer: " + r.status().message());
    if (r->status != 200)
      return Unavailable("analyzer: GET /v1/series: HTTP " + std::to_string(r->status) + ": " + r->body.substr(0, 200));
    nlohmann::json parsed = nlohmann::json::parse(r->body, nullptr, false);
    if (!parsed.is_object() || !parsed.contains("series") || !parsed["series"].is_array())
      return Corruption("analyzer: GET /v1/series: not a series list");
    return parsed["series"];
  }

 private:
  std::string base_url_;
  std::map<std::string, std::string> headers_;
};

}  // namespace

std::unique_ptr<AnalyzerClient> MakeAnalyzerClient(const std::string& base_url, const std::string& token) {
  return std::make_unique<HttpAnalyzerClient>(base_url, token);
}

}  // namespace oomscope::op
