#include "raw_http.h"

#include <arpa/inet.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <unistd.h>

#include <algorithm>
#include <cstring>

namespace oomscope::testing {

namespace {

int Connect(int port) {
  int fd = ::socket(AF_INET, SOCK_STREAM, 0);
  sockaddr_in a{};
  a.sin_family = AF_INET;
  a.sin_port = htons(static_cast<uint16_t>(port));
  a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  if (::connect(fd, reinterpret_cast<sockaddr*>(&a), sizeof a) != 0) {
    ::close(fd);
    return -1;
  }
  return fd;
}

bool WriteAll(int fd, const char* p, size_t n) {
  while (n > 0) {
    ssize_t w = ::send(fd, p, n, MSG_NOSIGNAL);
    if (w <= 0) return false;
    p += w;
    n -= static_cast<size_t>(w);
  }
  return true;
}

int Start(int port, const RawRequest& req) {
  int fd = Connect(port);
  if (fd < 0) return -1;
  std::string head = req.method + " " + req.path + " HTTP/1.1\r\nHost: 127.0.0.1\r\nConnection: close\r\n";
  for (const auto& [k, v] : req.headers) head += k + ": " + v + "\r\n";
  if (!req.omit_content_length && (!req.body.empty() || req.method == "POST"))
    head += "Content-Length: " + std::to_string(req.declared_length ? req.declared_length : req.body.size()) + "\r\n";
  head += "\r\n";
  WriteAll(fd, head.data(), head.size());
  WriteAll(fd, req.body.data(), std::min(req.send_body_bytes, req.body.size()));
  return fd;
}

}  // namespace

int SendPartial(int port, const RawRequest& req) { return Start(port, req); }

RawResponse Send(int port, const RawRequest& req) {
  int fd = Start(port, req);
  if (fd < 0) return RawResponse{};
  if (req.send_body_bytes < req.body.size()) ::shutdown(fd, SHUT_WR);  // a truncated body: EOF
  return ReadResponse(fd, 0);
}

RawResponse ReadResponse(int fd, int timeout_seconds) {
  RawResponse out;
  if (timeout_seconds > 0) {
    timeval tv{};
    tv.tv_sec = timeout_seconds;
    ::setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof tv);
  }
  std::string all;
  char buf[65536];
  for (;;) {
    ssize_t n = ::recv(fd, buf, sizeof buf, 0);
    if (n <= 0) break;
    all.append(buf, static_cast<size_t>(n));
  }
  ::close(fd);
  size_t end = all.find("\r\n\r\n");
  if (end == std::string::npos || all.size() < 12) return out;
  out.status = std::atoi(all.c_str() + 9);
  size_t line = all.find("\r\n");
  while (line < end) {
    size_t next = all.find("\r\n", line + 2);
    std::string h = all.substr(line + 2, next - line - 2);
    size_t colon = h.find(':');
    if (colon != std::string::npos) {
      std::string k = h.substr(0, colon), v = h.substr(colon + 1);
      std::transform(k.begin(), k.end(), k.begin(), ::tolower);
      v.erase(0, v.find_first_not_of(' '));
      out.headers[k] = v;
    }
    line = next;
  }
  std::string body = all.substr(end + 4);
  if (out.headers["transfer-encoding"] == "chunked") {
    std::string dec;
    size_t p = 0;
    while (p < body.size()) {
      size_t eol = body.find("\r\n", p);
      if (eol == std::string::npos) break;
      size_t len = std::stoul(body.substr(p, eol - p), nullptr, 16);
      if (len == 0) break;
      dec += body.substr(eol + 2, len);
      p = eol + 2 + len + 2;
    }
    body = dec;
  }
  out.body = body;
  return out;
}

}  // namespace oomscope::testing
