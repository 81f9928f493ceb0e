#include <doctest/doctest.h>

#include <cstdio>
#include <filesystem>
#include <fstream>

#include "oomscope/common/backoff.h"
#include "oomscope/common/sha256.h"

using namespace oomscope;
using namespace std::chrono_literals;

TEST_CASE("backoff grows exponentially, caps, spreads by jitter, resets") {
  Backoff b(100ms, 2000ms, 2.0, 0.2, /*seed=*/42);
  std::vector<int64_t> d;
  for (int i = 0; i < 8; ++i) d.push_back(b.Next().count());
  CHECK(d[0] >= 80);
  CHECK(d[0] <= 120);
  CHECK(d[1] >= 160);
  CHECK(d[1] <= 240);
  CHECK(d[3] >= 640);
  CHECK(d[3] <= 960);
  for (int i = 5; i < 8; ++i) CHECK(d[i] <= 2000);  // capped
  CHECK(b.attempts() == 8);
  b.Reset();
  CHECK(b.Next().count() <= 120);
  // Two clients with different seeds do not retry in step.
  Backoff x(1000ms, 60000ms, 2.0, 0.2, 1), y(1000ms, 60000ms, 2.0, 0.2, 2);
  CHECK(x.Next() != y.Next());
}

TEST_CASE("sha256: known vectors, incremental equals whole, files hashed in pieces") {
  Sha256 empty;
  CHECK(empty.HexDigest() == "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855");
  Sha256 abc;
  abc.Update("a");
  abc.Update("bc");
  CHECK(abc.HexDigest() == "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad");
  std::string path = (std::filesystem::temp_directory_path() / "oomscope-sha-test").string();
  {
    std::ofstream out(path, std::ios::binary);
    for (int i = 0; i < 300000; ++i) out << "abc";  // crosses the 1 MiB read size
  }
  Sha256 whole;
  for (int i = 0; i < 300000; ++i) whole.Update("abc");
  CHECK(*Sha256File(path) == whole.HexDigest());
  std::remove(path.c_str());
  CHECK(Sha256File("/nonexistent").status().code() == Code::kNotFound);
}
