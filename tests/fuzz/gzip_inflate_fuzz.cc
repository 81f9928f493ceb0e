// Feeds arbitrary bytes to the streaming gzip inflater (the analyzer runs uploads with
// Content-Encoding: gzip through it) in pieces of varying size, with a small output bound so that
// decompression bombs are exercised too: it may fail, never crash, hang, or pass the bound.
#include <algorithm>
#include <cstdint>
#include <cstdlib>
#include <string_view>

#include "oomscope/common/gzip.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  constexpr uint64_t kMaxOutput = 1 << 20;
  oomscope::GzipInflater inflater(kMaxOutput);
  uint64_t seen = 0;
  auto sink = [&](std::string_view piece) {
    seen += piece.size();
    return oomscope::Status();
  };
  size_t pos = 0, chunk = size ? (data[0] % 13) + 1 : 1;
  oomscope::Status st;
  while (pos < size && st.ok()) {
    size_t k = std::min(chunk, size - pos);
    st = inflater.Write(std::string_view(reinterpret_cast<const char*>(data) + pos, k), sink);
    pos += k;
    chunk = chunk * 5 % 8192 + 1;
  }
  if (st.ok()) st = inflater.Finish();
  if (seen > kMaxOutput || seen != inflater.bytes_out()) std::abort();
  return 0;
}
