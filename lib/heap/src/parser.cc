// Streaming parser for V8 .heapsnapshot files.
//
// The file is one JSON object: {"snapshot":{meta,...},"nodes":[...],"edges":[...],
// "trace_function_infos":[...],"trace_tree":[...],"samples":[...],"locations":[...],
// "strings":[...]}. The header (`snapshot`) is small and parsed whole with nlohmann::json; the
// big arrays are scanned byte by byte from a fixed-size buffer straight into flat arrays, so
// memory stays a fraction of the file size and the text is never held whole.
#include "oomscope/heap/parser.h"

#include <algorithm>
#include <array>
#include <bit>
#include <cstring>
#include <functional>
#include <future>
#include <optional>
#include <string>
#include <utility>
#include <vector>

#include <nlohmann/json.hpp>

#if defined(__SSE2__)
#include <emmintrin.h>
#endif

#include "oomscope/common/allocator.h"
#include "oomscope/common/thread.h"
#include "oomscope/common/utf8.h"

namespace oomscope::heap {
namespace {

constexpr size_t kBufferSize = 1 << 20;
constexpr size_t kPad = 16;  // room for the NUL sentinel after the data, and for an 8-byte load at it

// The run of ASCII digits at p, 8 bytes at a time (V8 writes mostly short numbers: the byte
// loop's branch on each digit mispredicts at every number's end). Reads the 8 bytes at p, which
// the reader's padding after its NUL sentinel makes safe; the sentinel ends a run at the end of
// the data. Returns the count of digits, at most 8, and their value in *value.
inline size_t LeadingDigits8(const char* p, uint64_t* value) {
  uint64_t x;
  std::memcpy(&x, p, 8);
  if constexpr (std::endian::native != std::endian::little) x = __builtin_bswap64(x);
  const uint64_t t = x ^ 0x3030303030303030ull;  // the digits become 0..9
  // The high bit of each byte that is not 0..9 (no carry crosses bytes: each sum is < 0x100).
  const uint64_t not_digit = (((t & 0x7F7F7F7F7F7F7F7Full) + 0x7676767676767676ull) | t) & 0x8080808080808080ull;
  const size_t n = not_digit ? static_cast<size_t>(__builtin_ctzll(not_digit)) >> 3 : 8;
  if (n == 0) {
    *value = 0;
    return 0;
  }
  // The n digits to the top bytes (leading zeros below), then pairs, quads, the eight.
  uint64_t v = n == 8 ? t : t << (8 * (8 - n));
  v = ((v & 0x0F0F0F0F0F0F0F0Full) * 2561) >> 8;
  v = ((v & 0x00FF00FF00FF00FFull) * 6553601) >> 16;
  v = ((v & 0x0000FFFF0000FFFFull) * 42949672960001ull) >> 32;
  *value = v;
  return n;
}

// The value of the n digits at p, 1 <= n <= 8, from one 8-byte load (the bytes after them are
// ignored): LeadingDigits8 when the count is already known.
inline uint64_t DigitsValue8(const char* p, size_t n) {
  uint64_t x;
  std::memcpy(&x, p, 8);
  if constexpr (std::endian::native != std::endian::little) x = __builtin_bswap64(x);
  uint64_t v = (x ^ 0x3030303030303030ull) << (8 * (8 - n));
  v = ((v & 0x0F0F0F0F0F0F0F0Full) * 2561) >> 8;
  v = ((v & 0x00FF00FF00FF00FFull) * 6553601) >> 16;
  return ((v & 0x0000FFFF0000FFFFull) * 42949672960001ull) >> 32;
}

// Where the bytes of a 64-byte window are digits, ',' and '\n': a bit each, bit i for byte i.
struct WindowMasks {
  uint64_t digit = 0, comma = 0, newline = 0;
};

#if defined(__SSE2__)
inline WindowMasks ClassifyWindow(const char* p) {
  WindowMasks m;
  const __m128i zero = _mm_set1_epi8('0' - 1), nine = _mm_set1_epi8('9' + 1);
  const __m128i comma = _mm_set1_epi8(','), newline = _mm_set1_epi8('\n');
  for (int i = 0; i < 4; ++i) {
    const __m128i b = _mm_loadu_si128(reinterpret_cast<const __m128i*>(p + 16 * i));
    // Signed compares: '0'..'9' are positive, and bytes >= 0x80 are negative, so below '0'.
    const __m128i d = _mm_and_si128(_mm_cmpgt_epi8(b, zero), _mm_cmplt_epi8(b, nine));
    const int shift = 16 * i;
    m.digit |= static_cast<uint64_t>(static_cast<uint16_t>(_mm_movemask_epi8(d))) << shift;
    m.comma |= static_cast<uint64_t>(static_cast<uint16_t>(_mm_movemask_epi8(_mm_cmpeq_epi8(b, comma)))) << shift;
    m.newline |= static_cast<uint64_t>(static_cast<uint16_t>(_mm_movemask_epi8(_mm_cmpeq_epi8(b, newline)))) << shift;
  }
  return m;
}
constexpr bool kHaveWindowScan = true;
#else
inline WindowMasks ClassifyWindow(const char*) { return {}; }
constexpr bool kHaveWindowScan = false;
#endif

// The numbers of a 64-byte window at p (p[0] a digit) written as V8 writes its integer arrays:
// digits, and between two numbers "," or "\n,". Calls on_number(value, start) for each number
// whose next number also starts inside the window (so the separator after it is seen whole),
// and returns the start of the first number not taken, p itself when the window is not in that
// form (other bytes, spaces, a number of more than 16 digits...): the byte-by-byte scan then
// takes one element, errors included. on_number returns false to stop; *stopped says so.
//
// Per number: two bit scans, one or two 8-byte loads and a few multiplies, with no branch on the
// digits: the byte loop's branch on each digit mispredicts at every number's end.
template <typename OnNumber>
inline const char* ScanWindow(const char* p, OnNumber&& on_number, bool* stopped) {
  const WindowMasks m = ClassifyWindow(p);
  const uint64_t digit = m.digit, comma = m.comma, newline = m.newline;
  constexpr uint64_t kButLast = ~uint64_t{0} >> 1;  // the byte after bit 63 is not in the window
  // Every byte one of the three; a ',' between a digit or '\n' and a digit; a '\n' between a
  // digit and a ','.
  const uint64_t bad = ~(digit | comma | newline) |
                       ((comma & ~(digit >> 1)) & kButLast) | (comma & ~((digit | newline) << 1)) |
                       ((newline & ~(comma >> 1)) & kButLast) | (newline & ~(digit << 1));
  if (bad != 0) return p;
  const uint64_t ends = ~digit;                  // a number ends where a separator byte starts
  uint64_t starts = digit & ~(digit << 1);       // bit 0 included: p[0] is a digit
  int at = 0;                                    // the start of the number in hand
  starts &= starts - 1;                          // from here on: the start of the next one
  while (starts != 0) {
    const int next = __builtin_ctzll(starts);
    const size_t n = static_cast<size_t>(__builtin_ctzll(ends >> at));
    uint64_t v;
    if (n == 1) {
      // One digit: an edge's type, a node's edge count, its trace node and detachedness (a third
      // of the numbers of a Node.js heap). Without the multiplies, the edges' scan takes a sixth
      // less time.
      v = static_cast<uint64_t>(p[at] - '0');
    } else if (n <= 8) {
      v = DigitsValue8(p + at, n);
    } else if (n <= 16) {
      v = DigitsValue8(p + at, n - 8) * 100000000 + DigitsValue8(p + at + n - 8, 8);
    } else {
      break;
    }
    if (!on_number(v, p + at)) {
      *stopped = true;
      return p + at;
    }
    at = next;
    starts &= starts - 1;
  }
  return p + at;
}

// The end of the run of plain ASCII at p (no '"', no '\\', no byte >= 0x80), or e: 16 bytes at a
// time. Reads up to 15 bytes past e, which the reader's padding after its sentinel makes safe.
inline const char* PlainRunEnd(const char* p, const char* e) {
#if defined(__SSE2__)
  const __m128i quote = _mm_set1_epi8('"'), backslash = _mm_set1_epi8('\\');
  for (; p < e; p += 16) {
    const __m128i b = _mm_loadu_si128(reinterpret_cast<const __m128i*>(p));
    // The sign bit of each byte is its movemask: bytes >= 0x80 stop the run as the others do.
    const unsigned stop = static_cast<unsigned>(
        _mm_movemask_epi8(_mm_or_si128(b, _mm_or_si128(_mm_cmpeq_epi8(b, quote), _mm_cmpeq_epi8(b, backslash)))));
    if (stop != 0) return std::min(e, p + __builtin_ctz(stop));
  }
  return e;
#else
  while (p < e && *p != '"' && *p != '\\' && static_cast<unsigned char>(*p) < 0x80) ++p;
  return p;
#endif
}

// Bytes are read through a buffer with a NUL sentinel after the last valid byte, so scanning
// loops stop at the end of the data without a bounds check per byte.
class Reader {
 public:
  Reader(ByteSource& src, Progress* progress, uint64_t base = 0)
      : src_(src), progress_(progress), buf_(BufferBytes(src) + kPad), base_(base) {
    p_ = end_ = buf_.data();
    *end_ = '\0';
    if (progress_) progress_->Begin("parse", src.SizeHint().value_or(0));
  }

