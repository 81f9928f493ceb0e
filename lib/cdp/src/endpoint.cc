#include <charconv>

#include "oomscope/cdp/inspector.h"

namespace oomscope::cdp {

std::string Endpoint::ToString() const {
  bool v6 = host.find(':') != std::string::npos;
  return (v6 ? "[" + host + "]" : host) + ":" + std::to_string(port);
}

bool IsLoopbackHost(const std::string& host) {
  if (host == "localhost" || host == "::1" || host == "[::1]") return true;
  // 127.0.0.0/8, written as a dotted quad.
  if (host.rfind("127.", 0) != 0) return false;
  int parts = 0;
  size_t i = 0;
  while (i <= host.size()) {
    size_t j = host.find('.', i);
    if (j == std::string::npos) j = host.size();
    unsigned v = 0;
    auto [p, ec] = std::from_chars(host.data() + i, host.data() + j, v);
    if (ec != std::errc() || p != host.data() + j || v > 255 || j == i) return false;
    ++parts;
    i = j + 1;
  }
  return parts == 4;
}

Result<Endpoint> ParseEndpoint(const std::string& text, bool allow_remote) {
  Endpoint ep;
  std::string port;
  if (text.empty()) return InvalidArgument("empty inspector address");
  if (text.front() == '[') {
    size_t close = text.find(']');
    if (close == std::string::npos || close + 1 >= text.size() || text[close + 1] != ':')
      return InvalidArgument("inspector address '" + text + "': expected [v6-address]:port");
    ep.host = text.substr(1, close - 1);
    port = text.substr(close + 2);
  } else if (text.find(':') == std::string::npos) {
    ep.host = "127.0.0.1";
    port = text;
  } else {
    size_t colon = text.rfind(':');
    ep.host = text.substr(0, colon);
    port = text.substr(colon + 1);
  }
  unsigned v = 0;
  auto [p, ec] = std::from_chars(port.data(), port.data() + port.size(), v);
  if (ec != std::errc() || p != port.data() + port.size() || v == 0 || v > 65535)
    return InvalidArgument("inspector address '" + text + "': bad port '" + port + "'");
  ep.port = static_cast<uint16_t>(v);
  if (!allow_remote && !IsLoopbackHost(ep.host)) {
    return Status(Code::kPermissionDenied,
                  "inspector address '" + text +
                      "' is not loopback: the inspector runs arbitrary code, so oomscope only "
                      "connects to 127.0.0.1 or ::1 unless told --allow-remote");
  }
  return ep;
}

}  // namespace oomscope::cdp
