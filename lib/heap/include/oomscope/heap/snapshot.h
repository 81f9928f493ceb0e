#pragma once

#include <algorithm>
#include <bit>
#include <cstdint>
#include <cstring>
#include <string>
#include <string_view>
#include <unordered_map>
#include <vector>

#include "oomscope/common/allocator.h"

namespace oomscope::heap {

// Vocabulary (as in DevTools' HeapSnapshot.ts, kept strict):
//  - a node *ordinal* is the node's position (0..node_count-1); every array below is indexed by it;
//  - a node *index* is an offset into the snapshot's raw `nodes` array (ordinal * node field count);
//    it exists only in the file, the parser converts it away;
//  - an edge *ordinal* is the edge's position (0..edge_count-1); a node's edges are the contiguous
//    range [first_edge[n], first_edge[n+1]).
using NodeOrdinal = uint32_t;
using EdgeOrdinal = uint32_t;
using StringId = uint32_t;  // index into the snapshot's string table
inline constexpr NodeOrdinal kNoNode = UINT32_MAX;
// At most 2^31 - 1 nodes (a snapshot file of over 100 GB): the dominator pass keeps a flag bit
// free in its vertex numbers.
inline constexpr uint32_t kMaxNodes = (uint32_t{1} << 31) - 1;

// Node and edge types, normalized: the parser maps the names in snapshot.meta onto these, so a V8
// that reorders or adds types still parses (unknown names map to kOther/kUnknownEdge).
enum class NodeType : uint8_t {
  kHidden, kArray, kString, kObject, kCode, kClosure, kRegExp, kNumber, kNative, kSynthetic,
  kConsString, kSlicedString, kSymbol, kBigInt, kObjectShape, kOther,
};
enum class EdgeType : uint8_t {
  kContext, kElement, kProperty, kInternal, kHidden, kShortcut, kWeak, kUnknownEdge,
};

std::string_view NodeTypeName(NodeType t);
std::string_view EdgeTypeName(EdgeType t);
// Inverses of the above for V8's type names; unknown names give kOther / kUnknownEdge.
NodeType NodeTypeFromName(std::string_view name);
EdgeType EdgeTypeFromName(std::string_view name);
// Element and hidden edges carry an index number, the others a string id.
inline bool EdgeHasIndex(EdgeType t) { return t == EdgeType::kElement || t == EdgeType::kHidden; }

// The string table: one contiguous buffer, so millions of short strings cost no allocations.
// Each string's end offset is kept in 32 bits; the rare table whose bytes pass 4 GiB also notes
// where the offsets wrapped, so no size is refused.
class StringTable {
 public:
  StringTable() = default;
  // Offsets of `offset_bits` bits (tests: a few, so that small tables wrap).
  explicit StringTable(unsigned offset_bits) : bits_(offset_bits) {}
  size_t size() const { return offsets_.size() - 1; }
  // Precondition: id < size().
  std::string_view at(StringId id) const {
    const uint64_t begin = Offset(id);
    return std::string_view(blob_).substr(begin, Offset(id + 1) - begin);
  }
  void Append(std::string_view s) {
    blob_.append(s);
    Seal();
  }
  // Appends a string whose bytes were already written at the end of blob() (by the parser).
  void Seal() {
    const uint64_t end = blob_.size();
    while ((end >> bits_) > wraps_.size()) wraps_.push_back(offsets_.size());
    offsets_.push_back(static_cast<uint32_t>(end & ((uint64_t{1} << bits_) - 1)));
  }
  std::string& blob() { return blob_; }
  // Room for n strings of `bytes` bytes in all, without moving (address space: pages are
  // resident only once written).
  void Reserve(size_t n, size_t bytes) {
    offsets_.reserve(n + 1);
    blob_.reserve(bytes);
  }
  // Gives back the pages of the room Reserve left unused, once the table is complete: pages are
  // resident only once written, except where memory is backed by huge pages (see
  // UseBlockArena), which are resident whole.
  void ShrinkReserve();

 private:
  uint64_t Offset(size_t i) const {
    if (wraps_.empty()) return offsets_[i];
    const auto high = std::upper_bound(wraps_.begin(), wraps_.end(), i) - wraps_.begin();
    return static_cast<uint64_t>(high) << bits_ | offsets_[i];
  }