  // Makes at least `n` bytes available at p() unless the input ends first. Returns the count
  // available. Stops at the first read error (see error()).
  size_t Ensure(size_t n) {
    size_t have = static_cast<size_t>(end_ - p_);
    if (have >= n || eof_ || !error_.ok()) return have;
    // Move the unread tail to the front, then fill.
    std::memmove(buf_.data(), p_, have);
    base_ += static_cast<uint64_t>(p_ - buf_.data());
    p_ = buf_.data();
    end_ = p_ + have;
    while (static_cast<size_t>(end_ - p_) < n && !eof_) {
      size_t room = buf_.size() - kPad - static_cast<size_t>(end_ - buf_.data());
      if (room == 0) break;
      Result<size_t> r = src_.Read(end_, room);
      if (!r.ok()) {
        error_ = r.status();
        break;
      }
      if (*r == 0) {
        eof_ = true;
        break;
      }
      end_ += *r;
    }
    *end_ = '\0';
    if (progress_) progress_->Advance(Offset());
    return static_cast<size_t>(end_ - p_);
  }

  const char* p() const { return p_; }
  const char* end() const { return end_; }
  void Set(const char* p) { p_ = const_cast<char*>(p); }
  bool AtEnd() { return Ensure(1) == 0; }
  uint64_t Offset() const { return base_ + static_cast<uint64_t>(p_ - buf_.data()); }
  uint64_t OffsetOf(const char* p) const { return base_ + static_cast<uint64_t>(p - buf_.data()); }
  const Status& error() const { return error_; }
  bool eof() const { return eof_; }
  void Finish() {
    if (progress_) progress_->End();
  }

  // Skips JSON whitespace; returns the next byte (not consumed) or -1 at the end of input.
  int PeekNonSpace() {
    for (;;) {
      if (Ensure(1) == 0) return -1;
      while (p_ < end_ && IsSpace(*p_)) ++p_;
      if (p_ < end_) return static_cast<unsigned char>(*p_);
    }
  }

  static bool IsSpace(char c) { return c == ' ' || c == '\n' || c == '\r' || c == '\t'; }

 private:
  // kBufferSize, or less for a source known to be smaller: a small snapshot's analysis does not
  // take a MiB (a whole huge page, from the block arena) to read a few KiB. Never below
  // kMinBufferSize, far more than the longest Ensure() asks for.
  static size_t BufferBytes(const ByteSource& src) {
    constexpr size_t kMinBufferSize = size_t{64} << 10;
    const std::optional<uint64_t> size = src.SizeHint();
    if (!size || *size >= kBufferSize) return kBufferSize;
    return std::max(kMinBufferSize, static_cast<size_t>(*size) + 1);
  }

  ByteSource& src_;
  Progress* progress_;
  std::vector<char> buf_;
  char* p_;
  char* end_;
  uint64_t base_;
  bool eof_ = false;
  Status error_;
};

enum class NodeRole : uint8_t { kType, kName, kId, kSelfSize, kEdgeCount, kDetachedness, kIgnore };
enum class EdgeRole : uint8_t { kType, kNameOrIndex, kToNode, kIgnore };

class Parser {
 public:
  Parser(ByteSource& src, const ParseOptions& opt, uint64_t base = 0, Progress* progress = nullptr)
      : src_(src), opt_(opt), in_(src, base == 0 ? opt.progress : progress, base) {}

  Result<Snapshot> Run() {
    Status st = ParseTop();
    in_.Finish();
    if (!st.ok()) return st.WithContext(src_.Describe());
    return std::move(snap_);
  }

  // Split parsing of a file on two threads (see ParseFileInTwo). This parser's input ends
  // right after a ',' inside the edges array: it reads the header, the nodes and the edges up
  // to there.
  Status RunToCut() {
    cut_at_end_ = true;
    Status st = ParseTop();
    in_.Finish();
    return st;
  }

  // The other part: starts inside the edges array, at the element after the cut, and parses to
  // the end of the file, with the header's meta taken from `head`. `at_record`: the cut is at
  // the start of a line, where V8 starts each edge record, so the edges after it are stored as
  // records here; Merge() checks that the head's part ended on a whole record.
  Status RunTail(const Parser& head, uint64_t bytes_left, bool at_record) {
    AdoptHeader(head);
    resume_in_edges_ = true;
    tail_bytes_ = bytes_left;
    tail_at_record_ = at_record;
    if (!at_record) edge_tail_.reserve(static_cast<size_t>(bytes_left / 2));  // address space
    Status st = ParseTop();
    in_.Finish();
    return st;
  }

  // Joins the parts (this one: header, nodes and the edges before the cut; `tail`: the edges
  // after it, the strings and the rest) and runs the cross-checks.
  Result<Snapshot> Merge(Parser&& tail) {
    if (!edges_cut_ || !tail.seen_edges_ || !tail.seen_strings_)
      return FailedPrecondition("split parse did not see edges and strings");
    if (tail.tail_at_record_) {
      OOMSCOPE_RETURN_IF_ERROR(AppendEdges(tail));
    } else {
      OOMSCOPE_RETURN_IF_ERROR(JoinEdgeTail(std::move(tail.edge_tail_)));
    }
    snap_.strings = std::move(tail.snap_.strings);
    snap_.meta.location_count = tail.snap_.meta.location_count;
    Status st = Validate();
    if (!st.ok()) return st.WithContext(src_.Describe());
    return std::move(snap_);
  }

 private:
  void AdoptHeader(const Parser& head) {
    node_roles_ = head.node_roles_;
    edge_roles_ = head.edge_roles_;
    node_type_map_ = head.node_type_map_;
    edge_type_map_ = head.edge_type_map_;
    location_fields_ok_ = head.location_fields_ok_;
    have_header_ = true;
    snap_.meta = head.snap_.meta;
  }

  // Appends the edge records the tail parser stored, when this part ended on a whole record.
  // The tail's columns shrink as these grow (MoveAppend): the edges are held about once.
  Status AppendEdges(Parser& tail) {
    if (edge_carry_count_ != 0) return FailedPrecondition("the cut is not at the start of an edge record");
    Snapshot& t = tail.snap_;
    snap_.edge_type.resize(edges_parsed_);
    snap_.edge_name.resize(edges_parsed_);
    snap_.edge_to.resize(edges_parsed_);
    // Most of the time goes to faulting in this part's pages for the tail's edges (0.37 s at
    // 1 GB on one thread): two threads, each half of the bytes.
    {
      Thread to([&] { snap_.edge_to.MoveAppend(t.edge_to); });
      MoveAppend(snap_.edge_type, t.edge_type);
      snap_.edge_name.MoveAppend(t.edge_name);
    }
    max_edge_to_ = std::max(max_edge_to_, tail.max_edge_to_);
    max_edge_string_ = std::max(max_edge_string_, tail.max_edge_string_);
    return Status::Ok();
  }

  // Stores the numbers the tail parser read after the cut, continuing the record left open here.
  Status JoinEdgeTail(std::vector<uint32_t> values) {
    const EdgeLayout l = MakeEdgeLayout();
    size_t field = edge_carry_count_, count = edges_parsed_;
    for (uint32_t v : values) {
      edge_carry_[field] = v;
      if (++field < l.ef) continue;
      field = 0;
      if (!StoreEdge(l, edge_carry_, count, count * l.ef, 0)) return std::move(scan_error_);
      ++count;
    }
    if (field != 0) return FailedPrecondition("the split edges array does not end on a record");
    snap_.edge_type.resize(count);
    snap_.edge_name.resize(count);
    snap_.edge_to.resize(count);
    return Status::Ok();
  }

  // ---- errors ------------------------------------------------------------------------------

  // For the per-number callbacks: keeps the error for ScanUintArray to return, returns false.
  bool Stop(Status st) {
    scan_error_ = std::move(st);
    return false;
  }

  Status ErrorAt(uint64_t offset, const std::string& what) {
    if (!in_.error().ok()) return in_.error();
    return Corruption("at byte " + std::to_string(offset) + ": " + what);
  }
  Status Error(const std::string& what) { return ErrorAt(in_.Offset(), what); }
  Status Truncated(const std::string& where) {
    if (!in_.error().ok()) return in_.error();
    if (in_.Offset() == 0)
      return Corruption("the file is empty (0 bytes): a capture that was interrupted, e.g. by an "
                        "OOM kill, leaves such a file");
    return Corruption("truncated at byte " + std::to_string(in_.Offset()) + " inside " + where +
                      ": the file ends before the snapshot does");
  }

