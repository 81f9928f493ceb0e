// The DevTools-protocol session over cpprestsdk's WebSocket client. cpprestsdk stays in here.
#include <cpprest/ws_client.h>

#include <atomic>
#include <future>
#include <mutex>
#include <unordered_map>

#include "json_string.h"
#include "oomscope/cdp/session.h"

namespace oomscope::cdp {
namespace {

using web::websockets::client::websocket_callback_client;
using web::websockets::client::websocket_close_status;
using web::websockets::client::websocket_incoming_message;
using web::websockets::client::websocket_outgoing_message;

class CpprestSession final : public Session {
 public:
  CpprestSession() = default;
  ~CpprestSession() override {
    {
      std::lock_guard<std::mutex> lock(mu_);
      handler_ = nullptr;
    }
    try {
      client_.set_message_handler([](const websocket_incoming_message&) {});
      client_.set_close_handler([](websocket_close_status, const utility::string_t&, const std::error_code&) {});
      if (connected_) client_.close().wait();
    } catch (const std::exception&) {
      // Closing a connection that is already gone: nothing left to do.
    }
    FailAll("session closed");
  }

  Status Open(const std::string& url, std::chrono::milliseconds timeout) {
    client_.set_message_handler([this](const websocket_incoming_message& msg) { OnMessage(msg); });
    client_.set_close_handler([this](websocket_close_status, const utility::string_t& reason,
                                     const std::error_code& ec) {
      connected_ = false;
      FailAll("the inspector closed the connection" +
              (reason.empty() ? std::string() : ": " + reason) +
              (ec ? " (" + ec.message() + ")" : std::string()));
    });
    // Loopback connections succeed or are refused at once; `timeout` bounds the handshake.
    (void)timeout;
    try {
      client_.connect(url).wait();
    } catch (const std::exception& e) {
      return Unavailable("cannot connect to " + url + ": " + e.what());
    }
    connected_ = true;
    return Status::Ok();
  }

  Result<nlohmann::json> Call(std::string_view method, nlohmann::json params,
                              std::chrono::milliseconds timeout) override {
    if (!connected_) return Unavailable("not connected to the inspector");
    int64_t id = ++next_id_;
    auto promise = std::make_shared<std::promise<Result<nlohmann::json>>>();
    auto future = promise->get_future();
    {
      std::lock_guard<std::mutex> lock(mu_);
      pending_[id] = promise;
    }
    nlohmann::json req = {{"id", id}, {"method", std::string(method)}, {"params", std::move(params)}};
    try {
      websocket_outgoing_message out;
      out.set_utf8_message(req.dump());
      client_.send(out).wait();
    } catch (const std::exception& e) {
      Forget(id);
      return Unavailable(std::string("sending ") + std::string(method) + ": " + e.what());
    }
    if (future.wait_for(timeout) != std::future_status::ready) {
      Forget(id);
      return Status(Code::kDeadlineExceeded, std::string(method) + " timed out");
    }
    return future.get();
  }

  void SetEventHandler(EventHandler handler) override {
    std::lock_guard<std::mutex> lock(mu_);
    handler_ = std::move(handler);
  }

  bool Connected() const override { return connected_; }

 private:
  void OnMessage(const websocket_incoming_message& msg) {
    std::string text;
    try {
      text = msg.extract_string().get();
    } catch (const std::exception&) {
      return;
    }
    // The hot path of a capture: snapshot chunks (~100 KB of escaped JSON each) are decoded
    // straight into a string, without building a JSON document and copying it around.
    {
      std::string chunk;
      if (DecodeSingleStringEvent(text, "HeapProfiler.addHeapSnapshotChunk", "chunk", chunk)) {
        EventHandler h;
        {
          std::lock_guard<std::mutex> lock(mu_);
          h = handler_;
        }
        nlohmann::json params = nlohmann::json::object();
        params["chunk"] = std::move(chunk);
        if (h) h("HeapProfiler.addHeapSnapshotChunk", params);
        return;
      }
    }
    nlohmann::json j = nlohmann::json::parse(text, nullptr, false);
    if (!j.is_object()) return;  // not the protocol: ignore rather than trust
    auto id = j.find("id");
    if (id != j.end() && id->is_number_integer()) {
      std::shared_ptr<std::promise<Result<nlohmann::json>>> p;
      {
        std::lock_guard<std::mutex> lock(mu_);
        auto it = pending_.find(id->get<int64_t>());
        if (it == pending_.end()) return;
        p = it->second;
        pending_.erase(it);
      }
      if (j.contains("error")) {
        std::string m = j["error"].is_object() ? j["error"].value("message", "error") : "error";
        p->set_value(InvalidArgument("inspector error: " + m));
      } else {
        p->set_value(j.contains("result") ? j["result"] : nlohmann::json::object());
      }
      return;
    }
    auto method = j.find("method");
    if (method == j.end() || !method->is_string()) return;
    EventHandler h;
    {
      std::lock_guard<std::mutex> lock(mu_);
      h = handler_;
    }
    static const nlohmann::json kNoParams = nlohmann::json::object();
    auto params = j.find("params");
    if (h) h(method->get<std::string>(), params != j.end() ? *params : kNoParams);
  }

  void Forget(int64_t id) {
    std::lock_guard<std::mutex> lock(mu_);
    pending_.erase(id);
  }

  void FailAll(const std::string& why) {
    std::unordered_map<int64_t, std::shared_ptr<std::promise<Result<nlohmann::json>>>> pending;
    {
      std::lock_guard<std::mutex> lock(mu_);
      pending.swap(pending_);
    }
    for (auto& [id, p] : pending) p->set_value(Unavailable(why));
  }

  websocket_callback_client client_;
  std::atomic<bool> connected_{false};
  std::atomic<int64_t> next_id_{0};
  std::mutex mu_;
  std::unordered_map<int64_t, std::shared_ptr<std::promise<Result<nlohmann::json>>>> pending_;
  EventHandler handler_;
};

}  // namespace

Result<std::unique_ptr<Session>> Connect(const Target& target, std::chrono::milliseconds timeout,
                                         bool allow_remote) {
  // ws://HOST:PORT/ID: the host must be loopback.
  const std::string& url = target.websocket_url;
  if (url.rfind("ws://", 0) != 0) return InvalidArgument("not a ws:// inspector URL: " + url);
  std::string rest = url.substr(5);
  std::string hostport = rest.substr(0, rest.find('/'));
  Result<Endpoint> ep = ParseEndpoint(hostport, allow_remote);
  if (!ep.ok()) return ep.status();
  auto s = std::make_unique<CpprestSession>();
  Status st = s->Open(url, timeout);
  if (!st.ok()) return st;
  return std::unique_ptr<Session>(std::move(s));
}

}  // namespace oomscope::cdp
