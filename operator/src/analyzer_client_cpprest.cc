// The analyzer client over cpprestsdk; its exceptions stop here.
#include <cpprest/http_client.h>
#include <cpprest/uri_builder.h>

#include "analyzer_client.h"

namespace oomscope::op {
namespace {

class CpprestAnalyzerClient : public AnalyzerClient {
 public:
  CpprestAnalyzerClient(const std::string& base_url, std::string token) : token_(std::move(token)) {
    web::http::client::http_client_config config;
    config.set_timeout(std::chrono::seconds(10));
    client_ = std::make_unique<web::http::client::http_client>(base_url, config);
  }

  Result<nlohmann::json> ListSeries(const std::string& ns, const std::string& workload) override {
    try {
      web::uri_builder path("/v1/series");
      path.append_query("namespace", ns).append_query("workload", workload);
      web::http::http_request request(web::http::methods::GET);
      request.set_request_uri(path.to_uri());
      if (!token_.empty()) request.headers().add("Authorization", "Bearer " + token_);
      web::http::http_response response = client_->request(request).get();
      std::string body = response.extract_utf8string(true).get();
      if (response.status_code() != 200)
        return Unavailable("analyzer: GET /v1/series: HTTP " + std::to_string(response.status_code()) + ": " +
                           body.substr(0, 200));
      nlohmann::json parsed = nlohmann::json::parse(body, nullptr, false);
      if (!parsed.is_object() || !parsed.contains("series") || !parsed["series"].is_array())
        return Corruption("analyzer: GET /v1/series: not a series list");
      return parsed["series"];
    } catch (const std::exception& e) {
      return Unavailable(std::string("analyzer: ") + e.what());
    }
  }

 private:
  std::string token_;
  std::unique_ptr<web::http::client::http_client> client_;
};

}  // namespace

std::unique_ptr<AnalyzerClient> MakeAnalyzerClient(const std::string& base_url, const std::string& token) {
  return std::make_unique<CpprestAnalyzerClient>(base_url, token);
}

}  // namespace oomscope::op
