#include <doctest/doctest.h>

#include <cstring>
#include <filesystem>
#include <fstream>
#include <sstream>
#include <vector>

#include <unistd.h>

#include "graph_builder.h"
#include "oomscope/heap/parser.h"

using namespace oomscope;
using namespace oomscope::heap;

namespace {
const std::string kFixtures = std::string(OOMSCOPE_SOURCE_DIR) + "/tests/fixtures/";

Status ParseError(const std::string& path) {
  Result<Snapshot> r = ParseSnapshotFile(path);
  return r.ok() ? Status::Ok() : r.status();
}

// Parses `text` as a stream that delivers at most `piece` bytes per read, and says it holds
// `size_hint` bytes (whether it does or not).
Result<Snapshot> ParseInPieces(const std::string& text, size_t piece, const std::string& name,
                               std::optional<uint64_t> size_hint = std::nullopt) {
  size_t pos = 0;
  auto src = MakeCallbackSource(
      [&](char* buf, size_t n) -> Result<size_t> {
        size_t k = std::min<size_t>({n, piece, text.size() - pos});
        std::memcpy(buf, text.data() + pos, k);
        pos += k;
        return k;
      },
      name, size_hint);
  return ParseSnapshot(*src);
}

// The whole of a file's bytes.
std::string ReadText(const std::string& path) {
  std::ifstream f(path, std::ios::binary);
  std::ostringstream text;
  text << f.rdbuf();
  return text.str();
}

// Parses `text` from a std::istream; returns why it failed (Ok if it did not).
Status ParseTextError(const std::string& text, const std::string& name) {
  std::istringstream in(text);
  auto src = MakeStreamSource(in, name);
  Result<Snapshot> r = ParseSnapshot(*src);
  return r.ok() ? Status::Ok() : r.status();
}
}  // namespace

TEST_CASE("parses the hand-written tiny snapshot") {
  Result<Snapshot> r = ParseSnapshotFile(kFixtures + "tiny.heapsnapshot");
  REQUIRE_MESSAGE(r.ok(), r.status().ToString());
  const Snapshot& s = *r;
  CHECK(s.node_count() == s.meta.declared_node_count);
  CHECK(s.edge_count() == s.meta.declared_edge_count);
  CHECK(s.first_edge.size() == s.node_count() + 1u);
  CHECK(s.first_edge.back() == s.edge_count());
  CHECK(s.root == 0);
  CHECK(s.meta.node_fields.size() == 7);
}

TEST_CASE("field offsets come from meta: a reordered layout parses to the same graph") {
  testing::SnapshotBuilder b;
  uint32_t a = b.Node("object", "A", 10), s = b.Node("string", "text", 24);
  b.Edge(0, "element", "1", a);
  b.Edge(a, "property", "name", s);
  Snapshot x = b.Parse(false), y = b.Parse(true);
  CHECK(x.node_count() == y.node_count());
  CHECK(x.node_id == y.node_id);
  CHECK(x.node_self_size == y.node_self_size);
  CHECK(x.edge_to == y.edge_to);
  CHECK(y.name(a) == "A");
  CHECK(y.self_size(s) == 24);
}

TEST_CASE("a stream delivered a few bytes at a time parses the same as the file") {
  const std::string text = ReadText(kFixtures + "tiny.heapsnapshot");
  Result<Snapshot> a = ParseInPieces(text, 3, "trickle");
  Result<Snapshot> b = ParseSnapshotFile(kFixtures + "tiny.heapsnapshot");
  REQUIRE(a.ok());
  REQUIRE(b.ok());
  CHECK(a->node_id == b->node_id);
  CHECK(a->edge_to == b->edge_to);
  CHECK(a->strings.size() == b->strings.size());
}

TEST_CASE("long runs of spaces between numbers parse; an overlong number is an error, not a hang") {
  // Found by the fuzzer: an element that ran past the buffered data with 64 bytes or more
  // buffered was rescanned from its start forever.
  const std::string text = ReadText(kFixtures + "tiny.heapsnapshot");
  const size_t nodes = text.find("\"nodes\":[");
  REQUIRE(nodes != std::string::npos);
  const size_t comma = text.find(',', nodes + 9);
  std::string spaced = text;
  spaced.insert(comma + 1, std::string(5000, ' '));
  Result<Snapshot> b = ParseSnapshotFile(kFixtures + "tiny.heapsnapshot");
  REQUIRE(b.ok());
  for (size_t piece : {size_t{3}, size_t{100}, size_t{4096}}) {
    Result<Snapshot> a = ParseInPieces(spaced, piece, "spaced");
    REQUIRE_MESSAGE(a.ok(), a.status().ToString());
    CHECK(a->node_id == b->node_id);
    CHECK(a->edge_to == b->edge_to);
  }
  std::string digits = text;
  digits.insert(comma + 1, std::string(300, '7'));
  for (size_t piece : {size_t{3}, size_t{100}}) {
    Result<Snapshot> a = ParseInPieces(digits, piece, "digits");
    REQUIRE_FALSE(a.ok());
    CHECK(a.status().message().find("too large") != std::string::npos);
  }
}

