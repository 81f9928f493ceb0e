#include "upload.h"

#include <optional>
#include <vector>

#include "oomscope/common/gzip.h"
#include "oomscope/common/log.h"
#include "oomscope/common/sha256.h"
#include "oomscope/heap/parser.h"
#include "series_view.h"
#include "upload_source.h"

namespace oomscope::analyzer {

bool TokenMatches(const std::string& authorization_header, const std::string& token) {
  if (token.empty()) return true;
  const std::string prefix = "Bearer ";
  if (authorization_header.compare(0, prefix.size(), prefix) != 0) return false;
  std::string given = authorization_header.substr(prefix.size());
  // Every byte of the expected token is compared, whatever matched before.
  unsigned char diff = given.size() == token.size() ? 0 : 1;
  for (size_t i = 0; i < token.size(); ++i) diff |= static_cast<unsigned char>(token[i] ^ (i < given.size() ? given[i] : 0));
  return diff == 0;
}

namespace {
bool IsSha256Hex(const std::string& s) {
  if (s.size() != 64) return false;
  for (char c : s)
    if (!((c >= '0' && c <= '9') || (c >= 'a' && c <= 'f'))) return false;
  return true;
}
}  // namespace

http::Response UploadHandler::Fail(const std::string& result, int status, const std::string& code, const std::string& message) {
  metrics_.Upload(result);
  log::Warn("upload refused", {{"status", std::to_string(status)}, {"code", code}, {"message", message}});
  return http::ErrorResponse(status, code, message);
}

http::Response UploadHandler::Handle(const http::Request& req, http::BodyReader& body) {
  // 1. What the headers tell, before a byte of the body is read.
  if (req.Header("authorization").empty() && !options_.token.empty())
    return Fail("unauthorized", 401, "Unauthenticated", "no Authorization: Bearer <token> header; the upload token is the chart's Secret");
  if (!TokenMatches(req.Header("authorization"), options_.token))
    return Fail("unauthorized", 401, "Unauthenticated", "the bearer token does not match the analyzer's upload token (was the Secret rotated?)");
  std::string sha = req.Header("x-oomscope-sha256");
  if (!IsSha256Hex(sha))
    return Fail("rejected", 400, "BadHash", "X-Oomscope-Sha256 must be the SHA-256 of the snapshot, 64 lowercase hex digits");
  nlohmann::json meta = nlohmann::json::parse(req.Header("x-oomscope-metadata"), nullptr, false);
  if (meta.is_discarded() || !meta.is_object())
    return Fail("rejected", 400, "BadMetadata", "X-Oomscope-Metadata must be a JSON object (namespace, workload, pod, series, ...)");
  std::string series = meta.value("series", "");
  if (!ValidId(series))
    return Fail("rejected", 400, "BadMetadata", "metadata \"series\" must be 1-128 characters of [A-Za-z0-9._-], got \"" + series.substr(0, 140) + "\"");
  for (const char* key : {"namespace", "workload", "pod", "container"})
    if (meta.contains(key) && !meta[key].is_string())
      return Fail("rejected", 400, "BadMetadata", std::string("metadata \"") + key + "\" must be a string");
  std::string encoding = req.Header("content-encoding");
  bool gzip = encoding == "gzip";
  if (!gzip && !encoding.empty() && encoding != "identity")
    return Fail("rejected", 400, "UnsupportedEncoding", "Content-Encoding \"" + encoding + "\": send the snapshot raw or as gzip");
  uint64_t max = options_.max_upload_bytes;
  if (req.content_length && *req.content_length > max)
    return Fail("too_large", 413, "TooLarge", "the snapshot is " + std::to_string(*req.content_length) + " bytes, more than this analyzer accepts (" +
                                                  std::to_string(max) + ", --max-upload-bytes)");
  if (!gzip && req.content_length && retention_.max_bytes() && *req.content_length > retention_.max_bytes())
    return Fail("store_full", 507, "StoreFull", "the snapshot is larger than the whole store (--retention-bytes " + std::to_string(retention_.max_bytes()) + ")");
  if (auto existing = store_.Get(sha)) {
    metrics_.Upload("duplicate");
    return http::Response(200, "application/json", nlohmann::json({{"id", sha}, {"series", existing->series}, {"duplicate", true}}).dump());
  }

  // 2. The body, in one pass: inflated (gzip), hashed, written to the store and parsed as it
  // arrives. The parse needs its memory reserved first; when the size is not known in advance
  // (gzip) or the budget is taken right now, the body is stored first and parsed from the file
  // right after (still one parse): the connection is read at once either way, since what is
  // not read waits in the HTTP layer's memory.
  Result<std::unique_ptr<PendingUpload>> up = store_.Begin();
  if (!up.ok()) {
    if (up.status().code() == Code::kResourceExhausted) return Fail("store_full", 507, "StoreFull", up.status().message());
    return Fail("rejected", 503, "StoreUnavailable", up.status().message());
  }
  uint64_t earlier = 0;  // the series' earlier snapshots, analyzed with it as digests
  for (const SnapshotRecord& r : store_.SeriesSnapshots(series))
    if (r.state != "failed") earlier += r.bytes;
  BudgetLease lease;
  if (!gzip && req.content_length)
    lease = BudgetLease::TryTake(budget_, MemoryBudget::ParseCost(*req.content_length) + MemoryBudget::DigestCost(earlier));
  Sha256 hash;
  uint64_t room = retention_.max_bytes() ? std::min(max, retention_.max_bytes()) : max;
  UploadSource source(body, gzip, room, **up, hash, gzip ? std::nullopt : req.content_length);
  std::optional<Result<heap::Snapshot>> parsed;
  heap::ParseOptions po;
  po.split_min_bytes = ~0ull;  // one thread: uploads and analyses share the cores
  if (lease.held()) {
    parsed.emplace(heap::ParseSnapshot(source, po));
    metrics_.Parsed("upload");
    if (!parsed->ok()) source.StopWriting();
  }
  Status st = source.Drain();
  if (!st.ok()) {
    if (st.code() == Code::kResourceExhausted && st.message().find("store is full") != std::string::npos)
      return Fail("store_full", 507, "StoreFull", st.message());
    if (st.code() == Code::kResourceExhausted && room < max)
      return Fail("store_full", 507, "StoreFull", "the snapshot is larger than the whole store (--retention-bytes " + std::to_string(room) + ")");
    if (st.code() == Code::kResourceExhausted)
      return Fail("too_large", 413, "TooLarge", "the snapshot is more than this analyzer accepts (" + std::to_string(max) + " bytes uncompressed, --max-upload-bytes)");
    if (st.code() == Code::kCorruption) return Fail("rejected", 400, "BadGzip", "the gzip body is invalid: " + st.message());
    if (st.code() == Code::kUnavailable) return Fail("rejected", 400, "Truncated", st.message());
    return Fail("rejected", 500, "Internal", st.ToString());
  }
  if (req.content_length && body.bytes_read() != *req.content_length)
    return Fail("rejected", 400, "Truncated", "the body ended after " + std::to_string(body.bytes_read()) + " of " +
                                                  std::to_string(*req.content_length) + " bytes (Content-Length)");
  std::string got = hash.HexDigest();
  if (got != sha)
    return Fail("rejected", 400, "HashMismatch", "the snapshot's SHA-256 is " + got + ", not " + sha +
                                                     " (X-Oomscope-Sha256): truncated or changed on the way; send it again");

  // 3. Is it a snapshot? Stored first: parsed now from the file, within the memory budget.
  uint64_t bytes = source.bytes();
  if (!parsed) {
    lease = BudgetLease(budget_, MemoryBudget::ParseCost(bytes) + MemoryBudget::DigestCost(earlier));
    parsed.emplace(heap::ParseSnapshotFile((*up)->path(), po));
    metrics_.Parsed("upload");
  }
  if (!parsed->ok())
    return Fail("rejected", 400, "NotASnapshot", "the body is not a V8 heap snapshot: " + parsed->status().message());

  // 4. The parse to the analysis first (so that an analysis that sees the snapshot stored finds
  // it), then room under the bound, then on disk (fsync'ed) before the answer.
  auto parsed_snapshot = std::make_unique<ParsedSnapshot>();
  parsed_snapshot->id = sha;
  parsed_snapshot->series = series;
  parsed_snapshot->snapshot = std::move(**parsed);
  parsed_snapshot->lease = std::move(lease);
  const ParsedSnapshot* held = handoff_.Hold(std::move(parsed_snapshot));
  SnapshotRecord rec;
  rec.id = sha;
  rec.series = series;
  rec.bytes = bytes;
  rec.received_at = Now();
  rec.metadata = meta;
  {
    std::lock_guard<std::mutex> lock(commit_mu_);
    if (Status room_st = retention_.MakeRoom(bytes, series); !room_st.ok()) {
      handoff_.Drop(sha, held);
      return Fail("store_full", 507, "StoreFull", room_st.message());
    }
    st = store_.Commit(std::move(*up), rec);
  }
  if (!st.ok()) handoff_.Drop(sha, held);
  if (st.code() == Code::kAlreadyExists) {
    metrics_.Upload("duplicate");
    auto existing = store_.Get(sha);
    return http::Response(200, "application/json",
                          nlohmann::json({{"id", sha}, {"series", existing ? existing->series : series}, {"duplicate", true}}).dump());
  }
  if (st.code() == Code::kResourceExhausted) return Fail("store_full", 507, "StoreFull", st.message());
  if (!st.ok()) return Fail("rejected", 500, "Internal", st.ToString());
  metrics_.Upload("stored");
  log::Info("snapshot stored", {{"id", sha}, {"series", series}, {"bytes", std::to_string(bytes)}});
  handoff_.Stored(series);
  return http::Response(201, "application/json", nlohmann::json({{"id", sha}, {"series", series}}).dump());
}

}  // namespace oomscope::analyzer
