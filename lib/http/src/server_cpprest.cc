// The HTTP server over cpprestsdk's http_listener. cpprestsdk stays in here.
#include <cpprest/filestream.h>
#include <cpprest/http_listener.h>

#include <atomic>
#include <condition_variable>
#include <filesystem>
#include <mutex>
#include <nlohmann/json.hpp>
#include <thread>
#include <vector>

#include "oomscope/http/server.h"

namespace oomscope::http {
namespace {

using web::http::experimental::listener::http_listener;

// Reads the request body from cpprest's stream buffer, piece by piece.
class CpprestBodyReader final : public BodyReader {
 public:
  explicit CpprestBodyReader(web::http::http_request& req) : buf_(req.body().streambuf()) {}
  Result<size_t> Read(char* buf, size_t n) override {
    try {
      size_t got = buf_.getn(reinterpret_cast<uint8_t*>(buf), n).get();
      read_ += got;
      if (got == 0 && n > 0) ended_ = true;
      return got;
    } catch (const std::exception& e) {
      return Unavailable(std::string("the request body could not be read: ") + e.what());
    }
  }
  uint64_t bytes_read() const override { return read_; }
  bool ended() const { return ended_; }  // read to its end

 private:
  concurrency::streams::streambuf<uint8_t> buf_;
  uint64_t read_ = 0;
  bool ended_ = false;
};

struct Routes {
  std::map<std::string, Server::Handler> plain;
  std::map<std::string, Server::StreamHandler> stream;
  bool empty() const { return plain.empty() && stream.empty(); }
};

class CpprestServer final : public Server {
 public:
  CpprestServer(std::string host, int port, int max_streams)
      : host_(std::move(host)), port_(port), max_streams_(max_streams) {}
  ~CpprestServer() override { Stop(); }

  void Route(const std::string& method, const std::string& path, Handler handler) override {
    std::lock_guard<std::mutex> lock(mu_);
    Entry(path).plain[method] = std::move(handler);
  }

  void RouteStream(const std::string& method, const std::string& path, StreamHandler handler) override {
    std::lock_guard<std::mutex> lock(mu_);
    Entry(path).stream[method] = std::move(handler);
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
    std::unique_lock<std::mutex> lock(mu_);
    streams_done_.wait(lock, [&] { return streams_ == 0; });
    lock.unlock();
    listener_.reset();
  }

  int port() const override { return port_; }

 private:
  static int FreePort();

  Routes& Entry(const std::string& path) {
    for (auto& [pattern, routes] : routes_)
      if (pattern == path) return routes;
    routes_.emplace_back(path, Routes{});
    return routes_.back().second;
  }

  // Finds the routes for `path`: an exact pattern first, then the first `{name}` pattern.
  const Routes* Find(Request& r) {
    for (const auto& [pattern, routes] : routes_)
      if (pattern == r.path) return &routes;
    for (const auto& [pattern, routes] : routes_)
      if (pattern.find('{') != std::string::npos && MatchPattern(pattern, r.path, &r.params)) return &routes;
    return nullptr;
  }

  static void Reply(web::http::http_request& req, const Response& out, bool close) {
    web::http::http_response resp(static_cast<web::http::status_code>(out.status));
    for (const auto& [k, v] : out.headers) resp.headers().add(k, v);
    if (close) resp.headers().add("Connection", "close");
    if (!out.file.empty()) {
      std::error_code ec;
      uint64_t size = std::filesystem::file_size(out.file, ec);
      auto stream = concurrency::streams::fstream::open_istream(out.file, std::ios::in | std::ios::binary).get();
      resp.set_body(stream, ec ? 0 : size, out.content_type);
    } else {
      resp.set_body(out.body, out.content_type);
    }
    req.reply(resp).wait();
  }