  Status Expect(char c, const std::string& where) {
    int n = in_.PeekNonSpace();
    if (n < 0) return Truncated(where);
    if (n != c) {
      return Error(std::string("expected '") + c + "' in " + where + ", found " + Describe(n));
    }
    in_.Set(in_.p() + 1);
    return Status::Ok();
  }

  static std::string Describe(int c) {
    if (c < 0) return "end of input";
    if (c >= 0x20 && c < 0x7f) return std::string("'") + static_cast<char>(c) + "'";
    char buf[16];
    std::snprintf(buf, sizeof buf, "byte 0x%02x", c);
    return buf;
  }

  // ---- top level ---------------------------------------------------------------------------

  Status ParseTop() {
    int c;
    bool seen_nodes = false;
    bool& seen_edges = seen_edges_;
    bool& seen_strings = seen_strings_;
    if (!resume_in_edges_) {
      c = in_.PeekNonSpace();
      if (c < 0) return Truncated("the top-level object");
      if (c != '{') {
        return Error("not a heap snapshot: expected a JSON object ('{'), found " + Describe(c));
      }
      in_.Set(in_.p() + 1);
    }
    // A split part whose input ended inside an array stops there; only the edges may be cut.
    auto cut = [&] {
      return edges_cut_ ? Status::Ok() : FailedPrecondition("the split point is not in the edges");
    };
    for (bool first = true;; first = false) {
      if (resume_in_edges_ && first) {
        OOMSCOPE_RETURN_IF_ERROR(ParseEdgesTail());
        continue;
      }
      c = in_.PeekNonSpace();
      if (c < 0) return Truncated("the top-level object");
      if (c == '}') {
        in_.Set(in_.p() + 1);
        break;
      }
      if (!first) {
        if (c != ',') return Error("expected ',' or '}' between top-level keys, found " + Describe(c));
        in_.Set(in_.p() + 1);
        c = in_.PeekNonSpace();
      }
      std::string key;
      OOMSCOPE_RETURN_IF_ERROR(ParseShortString(&key, "a top-level key"));
      OOMSCOPE_RETURN_IF_ERROR(Expect(':', "the top-level object"));
      OOMSCOPE_RETURN_IF_ERROR(ParseKey(key, &seen_nodes));
      if (array_cut_) return cut();
    }
    if (in_.PeekNonSpace() >= 0) return Error("unexpected data after the end of the snapshot");
    if (!in_.error().ok()) return in_.error();
    if (!have_header_) {
      return Corruption("not a heap snapshot: the JSON object has no \"snapshot\" header with meta");
    }
    if (resume_in_edges_) return Status::Ok();  // the head part validates the whole
    if (!seen_nodes) return Corruption("the snapshot has no \"nodes\" array");
    if (!seen_edges) return Corruption("the snapshot has no \"edges\" array");
    if (!seen_strings) return Corruption("the snapshot has no \"strings\" array");
    return Validate();
  }

  Status ParseKey(const std::string& key, bool* seen_nodes) {
    if (key == "snapshot") return ParseHeader();
    if (key == "nodes") {
      if (!have_header_) return Error("not a heap snapshot: \"nodes\" before any \"snapshot\" header with meta");
      if (resume_in_edges_) return FailedPrecondition("nodes after the split point");
      *seen_nodes = true;
      return ParseNodes();
    }
    if (key == "edges") {
      if (!have_header_) return Error("not a heap snapshot: \"edges\" before any \"snapshot\" header with meta");
      if (resume_in_edges_) return FailedPrecondition("edges after the split point");
      seen_edges_ = true;
      return ParseEdges();
    }
    if (key == "strings") {
      seen_strings_ = true;
      return ParseStrings();
    }
    if (key == "locations" && have_header_ && location_fields_ok_) return ParseLocations();
    return SkipValue("\"" + key + "\"");
  }

  // ---- header ------------------------------------------------------------------------------

  Status ParseHeader() {
    int c = in_.PeekNonSpace();
    if (c < 0) return Truncated("\"snapshot\"");
    if (c != '{') return Error("\"snapshot\" is not an object");
    uint64_t start = in_.Offset();
    std::string text;
    OOMSCOPE_RETURN_IF_ERROR(CaptureValue(&text, opt_.max_header_bytes, "\"snapshot\""));
    nlohmann::json h = nlohmann::json::parse(text, nullptr, /*allow_exceptions=*/false);
    if (h.is_discarded()) return ErrorAt(start, "\"snapshot\" is not valid JSON");
    auto fail = [&](const std::string& what) { return ErrorAt(start, "snapshot." + what); };
    if (!h.contains("meta") || !h["meta"].is_object()) return fail("meta is missing");
    const auto& meta = h["meta"];
    auto string_list = [&](const char* key, std::vector<std::string>* out) -> Status {
      if (!meta.contains(key)) return fail(std::string("meta.") + key + " is missing");
      const auto& v = meta[key];
      if (!v.is_array()) return fail(std::string("meta.") + key + " is not an array");
      for (const auto& s : v) {
        if (!s.is_string()) return fail(std::string("meta.") + key + " holds a non-string");
        out->push_back(s.get<std::string>());
      }
      return Status::Ok();
    };
    SnapshotMeta& m = snap_.meta;
    OOMSCOPE_RETURN_IF_ERROR(string_list("node_fields", &m.node_fields));
    OOMSCOPE_RETURN_IF_ERROR(string_list("edge_fields", &m.edge_fields));
    if (m.node_fields.empty()) return fail("meta.node_fields is empty");
    if (m.edge_fields.empty()) return fail("meta.edge_fields is empty");
    auto type_names = [&](const char* types_key, const std::vector<std::string>& fields,
                          std::vector<std::string>* out) -> Status {
      auto it = std::find(fields.begin(), fields.end(), "type");
      if (it == fields.end()) return Status::Ok();  // reported below as a missing field
      size_t idx = static_cast<size_t>(it - fields.begin());
      if (!meta.contains(types_key) || !meta[types_key].is_array())
        return fail(std::string("meta.") + types_key + " is missing");
      const auto& types = meta[types_key];
      if (types.size() <= idx || !types[idx].is_array())
        return fail(std::string("meta.") + types_key + "[" + std::to_string(idx) +
                    "] (the list of type names) is missing");
      for (const auto& s : types[idx]) {
        if (!s.is_string()) return fail(std::string("meta.") + types_key + " holds a non-string type name");
        out->push_back(s.get<std::string>());
      }
      return Status::Ok();
    };
    OOMSCOPE_RETURN_IF_ERROR(type_names("node_types", m.node_fields, &m.node_type_names));
    OOMSCOPE_RETURN_IF_ERROR(type_names("edge_types", m.edge_fields, &m.edge_type_names));

    // Field roles, from the names; the offsets are wherever meta puts them.
    bool have[5] = {};
    for (const auto& f : m.node_fields) {
      NodeRole r = NodeRole::kIgnore;
      if (f == "type") r = NodeRole::kType, have[0] = true;
      else if (f == "name") r = NodeRole::kName, have[1] = true;
      else if (f == "id") r = NodeRole::kId, have[2] = true;
      else if (f == "self_size") r = NodeRole::kSelfSize, have[3] = true;
      else if (f == "edge_count") r = NodeRole::kEdgeCount, have[4] = true;
      else if (f == "detachedness") r = NodeRole::kDetachedness, has_detachedness_ = true;
      node_roles_.push_back(r);
    }
    static const char* kNodeNeeded[] = {"type", "name", "id", "self_size", "edge_count"};
    for (int i = 0; i < 5; ++i)
      if (!have[i]) return fail(std::string("meta.node_fields lacks \"") + kNodeNeeded[i] + "\"");
    bool ehave[3] = {};
    for (const auto& f : m.edge_fields) {
      EdgeRole r = EdgeRole::kIgnore;
      if (f == "type") r = EdgeRole::kType, ehave[0] = true;
      else if (f == "name_or_index") r = EdgeRole::kNameOrIndex, ehave[1] = true;
      else if (f == "to_node") r = EdgeRole::kToNode, ehave[2] = true;
      edge_roles_.push_back(r);
    }
    static const char* kEdgeNeeded[] = {"type", "name_or_index", "to_node"};
    for (int i = 0; i < 3; ++i)
      if (!ehave[i]) return fail(std::string("meta.edge_fields lacks \"") + kEdgeNeeded[i] + "\"");
    for (const auto& n : m.node_type_names) node_type_map_.push_back(NodeTypeFromName(n));
    for (const auto& n : m.edge_type_names) edge_type_map_.push_back(EdgeTypeFromName(n));

    auto count = [&](const char* key, uint64_t* out) -> Status {
      if (!h.contains(key)) return fail(std::string(key) + " is missing");
      if (!h[key].is_number_unsigned()) return fail(std::string(key) + " is not a count");
      *out = h[key].get<uint64_t>();
      return Status::Ok();
    };
    OOMSCOPE_RETURN_IF_ERROR(count("node_count", &m.declared_node_count));
    OOMSCOPE_RETURN_IF_ERROR(count("edge_count", &m.declared_edge_count));
    if (h.contains("trace_function_count") && h["trace_function_count"].is_number_unsigned())
      m.trace_function_count = h["trace_function_count"].get<uint64_t>();
    if (m.declared_node_count >= kNoNode) return fail("node_count is too large");
    if (m.declared_edge_count >= UINT32_MAX) return fail("edge_count is too large");
    if (h.contains("root_index")) {
      if (!h["root_index"].is_number_unsigned()) return fail("root_index is not a node index");
      root_index_ = h["root_index"].get<uint64_t>();
    }
    if (meta.contains("location_fields") && meta["location_fields"].is_array()) {
      std::vector<std::string> lf;
      for (const auto& s : meta["location_fields"])
        if (s.is_string()) lf.push_back(s.get<std::string>());
      const char* want[] = {"object_index", "script_id", "line", "column"};
      location_fields_ok_ = lf.size() == 4;
      for (size_t i = 0; i < lf.size() && location_fields_ok_; ++i)
        location_fields_ok_ = lf[i] == want[i];
    }
    have_header_ = true;
    return Status::Ok();
  }

