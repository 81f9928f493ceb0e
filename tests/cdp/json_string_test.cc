// The capture's fast path for snapshot chunks decodes exactly what a JSON parser would.
#include <doctest/doctest.h>

#include <random>

#include <nlohmann/json.hpp>

#include "json_string.h"

using oomscope::cdp::AppendJsonStringBody;
using oomscope::cdp::DecodeSingleStringEvent;

namespace {
std::string Body(const std::string& value) {
  std::string quoted = nlohmann::json(value).dump();  // escapes, keeps UTF-8
  return quoted.substr(1, quoted.size() - 2);
}
}  // namespace

TEST_CASE("JSON string bodies decode as nlohmann does: escapes, \\u, surrogate pairs") {
  for (const std::string& v : {std::string(""), std::string("plain"), std::string("q\"b\\s/\b\f\n\r\t"),
                               std::string("caf\xC3\xA9 \xF0\x9F\x98\x80 \x01\x1f"),
                               std::string("{\"snapshot\":{\"meta\":{\"node_fields\":[\"type\",\"name\"]}}")}) {
    std::string out;
    REQUIRE(AppendJsonStringBody(Body(v), out));
    CHECK(out == v);
  }
  std::string out;
  REQUIRE(AppendJsonStringBody("\\u00e9\\ud83d\\ude00\\u0041", out));  // how V8 escapes non-ASCII
  CHECK(out == "\xC3\xA9\xF0\x9F\x98\x80" "A");
  out.clear();
  REQUIRE(AppendJsonStringBody("x\\ud800y", out));  // a lone surrogate is kept, not lost
  CHECK(out == "x\xED\xA0\x80y");
  for (const char* bad : {"\\", "\\x", "\\u12", "\\u12zz", "a\"b", "tab\there"}) {
    out.clear();
    CHECK_MESSAGE(!AppendJsonStringBody(bad, out), bad);
  }
  // Random bytes through nlohmann's escaping and back.
  std::mt19937 rng(3);
  for (int round = 0; round < 200; ++round) {
    std::string v;
    for (int i = 0; i < 300; ++i) v.push_back(static_cast<char>(rng() % 128));
    out.clear();
    REQUIRE(AppendJsonStringBody(Body(v), out));
    CHECK(out == v);
  }
}

TEST_CASE("the chunk event fast path takes V8's exact message and nothing else") {
  nlohmann::json event = {{"method", "HeapProfiler.addHeapSnapshotChunk"}, {"params", {{"chunk", "{\"a\":\"b\\n\"}\n"}}}};
  std::string out;
  REQUIRE(DecodeSingleStringEvent(event.dump(), "HeapProfiler.addHeapSnapshotChunk", "chunk", out));
  CHECK(out == "{\"a\":\"b\\n\"}\n");
  CHECK(!DecodeSingleStringEvent(event.dump(), "HeapProfiler.other", "chunk", out));
  CHECK(!DecodeSingleStringEvent("{\"id\":3,\"result\":{}}", "HeapProfiler.addHeapSnapshotChunk", "chunk", out));
  // A second field after the string: not the exact shape, left to the JSON parser.
  CHECK(!DecodeSingleStringEvent(R"({"method":"HeapProfiler.addHeapSnapshotChunk","params":{"chunk":"a","x":"b"}})",
                                 "HeapProfiler.addHeapSnapshotChunk", "chunk", out));
  CHECK(!DecodeSingleStringEvent(R"({"method":"HeapProfiler.addHeapSnapshotChunk","params":{"chunk":")",
                                 "HeapProfiler.addHeapSnapshotChunk", "chunk", out));
}