TEST_CASE("strings: escapes, surrogate pairs, lone surrogates and invalid UTF-8 stay visible") {
  Result<Snapshot> r = ParseSnapshotFile(kFixtures + "bad/unicode.heapsnapshot");
  REQUIRE_MESSAGE(r.ok(), r.status().ToString());
  std::vector<std::string> all;
  for (size_t i = 0; i < r->strings.size(); ++i) all.emplace_back(r->strings.at(static_cast<StringId>(i)));
  auto has = [&](const std::string& needle) {
    for (const auto& s : all)
      if (s.find(needle) != std::string::npos) return true;
    return false;
  };
  CHECK(has("caf\xC3\xA9"));          // \u00e9
  CHECK(has("\xF0\x9F\x98\x80"));     // \ud83d\ude00 -> U+1F600
  CHECK(has("\\uD800"));              // a lone surrogate, visible
  CHECK(has("\\xFF"));                // a raw invalid byte, visible
}

TEST_CASE("strings: a quote, a backslash or a non-ASCII byte at any place of a 16-byte block") {
  // The plain runs of a string are found 16 bytes at a time: each special byte is put at every
  // offset of a block, with the text read in pieces that end anywhere.
  const std::string text = ReadText(kFixtures + "tiny.heapsnapshot");
  const size_t strings = text.find("\"strings\":[\"");
  REQUIRE(strings != std::string::npos);
  const size_t at = strings + 12;  // inside the first string, after its opening quote
  struct Special {
    std::string json, value;
  };
  const std::vector<Special> specials = {
      {"\\\"", "\""},           {"\\\\", "\\"},           {"\\n", "\n"},
      {"\\u00e9", "\xC3\xA9"}, {"\xC3\xA9", "\xC3\xA9"}, {"\xFF", "\\xFF"}};
  const Result<Snapshot> base = ParseSnapshotFile(kFixtures + "tiny.heapsnapshot");
  REQUIRE(base.ok());
  const std::string first(base->strings.at(0));
  for (const Special& sp : specials) {
    for (size_t offset = 0; offset < 40; ++offset) {
      const std::string before(offset, 'a'), after(37 - offset % 17, 'b');
      std::string edited = text;
      edited.insert(at, before + sp.json + after);
      for (size_t piece : {size_t{7}, size_t{4096}}) {
        CAPTURE(sp.json);
        CAPTURE(offset);
        CAPTURE(piece);
        Result<Snapshot> r = ParseInPieces(edited, piece, "special");
        REQUIRE_MESSAGE(r.ok(), r.status().ToString());
        CHECK(std::string(r->strings.at(0)) == before + sp.value + after + first);
        CHECK(std::string(r->strings.at(1)) == std::string(base->strings.at(1)));
      }
    }
  }
}

TEST_CASE("a node name past 2^24 is kept whole and named in the error") {
  // Names are stored 3 bytes each until one needs a fourth: the node whose name is past the
  // string table is the one the error names, with its whole value.
  const std::string text = ReadText(kFixtures + "tiny.heapsnapshot");
  const size_t third = text.find(",9,3,5,0,2,0,0");
  REQUIRE(third != std::string::npos);
  std::string edited = text;
  edited.replace(third, 14, ",9,16777221,5,0,2,0,0");
  Result<Snapshot> r = ParseInPieces(edited, 4096, "wide name");
  REQUIRE_FALSE(r.ok());
  CHECK(r.status().message().find("node 2 (id 5): name 16777221 is outside the string table") != std::string::npos);
}