  void Handle(web::http::http_request req) {
    Request r;
    r.method = req.method();
    r.path = web::uri::decode(req.relative_uri().path());
    r.query = req.relative_uri().query();
    try {
      for (const auto& [k, v] : web::uri::split_query(r.query)) r.query_params[web::uri::decode(k)] = web::uri::decode(v);
    } catch (const std::exception&) {
    }
    for (const auto& [k, v] : req.headers()) {
      std::string key = k;
      for (auto& c : key) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
      r.headers[key] = v;
    }
    if (auto it = r.headers.find("content-length"); it != r.headers.end()) {
      try {
        r.content_length = std::stoull(it->second);
      } catch (const std::exception&) {
      }
    }
    Handler h;
    StreamHandler sh;
    bool path_known = false;
    {
      std::lock_guard<std::mutex> lock(mu_);
      if (const Routes* routes = Find(r)) {
        path_known = true;
        if (auto m = routes->plain.find(r.method); m != routes->plain.end()) h = m->second;
        if (auto m = routes->stream.find(r.method); m != routes->stream.end()) sh = m->second;
      }
    }
    try {
      if (sh) return Stream(std::move(req), std::move(r), std::move(sh));
      Response out;
      try {
        if (h && (r.method == "POST" || r.method == "PUT")) r.body = req.extract_utf8string(true).get();
        if (h) out = h(r);
        else if (path_known) out = ErrorResponse(405, "MethodNotAllowed", r.method + " is not supported on " + r.path);
        else out = ErrorResponse(404, "NotFound", "no endpoint " + r.path);
      } catch (const std::exception& e) {
        out = ErrorResponse(500, "Internal", e.what());
      }
      Reply(req, out, false);
    } catch (const std::exception&) {
      // The client went away while we answered: nothing left to do.
    }
  }

  // Runs a streaming handler on its own thread; the listener's thread returns at once.
  void Stream(web::http::http_request req, Request r, StreamHandler sh) {
    {
      std::lock_guard<std::mutex> lock(mu_);
      if (streams_ >= max_streams_) {
        Reply(req, ErrorResponse(503, "Busy", "too many uploads at once (" + std::to_string(max_streams_) +
                                                  "); retry later"), true);
        return;
      }
      ++streams_;
    }
    std::thread([this, req = std::move(req), r = std::move(r), sh = std::move(sh)]() mutable {
      CpprestBodyReader body(req);
      Response out;
      try {
        out = sh(r, body);
      } catch (const std::exception& e) {
        out = ErrorResponse(500, "Internal", e.what());
      }
      // cpprest's listener writes the answer only once the request body is complete (its
      // connection waits on content_ready()), and buffers in memory whatever nobody reads: so a
      // body left unread (an early 401/413) is read here and thrown away, piece by piece, and
      // the connection is closed after the answer. (Completing the body early instead, with
      // _complete(), lets the answer close the socket while the listener's body reads still
      // run: cpprest 2.10.18 then crashes in asio's epoll_reactor::start_op on the closed
      // socket, after a few hundred such answers; see docs/api.md.)
      bool unread = !body.ended() && (!r.content_length || body.bytes_read() < *r.content_length);
      if (unread) {
        std::vector<char> sink(1 << 16);
        for (;;) {
          Result<size_t> n = body.Read(sink.data(), sink.size());
          if (!n.ok() || *n == 0) break;
        }
      }
      try {
        Reply(req, out, unread);
      } catch (const std::exception&) {
      }
      std::lock_guard<std::mutex> lock(mu_);
      --streams_;
      streams_done_.notify_all();
    }).detach();
  }

  std::string host_;
  int port_;
  int max_streams_;
  std::mutex mu_;
  std::condition_variable streams_done_;
  int streams_ = 0;
  std::vector<std::pair<std::string, Routes>> routes_;
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

std::unique_ptr<Server> MakeServer(const std::string& host, int port, int max_streams) {
  return std::make_unique<CpprestServer>(host, port, max_streams);
}

Response ErrorResponse(int status, const std::string& code, const std::string& message) {
  return Response{status, "application/json", nlohmann::json({{"code", code}, {"message", message}}).dump()};
}

}  // namespace oomscope::http
