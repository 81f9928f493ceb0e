#pragma once
// A deliberately bare HTTP/1.1 client over a socket, for tests that must misbehave the way a
// real client can: stop sending half-way, lie in Content-Length, be killed mid-upload. Not an
// HTTP layer for the product (that is cpprestsdk); one request per connection.
#include <map>
#include <string>

namespace oomscope::testing {

struct RawResponse {
  int status = 0;  // 0: no answer (connection refused or closed early)
  std::map<std::string, std::string> headers;  // lower-case names
  std::string body;
};

struct RawRequest {
  std::string method = "GET", path = "/";
  std::map<std::string, std::string> headers;
  std::string body;
  // Send only this many body bytes, then stop (keep the socket open until the answer or
  // `hold_fd` ownership). SIZE_MAX: all.
  size_t send_body_bytes = static_cast<size_t>(-1);
  bool omit_content_length = false;
};

RawResponse Send(int port, const RawRequest& req);

// Starts a request and returns the socket without waiting for an answer (the caller closes it):
// an upload left hanging, to kill the server under it.
int SendPartial(int port, const RawRequest& req);

}  // namespace oomscope::testing
