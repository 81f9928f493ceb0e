#include <cpprest/http_client.h>

#include "http_call.h"

namespace oomscope::op::testing {

HttpAnswer HttpCall(const std::string& method, const std::string& url, const std::string& body) {
  try {
    web::http::client::http_client client(url);
    web::http::http_request request(method);
    if (!body.empty()) request.set_body(body, "application/json");
    web::http::http_response response = client.request(request).get();
    return {response.status_code(), response.extract_utf8string(true).get()};
  } catch (const std::exception&) {
    return {};
  }
}

}  // namespace oomscope::op::testing
