// The sidecar's uploads against a real HTTP receiver (tests/sidecar/receiver.js): every
// snapshot arrives exactly once, whatever the receiver does.
#include <doctest/doctest.h>

#include <filesystem>
#include <fstream>

#include "child_process.h"
#include "spool.h"
#include "uploader.h"

using namespace oomscope;
using namespace oomscope::sidecar;
using oomscope::testing::ChildProcess;
namespace fs = std::filesystem;
using namespace std::chrono_literals;

namespace {

const std::string kReceiver = std::string(OOMSCOPE_SOURCE_DIR) + "/tests/sidecar/receiver.js";

fs::path Fresh(const std::string& name) {
  fs::path d = fs::temp_directory_path() / ("oomscope-upload-" + name + "-" + std::to_string(::getpid()));
  fs::remove_all(d);
  fs::create_directories(d);
  return d;
}

struct Receiver {
  explicit Receiver(const fs::path& dir, std::vector<std::string> extra = {}, int port = 0)
      : proc(Args(dir, extra, port), "listening ") {}
  static std::vector<std::string> Args(const fs::path& dir, std::vector<std::string> extra, int port) {
    std::vector<std::string> a = {"node", kReceiver, "--dir", dir.string(), "--token", "s3cret",
                                  "--port", std::to_string(port)};
    a.insert(a.end(), extra.begin(), extra.end());
    return a;
  }
  std::string url() const { return "http://127.0.0.1:" + proc.ready(); }
  int port() const { return std::stoi(proc.ready()); }
  ChildProcess proc;
};

size_t Stored(const fs::path& dir) {
  size_t n = 0;
  for (const auto& de : fs::directory_iterator(dir))
    if (de.path().extension() == ".heapsnapshot") ++n;
  return n;
}

std::unique_ptr<Spool> SpoolWith(const fs::path& dir, int entries) {
  auto s = std::move(Spool::Open(dir.string(), 1ull << 30).value());
  for (int i = 0; i < entries; ++i) {
    std::string p = s->IncomingPath();
    std::ofstream(p, std::ios::binary) << std::string(300000 + i, static_cast<char>('a' + i));
    REQUIRE(s->Add(p, {{"series", "s-1"}, {"sequence", i + 1}}).ok());
  }
  return s;
}

struct Drain {
  int sleeps = 0;
  int stop_after_sleeps = 1000;
  std::atomic<bool> stop{false};
  UploadStats stats;
  void operator()(Spool& spool, const std::string& url, const std::string& token = "s3cret") {
    Backoff backoff(1ms, 10ms, 2.0, 0.2, 7);
    UploadTarget target{url, token, std::chrono::seconds(30)};
    DrainSpool(spool, target, backoff, stop, stats, [this](std::chrono::milliseconds) {
      if (++sleeps >= stop_after_sleeps) stop = true;
    });
  }
};

}  // namespace

TEST_CASE("uploads: the receiver failing, then up: each snapshot arrives once") {
  fs::path rx = Fresh("rx1"), sp = Fresh("sp1");
  Receiver r(rx, {"--fail-first", "2"});
  REQUIRE(r.proc.ok());
  auto spool = SpoolWith(sp, 3);
  Drain d;
  d(*spool, r.url());
  CHECK(spool->Pending().empty());
  CHECK(Stored(rx) == 3);
  CHECK(d.stats.uploaded == 3);
  CHECK(d.stats.retries == 2);
}

TEST_CASE("uploads: the network cut mid-upload is retried, nothing stored twice") {
  fs::path rx = Fresh("rx2"), sp = Fresh("sp2");
  Receiver r(rx, {"--reset-first", "1"});
  REQUIRE(r.proc.ok());
  auto spool = SpoolWith(sp, 2);
  Drain d;
  d(*spool, r.url());
  CHECK(spool->Pending().empty());
  CHECK(Stored(rx) == 2);
  CHECK(d.stats.retries >= 1);
}