  std::string blob_;
  std::vector<uint32_t> offsets_{0};
  std::vector<size_t> wraps_;  // wraps_[k]: the first offset index at or past (k + 1) * 2^bits_
  unsigned bits_ = 32;
};

// A column of 32-bit values kept in 3 bytes each while every value is below 2^24, as string ids
// and element indices are in practice (a 2 GB snapshot has a few million strings), and as edge
// targets are up to 2^24 nodes (a snapshot of about 1.2 GB); the first value of 2^24 or more
// adds the fourth byte of every entry (one byte column beside), so no value is ever refused.
// The names of edges and nodes and the edges' targets take a quarter less memory this way: 4 %
// of a 300 MB snapshot's analysis peak each. Written in order by the parser, then read only.
class U24Column {
 public:
  U24Column() = default;
  explicit U24Column(size_t n);  // n zeros, advised for huge pages (HugeVector)
  uint32_t operator[](size_t i) const {
    uint32_t v;
    std::memcpy(&v, &low_[3 * i], 4);  // the byte after the last entry is padding
    if constexpr (std::endian::native != std::endian::little) v = __builtin_bswap32(v);
    v &= 0xFFFFFF;
    return high_.empty() ? v : v | uint32_t{high_[i]} << 24;
  }
  void Set(size_t i, uint32_t v) {
    // The top byte is looked at before the stores: byte stores may alias anything, so after
    // them the compiler would read the vectors' pointers again.
    if ((v >> 24) != 0 || !high_.empty()) [[unlikely]] {
      SetWide(i, v);
      return;
    }
    uint8_t* p = low_.data() + 3 * i;
    p[0] = static_cast<uint8_t>(v);
    p[1] = static_cast<uint8_t>(v >> 8);
    p[2] = static_cast<uint8_t>(v >> 16);
  }
  // For a writer that fills entries front to back (the parser), holding the pointers in locals
  // where byte stores cannot make the compiler read them again: entry i takes one 4-byte store
  // at low + 3 * i of its low 24 bits, whose top byte, 0, lands on the next entry's first
  // (written after it) or on the padding after the last (0 too), and, once the column has top
  // bytes (wide(); high not nullptr), high[i] = its top byte. A value of 2^24 or more in a
  // column without them goes through Set, which adds them. Valid until the column grows.
  struct InOrder {
    uint8_t* low;
    uint8_t* high;
    // Precondition: v < 2^24, or high is not nullptr.
    void Set(size_t i, uint32_t v) const {
      uint32_t w = v & 0xFFFFFF;
      if constexpr (std::endian::native != std::endian::little) w = __builtin_bswap32(w);
      std::memcpy(low + 3 * i, &w, 4);
      if (high) high[i] = static_cast<uint8_t>(v >> 24);
    }
  };
  InOrder InOrderBytes() { return {low_.data(), high_.empty() ? nullptr : high_.data()}; }
  size_t size() const { return low_.empty() ? 0 : (low_.size() - 1) / 3; }
  size_t capacity() const { return low_.capacity() == 0 ? 0 : (low_.capacity() - 1) / 3; }
  void resize(size_t n);  // new entries are 0
  // Room for n entries without moving (address space, advised for huge pages; see ReserveHuge).
  void reserve(size_t n);
  // Appends from's entries and empties it, giving its pages back as they are copied (see
  // MoveAppend in allocator.h).
  void MoveAppend(U24Column& from);
  bool wide() const { return !high_.empty(); }
  // Asks for entry i's cache line ahead of a read (loops that go at random over the column).
  void Prefetch(size_t i) const { __builtin_prefetch(&low_[3 * i]); }
  bool operator==(const U24Column& o) const;

 private:
  void SetWide(size_t i, uint32_t v);  // Set for a column with (or about to have) a top byte

  RawVector<uint8_t> low_;     // 3 bytes per entry, little-endian, then one byte of padding
  std::vector<uint8_t> high_;  // the top byte of each entry; empty while every value fits 24 bits
};

// A column of values below a bound known when it is made (node ordinals, DFS numbers, positions
// among the edges): 3 bytes an entry below 2^24, 4 from there on, chosen once. (U24Column, which
// learns its values' width as they come, widens with a byte column beside, where a random read
// costs a second cache miss: the heap passes' arrays took a third longer that way at 2 GB.)
class PackedColumn {
 public:
  PackedColumn() = default;
  PackedColumn(size_t n, uint64_t bound);  // n zeros for values below `bound`; huge pages
  // The same, with room for `capacity` entries (address space only) to grow into by Resize.
  PackedColumn(size_t n, uint64_t bound, size_t capacity);
  // n entries, at most the capacity it was made with: zeros past the old size; nothing moves.
  void Resize(size_t n);
  // The entries through a pointer copied out of the column: for a hot loop that also stores
  // through a pointer that may alias anything (a byte store, or a may_alias type), after each
  // of which the compiler reads a member's pointer again, where a local copy stays in a
  // register. The column's own accessors below go through them too. Valid while the column
  // neither grows nor moves.
  struct Reader {
    const uint8_t* bytes;
    bool wide;
    uint32_t operator[](size_t i) const {
      uint32_t v;
      std::memcpy(&v, bytes + (wide ? 4 * i : 3 * i), 4);  // the byte after the last 3-byte entry is padding
      if constexpr (std::endian::native != std::endian::little) v = __builtin_bswap32(v);
      return wide ? v : v & 0xFFFFFF;
    }
    // Entry i read with loads of exactly the bytes Set stores (two, then one), for an entry or
    // its neighbour written moments ago: the stores forward to these loads, where operator[]'s
    // 4-byte load, which also covers the next entry's first byte, waits for them to reach the
    // cache (counters and cursors that go up at random: a quarter faster measured).
    uint32_t ReadBack(size_t i) const {
      if (wide) return (*this)[i];
      const uint8_t* p = bytes + 3 * i;
      uint16_t lo;
      std::memcpy(&lo, p, 2);
      if constexpr (std::endian::native != std::endian::little) lo = __builtin_bswap16(lo);
      return lo | uint32_t{p[2]} << 16;
    }
  };
  struct Writer {
    uint8_t* bytes;
    bool wide;
    uint32_t ReadBack(size_t i) const { return Reader{bytes, wide}.ReadBack(i); }
    void Set(size_t i, uint32_t v) const {
      uint8_t* p = bytes + (wide ? 4 * i : 3 * i);
      if (wide) {
        if constexpr (std::endian::native != std::endian::little) v = __builtin_bswap32(v);
        std::memcpy(p, &v, 4);
        return;
      }
      p[0] = static_cast<uint8_t>(v);
      p[1] = static_cast<uint8_t>(v >> 8);
      p[2] = static_cast<uint8_t>(v >> 16);
    }
  };
  Reader reader() const { return {bytes_.data(), wide_}; }
  Writer writer() { return {bytes_.data(), wide_}; }
  uint32_t operator[](size_t i) const { return reader()[i]; }
  void Set(size_t i, uint32_t v) { writer().Set(i, v); }
  uint32_t ReadBack(size_t i) const { return reader().ReadBack(i); }
  void Prefetch(size_t i) const { __builtin_prefetch(bytes_.data() + (wide_ ? 4 * i : 3 * i)); }
  size_t size() const { return size_; }
  bool empty() const { return size_ == 0; }
  bool wide() const { return wide_; }

