// Snapshot uploads over cpprestsdk's HTTP client. cpprestsdk stays in this file.
#include <cpprest/filestream.h>
#include <cpprest/http_client.h>
#include <cpprest/producerconsumerstream.h>

#include <atomic>
#include <map>
#include <mutex>
#include <thread>

#include <nlohmann/json.hpp>

#include "oomscope/common/log.h"
#include "gzip_file.h"
#include "uploader.h"

namespace oomscope::sidecar {
namespace {

// Compressed sizes by content hash and level: a retry does not count again.
Result<uint64_t> CachedGzippedSize(const SpoolEntry& entry, int level) {
  static std::mutex mu;
  static std::map<std::string, uint64_t> sizes;
  const std::string key = entry.sha256 + "/" + std::to_string(level);
  {
    std::lock_guard<std::mutex> lock(mu);
    if (auto it = sizes.find(key); it != sizes.end()) return it->second;
  }
  Result<uint64_t> n = GzippedSize(entry.data_path, level);
  if (n.ok()) {
    std::lock_guard<std::mutex> lock(mu);
    if (sizes.size() > 1000) sizes.clear();
    sizes[key] = *n;
  }
  return n;
}

// Feeds the gzip of a file into a producer/consumer buffer that the HTTP client reads, at most
// kAhead bytes ahead of it. Stop() (after the request ended, however) ends the producer.
class GzipProducer {
 public:
  static constexpr size_t kAhead = 4 << 20;

  GzipProducer(std::string path, int level) {
    thread_ = std::thread([this, path = std::move(path), level] {
      // A read error ends the body early: the request fails, and the upload is retried.
      (void)GzipFile(path, level, [this](std::string_view piece) -> Status {
        while (buf_.in_avail() > kAhead) {  // the consumer is behind: wait for it
          if (stop_) return Cancelled("upload ended");
          std::this_thread::sleep_for(std::chrono::milliseconds(2));
        }
        if (stop_) return Cancelled("upload ended");
        buf_.putn_nocopy(reinterpret_cast<const uint8_t*>(piece.data()), piece.size()).wait();
        return Status::Ok();
      });
      buf_.close(std::ios_base::out).wait();
    });
  }
  ~GzipProducer() { Stop(); }
  concurrency::streams::istream stream() { return buf_.create_istream(); }
  void Stop() {
    stop_ = true;
    if (thread_.joinable()) thread_.join();
  }

 private:
  concurrency::streams::producer_consumer_buffer<uint8_t> buf_;
  std::atomic<bool> stop_{false};
  std::thread thread_;
};

}  // namespace

Result<UploadResult> UploadOnce(const UploadTarget& target, const SpoolEntry& entry) {
  try {
    web::http::client::http_client_config cfg;
    cfg.set_timeout(target.timeout);
    web::http::client::http_client client(target.base_url, cfg);
    web::http::http_request req(web::http::methods::POST);
    req.set_request_uri("/v1/snapshots");
    req.headers().add("Authorization", "Bearer " + target.token);
    req.headers().add("X-Oomscope-Sha256", entry.sha256);
    req.headers().add("X-Oomscope-Metadata", entry.meta.dump(-1, ' ', /*ensure_ascii=*/true));
    web::http::http_response resp;
    if (target.gzip) {
      Result<uint64_t> compressed = CachedGzippedSize(entry, target.gzip_level);
      if (!compressed.ok()) return compressed.status();
      GzipProducer producer(entry.data_path, target.gzip_level);
      req.headers().add("Content-Encoding", "gzip");
      req.set_body(producer.stream(), *compressed, "application/octet-stream");
      try {
        resp = client.request(req).get();
      } catch (...) {
        producer.Stop();
        throw;
      }
      producer.Stop();
    } else {
      auto body = concurrency::streams::fstream::open_istream(entry.data_path, std::ios::in | std::ios::binary).get();
      req.set_body(body, entry.bytes, "application/octet-stream");
      resp = client.request(req).get();
      body.close().wait();
    }
    UploadResult r;
    r.http_status = resp.status_code();
    std::string text = resp.extract_utf8string(true).get();
    nlohmann::json j = nlohmann::json::parse(text, nullptr, false);
    std::string message = j.is_object() ? j.value("message", text) : text;
    if (r.http_status == 200 || r.http_status == 201) {
      r.duplicate = r.http_status == 200;
      if (j.is_object()) {
        r.snapshot_id = j.value("id", "");
        r.series_id = j.value("series", "");
      }
      return r;
    }
    std::string what = "analyzer answered HTTP " + std::to_string(r.http_status) + ": " + message.substr(0, 300);
    switch (r.http_status) {
      case 400: return InvalidArgument(what);
      case 401: return Status(Code::kUnauthenticated, what);
      case 403: return Status(Code::kPermissionDenied, what);
      case 413: return ResourceExhausted(what);
      default: return Unavailable(what);  // 429, 5xx, 507 and the like: try again later
    }
  } catch (const std::exception& e) {
    return Unavailable(std::string("upload to ") + target.base_url + " failed: " + e.what());
  }
}

void DrainSpool(Spool& spool, const UploadTarget& target, Backoff& backoff, const std::atomic<bool>& stop,
                UploadStats& stats, const std::function<void(std::chrono::milliseconds)>& sleep) {
  while (!stop) {
    std::vector<SpoolEntry> pending = spool.Pending();
    if (pending.empty()) return;
    const SpoolEntry& e = pending.front();
    Result<UploadResult> r = UploadOnce(target, e);
    if (r.ok()) {
      backoff.Reset();
      (r->duplicate ? stats.duplicates : stats.uploaded)++;
      log::Info(r->duplicate ? "snapshot already at the analyzer" : "snapshot uploaded",
                {{"id", e.id}, {"bytes", std::to_string(e.bytes)}, {"series", r->series_id}});
      (void)spool.Remove(e.id);
      continue;
    }
    const Code c = r.status().code();
    if (c == Code::kInvalidArgument || c == Code::kResourceExhausted) {
      // The analyzer will never take this one: keep the others moving.
      stats.rejected++;
      log::Error("snapshot rejected by the analyzer, dropped", {{"id", e.id}, {"error", r.status().message()}});
      (void)spool.Remove(e.id);
      continue;
    }
    // Down, overloaded, or a credential problem (the Secret may be rotated): wait and retry.
    stats.retries++;
    auto wait = backoff.Next();
    log::Warn("upload failed, will retry",
              {{"id", e.id}, {"error", r.status().message()}, {"retry_in_ms", std::to_string(wait.count())}});
    sleep(wait);
  }
}

}  // namespace oomscope::sidecar
