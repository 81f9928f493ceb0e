#pragma once

#include <string>
#include <string_view>

namespace oomscope::cdp {

// Decodes the body of a JSON string (between its quotes, escapes intact) into UTF-8, appending to
// `out`. \uXXXX escapes become UTF-8, surrogate pairs joined; a lone surrogate is kept as its
// 3-byte (WTF-8) form rather than lost. False on a malformed escape or a raw control character.
// Runs of plain characters are copied whole: this is the hot path of a snapshot capture, where
// every chunk message is ~100 KB of escaped JSON.
bool AppendJsonStringBody(std::string_view body, std::string& out);

// When `text` is the protocol message {"method":"<method>","params":{"<field>":"..."}} exactly
// as V8 writes it (no other fields, no spaces), decodes the string into `out` and returns true;
// otherwise false (the caller parses the message as JSON).
bool DecodeSingleStringEvent(std::string_view text, std::string_view method, std::string_view field,
                             std::string& out);

}  // namespace oomscope::cdp
