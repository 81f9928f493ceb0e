// Feeds arbitrary bytes to the snapshot parser, in chunks of varying size so that refills land
// everywhere, then runs the graph passes on whatever parses: neither may crash, hang or read
// out of bounds, whatever the input.
#include <algorithm>
#include <cstdint>
#include <cstring>

#include "oomscope/heap/graph.h"
#include "oomscope/heap/parser.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  using namespace oomscope;
  size_t pos = 0;
  size_t chunk = size ? (data[0] % 7) + 1 : 1;
  auto src = heap::MakeCallbackSource(
      [&](char* buf, size_t n) -> Result<size_t> {
        size_t k = std::min({n, chunk, size - pos});
        std::memcpy(buf, data + pos, k);
        pos += k;
        chunk = chunk * 3 % 4096 + 1;
        return k;
      },
      "fuzz", size);
  Result<heap::Snapshot> snap = heap::ParseSnapshot(*src);
  if (snap.ok() && snap->node_count() < 100000) {
    heap::Graph g = heap::BuildGraph(*snap, nullptr);
    (void)g;
  }
  return 0;
}
