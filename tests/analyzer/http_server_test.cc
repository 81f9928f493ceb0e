// lib/http's server (cpprestsdk underneath): a streaming handler that answers from the headers
// (401, 413) gets its answer to the client at once, without the client sending the body.
#include <doctest/doctest.h>

#include <atomic>

#include "oomscope/http/server.h"
#include "raw_http.h"

using namespace oomscope;
using namespace oomscope::testing;

TEST_SUITE("http") {
TEST_CASE("a refused upload is answered before its body is sent, and the connection is closed") {
  auto server = http::MakeServer("127.0.0.1", 0);
  std::atomic<int> calls{0};
  std::atomic<uint64_t> read_by_handler{0};
  server->RouteStream("POST", "/upload", [&](const http::Request& req, http::BodyReader& body) {
    ++calls;
    if (req.Header("authorization") != "Bearer ok") return http::ErrorResponse(401, "Unauthenticated", "no token");
    char buf[65536];
    for (;;) {
      Result<size_t> n = body.Read(buf, sizeof buf);
      if (!n.ok() || *n == 0) break;
      read_by_handler += *n;
    }
    return http::Response(201, "application/json", "{\"read\":" + std::to_string(body.bytes_read()) + "}");
  });
  server->Route("GET", "/ping", [](const http::Request&) { return http::Response(200, "text/plain", "pong"); });
  REQUIRE(server->Start().ok());

  // 1 GiB announced, 64 KiB sent, then the client waits: the 401 must come now. (Before, the
  // server read the whole body first, and this waited until the timeout.)
  RawRequest big;
  big.method = "POST";
  big.path = "/upload";
  big.body = std::string(64 << 10, 'x');
  big.declared_length = 1ull << 30;
  int fd = SendPartial(server->port(), big);
  REQUIRE(fd >= 0);
  RawResponse r = ReadResponse(fd, 30);
  CHECK(r.status == 401);
  CHECK(r.headers["connection"] == "close");
  CHECK(r.body.find("Unauthenticated") != std::string::npos);

  // A small body left unread is still read, so the client sending it all gets the answer too.
  RawRequest small;
  small.method = "POST";
  small.path = "/upload";
  small.body = std::string(100 << 10, 'y');
  RawResponse s = Send(server->port(), small);
  CHECK(s.status == 401);

  // A handler that reads the body gets all of it; the server keeps serving.
  RawRequest ok = small;
  ok.headers["Authorization"] = "Bearer ok";
  RawResponse o = Send(server->port(), ok);
  CHECK(o.status == 201);
  CHECK(o.body == "{\"read\":" + std::to_string(100 << 10) + "}");
  CHECK(Send(server->port(), RawRequest{"GET", "/ping", {}, {}}).body == "pong");
  CHECK(calls == 3);
  server->Stop();
}
}
