// The real KubeClient over cpprestsdk. cpprestsdk (and boost::asio::ssl) stay in this file; every
// exception they or nlohmann throw stops here and becomes a Status.
#include <cpprest/http_client.h>

#include <algorithm>
#include <atomic>
#include <cstring>
#include <memory>
#include <mutex>
#include <string>

#include <nlohmann/json.hpp>

#include "oomscope/common/log.h"
#include "oomscope/kube/api_status.h"
#include "oomscope/kube/client.h"
#include "oomscope/kube/object.h"
#include "token_source.h"

namespace oomscope::kube {
namespace {

using web::http::http_request;
using web::http::http_response;
using web::http::method;
using web::http::client::http_client;
using web::http::client::http_client_config;

std::string ContentType(PatchType t) {
  switch (t) {
    case PatchType::kMerge: return "application/merge-patch+json";
    case PatchType::kJsonPatch: return "application/json-patch+json";
    case PatchType::kStrategicMerge: return "application/strategic-merge-patch+json";
  }
  return "application/merge-patch+json";
}

// "?a=b&c=d" from the parameters that are set.
class Query {
 public:
  void Add(std::string_view key, std::string_view value) {
    if (value.empty()) return;
    s_.push_back(s_.empty() ? '?' : '&');
    s_.append(key).append("=").append(UrlEncode(value));
  }
  const std::string& str() const { return s_; }

 private:
  std::string s_;
};

Status NetworkError(std::string_view what, const std::exception& e) {
  std::string m = e.what();
  // cpprest reports its client-side timeout as "Failed to read HTTP status line" / "timed out".
  bool timeout = m.find("timed out") != std::string::npos || m.find("timeout") != std::string::npos;
  return Status(timeout ? Code::kDeadlineExceeded : Code::kUnavailable,
                std::string(what) + ": " + m);
}

class CpprestKubeClient final : public KubeClient {
 public:
  CpprestKubeClient(ClusterConfig config, http_client_config http_config)
      : config_(std::move(config)),
        http_config_(std::move(http_config)),
        tokens_(config_.token, config_.token_file, config_.token_refresh),
        client_(web::uri(config_.server), http_config_) {}

  Result<nlohmann::json> Get(const ResourceRef& r, std::string_view ns, std::string_view name,
                             std::string_view subresource) override {
    return Call(method("GET"), r.ObjectPath(ns, name, subresource), nullptr, "",
                "get " + r.GroupResource() + " " + Key(ns, name));
  }

  Result<nlohmann::json> ListPage(const ResourceRef& r, std::string_view ns,
                                  const ListOptions& o) override {
    Query q;
    q.Add("labelSelector", o.label_selector);
    q.Add("fieldSelector", o.field_selector);
    if (o.limit > 0) q.Add("limit", std::to_string(o.limit));
    q.Add("continue", o.continue_token);
    q.Add("resourceVersion", o.resource_version);
    q.Add("resourceVersionMatch", o.resource_version_match);
    return Call(method("GET"), r.CollectionPath(ns) + q.str(), nullptr, "",
                "list " + r.GroupResource() + (ns.empty() ? "" : " in " + std::string(ns)));
  }

  Result<nlohmann::json> Create(const ResourceRef& r, std::string_view ns,
                                const nlohmann::json& obj) override {
    std::string n = ns.empty() ? meta::Namespace(obj) : std::string(ns);
    return Call(method("POST"), r.CollectionPath(n) + WriteQuery(), &obj, "application/json",
                "create " + r.GroupResource() + " " + Key(n, meta::Name(obj)));
  }

  Result<nlohmann::json> Update(const ResourceRef& r, std::string_view ns, const nlohmann::json& obj,
                                std::string_view subresource) override {
    std::string n = ns.empty() ? meta::Namespace(obj) : std::string(ns);
    std::string name = meta::Name(obj);
    if (name.empty()) return InvalidArgument("update " + r.GroupResource() + ": no metadata.name");
    return Call(method("PUT"), r.ObjectPath(n, name, subresource) + WriteQuery(), &obj, "application/json",
                "update " + r.GroupResource() + (subresource.empty() ? "" : "/" + std::string(subresource)) +
                    " " + Key(n, name));
  }

  Result<nlohmann::json> Patch(const ResourceRef& r, std::string_view ns, std::string_view name,
                               PatchType type, const nlohmann::json& patch,
                               std::string_view subresource) override {
    return Call(method("PATCH"), r.ObjectPath(ns, name, subresource) + WriteQuery(), &patch, ContentType(type),
                "patch " + r.GroupResource() + " " + Key(ns, name));
  }

  Status Delete(const ResourceRef& r, std::string_view ns, std::string_view name,
                const DeleteOptions& o) override {
    nlohmann::json body;
    bool has_body = false;
    if (!o.propagation_policy.empty()) {
      body["propagationPolicy"] = o.propagation_policy;
      has_body = true;
    }
    if (!o.precondition_uid.empty()) {
      body["preconditions"]["uid"] = o.precondition_uid;
      has_body = true;
    }
    if (!o.precondition_resource_version.empty()) {
      body["preconditions"]["resourceVersion"] = o.precondition_resource_version;
      has_body = true;
    }
    if (has_body) {
      body["kind"] = "DeleteOptions";
      body["apiVersion"] = "v1";
    }
    Result<nlohmann::json> res =
        Call(method("DELETE"), r.ObjectPath(ns, name), has_body ? &body : nullptr,
             "application/json", "delete " + r.GroupResource() + " " + Key(ns, name));
    return res.ok() ? Status::Ok() : res.status();
  }