TEST_CASE("bad input: a clear error that says what and where") {
  struct Case {
    const char* file;
    const char* expect;
  } cases[] = {
      {"bad/empty.heapsnapshot", "empty (0 bytes)"},
      {"bad/not-json.heapsnapshot", "not a heap snapshot"},
      {"bad/not-snapshot.json", "not a heap snapshot"},
      {"bad/truncated.heapsnapshot", "truncated at byte"},
      {"bad/missing-meta-fields.heapsnapshot", "edge_fields"},
      {"bad/edge-out-of-range.heapsnapshot", "outside the nodes array"},
      {"bad/count-mismatch.heapsnapshot", "node_count"},
      {"bad/bad-escape.heapsnapshot", "invalid \\u escape"},
  };
  for (const auto& c : cases) {
    CAPTURE(c.file);
    Status st = ParseError(kFixtures + c.file);
    CHECK_FALSE(st.ok());
    CHECK(st.code() == Code::kCorruption);
    CHECK_MESSAGE(st.message().find(c.expect) != std::string::npos, st.message());
    CHECK_MESSAGE(st.message().find(c.file) != std::string::npos, st.message());  // names the file
  }
  CHECK(ParseError(kFixtures + "no-such-file.heapsnapshot").code() == Code::kNotFound);
  CHECK(ParseError(kFixtures).code() == Code::kInvalidArgument);  // a directory
}

TEST_CASE("errors carry byte offsets for problems inside the arrays") {
  std::string text = testing::SnapshotBuilder().Json();
  size_t at = text.find("\"nodes\":[") + 9;
  text.insert(at, "99,");  // a type outside meta.node_types, and a count that no longer fits
  Status st = ParseTextError(text, "mutated");
  REQUIRE_FALSE(st.ok());
  CHECK(st.message().find("at byte " + std::to_string(at)) != std::string::npos);
  CHECK(st.message().find("outside meta.node_types") != std::string::npos);
}

// Numbers of every length from 1 to 19 digits: each power of ten, the one below it, and the
// all-nines of each length (9, 99, ...).
std::vector<uint64_t> EveryLength() {
  std::vector<uint64_t> sizes;
  for (uint64_t p = 1, k = 0; k < 19; ++k, p *= 10) {
    sizes.push_back(p);
    sizes.push_back(p - 1);
    sizes.push_back(p * 9 + (p - 1));
  }
  return sizes;
}

TEST_CASE("numbers of every length parse exactly, whatever the spacing and wherever a read ends") {
  testing::SnapshotBuilder b;
  const std::vector<uint64_t> sizes = EveryLength();
  std::vector<uint32_t> nodes;
  for (uint64_t v : sizes) nodes.push_back(b.Node("object", "N", v));
  for (uint32_t n : nodes) b.Edge(0, "element", std::to_string(n), n);
  std::string text = b.Json();
  // JSON allows spaces around every number: put some in the nodes and edges arrays.
  for (const char* key : {"\"nodes\":[", "\"edges\":["}) {
    size_t from = text.find(key) + std::strlen(key), to = text.find(']', from);
    std::string spaced;
    for (size_t i = from; i < to; ++i) spaced += text[i] == ',' ? (i % 3 ? " ,\t" : ",\n ") : std::string(1, text[i]);
    text.replace(from, to - from, spaced);
  }
  for (size_t chunk : {size_t{1}, size_t{7}, text.size()}) {
    CAPTURE(chunk);
    Result<Snapshot> r = ParseInPieces(text, chunk, "spaced");
    REQUIRE_MESSAGE(r.ok(), r.status().ToString());
    for (size_t i = 0; i < sizes.size(); ++i) CHECK(r->self_size(nodes[i]) == sizes[i]);
    REQUIRE(r->edge_count() == nodes.size());
    for (size_t i = 0; i < nodes.size(); ++i) CHECK(r->edge_to[i] == nodes[i]);
  }
  // More than 19 digits may not fit 64 bits: an error, never a wrapped value.
  std::string wide = text;
  size_t at = wide.find("9999999999999999999");
  wide.replace(at, 19, "99999999999999999999");
  Status st = ParseTextError(wide, "wide");
  REQUIRE_FALSE(st.ok());
  CHECK(st.message().find("too large") != std::string::npos);
}

// The text of the array after `key` with V8's own layout: a record a line, "\n," between
// records (the parser's window scan takes whole runs of these; see ScanWindow in parser.cc).
std::string V8Layout(std::string text, const std::string& key, size_t fields) {
  const size_t from = text.find(key) + key.size(), to = text.find(']', from);
  std::string laid;
  size_t numbers = 0;
  for (size_t i = from; i < to; ++i) {
    if (text[i] == ',' && ++numbers % fields == 0) laid += '\n';
    laid += text[i];
  }
  return text.replace(from, to - from, laid);
}

