// The tests' one cpprestsdk use: the emulator's /_emulator/ admin calls.
#include <cpprest/http_client.h>

#include "emulator.h"

namespace oomscope::kube::testing {

Result<nlohmann::json> AdminCall(const std::string& base_url, const std::string& method,
                                 const std::string& path, const nlohmann::json& body,
                                 const std::string& ca_pem) {
  try {
    web::http::client::http_client_config cfg;
    cfg.set_timeout(std::chrono::seconds(10));
    if (!ca_pem.empty()) {
      cfg.set_ssl_context_callback([ca_pem](boost::asio::ssl::context& ctx) {
        ctx.add_certificate_authority(boost::asio::buffer(ca_pem.data(), ca_pem.size()));
      });
    }
    web::http::client::http_client client(web::uri(base_url), cfg);
    web::http::http_request req{web::http::method(method)};
    req.set_request_uri(web::uri(path));
    if (!body.is_null()) req.set_body(body.dump(), "application/json");
    web::http::http_response resp = client.request(req).get();
    std::string text = resp.extract_utf8string(true).get();
    if (resp.status_code() >= 300) {
      return Internal("emulator " + method + " " + path + ": HTTP " +
                      std::to_string(resp.status_code()) + " " + text);
    }
    nlohmann::json j = nlohmann::json::parse(text, nullptr, false);
    if (j.is_discarded()) return Internal("emulator " + path + ": not JSON");
    return j;
  } catch (const std::exception& e) {
    return Unavailable(std::string("emulator admin call failed: ") + e.what());
  }
}

}  // namespace oomscope::kube::testing
