#pragma once

#include <cstdint>
#include <functional>
#include <map>
#include <memory>
#include <optional>
#include <string>
#include <utility>

#include "oomscope/common/status.h"

namespace oomscope::http {

struct Request {
  std::string method, path, query;
  std::map<std::string, std::string> headers;  // lower-case names
  std::string body;  // Route() handlers only (small bodies); RouteStream() handlers read a BodyReader
  std::map<std::string, std::string> params;        // `{name}` segments of the matched route
  std::map<std::string, std::string> query_params;  // decoded `?a=b&c=d`
  std::optional<uint64_t> content_length;           // from the header, when sent

  // The header's value, or "" when absent. `name` in lower case.
  std::string Header(const std::string& name) const {
    auto it = headers.find(name);
    return it == headers.end() ? std::string() : it->second;
  }
};

struct Response {
  Response() = default;
  Response(int status_, std::string content_type_, std::string body_)
      : status(status_), content_type(std::move(content_type_)), body(std::move(body_)) {}

  int status = 200;
  std::string content_type = "application/json";
  std::string body;
  std::map<std::string, std::string> headers;  // extra response headers
  // When set, the body is this file's content, streamed from disk (downloads of GBs); `body`
  // is ignored. The file must exist when the handler returns.
  std::string file;
};

// A request body as it arrives: pieces in order, never the whole. Blocks until data is there.
class BodyReader {
 public:
  virtual ~BodyReader() = default;
  // Reads up to `n` bytes. Returns the count, 0 at the end of the body, or Unavailable when the
  // connection broke.
  virtual Result<size_t> Read(char* buf, size_t n) = 0;
  virtual uint64_t bytes_read() const = 0;
};

// A small HTTP server: routes by method and path pattern; cpprestsdk underneath, confined to
// server_cpprest.cc.
//
// Patterns are exact paths or contain `{name}` segments matching one path segment each
// (`/v1/series/{id}/report`); an exact path wins over a pattern. A path that matches no pattern
// gets 404, a known path with another method 405.
class Server {
 public:
  using Handler = std::function<Response(const Request&)>;
  // Gets the headers first: it may answer (401, 413) without reading the body. The server then
  // reads and discards the rest (never holding it) before it sends the answer, because
  // cpprestsdk's listener answers only after the whole body arrived (cutting the body short is
  // not safe in cpprestsdk 2.10: see server_cpprest.cc); the connection is closed.
  using StreamHandler = std::function<Response(const Request&, BodyReader&)>;
  virtual ~Server() = default;
  // Registers `handler` for `method` on `path`; the body (if any) is read whole into Request::body.
  virtual void Route(const std::string& method, const std::string& path, Handler handler) = 0;
  // Registers a handler that streams the body. It runs on its own thread, so a slow upload does
  // not hold one of the server's threads; at most `max_streams` run at once, others get 503.
  virtual void RouteStream(const std::string& method, const std::string& path, StreamHandler handler) = 0;
  virtual Status Start() = 0;
  // Stops listening and waits for running stream handlers.
  virtual void Stop() = 0;
  virtual int port() const = 0;  // the bound port (useful with port 0)
};

// Listens on `host:port` (port 0: any free port).
std::unique_ptr<Server> MakeServer(const std::string& host, int port, int max_streams = 32);

// A JSON error body as docs/api.md describes it.
Response ErrorResponse(int status, const std::string& code, const std::string& message);

// Matches `path` against a route pattern; fills `params` on success. Exposed for tests.
bool MatchPattern(const std::string& pattern, const std::string& path, std::map<std::string, std::string>* params);

}  // namespace oomscope::http
