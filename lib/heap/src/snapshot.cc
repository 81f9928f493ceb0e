#include "oomscope/heap/snapshot.h"

#include "oomscope/common/allocator.h"
#include "oomscope/heap/graph.h"

namespace oomscope::heap {

NodeType NodeTypeFromName(std::string_view n) {
  static const std::pair<std::string_view, NodeType> kMap[] = {
      {"hidden", NodeType::kHidden},         {"array", NodeType::kArray},
      {"string", NodeType::kString},         {"object", NodeType::kObject},
      {"code", NodeType::kCode},             {"closure", NodeType::kClosure},
      {"regexp", NodeType::kRegExp},         {"number", NodeType::kNumber},
      {"native", NodeType::kNative},         {"synthetic", NodeType::kSynthetic},
      {"concatenated string", NodeType::kConsString},
      {"sliced string", NodeType::kSlicedString},
      {"symbol", NodeType::kSymbol},         {"bigint", NodeType::kBigInt},
      {"object shape", NodeType::kObjectShape},
  };
  for (const auto& [name, type] : kMap)
    if (name == n) return type;
  return NodeType::kOther;
}

EdgeType EdgeTypeFromName(std::string_view n) {
  static const std::pair<std::string_view, EdgeType> kMap[] = {
      {"context", EdgeType::kContext},   {"element", EdgeType::kElement},
      {"property", EdgeType::kProperty}, {"internal", EdgeType::kInternal},
      {"hidden", EdgeType::kHidden},     {"shortcut", EdgeType::kShortcut},
      {"weak", EdgeType::kWeak},
  };
  for (const auto& [name, type] : kMap)
    if (name == n) return type;
  return EdgeType::kUnknownEdge;
}

std::string_view NodeTypeName(NodeType t) {
  switch (t) {
    case NodeType::kHidden: return "hidden";
    case NodeType::kArray: return "array";
    case NodeType::kString: return "string";
    case NodeType::kObject: return "object";
    case NodeType::kCode: return "code";
    case NodeType::kClosure: return "closure";
    case NodeType::kRegExp: return "regexp";
    case NodeType::kNumber: return "number";
    case NodeType::kNative: return "native";
    case NodeType::kSynthetic: return "synthetic";
    case NodeType::kConsString: return "concatenated string";
    case NodeType::kSlicedString: return "sliced string";
    case NodeType::kSymbol: return "symbol";
    case NodeType::kBigInt: return "bigint";
    case NodeType::kObjectShape: return "object shape";
    case NodeType::kOther: return "other";
  }
  return "other";
}

std::string_view EdgeTypeName(EdgeType t) {
  switch (t) {
    case EdgeType::kContext: return "context";
    case EdgeType::kElement: return "element";
    case EdgeType::kProperty: return "property";
    case EdgeType::kInternal: return "internal";
    case EdgeType::kHidden: return "hidden";
    case EdgeType::kShortcut: return "shortcut";
    case EdgeType::kWeak: return "weak";
    case EdgeType::kUnknownEdge: return "unknown";
  }
  return "unknown";
}

void StringTable::ShrinkReserve() {
  // Past the blob's terminating NUL, and past the last offset.
  ReleasePages(blob_.data() + blob_.size() + 1, blob_.capacity() - blob_.size());
  ReleasePages(offsets_.data() + offsets_.size(), (offsets_.capacity() - offsets_.size()) * sizeof(uint32_t));
}

U24Column::U24Column(size_t n) : low_(HugeVector<uint8_t, DefaultInitAllocator<uint8_t>>(3 * n + 1, 0)) {}

PackedColumn::PackedColumn(size_t n, uint64_t bound) : PackedColumn(n, bound, n) {}

PackedColumn::PackedColumn(size_t n, uint64_t bound, size_t capacity)
    : size_(n), wide_(bound > (uint64_t{1} << 24)) {
  ReserveHuge(bytes_, (wide_ ? 4 : 3) * std::max(n, capacity) + 1);
  GrowPrefaulted(bytes_, (wide_ ? 4 : 3) * n + 1);
}

void PackedColumn::Resize(size_t n) {
  const size_t old_end = bytes_.size();
  GrowPrefaulted(bytes_, (wide_ ? 4 : 3) * n + 1);
  // The old padding byte (the last) becomes the first byte of an entry: a zero, as the rest.
  if (n > size_ && old_end > 0) bytes_[old_end - 1] = 0;
  size_ = n;
}

void U24Column::SetWide(size_t i, uint32_t v) {
  low_[3 * i] = static_cast<uint8_t>(v);
  low_[3 * i + 1] = static_cast<uint8_t>(v >> 8);
  low_[3 * i + 2] = static_cast<uint8_t>(v >> 16);
  if (high_.empty()) high_.assign(size(), 0);
  high_[i] = static_cast<uint8_t>(v >> 24);
}

void U24Column::resize(size_t n) {
  // New entries are zero; the old padding byte (a zero, never written) starts the first.
  GrowPrefaulted(low_, 3 * n + 1);
  if (!high_.empty()) high_.resize(n);
}

void U24Column::reserve(size_t n) {
  ReserveHuge(low_, 3 * n + 1);
  if (!high_.empty()) high_.reserve(n);
}

void U24Column::MoveAppend(U24Column& from) {
  const size_t at = size(), n = from.size();
  if (n == 0) return;
  // The top bytes, where either side has them (values of 2^24 or more: the edges' targets from
  // 2^24 nodes, a 2 GB snapshot), appended first: zeros for a side without. (Entry by entry,
  // the join of a split 2 GB parse took 230 ms.)
  if (wide() || from.wide()) {
    high_.reserve(at + n);
    high_.resize(at, 0);
    if (from.wide()) {
      high_.insert(high_.end(), from.high_.begin(), from.high_.end());
    } else {
      high_.resize(at + n, 0);
    }
    std::vector<uint8_t>().swap(from.high_);
  }
  // The padding byte after the last entry goes first, so the rest is whole entries.
  if (!low_.empty()) low_.pop_back();
  from.low_.pop_back();
  oomscope::MoveAppend(low_, from.low_);
  low_.push_back(0);
}

bool U24Column::operator==(const U24Column& o) const {
  if (size() != o.size()) return false;
  for (size_t i = 0; i < size(); ++i)
    if ((*this)[i] != o[i]) return false;
  return true;
}

}  // namespace oomscope::heap