 private:
  std::vector<uint8_t> bytes_;
  size_t size_ = 0;
  bool wide_ = false;
};

// What the file's snapshot.meta and header said; kept for reports and diagnostics.
struct SnapshotMeta {
  std::vector<std::string> node_fields, edge_fields, node_type_names, edge_type_names;
  uint64_t declared_node_count = 0, declared_edge_count = 0;
  uint64_t trace_function_count = 0;
  // Records in the `locations` array (closures' script id, line and column). They are checked
  // and counted, not kept: no report uses them (a script id says nothing without the inspector's
  // list of scripts), and they took 16 bytes each, 8 MB of a 300 MB snapshot.
  uint64_t location_count = 0;
};

// A parsed V8 heap snapshot as flat arrays (structure of arrays, indexed by ordinal). Only the
// fields the analysis needs are kept; `trace_node_id` and unknown fields are dropped while parsing.
// Immutable after parsing; safe to read from several threads.
struct Snapshot {
  SnapshotMeta meta;
  NodeOrdinal root = 0;  // the synthetic root (DevTools: rootNodeIndex, almost always ordinal 0)

  // Nodes.
  std::vector<NodeType> node_type;
  U24Column node_name;                   // StringId
  std::vector<uint32_t> node_id;         // V8 heap object id: stable within one inspector session
  std::vector<uint32_t> node_self_size;  // kSizeOverflow: the real value is in big_self_sizes
  std::vector<uint8_t> node_detachedness;  // empty when no node has a state (no DOM: Node.js)
  std::vector<EdgeOrdinal> first_edge;   // node_count + 1 entries (CSR)
  std::unordered_map<NodeOrdinal, uint64_t> big_self_sizes;
  static constexpr uint32_t kSizeOverflow = UINT32_MAX;

  // Edges, grouped by owner node in node order.
  std::vector<EdgeType> edge_type;
  U24Column edge_name;  // StringId, or the element/hidden index (EdgeHasIndex)
  U24Column edge_to;    // NodeOrdinal: 3 bytes each while the snapshot has fewer than 2^24 nodes

  StringTable strings;

  uint32_t node_count() const { return static_cast<uint32_t>(node_type.size()); }
  uint32_t edge_count() const { return static_cast<uint32_t>(edge_type.size()); }
  uint64_t self_size(NodeOrdinal n) const {
    uint32_t s = node_self_size[n];
    return s == kSizeOverflow ? big_self_sizes.at(n) : s;
  }
  std::string_view name(NodeOrdinal n) const { return strings.at(node_name[n]); }
  // Precondition: !EdgeHasIndex(edge_type[e]).
  std::string_view edge_name_string(EdgeOrdinal e) const { return strings.at(edge_name[e]); }
};

// Embedder (native) nodes carry a DOM link state: 0 unknown, 1 attached, 2 detached. V8 writes it
// for the nodes that know it; this spreads it to their native children over non-hidden,
// non-weak edges (attached wins), as DevTools does, so "Detached <X>" classes match. Runs once,
// at the end of parsing.
void PropagateDetachedness(Snapshot& snap);

}  // namespace oomscope::heap
