// lib/http's server (cpprestsdk underneath): a streaming handler that answers from the headers
// (401, 413) without reading the body gets its answer to the client, the body read and dropped.
#include <doctest/doctest.h>

#include <atomic>

#include "oomscope/http/server.h"
#include "raw_http.h"

using namespace oomscope;
using namespace oomscope::testing;

TEST_SUITE("http") {
TEST_CASE("a streaming handler may answer without reading the body; one that reads gets all of it") {
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

  // A body the handler leaves unread is read and dropped by the server, then answered; the
  // connection is closed after the answer.
  RawRequest big;
  big.method = "POST";
  big.path = "/upload";
  big.body = std::string(3 << 20, 'x');
  RawResponse r = Send(server->port(), big);
  CHECK(r.status == 401);
  CHECK(r.headers["connection"] == "close");
  CHECK(r.body.find("Unauthenticated") != std::string::npos);

  // A small one too.
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
