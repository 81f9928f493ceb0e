#pragma once

#include <chrono>
#include <functional>
#include <memory>
#include <string>
#include <string_view>

#include <nlohmann/json.hpp>

#include "oomscope/cdp/inspector.h"
#include "oomscope/common/status.h"

namespace oomscope::cdp {

// One DevTools-protocol session over a WebSocket: requests with ids, their responses, and
// events. V8 keeps heap object ids only while a session stays open, so a snapshot series is
// taken within one Session. Thread-safe: Call() may be used from several threads; the event
// handler runs on the connection's thread, in the order events arrive.
class Session {
 public:
  using EventHandler = std::function<void(const std::string& method, const nlohmann::json& params)>;

  virtual ~Session() = default;
  // Sends `method` and waits for its response: the `result` object, or an error (Unavailable
  // when the connection drops, DeadlineExceeded on timeout, InvalidArgument for a protocol
  // error answer with its message).
  virtual Result<nlohmann::json> Call(std::string_view method, nlohmann::json params,
                                      std::chrono::milliseconds timeout) = 0;
  // Replaces the event handler (nullptr: events are dropped).
  virtual void SetEventHandler(EventHandler handler) = 0;
  virtual bool Connected() const = 0;
};

// Connects to `target`'s WebSocket (its host must be loopback unless `allow_remote`).
Result<std::unique_ptr<Session>> Connect(const Target& target, std::chrono::milliseconds timeout,
                                         bool allow_remote = false);

}  // namespace oomscope::cdp