  // Reads one JSON object or array (strings honoured, nesting by counting, so depth costs no
  // stack), copying its raw text into `out` when given, up to `limit` bytes.
  Status CaptureValue(std::string* out, size_t limit, const std::string& where) {
    int depth = 0;
    bool in_string = false, escape = false;
    for (;;) {
      if (in_.Ensure(1) == 0) return Truncated(where);
      const char* p = in_.p();
      const char* e = in_.end();
      const char* q = p;
      for (; q < e; ++q) {
        char c = *q;
        if (in_string) {
          if (escape) escape = false;
          else if (c == '\\') escape = true;
          else if (c == '"') in_string = false;
          continue;
        }
        if (c == '"') in_string = true;
        else if (c == '{' || c == '[') ++depth;
        else if (c == '}' || c == ']') {
          if (--depth == 0) {
            ++q;
            if (out) out->append(p, q);
            in_.Set(q);
            return Status::Ok();
          }
        }
      }
      if (out) out->append(p, q);
      in_.Set(q);
      if (out && out->size() > limit) {
        return Error(where + " is larger than " + std::to_string(limit) + " bytes");
      }
    }
  }

  // Skips one JSON value of any kind (iteratively: nesting depth costs no stack).
  Status SkipValue(const std::string& where) {
    int c = in_.PeekNonSpace();
    if (c < 0) return Truncated(where);
    if (c == '"') {
      in_.Set(in_.p() + 1);
      return SkipStringBody(where);
    }
    if (c == '{' || c == '[') return CaptureValue(nullptr, 0, where);
    // A scalar: number, true, false, null.
    for (;;) {
      if (in_.Ensure(1) == 0) return Status::Ok();
      const char* q = in_.p();
      while (q < in_.end() && (std::isalnum(static_cast<unsigned char>(*q)) || *q == '-' ||
                               *q == '+' || *q == '.'))
        ++q;
      bool more = q == in_.end();
      in_.Set(q);
      if (!more) return Status::Ok();
    }
  }

  Status SkipStringBody(const std::string& where) {
    bool escape = false;
    for (;;) {
      if (in_.Ensure(1) == 0) return Truncated(where);
      const char* q = in_.p();
      const char* e = in_.end();
      for (; q < e; ++q) {
        if (escape) escape = false;
        else if (*q == '\\') escape = true;
        else if (*q == '"') {
          in_.Set(q + 1);
          return Status::Ok();
        }
      }
      in_.Set(q);
    }
  }

  Status ParseShortString(std::string* out, const std::string& where) {
    int c = in_.PeekNonSpace();
    if (c < 0) return Truncated(where);
    if (c != '"') return Error("expected a string for " + where + ", found " + Describe(c));
    in_.Set(in_.p() + 1);
    for (;;) {
      if (in_.Ensure(1) == 0) return Truncated(where);
      const char* q = in_.p();
      while (q < in_.end() && *q != '"' && *q != '\\') ++q;
      out->append(in_.p(), q);
      if (out->size() > 256) return Error(where + " is longer than 256 bytes");
      in_.Set(q);
      if (q == in_.end()) continue;
      if (*q == '\\') return Error("escapes are not expected in " + where);
      in_.Set(q + 1);
      return Status::Ok();
    }
  }

  // ---- integer arrays ----------------------------------------------------------------------

  // Scans a JSON array of non-negative integers, calling on_value(value, position, byte_offset)
  // for each; on_value returns false to stop, with the error in scan_error_ (Stop() sets it): a
  // bool, not a Status, in the loop that runs once per number. The loop is the hot path of the parser.
  // `opened`: the reader is already inside the array, at the start of an element (the second
  // half of a split edges array). With cut_at_end_, the end of the input right after a ',' ends
  // the scan (array_cut_) instead of being a truncation: the first half of a split array.
  template <typename OnValue>
  Status ScanUintArray(const std::string& name, OnValue&& on_value, bool opened = false) {
    if (!opened) OOMSCOPE_RETURN_IF_ERROR(Expect('[', "\"" + name + "\""));
    uint64_t pos = 0;
    int c = in_.PeekNonSpace();
    if (c < 0) return Truncated("\"" + name + "\"");
    if (c == ']') {
      in_.Set(in_.p() + 1);
      return Status::Ok();
    }
    for (;;) {
      // Ensure one whole element (digits, spaces, separator) is in the buffer; elements are
      // short, so asking for 64 bytes leaves the inner loop free of refills.
      in_.Ensure(64);
      const char* p = in_.p();
      const char* e = in_.end();
      for (;;) {
        // Whole windows of numbers in V8's own layout first; the loop below takes one element at
        // a time (and the end of the array, odd spacing and every error).
        if (kHaveWindowScan && e - p >= 64 + 16 && static_cast<unsigned>(*p - '0') < 10u) {
          bool stopped = false;
          const char* q = ScanWindow(p, [&](uint64_t v, const char* at) {
            if (!on_value(v, pos, at)) return false;
            ++pos;
            return true;
          }, &stopped);
          if (stopped) {
            in_.Set(q);
            return std::move(scan_error_);
          }
          if (q != p) {
            p = q;
            continue;
          }
        }
        const char* start = p;
        while (p < e && Reader::IsSpace(*p)) ++p;
        uint64_t v;
        const char* digits = p;
        p += LeadingDigits8(p, &v);
        if (p - digits == 8) {
          while (static_cast<unsigned>(*p - '0') < 10u) {  // the NUL sentinel stops this
            v = v * 10 + static_cast<unsigned>(*p - '0');
            ++p;
          }
        }
        size_t nd = static_cast<size_t>(p - digits);
        while (p < e && Reader::IsSpace(*p)) ++p;
        if (p >= e) {
          // The element runs past the buffered data: refill from its start (past the spaces,
          // when it is nothing else yet: a run of them may be longer than the buffer), asking
          // for more than is buffered, or fail at EOF. (Ensure(64) at the top of the loop would
          // not read on while 64 bytes are buffered: an element longer than that looped.)
          if (nd == 0) start = e;
          in_.Set(start);
          const size_t have = static_cast<size_t>(e - start);
          if (!in_.eof() && in_.error().ok() && in_.Ensure(have + 64) > have) break;
          in_.Set(in_.end());
          if (in_.eof() || !in_.error().ok()) {
            if (cut_at_end_ && nd == 0 && in_.error().ok()) {
              array_cut_ = true;
              return Status::Ok();
            }
            return Truncated(name + "[" + std::to_string(pos) + "]");
          }
          return Error(name + "[" + std::to_string(pos) + "] is longer than the read buffer");
        }
        if (nd == 0 || nd > 19) {
          in_.Set(digits);
          if (*digits == '-') return Error(name + "[" + std::to_string(pos) + "] is negative");
          if (nd > 19) return Error(name + "[" + std::to_string(pos) + "] is too large");
          return Error(name + "[" + std::to_string(pos) + "]: expected a number, found " +
                       Describe(static_cast<unsigned char>(*digits)));
        }
        char sep = *p;
        if (sep != ',' && sep != ']') {
          in_.Set(p);
          if (sep == '.' || sep == 'e' || sep == 'E')
            return Error(name + "[" + std::to_string(pos) + "] is not an integer");
          return Error("expected ',' or ']' after " + name + "[" + std::to_string(pos) +
                       "], found " + Describe(static_cast<unsigned char>(sep)));
        }
        if (!on_value(v, pos, digits)) {
          in_.Set(digits);
          return std::move(scan_error_);
        }
        ++pos;
        ++p;
        if (sep == ']') {
          in_.Set(p);
          return Status::Ok();
        }
        if (e - p < 64 && !in_.eof()) {
          in_.Set(p);
          break;  // refill
        }
      }
    }
  }