TEST_CASE("numbers in V8's own layout: every length, every read size, and errors inside a run") {
  testing::SnapshotBuilder b;
  const std::vector<uint64_t> sizes = EveryLength();
  // Enough records that runs of whole 64-byte windows occur, with every length at every offset.
  std::vector<uint32_t> nodes;
  for (int round = 0; round < 7; ++round)
    for (uint64_t v : sizes) nodes.push_back(b.Node("object", "N" + std::to_string(round), v));
  for (uint32_t n : nodes) b.Edge(0, "element", std::to_string(n * 7919 % 1000003), n);
  const std::string plain = b.Json();
  const std::string v8 = V8Layout(V8Layout(plain, "\"nodes\":[", 7), "\"edges\":[", 3);
  REQUIRE(v8.find("\n,") != std::string::npos);
  for (const std::string* text : {&plain, &v8}) {
    for (size_t chunk : {size_t{1}, size_t{7}, size_t{64}, size_t{100}, size_t{4099}, text->size()}) {
      CAPTURE(chunk);
      Result<Snapshot> r = ParseInPieces(*text, chunk, "v8 layout");
      REQUIRE_MESSAGE(r.ok(), r.status().ToString());
      REQUIRE(r->node_count() == nodes.size() + 1);
      for (size_t i = 0; i < nodes.size(); ++i) CHECK(r->self_size(nodes[i]) == sizes[i % sizes.size()]);
      REQUIRE(r->edge_count() == nodes.size());
      for (size_t i = 0; i < nodes.size(); ++i) {
        CHECK(r->edge_to[i] == nodes[i]);
        CHECK(r->edge_name[i] == nodes[i] * 7919 % 1000003);
      }
    }
  }
  // Extra whitespace that JSON allows, in the middle of a run: parsed the same.
  {
    std::string spaced = v8;
    const size_t at = spaced.find("\n,", spaced.find("\"edges\":[") + 300);
    spaced.replace(at, 2, "\n\n ,\t");
    Result<Snapshot> r = ParseInPieces(spaced, spaced.size(), "spaced");
    REQUIRE_MESSAGE(r.ok(), r.status().ToString());
    for (size_t i = 0; i < nodes.size(); ++i) CHECK(r->edge_to[i] == nodes[i]);
  }
  // Errors in the middle of a run say what and where, as anywhere else.
  const size_t edges_at = v8.find("\"edges\":[") + 9;
  auto broken = [&](const std::string& replace_with, size_t skip) {
    std::string t = v8;
    const size_t at = t.find(",", edges_at + skip);
    t.replace(at, 1, replace_with);
    return std::make_pair(t, at);
  };
  for (auto [replace_with, expect] : std::vector<std::pair<std::string, std::string>>{
           {",,", "expected a number"}, {";", "expected ',' or ']'"}, {",-", "is negative"}}) {
    CAPTURE(replace_with);
    auto [t, at] = broken(replace_with, 400);
    Status st = ParseTextError(t, "broken");
    REQUIRE_FALSE(st.ok());
    CHECK_MESSAGE(st.message().find(expect) != std::string::npos, st.message());
    // At the bad byte: the ',' replaced, or the byte after it.
    const bool here = st.message().find("at byte " + std::to_string(at) + ":") != std::string::npos ||
                      st.message().find("at byte " + std::to_string(at + 1) + ":") != std::string::npos;
    CHECK_MESSAGE(here, st.message());
  }
  {
    // A record whose to_node is not a node's index: found inside a run, with the record's offset.
    std::string t = v8;
    const size_t line = t.find("\n,", edges_at + 500) + 2;  // the start of an edge record
    const size_t to = t.find(',', t.find(',', line) + 1) + 1;
    t.insert(to, "1");
    Status st = ParseTextError(t, "bad to_node");
    REQUIRE_FALSE(st.ok());
    CHECK_MESSAGE(st.message().find("at byte " + std::to_string(line)) != std::string::npos, st.message());
    CHECK_MESSAGE(st.message().find("to_node") != std::string::npos, st.message());
  }
  {
    // Two numbers with only a newline between them is not JSON.
    std::string t = v8;
    const size_t at = t.find("\n,", edges_at + 300);
    t.erase(at + 1, 1);
    Status st = ParseTextError(t, "no comma");
    REQUIRE_FALSE(st.ok());
    CHECK_MESSAGE(st.message().find("expected ',' or ']'") != std::string::npos, st.message());
  }
}