  Status Watch(const ResourceRef& r, std::string_view ns, const WatchOptions& o,
               const WatchHandler& handler, StopSignal* stop) override;

  Result<ServerVersion> Version() override {
    Result<nlohmann::json> answer = Call(method("GET"), "/version", nullptr, "", "get /version");
    if (!answer.ok()) return answer.status();
    return ParseServerVersion(*answer);
  }

 private:
  // "?fieldValidation=Strict" (ClusterConfig::field_validation) for creates, updates and patches.
  std::string WriteQuery() const {
    Query q;
    q.Add("fieldValidation", config_.field_validation);
    return q.str();
  }

  static std::string Key(std::string_view ns, std::string_view name) {
    return ns.empty() ? std::string(name) : std::string(ns) + "/" + std::string(name);
  }

  http_request MakeRequest(const method& m, const std::string& path_and_query,
                           const std::string* body, const std::string& content_type,
                           const std::string& token) const {
    http_request req(m);
    req.set_request_uri(web::uri(path_and_query));
    req.headers().add("Accept", "application/json");
    req.headers().add("User-Agent", config_.user_agent.empty() ? DefaultUserAgent() : config_.user_agent);
    if (!token.empty()) req.headers().add("Authorization", "Bearer " + token);
    if (body != nullptr) req.set_body(*body, content_type);
    return req;
  }

  // One call with a JSON answer. On 401 with a token file, re-reads the token and tries once more.
  Result<nlohmann::json> Call(const method& m, const std::string& path, const nlohmann::json* body,
                              const std::string& content_type, const std::string& what) {
    std::string body_text;
    if (body != nullptr) body_text = body->dump();
    for (int attempt = 0;; ++attempt) {
      std::string token = tokens_.Get();
      int code = 0;
      std::string answer;
      try {
        http_response resp =
            client_.request(MakeRequest(m, path, body ? &body_text : nullptr, content_type, token))
                .get();
        code = resp.status_code();
        answer = resp.extract_utf8string(true).get();
      } catch (const std::exception& e) {
        return NetworkError(what, e);
      }
      if (code == 401 && attempt == 0 && tokens_.Refresh()) continue;
      if (code < 200 || code >= 300) return StatusFromResponse(code, answer, what);
      if (answer.empty()) return nlohmann::json::object();
      nlohmann::json j = nlohmann::json::parse(answer, nullptr, false);
      if (j.is_discarded()) return Corruption(what + ": the answer is not JSON");
      return j;
    }
  }

  ClusterConfig config_;
  http_client_config http_config_;
  TokenSource tokens_;
  http_client client_;
};

// Splits a byte stream into lines and hands each complete one to `fn`.
class LineSplitter {
 public:
  template <typename Fn>
  bool Feed(const char* data, size_t n, Fn&& fn) {
    pending_.append(data, n);
    size_t start = 0;
    for (;;) {
      size_t nl = pending_.find('\n', start);
      if (nl == std::string::npos) break;
      std::string_view line(pending_.data() + start, nl - start);
      start = nl + 1;
      if (line.empty() || line == "\r") continue;
      if (!fn(line)) {
        pending_.erase(0, start);
        return false;
      }
    }
    pending_.erase(0, start);
    return true;
  }
  const std::string& rest() const { return pending_; }