  size_t ReserveHint(uint64_t declared, size_t per_item_text_bytes) {
    // Never trust a declared count for allocation beyond what the input could hold.
    uint64_t cap = 1 << 22;
    if (auto size = src_.SizeHint()) cap = std::max<uint64_t>(cap, *size / per_item_text_bytes);
    return static_cast<size_t>(std::min<uint64_t>(declared, cap));
  }

  // Field offsets of one record, from the roles (kNoField when absent).
  static constexpr size_t kNoField = SIZE_MAX;
  template <typename Role>
  static size_t OffsetOf(const std::vector<Role>& roles, Role r) {
    for (size_t i = 0; i < roles.size(); ++i)
      if (roles[i] == r) return i;
    return kNoField;
  }

  // Grows a column to hold index i, so the hot loop writes by index: by half again, or, within
  // room reserved ahead (the tail of a split file, ParseEdges), 64Ki entries at a time, which
  // moves nothing and touches (zero-fills) only a little more memory than is used.
  template <typename V>
  static void Fit(V& v, size_t i) {
    if (i < v.size()) return;
    size_t want = v.size() + v.size() / 2 + 1024;
    if (i < v.capacity()) want = std::min(v.capacity(), v.size() + (size_t{1} << 16));
    if constexpr (std::is_same_v<V, U24Column>) {
      v.resize(std::max<size_t>(i + 1, want));
    } else {
      GrowPrefaulted(v, std::max<size_t>(i + 1, want));
    }
  }

  // Values are gathered one record (one node: meta.node_fields) at a time and then stored by
  // field offset, so the per-number work is a store and a compare.
  Status ParseNodes() {
    const size_t nf = node_roles_.size();
    if (nf > 64) return Error("meta.node_fields has more than 64 fields");
    const size_t t_off = OffsetOf(node_roles_, NodeRole::kType);
    const size_t n_off = OffsetOf(node_roles_, NodeRole::kName);
    const size_t i_off = OffsetOf(node_roles_, NodeRole::kId);
    const size_t s_off = OffsetOf(node_roles_, NodeRole::kSelfSize);
    const size_t e_off = OffsetOf(node_roles_, NodeRole::kEdgeCount);
    const size_t d_off = OffsetOf(node_roles_, NodeRole::kDetachedness);
    size_t cap = ReserveHint(snap_.meta.declared_node_count, 2 * nf);
    Snapshot& s = snap_;
    // The columns' blocks are taken before the other part of a split file starts (on_header_),
    // so that its blocks come after them: the same layout, and so the same peak memory, in
    // every run (with huge pages, UseBlockArena, the layout decides which units are shared).
    ReserveHuge(s.node_type, cap);
    s.node_name = U24Column(cap);
    ReserveHuge(s.node_id, cap);
    ReserveHuge(s.node_self_size, cap);
    ReserveHuge(s.first_edge, cap + 1);
    if (d_off != kNoField) ReserveHuge(s.node_detachedness, cap);
    if (on_header_) std::exchange(on_header_, nullptr)();
    GrowPrefaulted(s.node_type, cap);
    GrowPrefaulted(s.node_id, cap);
    GrowPrefaulted(s.node_self_size, cap);
    GrowPrefaulted(s.first_edge, cap + 1);
    if (d_off != kNoField) GrowPrefaulted(s.node_detachedness, cap);
    uint64_t rec[64];
    size_t field = 0, count = 0;
    uint64_t edges_total = 0;
    const size_t type_count = node_type_map_.size();
    uint64_t rec_at = 0;  // byte offset where the record starts: errors point there
    // The columns' pointers and the largest name in locals, as in ParseEdges: the stores of
    // types and names are byte stores, after which the compiler would load members again.
    // Taken again after the slow path, which may grow the columns.
    const NodeType* type_map = node_type_map_.data();
    NodeType* type_out;
    U24Column::InOrder name_out;
    uint8_t* detached_out;
    uint32_t *id_out, *size_out;
    EdgeOrdinal* first_edge_out;
    size_t room;
    auto take_columns = [&] {
      type_out = s.node_type.data();
      name_out = s.node_name.InOrderBytes();
      id_out = s.node_id.data();
      size_out = s.node_self_size.data();
      first_edge_out = s.first_edge.data();
      detached_out = s.node_detachedness.data();
      room = std::min<size_t>(s.node_type.size(), kMaxNodes);
    };
    take_columns();
    uint64_t max_name = max_node_string_;
    Status st = ScanUintArray("nodes", [&](uint64_t v, uint64_t pos, const char* at) __attribute__((always_inline)) -> bool {
      if (field == 0) rec_at = in_.OffsetOf(at);
      rec[field] = v;
      if (++field < nf) return true;
      field = 0;
      const uint64_t type = rec[t_off];
      // One test for everything that is rare (the messages are built apart, out of this loop).
      // A name of 2^24 or more goes this way too.
      if (count >= room || type >= type_count || rec[i_off] > UINT32_MAX || rec[n_off] >= (1u << 24)) [[unlikely]] {
        auto slow = [&]() __attribute__((noinline, cold)) -> bool {
          const uint64_t record_pos = pos + 1 - nf;
          if (count >= kMaxNodes) return Stop(ErrorAt(rec_at, "too many nodes (more than 2^31 - 1)"));
          if (count >= s.node_type.size()) {
            Fit(s.node_type, count);
            Fit(s.node_name, count);
            Fit(s.node_id, count);
            Fit(s.node_self_size, count);
            Fit(s.first_edge, count + 1);
            if (d_off != kNoField) Fit(s.node_detachedness, count);
          }
          if (type >= type_count) {
            return Stop(ErrorAt(rec_at, NodeWhere(record_pos + t_off, "type") + ": type " +
                                            std::to_string(type) + " is outside meta.node_types (" +
                                            std::to_string(type_count) + " types)"));
          }
          if (rec[i_off] > UINT32_MAX)
            return Stop(ErrorAt(rec_at, NodeWhere(record_pos + i_off, "id") + ": id does not fit 32 bits"));
          return true;
        };
        if (!slow()) return false;
        take_columns();
      }
      type_out[count] = type_map[type];
      const StringId name = static_cast<StringId>(std::min<uint64_t>(rec[n_off], UINT32_MAX));
      if (name < (1u << 24) || name_out.high) {
        name_out.Set(count, name);
      } else {
        s.node_name.Set(count, name);  // the column's first top byte
        take_columns();
      }
      max_name = std::max<uint64_t>(max_name, name);
      id_out[count] = static_cast<uint32_t>(rec[i_off]);
      uint64_t size = rec[s_off];
      if (size >= Snapshot::kSizeOverflow) [[unlikely]] {
        s.big_self_sizes[static_cast<NodeOrdinal>(count)] = size;
        size = Snapshot::kSizeOverflow;
      }
      size_out[count] = static_cast<uint32_t>(size);
      first_edge_out[count] = static_cast<EdgeOrdinal>(edges_total);
      edges_total += rec[e_off];
      if (edges_total >= UINT32_MAX) [[unlikely]] {
        return Stop(ErrorAt(rec_at, NodeWhere(pos + 1 - nf + e_off, "edge_count") + ": too many edges"));
      }
      if (d_off != kNoField) detached_out[count] = static_cast<uint8_t>(std::min<uint64_t>(rec[d_off], 255));
      ++count;
      return true;
    });
    max_node_string_ = max_name;
    OOMSCOPE_RETURN_IF_ERROR(st);
    if (field != 0) {
      return Error("the nodes array holds " + std::to_string(count * nf + field) +
                   " numbers, not a multiple of the " + std::to_string(nf) +
                   " node fields in meta.node_fields");
    }
    s.node_type.resize(count);
    s.node_name.resize(count);
    s.node_id.resize(count);
    s.node_self_size.resize(count);
    if (d_off != kNoField) s.node_detachedness.resize(count);
    s.first_edge.resize(count + 1);
    s.first_edge[count] = static_cast<EdgeOrdinal>(edges_total);
    nodes_edge_total_ = edges_total;
    have_nodes_ = true;
    return Status::Ok();
  }

  std::string NodeWhere(uint64_t pos, const char* field) const {
    const size_t nf = node_roles_.size();
    return "nodes[" + std::to_string(pos) + "] (node " + std::to_string(pos / nf) + ", field '" +
           field + "')";
  }