TEST_CASE("packed columns: 3 bytes an entry below 2^24, 4 from there on") {
  PackedColumn narrow(5, uint64_t{1} << 24), wide(5, (uint64_t{1} << 24) + 1);
  CHECK_FALSE(narrow.wide());
  CHECK(wide.wide());
  for (PackedColumn* c : {&narrow, &wide}) {
    const uint32_t top = c->wide() ? UINT32_MAX : 0xFFFFFF;
    REQUIRE(c->size() == 5);
    CHECK((*c)[4] == 0);
    for (uint32_t i = 0; i < 5; ++i) c->Set(i, top - i);
    for (uint32_t i = 0; i < 5; ++i) {
      CHECK((*c)[i] == top - i);
      CHECK(c->ReadBack(i) == top - i);
    }
    c->Set(2, 7);  // neighbours keep their bytes
    CHECK((*c)[1] == top - 1);
    CHECK((*c)[2] == 7);
    CHECK((*c)[3] == top - 3);
    // Through the copies of its pointer that hot loops hold: the same entries, the same bytes.
    const PackedColumn::Writer w = c->writer();
    w.Set(3, top);
    CHECK(w.ReadBack(3) == top);
    CHECK(w.ReadBack(2) == 7);
    CHECK(w.ReadBack(4) == top - 4);
    const PackedColumn::Reader r = c->reader();
    for (uint32_t i = 0; i < 5; ++i) CHECK(r[i] == (*c)[i]);
    CHECK(r[3] == top);
  }
  CHECK(PackedColumn().empty());
}

TEST_CASE("packed columns made with room to grow keep their entries as they resize") {
  for (uint64_t bound : {uint64_t{1} << 24, (uint64_t{1} << 24) + 1}) {
    PackedColumn c(3, bound, 1000);
    REQUIRE(c.size() == 3);
    const uint32_t top = c.wide() ? UINT32_MAX : 0xFFFFFF;
    for (uint32_t i = 0; i < 3; ++i) c.Set(i, top - i);
    c.Resize(900);
    REQUIRE(c.size() == 900);
    for (uint32_t i = 0; i < 3; ++i) CHECK(c[i] == top - i);
    CHECK(c[3] == 0);
    CHECK(c[899] == 0);
    c.Set(899, top);
    CHECK(c[899] == top);
    c.Resize(2);  // down, then up past the old end: the dropped entries come back as zeros
    c.Resize(4);
    CHECK(c[1] == top - 1);
    CHECK(c[2] == 0);
    CHECK(c[3] == 0);
    c.Resize(1500);  // past the room it was made with: moves, keeps the entries
    CHECK(c[0] == top);
    CHECK(c[1499] == 0);
  }
}

TEST_CASE("the string table keeps strings whose offsets pass what its offsets hold") {
  // 4-bit offsets wrap every 16 bytes, as 32-bit ones do every 4 GiB.
  StringTable t(4);
  const std::vector<std::string> strings = {"", "abc", "0123456789", "x", "", "a much longer string of 40 bytes, or so", "tail"};
  for (const auto& s : strings) t.Append(s);
  REQUIRE(t.size() == strings.size());
  for (size_t i = 0; i < strings.size(); ++i) CHECK(t.at(static_cast<StringId>(i)) == strings[i]);
  StringTable plain;  // 32 bits: no wrap
  for (const auto& s : strings) plain.Append(s);
  for (size_t i = 0; i < strings.size(); ++i) CHECK(plain.at(static_cast<StringId>(i)) == strings[i]);
}

