#include <doctest/doctest.h>

#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <random>
#include <sstream>
#include <string>

#include <unistd.h>

#include "oomscope/common/gzip.h"

using namespace oomscope;

namespace {

// Compressible text like a snapshot's, with some randomness so it is not trivial.
std::string SnapshotLike(size_t bytes, uint32_t seed) {
  std::mt19937 rng(seed);
  std::string s = "{\"snapshot\":{\"meta\":{}},\"nodes\":[";
  while (s.size() < bytes) s += std::to_string(rng() % 100000) + ",";
  s.resize(bytes);
  return s;
}

std::string Random(size_t bytes, uint32_t seed) {
  std::mt19937 rng(seed);
  std::string s(bytes, '\0');
  for (char& c : s) c = static_cast<char>(rng());
  return s;
}

// Feeds `data` in pieces of varying size (1 byte to 100 KiB).
std::string Deflate(const std::string& data, int level = 6) {
  GzipDeflater d(level);
  std::string out;
  GzipSink sink = [&](std::string_view p) {
    CHECK(p.size() <= 64 * 1024);
    out.append(p);
    return Status::Ok();
  };
  std::mt19937 rng(7);
  for (size_t i = 0; i < data.size();) {
    size_t n = std::min<size_t>(data.size() - i, 1 + rng() % 100000);
    REQUIRE(d.Write(std::string_view(data).substr(i, n), sink).ok());
    i += n;
  }
  REQUIRE(d.Finish(sink).ok());
  CHECK(d.bytes_in() == data.size());
  CHECK(d.bytes_out() == out.size());
  return out;
}

Status Inflate(const std::string& gz, std::string& out, uint64_t max = 1ull << 32, size_t piece = 4093) {
  GzipInflater in(max);
  GzipSink sink = [&](std::string_view p) {
    out.append(p);
    return Status::Ok();
  };
  for (size_t i = 0; i < gz.size(); i += piece) {
    OOMSCOPE_RETURN_IF_ERROR(in.Write(std::string_view(gz).substr(i, piece), sink));
  }
  return in.Finish();
}

std::string TempPath(const char* name) {
  return (std::filesystem::temp_directory_path() / (std::string(name) + std::to_string(::getpid()))).string();
}

std::string ReadFile(const std::string& path) {
  std::ifstream f(path, std::ios::binary);
  std::stringstream ss;
  ss << f.rdbuf();
  return ss.str();
}

}  // namespace

TEST_CASE("gzip: round trips in pieces, text and random, empty input") {
  for (const std::string& data : {SnapshotLike(3'000'000, 1), Random(300'000, 2), std::string()}) {
    for (int level : {1, 6, 9}) {
      std::string gz = Deflate(data, level);
      REQUIRE(gz.size() >= 18);  // header and trailer at least
      CHECK(static_cast<unsigned char>(gz[0]) == 0x1f);
      CHECK(static_cast<unsigned char>(gz[1]) == 0x8b);
      std::string back;
      for (size_t piece : {size_t{1}, size_t{4093}, gz.size() + 1}) {
        if (piece == 1 && gz.size() > 50000) continue;  // byte by byte only on small streams
        back.clear();
        REQUIRE(Inflate(gz, back, 1ull << 32, piece).ok());
        CHECK(back == data);
      }
    }
  }
  CHECK(Deflate(SnapshotLike(3'000'000, 1), 1).size() < 3'000'000 * 6 / 10);  // digits: ~3.3 bits each
}

TEST_CASE("gzip: interoperates with the gzip program in both directions") {
  std::string data = SnapshotLike(1'000'000, 3);
  std::string plain = TempPath("oomscope-gz-plain"), ours = plain + ".gz";
  { std::ofstream(ours, std::ios::binary) << Deflate(data); }
  REQUIRE(std::system(("gzip -dc " + ours + " > " + plain).c_str()) == 0);
  CHECK(ReadFile(plain) == data);
  std::filesystem::remove(ours);
  REQUIRE(std::system(("gzip -9 " + plain).c_str()) == 0);  // writes plain.gz, removes plain
  std::string back;
  REQUIRE(Inflate(ReadFile(ours), back).ok());
  CHECK(back == data);
  std::filesystem::remove(ours);
}

TEST_CASE("gunzip: a decompression bomb stops at the output limit") {
  std::string zeros(64 << 20, '\0');  // 64 MiB of zeros compress to ~64 KiB
  std::string gz = Deflate(zeros, 9);
  zeros.clear();
  zeros.shrink_to_fit();
  CHECK(gz.size() < 200'000);
  GzipInflater in(1 << 20);
  uint64_t received = 0;
  Status st;
  for (size_t i = 0; i < gz.size() && st.ok(); i += 8192) {
    st = in.Write(std::string_view(gz).substr(i, 8192), [&](std::string_view p) {
      received += p.size();
      return Status::Ok();
    });
  }
  CHECK(st.code() == Code::kResourceExhausted);
  CHECK(received <= (1u << 20));  // the excess never reached the sink
  CHECK(in.Finish().code() == Code::kResourceExhausted);  // sticky
  std::string exact;
  CHECK(Inflate(Deflate(std::string(1 << 20, 'x')), exact, 1 << 20).ok());  // the limit itself is fine
}

TEST_CASE("gunzip: corrupt, truncated, foreign and trailing data are clear errors") {
  std::string data = SnapshotLike(200'000, 4);
  std::string gz = Deflate(data);
  std::string out;

  Status st = Inflate("this is not gzip at all, it is plain text", out);
  CHECK(st.code() == Code::kCorruption);
  CHECK(st.message().find("gunzip") != std::string::npos);

  std::string bad = gz;
  bad[bad.size() / 2] ^= 0x55;  // a flipped byte in the deflate data
  out.clear();
  CHECK(Inflate(bad, out).code() == Code::kCorruption);

  std::string bad_crc = gz;
  bad_crc[bad_crc.size() - 6] ^= 0x01;  // the CRC-32 in the trailer
  out.clear();
  st = Inflate(bad_crc, out);
  CHECK(st.code() == Code::kCorruption);

  out.clear();
  st = Inflate(gz.substr(0, gz.size() - 100), out);
  CHECK(st.code() == Code::kCorruption);
  CHECK(st.message().find("truncated") != std::string::npos);

  out.clear();
  st = Inflate(gz + "garbage", out);
  CHECK(st.code() == Code::kCorruption);
  CHECK(st.message().find("after the end") != std::string::npos);
}

TEST_CASE("gzip: a failing sink stops the stream with its own status") {
  GzipDeflater d(1);
  std::string data = Random(500'000, 5);
  Status st = d.Write(data, [](std::string_view) { return Unavailable("peer went away"); });
  CHECK(st.code() == Code::kUnavailable);
  CHECK(st.message() == "peer went away");
  GzipInflater in(1 << 30);
  st = in.Write(Deflate(data), [](std::string_view) { return Cancelled("stop"); });
  CHECK(st.code() == Code::kCancelled);
}