  // Where each field of an edge record sits, and what its values are checked against.
  struct EdgeLayout {
    size_t ef = 0, nf = 0, t_off = 0, n_off = 0, to_off = 0, type_count = 0;
    uint64_t node_count = UINT64_MAX;  // unknown while the nodes are parsed elsewhere
    uint64_t nf_inverse = 0;           // ceil(2^64 / nf): a division by nf as a multiplication
    // to_node / nf without a division instruction (one per edge is a tenth of the parse):
    // exact for every 32-bit to_node (Lemire, Kaser and Kurz, "Faster remainder by direct
    // computation", 2019); wider values, never seen in practice, divide.
    uint64_t NodeOf(uint64_t to) const {
      if (to > UINT32_MAX || nf_inverse == 0) return to / nf;
      __extension__ using U128 = unsigned __int128;
      return static_cast<uint64_t>((static_cast<U128>(nf_inverse) * to) >> 64);
    }
  };
  EdgeLayout MakeEdgeLayout() const {
    EdgeLayout l;
    l.ef = edge_roles_.size();
    l.nf = node_roles_.size();
    l.t_off = OffsetOf(edge_roles_, EdgeRole::kType);
    l.n_off = OffsetOf(edge_roles_, EdgeRole::kNameOrIndex);
    l.to_off = OffsetOf(edge_roles_, EdgeRole::kToNode);
    l.type_count = edge_type_map_.size();
    l.nf_inverse = l.nf ? UINT64_MAX / l.nf + 1 : 0;
    if (have_nodes_) l.node_count = snap_.node_type.size();
    return l;
  }

  // Checks one edge record and stores it as edge `count`, growing the columns when needed.
  // `record_pos` (index of its first number) and `rec_at` (its byte offset) go into errors.
  // Runs once per edge: the checks are a few compares here, and the messages are built apart
  // (StoreEdgeSlow), so that this inlines into the scanning loop.
  [[gnu::always_inline]] bool StoreEdge(const EdgeLayout& l, const uint64_t* rec, size_t count,
                                        uint64_t record_pos, uint64_t rec_at) {
    Snapshot& s = snap_;
    const uint64_t type = rec[l.t_off], to = rec[l.to_off];
    const uint64_t node = l.NodeOf(to);
    if (count >= s.edge_type.size() || type >= l.type_count || node * l.nf != to ||
        node >= l.node_count || node >= kNoNode) [[unlikely]] {
      if (!StoreEdgeSlow(l, rec, count, record_pos, rec_at)) return false;
    }
    const EdgeType t = edge_type_map_[type];
    const uint32_t name = static_cast<uint32_t>(std::min<uint64_t>(rec[l.n_off], UINT32_MAX));
    s.edge_type[count] = t;
    s.edge_name.Set(count, name);
    s.edge_to.Set(count, static_cast<NodeOrdinal>(node));
    max_edge_to_ = std::max(max_edge_to_, node);
    if (!EdgeHasIndex(t)) max_edge_string_ = std::max<uint64_t>(max_edge_string_, name);
    return true;
  }

  // StoreEdge's slow path: grows the columns, or says what is wrong with the record (false).
  [[gnu::noinline, gnu::cold]] bool StoreEdgeSlow(const EdgeLayout& l, const uint64_t* rec, size_t count,
                                              uint64_t record_pos, uint64_t rec_at) {
    Snapshot& s = snap_;
    auto where = [&](uint64_t pos, const char* f) {
      return "edges[" + std::to_string(pos) + "] (edge " + std::to_string(pos / l.ef) +
             ", field '" + f + "')";
    };
    if (count >= s.edge_type.size()) {
      if (count >= UINT32_MAX - 1) return Stop(ErrorAt(rec_at, "too many edges"));
      Fit(s.edge_type, count);
      Fit(s.edge_name, count);
      Fit(s.edge_to, count);
    }
    const uint64_t type = rec[l.t_off], to = rec[l.to_off];
    if (type >= l.type_count) {
      return Stop(ErrorAt(rec_at, where(record_pos + l.t_off, "type") + ": type " + std::to_string(type) +
                                      " is outside meta.edge_types (" + std::to_string(l.type_count) +
                                      " types)"));
    }
    const uint64_t node = l.NodeOf(to);
    if (node * l.nf != to) {
      return Stop(ErrorAt(rec_at, where(record_pos + l.to_off, "to_node") + ": " + std::to_string(to) +
                                      " is not a node index (not a multiple of " +
                                      std::to_string(l.nf) + ")"));
    }
    if (node >= l.node_count || node >= kNoNode) {
      return Stop(ErrorAt(rec_at, where(record_pos + l.to_off, "to_node") + ": node index " +
                                      std::to_string(to) + " points outside the nodes array (" +
                                      std::to_string(l.node_count) + " nodes)"));
    }
    return true;
  }

  // `tail_part`: the part of a split file after the cut, which starts at a record (RunTail).
  Status ParseEdges(bool tail_part = false) {
    if (edge_roles_.size() > 64) return Error("meta.edge_fields has more than 64 fields");
    const EdgeLayout l = MakeEdgeLayout();
    const size_t ef = l.ef;
    size_t cap = ReserveHint(snap_.meta.declared_edge_count, 2 * ef);
    Snapshot& s = snap_;
    // The tail's share of the edges is known only roughly: room for as many as its bytes could
    // hold.
    if (tail_part) cap = std::min<uint64_t>(cap, tail_bytes_ / (2 * ef) + 1);
    // Address space only: the columns grow into it (StoreEdgeSlow) without moving, so each part
    // of a split file touches the memory of its own edges, not of all of them.
    ReserveHuge(s.edge_type, cap);
    s.edge_name.reserve(cap);
    s.edge_to.reserve(cap);
    // The loop's state is held in locals, not members nor the layout (whose address the slow
    // path takes): the edges' stores are byte stores, which may alias anything else in memory,
    // so the compiler would load those again after each edge. The common edge, checked as
    // StoreEdge checks it, is stored here; StoreEdge takes every other, and the columns'
    // pointers are taken again after it (it may grow them).
    uint64_t rec[64];
    size_t field = 0, count = 0;
    uint64_t rec_at = 0;  // byte offset where the record starts: errors point there
    const size_t t_off = l.t_off, n_off = l.n_off, to_off = l.to_off, nf = l.nf;
    const uint64_t type_count = l.type_count, node_count = std::min<uint64_t>(l.node_count, kNoNode);
    const uint64_t nf_inverse = l.nf_inverse;
    const EdgeType* type_map = edge_type_map_.data();
    uint8_t* type_out;
    U24Column::InOrder name_out, to_out;
    size_t room;
    auto take_columns = [&] {
      type_out = reinterpret_cast<uint8_t*>(s.edge_type.data());
      name_out = s.edge_name.InOrderBytes();
      to_out = s.edge_to.InOrderBytes();
      room = nf_inverse ? std::min({s.edge_type.size(), s.edge_name.size(), s.edge_to.size()}) : 0;
    };
    take_columns();
    uint64_t max_to = max_edge_to_, max_string = max_edge_string_;
    Status st = ScanUintArray("edges", [&](uint64_t v, uint64_t pos, const char* at) __attribute__((always_inline)) -> bool {
      if (field == 0) rec_at = in_.OffsetOf(at);
      rec[field] = v;
      if (++field < ef) return true;
      field = 0;
      const uint64_t type = rec[t_off], to = rec[to_off], name = rec[n_off];
      // nf_inverse is not 0 when room is not: NodeOf without its wide case, to < 2^32 below.
      __extension__ using U128 = unsigned __int128;
      const uint64_t node = static_cast<uint64_t>((static_cast<U128>(nf_inverse) * to) >> 64);
      // A value of 2^24 or more goes StoreEdge's way while its column has no top bytes yet.
      const bool fit = (node < (1u << 24) || to_out.high) && (name < (1u << 24) || (name_out.high && name <= UINT32_MAX));
      if (count < room && type < type_count && to <= UINT32_MAX && node * nf == to && node < node_count && fit)
          [[likely]] {
        const EdgeType t = type_map[type];
        type_out[count] = static_cast<uint8_t>(t);
        name_out.Set(count, static_cast<uint32_t>(name));
        to_out.Set(count, static_cast<uint32_t>(node));
        max_to = std::max(max_to, node);
        if (!EdgeHasIndex(t)) max_string = std::max(max_string, name);
      } else {
        max_edge_to_ = max_to;
        max_edge_string_ = max_string;
        if (!StoreEdge(l, rec, count, pos + 1 - ef, rec_at)) return false;
        max_to = max_edge_to_;
        max_string = max_edge_string_;
        take_columns();
      }
      ++count;
      return true;
    }, /*opened=*/tail_part);
    max_edge_to_ = max_to;
    max_edge_string_ = max_string;
    OOMSCOPE_RETURN_IF_ERROR(st);
    if (array_cut_) {
      // The first half of a split array: the second half's numbers continue the record left
      // open here (edge_carry_[0 .. field)); Merge() joins them.
      std::copy(rec, rec + field, edge_carry_);
      edges_cut_ = true;
      edge_carry_count_ = field;
      edges_parsed_ = count;
      return Status::Ok();
    }
    if (field != 0) {
      return Error("the edges array holds " + std::to_string(count * ef + field) +
                   " numbers, not a multiple of the " + std::to_string(ef) +
                   " edge fields in meta.edge_fields");
    }
    s.edge_type.resize(count);
    s.edge_name.resize(count);
    s.edge_to.resize(count);
    return Status::Ok();
  }

