#include "oomscope/kube/api_status.h"

#include <cstdlib>

namespace oomscope::kube {

Code CodeForHttp(int http_code, std::string_view reason) {
  if (reason == "AlreadyExists") return Code::kAlreadyExists;
  if (reason == "Expired" || reason == "Gone") return Code::kGone;
  switch (http_code) {
    case 404: return Code::kNotFound;
    case 409: return Code::kConflict;
    case 410: return Code::kGone;
    case 401: return Code::kUnauthenticated;
    case 403: return Code::kPermissionDenied;
    case 400:
    case 422: return Code::kInvalidArgument;
    case 408:
    case 504: return Code::kDeadlineExceeded;
    case 429: return Code::kUnavailable;
    default: break;
  }
  if (http_code >= 500) return Code::kUnavailable;
  if (http_code >= 400) return Code::kFailedPrecondition;
  return Code::kInternal;
}

namespace {

std::string Str(const nlohmann::json& j, const char* key) {
  if (!j.is_object()) return "";
  auto it = j.find(key);
  return it != j.end() && it->is_string() ? it->get<std::string>() : "";
}

Status Make(int http_code, std::string reason, std::string message, std::string_view context) {
  if (reason.empty()) reason = "Unknown";
  std::string m = reason + " (HTTP " + std::to_string(http_code) + "): " + message;
  Status s(CodeForHttp(http_code, reason), std::move(m));
  return context.empty() ? s : s.WithContext(context);
}

}  // namespace

Status StatusFromApiObject(const nlohmann::json& status_obj, std::string_view context) {
  int code = 0;
  if (status_obj.is_object()) {
    auto it = status_obj.find("code");
    if (it != status_obj.end() && it->is_number_integer()) code = it->get<int>();
  }
  return Make(code, Str(status_obj, "reason"), Str(status_obj, "message"), context);
}

Status StatusFromResponse(int http_code, std::string_view body, std::string_view context) {
  nlohmann::json j = nlohmann::json::parse(body, nullptr, false);
  if (j.is_object() && Str(j, "kind") == "Status") {
    return Make(http_code, Str(j, "reason"), Str(j, "message"), context);
  }
  std::string snippet(body.substr(0, 200));
  while (!snippet.empty() && (snippet.back() == '\n' || snippet.back() == '\r')) snippet.pop_back();
  return Make(http_code, "", snippet.empty() ? "no Status in the answer" : snippet, context);
}

ApiStatus ParseApiStatus(const Status& status) {
  ApiStatus out;
  const std::string& m = status.message();
  // The message may carry context prefixes ("get pods x: NotFound (HTTP 404): ..."): find the
  // "(HTTP " marker, the reason is the word before it.
  size_t at = m.find(" (HTTP ");
  if (at == std::string::npos) {
    out.message = m;
    return out;
  }
  size_t start = m.rfind(' ', at == 0 ? 0 : at - 1);
  start = (start == std::string::npos || start >= at) ? 0 : start + 1;
  out.reason = m.substr(start, at - start);
  out.code = std::atoi(m.c_str() + at + 7);
  size_t colon = m.find("): ", at);
  if (colon != std::string::npos) out.message = m.substr(colon + 3);
  return out;
}

}  // namespace oomscope::kube
