// http::Get over cpprestsdk; its exceptions stop here.
#include <cpprest/http_client.h>

#include "oomscope/http/client.h"

namespace oomscope::http {

Result<ClientResponse> Get(const std::string& url, std::chrono::milliseconds timeout,
                           const std::map<std::string, std::string>& headers) {
  try {
    web::http::client::http_client_config config;
    config.set_timeout(timeout);
    web::uri uri(url);
    web::http::client::http_client client(web::uri_builder(uri).set_path("").set_query("").set_fragment("").to_uri(),
                                          config);
    web::http::http_request request(web::http::methods::GET);
    request.set_request_uri(web::uri_builder().set_path(uri.path()).set_query(uri.query()).to_uri());
    for (const auto& [name, value] : headers) request.headers().add(name, value);
    web::http::http_response response = client.request(request).get();
    ClientResponse r;
    r.status = response.status_code();
    r.body = response.extract_utf8string(true).get();
    return r;
  } catch (const std::exception& e) {
    return Unavailable("GET " + url + ": " + e.what());
  }
}

}  // namespace oomscope::http
