// HttpGet over cpprestsdk; exceptions stop here.
#include <cpprest/http_client.h>

#include "http_get.h"

namespace oomscope::cli {

Result<HttpResult> HttpGet(const std::string& url, std::chrono::milliseconds timeout) {
  try {
    web::http::client::http_client_config cfg;
    cfg.set_timeout(timeout);
    web::uri uri(url);
    web::http::client::http_client client(web::uri_builder(uri).set_path("").set_query("").to_uri(), cfg);
    web::http::http_request req(web::http::methods::GET);
    req.set_request_uri(web::uri_builder().set_path(uri.path()).set_query(uri.query()).to_uri());
    web::http::http_response resp = client.request(req).get();
    HttpResult r;
    r.status = resp.status_code();
    r.body = resp.extract_utf8string(true).get();
    return r;
  } catch (const std::exception& e) {
    return Unavailable("GET " + url + ": " + e.what());
  }
}

}  // namespace oomscope::cli