TEST_CASE("edge and node names keep every value: 3 bytes each until one needs a fourth") {
  U24Column c(4);
  for (uint32_t i = 0; i < 4; ++i) c.Set(i, 0xFFFFFF - i);
  CHECK_FALSE(c.wide());
  CHECK(c[0] == 0xFFFFFF);
  CHECK(c[3] == 0xFFFFFC);
  c.Set(2, 0x01000000);  // the first value past 24 bits widens the column, the others stay
  CHECK(c.wide());
  CHECK(c[2] == 0x01000000);
  CHECK(c[1] == 0xFFFFFE);
  c.Set(2, 7);
  CHECK(c[2] == 7);
  c.resize(6);
  CHECK(c[5] == 0);
  c.Set(5, UINT32_MAX);
  CHECK(c[5] == UINT32_MAX);
  CHECK(c[4] == 0);
  c.resize(2);
  CHECK(c.size() == 2);
  CHECK(c[1] == 0xFFFFFE);

  // Appending moves every entry, 3 or 4 bytes wide on either side, and empties the source.
  for (bool wide_from : {false, true}) {
    for (bool wide_to : {false, true}) {
      U24Column to(3), from(5);
      for (uint32_t i = 0; i < 3; ++i) to.Set(i, i + 1);
      for (uint32_t i = 0; i < 5; ++i) from.Set(i, 0xABCDEF - i);
      if (wide_to) to.Set(1, 0x7F000001);
      if (wide_from) from.Set(4, 0xFFFFFFFF);
      to.MoveAppend(from);
      CHECK(from.size() == 0);
      REQUIRE(to.size() == 8);
      CHECK(to.wide() == (wide_from || wide_to));
      CHECK(to[0] == 1);
      CHECK(to[1] == (wide_to ? 0x7F000001u : 2u));
      CHECK(to[2] == 3);
      for (uint32_t i = 0; i < 4; ++i) CHECK(to[3 + i] == 0xABCDEF - i);
      CHECK(to[7] == (wide_from ? 0xFFFFFFFFu : 0xABCDEBu));
    }
  }
  U24Column none;
  U24Column some(2);
  some.Set(1, 9);
  none.MoveAppend(some);
  REQUIRE(none.size() == 2);
  CHECK(none[1] == 9);

  // Through the parser: element indices on both sides of 2^24, read back exactly.
  testing::SnapshotBuilder b;
  const std::vector<uint64_t> indices = {0, 5, 0xFFFFFF, 0x1000000, 0x12345678, UINT32_MAX};
  uint32_t holder = b.Node("object", "Holder", 8);
  b.Edge(0, "element", "1", holder);
  for (uint64_t index : indices) b.Edge(holder, "element", std::to_string(index), b.Node("object", "E", 4));
  Result<Snapshot> r = ParseInPieces(b.Json(), 5, "wide names");
  REQUIRE_MESSAGE(r.ok(), r.status().ToString());
  CHECK(r->edge_name.wide());
  for (size_t i = 0; i < indices.size(); ++i) CHECK(r->edge_name[r->first_edge[holder] + i] == indices[i]);
  CHECK(r->name(holder) == "Holder");

  // Read on two threads, cut at every number of the edges (the builder writes no lines, so the
  // cut is at a ','): the wide values before the cut, after it or on both sides, the parts'
  // columns joined with their top bytes (U24Column::MoveAppend, at a record).
  const std::string text = b.Json();
  const std::string path = std::filesystem::temp_directory_path() / ("oomscope-wide-" + std::to_string(::getpid()));
  std::ofstream(path, std::ios::binary) << text;
  const size_t edges_at = text.find("\"edges\":[");
  const size_t edges_end = text.find(']', edges_at);
  REQUIRE(edges_at != std::string::npos);
  size_t split_reads = 0;
  for (size_t at = edges_at; at < edges_end; at = text.find(',', at + 1)) {
    CAPTURE(at);
    ParseOptions split;
    split.split_min_bytes = 0;
    split.split_edges_at = at;
    bool two = false;
    split.used_two_threads = &two;
    Result<Snapshot> t = ParseSnapshotFile(path, split);
    REQUIRE_MESSAGE(t.ok(), t.status().ToString());
    split_reads += two;
    CHECK(t->edge_name == r->edge_name);
    CHECK(t->edge_to == r->edge_to);
    CHECK(t->edge_name.wide());
  }
  std::filesystem::remove(path);
  CHECK(split_reads >= indices.size());
}

TEST_CASE("a declared count never drives a huge allocation") {
  std::string text = testing::SnapshotBuilder().Json();
  size_t at = text.find("\"node_count\":1");
  REQUIRE(at != std::string::npos);
  text.replace(at, 14, "\"node_count\":4000000000");
  Status st = ParseTextError(text, "huge-count");
  REQUIRE_FALSE(st.ok());
  CHECK(st.message().find("node_count") != std::string::npos);
}

