#pragma once
// A deliberately bare HTTP/1.1 client over a socket, for tests that must misbehave the way a
// real client can: stop sending half-way, lie in Content-Length, be killed mid-upload. Not an
// HTTP layer for the product (that is cpprestsdk); one request per connection.
#include <cstdint>
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
  uint64_t declared_length = 0;  // Content-Length to send when not 0 (else the body's size)
};

RawResponse Send(int port, const RawRequest& req);

// Starts a request and returns the socket without waiting for an answer (the caller closes it):
// an upload left hanging, to kill the server under it.
int SendPartial(int port, const RawRequest& req);

// Reads the answer on a socket SendPartial returned, waiting at most `timeout_seconds` for each
// piece (status 0: none came in time); closes the socket.
RawResponse ReadResponse(int fd, int timeout_seconds);

}  // namespace oomscope::testing