TEST_CASE("uploads: the receiver down for a while, the sidecar restarted: nothing lost, nothing twice") {
  fs::path rx = Fresh("rx3"), sp = Fresh("sp3");
  int port = 0;
  {
    Receiver probe(rx);  // find a free port, then free it: the analyzer is down
    REQUIRE(probe.proc.ok());
    port = probe.port();
  }
  {
    auto spool = SpoolWith(sp, 3);
    Drain d;
    d.stop_after_sleeps = 3;
    d(*spool, "http://127.0.0.1:" + std::to_string(port));
    CHECK(d.stats.uploaded == 0);
    CHECK(spool->Pending().size() == 3);
  }  // the sidecar stops with a full spool
  Receiver r(rx, {}, port);
  REQUIRE(r.proc.ok());
  auto spool = std::move(Spool::Open(sp.string(), 1ull << 30).value());  // restarted
  REQUIRE(spool->Pending().size() == 3);
  // One of them reached the analyzer before the restart but was not yet removed here.
  UploadTarget target{r.url(), "s3cret", std::chrono::seconds(30)};
  REQUIRE(UploadOnce(target, spool->Pending()[1]).ok());
  Drain d;
  d(*spool, r.url());
  CHECK(spool->Pending().empty());
  CHECK(Stored(rx) == 3);
  CHECK(d.stats.uploaded == 2);
  CHECK(d.stats.duplicates == 1);
}

TEST_CASE("uploads: a wrong token keeps the snapshot; one too large is dropped and counted") {
  fs::path rx = Fresh("rx4"), sp = Fresh("sp4");
  Receiver r(rx, {"--max-bytes", "300000"});
  REQUIRE(r.proc.ok());
  auto spool = SpoolWith(sp, 2);  // 300000 and 300001 bytes
  Drain wrong;
  wrong.stop_after_sleeps = 2;
  wrong(*spool, r.url(), "wrong");
  CHECK(spool->Pending().size() == 2);
  CHECK(Stored(rx) == 0);
  Drain d;
  d(*spool, r.url());
  CHECK(spool->Pending().empty());
  CHECK(d.stats.uploaded == 1);
  CHECK(d.stats.rejected == 1);
}

namespace {

nlohmann::json StoredMeta(const fs::path& dir) {
  for (const auto& de : fs::directory_iterator(dir))
    if (de.path().extension() == ".heapsnapshot") return nlohmann::json::parse(std::ifstream(de.path().string() + ".meta.json"));
  return nullptr;
}

}  // namespace

TEST_CASE("uploads with gzip: compressed while sent, hash of the uncompressed bytes, a cut retried") {
  fs::path rx = Fresh("rx5"), sp = Fresh("sp5");
  Receiver r(rx, {"--reset-first", "1"});
  REQUIRE(r.proc.ok());
  auto spool = std::move(Spool::Open(sp.string(), 1ull << 30).value());
  // ~24 MB of digits: compresses ~2x, so the compressed body (>4 MiB) outruns the producer's
  // buffer bound and exercises its back-pressure.
  std::string p = spool->IncomingPath();
  {
    std::ofstream out(p, std::ios::binary);
    uint32_t x = 12345;
    for (int i = 0; i < 4'000'000; ++i) {
      x = x * 1103515245u + 12345u;
      out << (x >> 8) % 100000 << ',';
    }
  }
  REQUIRE(spool->Add(p, {{"series", "s-gz"}, {"sequence", 1}}).ok());
  const uint64_t plain_bytes = spool->Pending()[0].bytes;
  Drain d;
  Backoff backoff(1ms, 10ms, 2.0, 0.2, 7);
  UploadTarget target{r.url(), "s3cret", std::chrono::seconds(60)};
  target.gzip = true;
  int sleeps = 0;
  DrainSpool(*spool, target, backoff, d.stop, d.stats, [&](std::chrono::milliseconds) {
    if (++sleeps >= 20) d.stop = true;  // a broken receiver fails the test rather than hanging it
  });
  CHECK(spool->Pending().empty());
  REQUIRE(Stored(rx) == 1);
  CHECK(d.stats.uploaded == 1);
  CHECK(d.stats.retries >= 1);  // the first attempt was cut mid-body
  nlohmann::json meta = StoredMeta(rx);
  CHECK(meta["received"]["encoding"] == "gzip");
  CHECK(meta["received"]["body_bytes"].get<uint64_t>() < plain_bytes);
  CHECK(meta["received"]["body_bytes"].get<uint64_t>() > (4u << 20));
  for (const auto& de : fs::directory_iterator(rx))
    if (de.path().extension() == ".heapsnapshot") CHECK(fs::file_size(de.path()) == plain_bytes);
}