// In the "real" suite: it reads a fixture that ctest's series step writes, so it must run after it.
TEST_CASE("a file read on two threads parses exactly as a sequential read" * doctest::test_suite("real")) {
  const std::string series = std::string(OOMSCOPE_FIXTURE_DIR) + "/story-3.heapsnapshot";
  ParseOptions split;
  split.split_min_bytes = 0;
  bool used = false;
  split.used_two_threads = &used;
  Result<Snapshot> a = ParseSnapshotFile(series, split);
  CHECK(used);
  std::ifstream in(series, std::ios::binary);
  auto src = MakeStreamSource(in, "sequential");
  Result<Snapshot> b = ParseSnapshot(*src);
  REQUIRE_MESSAGE(a.ok(), a.status().ToString());
  REQUIRE(b.ok());
  // The columns every split read is compared on.
  auto same_as_sequential = [&](const Snapshot& d) {
    CHECK(d.node_id == b->node_id);
    CHECK(d.first_edge == b->first_edge);
    CHECK(d.edge_type == b->edge_type);
    CHECK(d.edge_name == b->edge_name);
    CHECK(d.edge_to == b->edge_to);
    CHECK(d.strings.size() == b->strings.size());
    CHECK(d.meta.location_count == b->meta.location_count);
  };
  same_as_sequential(*a);
  CHECK(a->node_type == b->node_type);
  CHECK(a->node_self_size == b->node_self_size);
  CHECK(a->strings.at(static_cast<StringId>(a->strings.size() - 1)) ==
        b->strings.at(static_cast<StringId>(b->strings.size() - 1)));
  // The file is cut between the threads at the start of a line inside the edges array, where
  // V8 starts each record: near the start of the array, near its end, in the middle.
  {
    const std::string all = ReadText(series);
    const size_t edges_at = all.find("\"edges\":[");
    const size_t edges_end = all.find(']', edges_at);
    REQUIRE(edges_at != std::string::npos);
    REQUIRE(edges_end != std::string::npos);
    // Parses `file` cut at each of `cuts`; each must give the sequential result, on two threads
    // when `two_threads`, else by falling back to a sequential read.
    auto check_cuts = [&](const std::string& file, const std::vector<uint64_t>& cuts, bool two_threads) {
      for (uint64_t at : cuts) {
        CAPTURE(file);
        CAPTURE(at);
        ParseOptions cut = split;
        cut.split_edges_at = at;
        bool two = !two_threads;
        cut.used_two_threads = &two;
        Result<Snapshot> d = ParseSnapshotFile(file, cut);
        REQUIRE_MESSAGE(d.ok(), d.status().ToString());
        CHECK(two == two_threads);
        same_as_sequential(*d);
      }
    };
    check_cuts(series, {edges_at + 100, edges_end - 40, (edges_at + edges_end) / 2}, true);
    // Three consecutive commas in the middle of the edges: three different record phases.
    auto three_commas = [](const std::string& t, size_t from) {
      std::vector<uint64_t> cuts;
      for (size_t c = t.find(',', from); cuts.size() < 3; c = t.find(',', c + 1)) cuts.push_back(c);
      return cuts;
    };
    const std::filesystem::path dir =
        std::filesystem::temp_directory_path() / ("oomscope-split-" + std::to_string(::getpid()));
    std::filesystem::create_directories(dir);
    auto write = [&](const std::string& name, const std::string& body) {
      std::string path = (dir / name).string();
      std::ofstream(path, std::ios::binary) << body;
      return path;
    };
    // A file without line breaks (as a tool that rewrites snapshots may leave it): the cut is
    // at a ',' in any phase of a record, and the part after it is joined number by number.
    std::string one_line = all;
    std::erase(one_line, '\n');
    const size_t mid = (one_line.find("\"edges\":[") + one_line.find(']', one_line.find("\"edges\":["))) / 2;
    check_cuts(write("one-line.heapsnapshot", one_line), three_commas(one_line, mid), true);
    // Lines that do not start records (a line break before every number of the edges): a cut
    // after one in the middle of a record is found out, and the file is read sequentially.
    std::string every_number = all.substr(0, edges_at);
    for (size_t i = edges_at; i < edges_end; ++i) {
      if (all[i] == ',' && all[i - 1] != '\n') every_number += '\n';
      every_number += all[i];
    }
    every_number += all.substr(edges_end);
    const size_t mid2 = every_number.size() / 2;
    std::vector<uint64_t> phases = three_commas(every_number, mid2);
    std::string phased_file = write("every-number.heapsnapshot", every_number);
    int sequential = 0;
    for (uint64_t at : phases) {
      // Each cut moves to the next line start; two of the three phases are not a record's start.
      ParseOptions cut = split;
      cut.split_edges_at = at - 1;
      bool two = false;
      cut.used_two_threads = &two;
      Result<Snapshot> d = ParseSnapshotFile(phased_file, cut);
      REQUIRE_MESSAGE(d.ok(), d.status().ToString());
      CHECK(d->edge_to == b->edge_to);
      CHECK(d->edge_name == b->edge_name);
      if (!two) ++sequential;
    }
    CHECK(sequential == 2);
    std::filesystem::remove_all(dir);
    // A cut outside the edges (in the nodes, in the strings) abandons the split; the result is
    // the same.
    for (uint64_t at : {all.find("\"nodes\":[") + 100, all.find("\"strings\":[") + 20}) {
      CAPTURE(at);
      ParseOptions outside = split;
      outside.split_edges_at = at;
      bool two = true;
      outside.used_two_threads = &two;
      Result<Snapshot> e = ParseSnapshotFile(series, outside);
      REQUIRE(e.ok());
      CHECK_FALSE(two);
      CHECK(e->edge_to == b->edge_to);
      CHECK(e->node_id == b->node_id);
    }
  }
  // Bad files give the sequential parser's precise errors on the split path too.
  Status st = ParseSnapshotFile(kFixtures + "bad/truncated.heapsnapshot", split).status();
  CHECK_FALSE(used);  // fell back to the sequential read
  CHECK(st.message().find("truncated at byte") != std::string::npos);
  st = ParseSnapshotFile(kFixtures + "bad/edge-out-of-range.heapsnapshot", split).status();
  CHECK(st.message().find("outside the nodes array") != std::string::npos);
}