  // The second part of a split edges array, to its ']': stored as records when it starts at
  // one (RunTail's `at_record`); otherwise the numbers are kept as they come (32 bits each;
  // anything wider abandons the split) for Merge() to store once the first part's count and
  // open record are known.
  Status ParseEdgesTail() {
    seen_edges_ = true;
    if (tail_at_record_) return ParseEdges(/*tail_part=*/true);
    return ScanUintArray(
        "edges",
        [&](uint64_t v, uint64_t, const char*) -> bool {
          if (v > UINT32_MAX) return Stop(FailedPrecondition("a wide number in the split edges array"));
          edge_tail_.push_back(static_cast<uint32_t>(v));
          return true;
        },
        /*opened=*/true);
  }

  Status ParseLocations() {
    std::array<uint32_t, 4> rec{};
    size_t field = 0;
    const size_t nf = node_roles_.size();
    return ScanUintArray("locations", [&](uint64_t v, uint64_t pos, const char* at) -> bool {
      if (v > UINT32_MAX) return Stop(ErrorAt(in_.OffsetOf(at), "locations[" + std::to_string(pos) + "] is too large"));
      rec[field] = static_cast<uint32_t>(v);
      if (++field == 4) {
        field = 0;
        if (rec[0] % nf != 0) {
          return Stop(ErrorAt(in_.OffsetOf(at), "locations[" + std::to_string(pos - 3) +
                                                    "]: object_index is not a node index"));
        }
        ++snap_.meta.location_count;
      }
      return true;
    });
  }

  // ---- strings -----------------------------------------------------------------------------

  // Length of a valid UTF-8 sequence starting at p (at most `avail` bytes), or 0 if invalid.
  static size_t Utf8Length(const unsigned char* p, size_t avail) {
    unsigned char c = p[0];
    size_t n;
    uint32_t min;
    if (c >= 0xC2 && c <= 0xDF) n = 2, min = 0x80;
    else if (c >= 0xE0 && c <= 0xEF) n = 3, min = 0x800;
    else if (c >= 0xF0 && c <= 0xF4) n = 4, min = 0x10000;
    else return 0;
    if (avail < n) return 0;
    uint32_t cp = c & (0x3F >> (n - 1));
    for (size_t i = 1; i < n; ++i) {
      if ((p[i] & 0xC0) != 0x80) return 0;
      cp = (cp << 6) | (p[i] & 0x3F);
    }
    if (cp < min || cp > 0x10FFFF || (cp >= 0xD800 && cp <= 0xDFFF)) return 0;
    return n;
  }

  // Parses the body of one string (after the opening quote) onto the end of `out`. Escapes are
  // decoded; a surrogate pair becomes one code point; a lone surrogate stays visible as the text
  // "\uD800"; bytes that are not valid UTF-8 stay visible as "\xFF". The result is valid UTF-8.
  Status ParseStringBody(std::string& out, uint64_t index) {
    // Only errors name the string: built then, not for each of a million strings.
    auto where = [index] { return "strings[" + std::to_string(index) + "]"; };
    for (;;) {
      if (in_.Ensure(16) == 0) return Truncated(where());
      const char* p = in_.p();
      const char* e = in_.end();
      // Fast path: a run of plain ASCII.
      const char* q = PlainRunEnd(p, e);
      out.append(p, q);
      in_.Set(q);
      if (q == e) continue;
      unsigned char c = static_cast<unsigned char>(*q);
      if (c == '"') {
        in_.Set(q + 1);
        return Status::Ok();
      }
      if (c >= 0x80) {
        if (in_.Ensure(4) == 0) return Truncated(where());
        q = in_.p();
        size_t avail = static_cast<size_t>(in_.end() - q);
        size_t n = Utf8Length(reinterpret_cast<const unsigned char*>(q), avail);
        if (n == 0) {
          char buf[8];
          std::snprintf(buf, sizeof buf, "\\x%02X", static_cast<unsigned char>(*q));
          out.append(buf);
          in_.Set(q + 1);
        } else {
          out.append(q, n);
          in_.Set(q + n);
        }
        continue;
      }
      // An escape.
      if (in_.Ensure(12) < 2) return Truncated(where());
      q = in_.p();
      char esc = q[1];
      switch (esc) {
        case '"': out.push_back('"'); in_.Set(q + 2); continue;
        case '\\': out.push_back('\\'); in_.Set(q + 2); continue;
        case '/': out.push_back('/'); in_.Set(q + 2); continue;
        case 'b': out.push_back('\b'); in_.Set(q + 2); continue;
        case 'f': out.push_back('\f'); in_.Set(q + 2); continue;
        case 'n': out.push_back('\n'); in_.Set(q + 2); continue;
        case 'r': out.push_back('\r'); in_.Set(q + 2); continue;
        case 't': out.push_back('\t'); in_.Set(q + 2); continue;
        case 'u': break;
        default:
          return Error(where() + ": invalid escape '\\" + std::string(1, esc) + "'");
      }
      auto hex4 = [&](const char* h) -> int {
        if (in_.end() - h < 4) return -1;
        int v = 0;
        for (int i = 0; i < 4; ++i) {
          int d = HexDigitValue(h[i]);
          if (d < 0) return -1;
          v = v * 16 + d;
        }
        return v;
      };
      int u = hex4(q + 2);
      if (u < 0) {
        if (in_.eof() && in_.end() - q < 6) return Truncated(where());
        return Error(where() + ": invalid \\u escape (needs four hex digits)");
      }
      const char* next = q + 6;
      if (u >= 0xD800 && u <= 0xDBFF) {
        int lo = (in_.end() - next >= 6 && next[0] == '\\' && next[1] == 'u') ? hex4(next + 2) : -1;
        if (lo >= 0xDC00 && lo <= 0xDFFF) {
          uint32_t cp = 0x10000 + ((static_cast<uint32_t>(u) - 0xD800) << 10) +
                        (static_cast<uint32_t>(lo) - 0xDC00);
          AppendUtf8(out, cp);
          in_.Set(next + 6);
          continue;
        }
      }
      if (u >= 0xD800 && u <= 0xDFFF) {
        char buf[16];
        std::snprintf(buf, sizeof buf, "\\u%04X", static_cast<unsigned>(u) & 0xFFFFu);  // a lone surrogate, kept visible
        out.append(buf);
      } else {
        AppendUtf8(out, static_cast<uint32_t>(u));
      }
      in_.Set(next);
    }
  }

  Status ParseStrings() {
    OOMSCOPE_RETURN_IF_ERROR(Expect('[', "\"strings\""));
    // The strings are the file's last array: what is left of it bounds their bytes (escapes only
    // shrink; an invalid byte kept visible grows by a little) and their count (3 bytes each at
    // least). Reserved as address space, so the table never moves nor holds spare capacity
    // resident; a stream of unknown size grows as it goes.
    if (std::optional<uint64_t> size = src_.SizeHint(); size && *size > in_.Offset()) {
      const uint64_t left = *size - in_.Offset();
      snap_.strings.Reserve(static_cast<size_t>(left / 3), static_cast<size_t>(left));
    }
    std::string& blob = snap_.strings.blob();
    uint64_t index = 0;
    int c = in_.PeekNonSpace();
    if (c < 0) return Truncated("\"strings\"");
    if (c == ']') {
      in_.Set(in_.p() + 1);
      return Status::Ok();
    }
    for (;;) {
      c = in_.PeekNonSpace();
      if (c < 0) return Truncated("strings[" + std::to_string(index) + "]");
      if (c != '"') {
        return Error("strings[" + std::to_string(index) + "] is not a string (found " +
                     Describe(c) + ")");
      }
      in_.Set(in_.p() + 1);
      OOMSCOPE_RETURN_IF_ERROR(ParseStringBody(blob, index));
      snap_.strings.Seal();
      ++index;
      c = in_.PeekNonSpace();
      if (c < 0) return Truncated("\"strings\"");
      in_.Set(in_.p() + 1);
      if (c == ']') {
        snap_.strings.ShrinkReserve();
        return Status::Ok();
      }
      if (c != ',') return Error("expected ',' or ']' in \"strings\", found " + Describe(c));
    }
  }

  // ---- cross-checks ------------------------------------------------------------------------