 private:
  std::string pending_;
};

Status CpprestKubeClient::Watch(const ResourceRef& r, std::string_view ns, const WatchOptions& o,
                                const WatchHandler& handler, StopSignal* stop) {
  Query q;
  q.Add("watch", "1");
  q.Add("labelSelector", o.label_selector);
  q.Add("fieldSelector", o.field_selector);
  q.Add("resourceVersion", o.resource_version);
  if (o.allow_bookmarks) q.Add("allowWatchBookmarks", "true");
  if (o.timeout_seconds > 0) q.Add("timeoutSeconds", std::to_string(o.timeout_seconds));
  const std::string path = r.CollectionPath(ns) + q.str();
  const std::string what = "watch " + r.GroupResource() + (ns.empty() ? "" : " in " + std::string(ns));

  // Its own client: the timeout covers a whole quiet stream, not one call.
  http_client_config cfg = http_config_;
  int budget = (o.timeout_seconds > 0 ? o.timeout_seconds : 1800) + 30;
  cfg.set_timeout(std::chrono::seconds(budget));

  pplx::cancellation_token_source cts;
  uint64_t stop_id = 0;
  if (stop != nullptr) {
    stop_id = stop->OnStop([cts]() mutable { cts.cancel(); });
  }
  struct Unreg {
    StopSignal* s;
    uint64_t id;
    ~Unreg() {
      if (s != nullptr && id != 0) s->Unregister(id);
    }
  } unreg{stop, stop_id};
  auto cancelled = [&] { return stop != nullptr && stop->stopped(); };

  for (int attempt = 0;; ++attempt) {
    if (cancelled()) return Cancelled(what + ": stopped");
    std::string token = tokens_.Get();
    try {
      http_client client(web::uri(config_.server), cfg);
      http_response resp =
          client.request(MakeRequest(method("GET"), path, nullptr, "", token), cts.get_token()).get();
      int code = resp.status_code();
      if (code == 401 && attempt == 0 && tokens_.Refresh()) continue;
      if (code < 200 || code >= 300) {
        std::string answer = resp.extract_utf8string(true).get();
        return StatusFromResponse(code, answer, what);
      }
      concurrency::streams::streambuf<uint8_t> body = resp.body().streambuf();
      LineSplitter lines;
      Status result = Status::Ok();
      bool go_on = true;
      auto on_line = [&](std::string_view line) {
        nlohmann::json ev = nlohmann::json::parse(line, nullptr, false);
        if (!ev.is_object() || !ev.contains("type") || !ev["type"].is_string()) {
          result = Corruption(what + ": a watch event that is not JSON: " +
                              std::string(line.substr(0, 120)));
          return false;
        }
        const std::string type = ev["type"].get<std::string>();
        WatchEvent out{WatchEvent::Type::kAdded, std::move(ev["object"])};
        if (type == "ADDED") out.type = WatchEvent::Type::kAdded;
        else if (type == "MODIFIED") out.type = WatchEvent::Type::kModified;
        else if (type == "DELETED") out.type = WatchEvent::Type::kDeleted;
        else if (type == "BOOKMARK") out.type = WatchEvent::Type::kBookmark;
        else if (type == "ERROR") out.type = WatchEvent::Type::kError;
        else return true;  // an event type from the future: skip it
        // An ERROR event's Status, read before the handler may take the object.
        Status error = out.type == WatchEvent::Type::kError ? StatusFromApiObject(out.object, what) : Status::Ok();
        if (!handler(out)) {
          go_on = false;
          return false;
        }
        if (!error.ok()) {
          result = error;
          return false;
        }
        return true;
      };
      uint8_t buf[16384];
      for (;;) {
        // Block for one byte, then take whatever else has arrived.
        size_t got = body.getn(buf, 1).get();
        if (got == 0) break;  // the server ended the stream
        size_t avail = static_cast<size_t>(std::max<std::streamsize>(body.in_avail(), 0));
        if (avail > 0) got += body.getn(buf + 1, std::min(avail, sizeof buf - 1)).get();
        if (!lines.Feed(reinterpret_cast<const char*>(buf), got, on_line)) break;
      }
      if (!go_on || !result.ok()) {
        cts.cancel();  // close the connection rather than drain the rest
        return result;
      }
      if (cancelled()) return Cancelled(what + ": stopped");
      return Status::Ok();
    } catch (const pplx::task_canceled&) {
      return Cancelled(what + ": stopped");
    } catch (const std::exception& e) {
      if (cancelled()) return Cancelled(what + ": stopped");
      return NetworkError(what + ": the stream broke", e);
    }
  }
}

}  // namespace

Result<std::unique_ptr<KubeClient>> NewKubeClient(const ClusterConfig& config) {
  if (config.server.empty()) return InvalidArgument("no API server URL in the configuration");
  try {
    web::uri uri(config.server);
    if (uri.scheme() != "http" && uri.scheme() != "https") {
      return InvalidArgument("API server URL \"" + config.server + "\" is not http(s)");
    }
    http_client_config cfg;
    cfg.set_timeout(config.request_timeout);
    cfg.set_validate_certificates(!config.insecure_skip_tls_verify);
    if (uri.scheme() == "https") {
      std::string ca = config.ca_pem, cert = config.client_cert_pem, key = config.client_key_pem;
      if (cert.empty() != key.empty()) {
        return InvalidArgument("a client certificate needs its key (and the key its certificate)");
      }
      auto setup = [ca, cert, key](boost::asio::ssl::context& ctx) {
        if (!ca.empty()) ctx.add_certificate_authority(boost::asio::buffer(ca.data(), ca.size()));
        if (!cert.empty()) {
          ctx.use_certificate_chain(boost::asio::buffer(cert.data(), cert.size()));
          ctx.use_private_key(boost::asio::buffer(key.data(), key.size()),
                              boost::asio::ssl::context::pem);
        }
      };
      // Try the PEM data once here so that a bad certificate is a configuration error now,
      // not an exception inside every request.
      try {
        boost::asio::ssl::context probe(boost::asio::ssl::context::sslv23);
        setup(probe);
      } catch (const std::exception& e) {
        return InvalidArgument(std::string("the TLS certificates or key are not usable: ") + e.what());
      }
      cfg.set_ssl_context_callback(setup);
    }
    return std::unique_ptr<KubeClient>(new CpprestKubeClient(config, cfg));
  } catch (const std::exception& e) {
    return InvalidArgument("API server URL \"" + config.server + "\": " + e.what());
  }
}

}  // namespace oomscope::kube