// In the "real" suite, for the same fixture. The reader's buffer follows the source's size hint
// below 1 MiB (64 KiB at least); a hint that says less than the source holds only means more
// refills: the whole snapshot still parses, as read through the default buffer.
TEST_CASE("a source smaller than its data says parses through the small buffer" * doctest::test_suite("real")) {
  const std::string series = std::string(OOMSCOPE_FIXTURE_DIR) + "/story-3.heapsnapshot";
  const std::string all = ReadText(series);
  REQUIRE(all.size() > (size_t{1} << 20));
  Result<Snapshot> whole = ParseInPieces(all, all.size(), "unhinted");
  REQUIRE_MESSAGE(whole.ok(), whole.status().ToString());
  for (uint64_t hint : {uint64_t{1000}, uint64_t{100000}, uint64_t{(1 << 20) - 1}}) {
    for (size_t piece : {size_t{4093}, all.size()}) {
      CAPTURE(hint);
      CAPTURE(piece);
      Result<Snapshot> r = ParseInPieces(all, piece, "hinted", hint);
      REQUIRE_MESSAGE(r.ok(), r.status().ToString());
      CHECK(r->node_id == whole->node_id);
      CHECK(r->node_self_size == whole->node_self_size);
      CHECK(r->first_edge == whole->first_edge);
      CHECK(r->edge_type == whole->edge_type);
      CHECK(r->edge_name == whole->edge_name);
      CHECK(r->edge_to == whole->edge_to);
      REQUIRE(r->strings.size() == whole->strings.size());
      CHECK(r->strings.at(static_cast<StringId>(r->strings.size() - 1)) ==
            whole->strings.at(static_cast<StringId>(whole->strings.size() - 1)));
    }
  }
}

TEST_CASE("detachedness: all 0 drops the column; states spread to native children, attached first") {
  using oomscope::heap::testing::SnapshotBuilder;
  SnapshotBuilder b;
  std::vector<uint32_t> js;
  for (int i = 0; i < 9; ++i) {
    js.push_back(b.Node("object", "Plain", 8));
    b.Edge(0, "element", std::to_string(i + 1), js.back());
  }
  const uint32_t detached = b.Node("native", "HTMLDivElement", 8), child = b.Node("native", "Text", 8),
                 hidden_child = b.Node("native", "Text", 8), attached = b.Node("native", "HTMLBodyElement", 8),
                 shared = b.Node("native", "Text", 8), behind_js = b.Node("native", "Text", 8),
                 last = b.Node("native", "HTMLSpanElement", 8), last_child = b.Node("native", "Text", 8);
  b.Edge(0, "element", "20", detached);
  b.Edge(0, "element", "21", attached);
  b.Edge(detached, "property", "firstChild", child);
  b.Edge(detached, "hidden", "1", hidden_child);
  b.Edge(detached, "property", "shared", shared);
  b.Edge(attached, "property", "shared", shared);
  b.Edge(detached, "property", "wrapper", js[0]);
  b.Edge(js[0], "property", "text", behind_js);
  b.Edge(0, "element", "22", last);
  b.Edge(last, "property", "firstChild", last_child);
  Snapshot snap = b.Parse();
  // The builder writes every state as 0 (Node.js): the column is dropped.
  CHECK(snap.node_detachedness.empty());
  // States as V8 writes them for the nodes that know theirs: one in the first 8 bytes, the
  // others further on, and one past the last whole 8 bytes (18 nodes).
  REQUIRE(snap.node_count() == 18);
  REQUIRE(last == 16);
  snap.node_detachedness.assign(snap.node_count(), 0);
  snap.node_detachedness[detached] = 2;
  snap.node_detachedness[attached] = 1;
  snap.node_detachedness[last] = 2;
  snap.node_detachedness[js[1]] = 1;  // a JavaScript object keeps its own, and spreads nothing
  PropagateDetachedness(snap);
  REQUIRE(snap.node_detachedness.size() == snap.node_count());
  CHECK(snap.node_detachedness[detached] == 2);
  CHECK(snap.node_detachedness[child] == 2);
  CHECK(snap.node_detachedness[hidden_child] == 0);  // not over hidden edges
  CHECK(snap.node_detachedness[shared] == 1);        // attached wins
  CHECK(snap.node_detachedness[behind_js] == 0);     // JavaScript objects stop it
  CHECK(snap.node_detachedness[last] == 2);
  CHECK(snap.node_detachedness[last_child] == 2);
  CHECK(snap.node_detachedness[attached] == 1);
  CHECK(snap.node_detachedness[js[0]] == 0);
}