  Status Validate() {
    const SnapshotMeta& m = snap_.meta;
    const uint64_t nodes = snap_.node_type.size();
    const uint64_t edges = snap_.edge_type.size();
    if (nodes != m.declared_node_count) {
      return Corruption("snapshot.node_count is " + std::to_string(m.declared_node_count) +
                        " but the nodes array holds " + std::to_string(nodes) + " nodes");
    }
    if (edges != m.declared_edge_count) {
      return Corruption("snapshot.edge_count is " + std::to_string(m.declared_edge_count) +
                        " but the edges array holds " + std::to_string(edges) + " edges");
    }
    if (edges != nodes_edge_total_) {
      return Corruption("the nodes' edge_count fields add up to " +
                        std::to_string(nodes_edge_total_) + " but the edges array holds " +
                        std::to_string(edges) + " edges");
    }
    if (nodes == 0) return Corruption("the snapshot has no nodes (not even the root)");
    const size_t nf = node_roles_.size();
    if (root_index_ % nf != 0 || root_index_ / nf >= nodes)
      return Corruption("snapshot.root_index " + std::to_string(root_index_) + " is not a node");
    snap_.root = static_cast<NodeOrdinal>(root_index_ / nf);
    // Edges parsed before the nodes (keys out of V8's order, or on another thread) are
    // range-checked here; names once the string table is known. The scans only run to find
    // the record to name when a maximum kept while parsing is out of range.
    for (uint64_t e = 0; edges > 0 && max_edge_to_ >= nodes && e < edges; ++e) {
      if (snap_.edge_to[e] >= nodes) {
        return Corruption("edges: edge " + std::to_string(e) + " points to node ordinal " +
                          std::to_string(snap_.edge_to[e]) + ", outside the nodes array (" +
                          std::to_string(nodes) + " nodes)");
      }
    }
    const uint64_t strings = snap_.strings.size();
    for (uint64_t n = 0; max_node_string_ >= strings && n < nodes; ++n) {
      if (snap_.node_name[n] >= strings) {
        return Corruption("node " + std::to_string(n) + " (id " + std::to_string(snap_.node_id[n]) +
                          "): name " + std::to_string(snap_.node_name[n]) +
                          " is outside the string table (" + std::to_string(strings) + " strings)");
      }
    }
    for (uint64_t e = 0; max_edge_string_ >= strings && e < edges; ++e) {
      if (!EdgeHasIndex(snap_.edge_type[e]) && snap_.edge_name[e] >= strings) {
        return Corruption("edge " + std::to_string(e) + ": name " +
                          std::to_string(snap_.edge_name[e]) + " is outside the string table (" +
                          std::to_string(strings) + " strings)");
      }
    }
    PropagateDetachedness(snap_);
    return Status::Ok();
  }

  ByteSource& src_;
  const ParseOptions& opt_;
  Reader in_;
  Status scan_error_;  // why a per-number callback stopped (Stop)
  Snapshot snap_;
  bool have_header_ = false, have_nodes_ = false, has_detachedness_ = false;
  bool seen_edges_ = false, seen_strings_ = false;
 public:
  // Called once the header's meta is known and the node columns' blocks are taken (ParseNodes).
  std::function<void()> on_header_;
 private:
  // Split edges: the first part (cut_at_end_) ends inside the array after edges_parsed_ records
  // and edge_carry_count_ numbers of the next; the tail part (resume_in_edges_) keeps the rest.
  bool cut_at_end_ = false, array_cut_ = false, edges_cut_ = false, resume_in_edges_ = false;
  uint64_t edge_carry_[64] = {};
  size_t edge_carry_count_ = 0, edges_parsed_ = 0;
  std::vector<uint32_t> edge_tail_;  // the numbers after a cut that is not at a record
  uint64_t tail_bytes_ = 0;
  bool tail_at_record_ = false;
  bool location_fields_ok_ = false;
  uint64_t root_index_ = 0;
  uint64_t nodes_edge_total_ = 0;
  // The largest node ordinal an edge points to, and the largest string ids used as names, kept
  // as the records are stored: Validate compares them with the final counts, and looks for the
  // record at fault only when one is out of range (no pass over the columns otherwise).
  uint64_t max_edge_to_ = 0, max_edge_string_ = 0, max_node_string_ = 0;
  std::vector<NodeRole> node_roles_;
  std::vector<EdgeRole> edge_roles_;
  std::vector<NodeType> node_type_map_;
  std::vector<EdgeType> edge_type_map_;
};

Result<Snapshot> ParseSequentially(ByteSource& source, const ParseOptions& options) {
  Parser parser(source, options);
  return parser.Run();
}

}  // namespace

Result<Snapshot> ParseSnapshot(ByteSource& source, const ParseOptions& options) {
  // The columns are reserved for what the file declares and filled as it is read: from fresh
  // memory, whose unwritten pages are not resident.
  ReleaseKeptBlocks();
  return ParseSequentially(source, options);
}

namespace {

// The first `limit` bytes of another source (the first part of a split file). Its size is
// that of the part, so that its parser's progress runs to the end at the cut.
class PrefixSource final : public ByteSource {
 public:
  PrefixSource(ByteSource& inner, uint64_t limit) : inner_(inner), limit_(limit), left_(limit) {}
  Result<size_t> Read(char* buf, size_t n) override {
    if (left_ == 0) return size_t{0};
    Result<size_t> r = inner_.Read(buf, static_cast<size_t>(std::min<uint64_t>(n, left_)));
    if (r.ok()) left_ -= *r;
    return r;
  }
  std::optional<uint64_t> SizeHint() const override { return limit_; }
  std::string Describe() const override { return inner_.Describe(); }

 private:
  ByteSource& inner_;
  uint64_t limit_, left_;
};

// Where to cut a file between two threads, at or after `from`: just after the first "\n,"
// (V8 writes each node and edge record on its own line, the ',' first), or, in a file without
// such lines, just after the first ','. `at_record` tells which.
struct Cut {
  uint64_t offset;
  bool at_record;
};
std::optional<Cut> FindCut(ByteSource& src, uint64_t from) {
  if (!src.Seek(from)) return std::nullopt;
  std::vector<char> buf(1 << 16);
  Result<size_t> r = src.Read(buf.data(), buf.size());
  if (!r.ok() || *r == 0) return std::nullopt;
  const std::string_view text(buf.data(), *r);
  if (size_t line = text.find("\n,"); line != std::string_view::npos) return Cut{from + line + 2, true};
  if (size_t comma = text.find(','); comma != std::string_view::npos) return Cut{from + comma + 1, false};
  return std::nullopt;
}

// Parses a file on two threads. V8 writes the header, the nodes array, the edges array (the
// largest part, about half of the file), then small arrays and the strings, all but the
// strings numbers only. The file is cut near its middle, inside the edges (FindCut): this
// thread reads the header, the nodes and the edges up to the cut; another reads from the cut to
// the end, once this one has read the header's meta. The parts are joined and checked as one.
// Anything unexpected (a layout other than V8's, a cut that is not in the edges, a bad file)
// returns nullopt so that the caller parses sequentially, which also gives the precise error
// for a bad file.
std::optional<Result<Snapshot>> ParseFileInTwo(const std::string& path, const ParseOptions& options) {
  Result<std::unique_ptr<ByteSource>> head_src = OpenFileSource(path);
  Result<std::unique_ptr<ByteSource>> tail_src = OpenFileSource(path);
  if (!head_src.ok() || !tail_src.ok()) return std::nullopt;
  std::optional<uint64_t> size = (*head_src)->SizeHint();
  if (!size || *size < options.split_min_bytes) return std::nullopt;  // not worth a thread
  const uint64_t want = options.split_edges_at.value_or(*size / 2);
  if (want < 64 || want + 64 >= *size) return std::nullopt;
  std::optional<Cut> cut = FindCut(**tail_src, want);
  if (!cut || !(*tail_src)->Seek(cut->offset)) return std::nullopt;

  PrefixSource head_input(**head_src, cut->offset);
  Parser head(head_input, options);
  Parser tail(**tail_src, options, cut->offset, nullptr);
  Status tail_status = FailedPrecondition("the header was not read");
  std::promise<bool> header_ready;
  std::future<bool> header_ready_f = header_ready.get_future();
  Thread worker([&] {
    if (header_ready_f.get()) tail_status = tail.RunTail(head, *size - cut->offset, cut->at_record);
  });
  bool signalled = false;
  head.on_header_ = [&] {
    signalled = true;
    header_ready.set_value(true);
  };
  Status head_status = head.RunToCut();
  if (!signalled) header_ready.set_value(false);
  worker.join();
  if (!head_status.ok() || !tail_status.ok()) {
    if (options.progress) options.progress->End();
    return std::nullopt;
  }
  Result<Snapshot> merged = head.Merge(std::move(tail));
  if (!merged.ok()) return std::nullopt;
  return merged;
}

}  // namespace

Result<Snapshot> ParseSnapshotFile(const std::string& path, const ParseOptions& options) {
  ReleaseKeptBlocks();  // as ParseSnapshot
  std::optional<Result<Snapshot>> split = ParseFileInTwo(path, options);
  if (options.used_two_threads) *options.used_two_threads = split.has_value();
  if (split) return std::move(*split);
  Result<std::unique_ptr<ByteSource>> src = OpenFileSource(path);
  if (!src.ok()) return src.status();
  return ParseSequentially(**src, options);
}

}  // namespace oomscope::heap
