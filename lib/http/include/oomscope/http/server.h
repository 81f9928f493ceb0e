#pragma once

#include <functional>
#include <map>
#include <memory>
#include <string>

#include "oomscope/common/status.h"

namespace oomscope::http {

struct Request {
  std::string method, path, query;
  std::map<std::string, std::string> headers;  // lower-case names
  std::string body;  // small bodies only (control endpoints); uploads stream elsewhere
};

struct Response {
  int status = 200;
  std::string content_type = "application/json";
  std::string body;
};

// A small HTTP server for control endpoints (/healthz, /metrics, /capture): exact-path routes,
// handlers run on the server's threads. cpprestsdk underneath, confined to server_cpprest.cc.
class Server {
 public:
  using Handler = std::function<Response(const Request&)>;
  virtual ~Server() = default;
  // Registers `handler` for `method` on `path`; other methods on a known path get 405.
  virtual void Route(const std::string& method, const std::string& path, Handler handler) = 0;
  virtual Status Start() = 0;
  virtual void Stop() = 0;
  virtual int port() const = 0;  // the bound port (useful with port 0)
};

// Listens on `host:port` (port 0: any free port).
std::unique_ptr<Server> MakeServer(const std::string& host, int port);

// A JSON error body as docs/api.md describes it.
Response ErrorResponse(int status, const std::string& code, const std::string& message);

}  // namespace oomscope::http
