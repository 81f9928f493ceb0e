// The DevTools session's fast path decodes snapshot chunks (text from the inspected process, so
// untrusted) without a JSON parser. Whatever the bytes, it must not crash; and wherever
// nlohmann/json accepts the same text as a JSON string, the fast path must accept it too and
// decode it to the same bytes.
#include <cstdint>
#include <cstdlib>
#include <string>
#include <string_view>

#include <nlohmann/json.hpp>

#include "json_string.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  const std::string_view body(reinterpret_cast<const char*>(data), size);
  std::string fast;
  const bool ok = oomscope::cdp::AppendJsonStringBody(body, fast);

  // The oracle stops at a NUL byte (it reads "\"{k\"\0..." as the string {k): a raw NUL is a
  // control character, which the fast path refuses anyway, so such inputs are not compared.
  nlohmann::json reference;
  if (body.find('\0') == std::string_view::npos)
    reference = nlohmann::json::parse("\"" + std::string(body) + "\"", nullptr, false);
  if (reference.is_string()) {
    if (!ok || fast != reference.get<std::string>()) std::abort();
  }

  // The whole-message form: a chunk event as V8 writes it.
  std::string message = R"({"method":"HeapProfiler.addHeapSnapshotChunk","params":{"chunk":")" +
                        std::string(body) + "\"}}";
  std::string chunk;
  if (oomscope::cdp::DecodeSingleStringEvent(message, "HeapProfiler.addHeapSnapshotChunk", "chunk", chunk) &&
      reference.is_string() && chunk != reference.get<std::string>())
    std::abort();
  return 0;
}
