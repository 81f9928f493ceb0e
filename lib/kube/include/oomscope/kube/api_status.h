#pragma once

// Turning API server answers into oomscope::Status. The Status message carries the API's
// Status object as "<reason> (HTTP <code>): <message>" so that callers can log it as is and
// read the HTTP code and reason back (e.g. for oomscope_operator_api_errors_total{code}).

#include <string>
#include <string_view>

#include <nlohmann/json.hpp>

#include "oomscope/common/status.h"

namespace oomscope::kube {

// The fields of a metav1.Status that callers act on.
struct ApiStatus {
  int code = 0;          // HTTP status code; 0 for network errors and client-side timeouts
  std::string reason;    // "NotFound", "Conflict", "AlreadyExists", "Expired", "Gone", ...
  std::string message;
};

// Code mapping: 404 NotFound; 409 Conflict (reason AlreadyExists -> kAlreadyExists);
// 410 (or reason Expired/Gone) kGone; 401 kUnauthenticated; 403 kPermissionDenied;
// 400/422 kInvalidArgument; 429 and 5xx kUnavailable (retryable); other 4xx kFailedPrecondition.
Code CodeForHttp(int http_code, std::string_view reason);

// Status from an HTTP answer that was not 2xx. `body` is usually a metav1.Status JSON; if it is
// not, the body's first bytes become the message.
Status StatusFromResponse(int http_code, std::string_view body, std::string_view context = "");

// Status from a metav1.Status object (e.g. the object of a watch ERROR event).
Status StatusFromApiObject(const nlohmann::json& status_obj, std::string_view context = "");

// Reads back what StatusFromResponse put in the message (code 0 when the Status did not come
// from the API server, e.g. a network error).
ApiStatus ParseApiStatus(const Status& status);

}  // namespace oomscope::kube
