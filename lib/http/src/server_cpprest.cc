// The control-endpoint HTTP server over cpprestsdk's http_listener. cpprestsdk stays in here.
#include <cpprest/http_listener.h>

#include <mutex>
#include <nlohmann/json.hpp>

#include "oomscope/http/server.h"

namespace oomscope::http {
namespace {

using web::http::experimental::listener::http_listener;

class CpprestServer final : public Server {
 public:
  CpprestServer(std::string host, int port) : host_(std::move(host)), port_(port) {}
  ~CpprestServer() override { Stop(); }

  void Route(const std::string& method, const std::string& path, Handler handler) override {
    std::lock_guard<std::mutex> lock(mu_);
    routes_[path][method] = std::move(handler);
  }

  Status Start() override {
    // cpprest cannot report the port it bound for port 0: pick a free one first.
    if (port_ == 0) port_ = FreePort();
    try {
      listener_ = std::make_unique<http_listener>("http://" + host_ + ":" + std::to_string(port_));
      listener_->support([this](web::http::http_request req) { Handle(std::move(req)); });
      listener_->open().wait();
    } catch (const std::exception& e) {
      listener_.reset();
      return Unavailable("cannot listen on " + host_ + ":" + std::to_string(port_) + ": " + e.what());
    }
    return Status::Ok();
  }

  void Stop() override {
    if (!listener_) return;
    try {
      listener_->close().wait();
    } catch (const std::exception&) {
    }
    listener_.reset();
  }

  int port() const override { return port_; }

 private:
  static int FreePort();

  void Handle(web::http::http_request req) {
    Request r;
    r.method = req.method();
    r.path = web::uri::decode(req.relative_uri().path());
    r.query = req.relative_uri().query();
    for (const auto& [k, v] : req.headers()) {
      std::string key = k;
      for (auto& c : key) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
      r.headers[key] = v;
    }
    Response out;
    try {
      if (r.method == "POST" || r.method == "PUT") r.body = req.extract_utf8string(true).get();
      Handler h;
      bool path_known = false;
      {
        std::lock_guard<std::mutex> lock(mu_);
        auto it = routes_.find(r.path);
        if (it != routes_.end()) {
          path_known = true;
          auto m = it->second.find(r.method);
          if (m != it->second.end()) h = m->second;
        }
      }
      if (h) out = h(r);
      else if (path_known) out = ErrorResponse(405, "MethodNotAllowed", r.method + " is not supported on " + r.path);
      else out = ErrorResponse(404, "NotFound", "no endpoint " + r.path);
    } catch (const std::exception& e) {
      out = ErrorResponse(500, "Internal", e.what());
    }
    web::http::http_response resp(static_cast<web::http::status_code>(out.status));
    resp.set_body(out.body, out.content_type);
    req.reply(resp).wait();
  }

  std::string host_;
  int port_;
  std::mutex mu_;
  std::map<std::string, std::map<std::string, Handler>> routes_;
  std::unique_ptr<http_listener> listener_;
};

}  // namespace
}  // namespace oomscope::http

#include <netinet/in.h>
#include <sys/socket.h>
#include <unistd.h>

namespace oomscope::http {
namespace {
int CpprestServer::FreePort() {
  int fd = ::socket(AF_INET, SOCK_STREAM, 0);
  sockaddr_in a{};
  a.sin_family = AF_INET;
  a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  a.sin_port = 0;
  socklen_t len = sizeof a;
  int port = 0;
  if (::bind(fd, reinterpret_cast<sockaddr*>(&a), sizeof a) == 0 &&
      ::getsockname(fd, reinterpret_cast<sockaddr*>(&a), &len) == 0)
    port = ntohs(a.sin_port);
  ::close(fd);
  return port;
}
}  // namespace

std::unique_ptr<Server> MakeServer(const std::string& host, int port) {
  return std::make_unique<CpprestServer>(host, port);
}

Response ErrorResponse(int status, const std::string& code, const std::string& message) {
  return Response{status, "application/json", nlohmann::json({{"code", code}, {"message", message}}).dump()};
}

}  // namespace oomscope::http
