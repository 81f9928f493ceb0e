#pragma once

#include <cstdint>
#include <string>
#include <string_view>

namespace oomscope {

// "0 B", "512 B", "1.5 KiB", "12.3 MiB", "2.00 GiB".
std::string FormatBytes(double bytes);
// Signed variant: "+1.5 MiB", "-3 B".
std::string FormatBytesDelta(double bytes);
// "850 ms", "12.4 s", "3m05s", "2h10m".
std::string FormatSeconds(double seconds);
// RFC 3339 UTC with seconds: "2026-11-27T01:02:03Z".
std::string FormatUnixTime(int64_t unix_seconds);

// Control characters (and DEL) as "\xNN", so untrusted text cannot drive a terminal or break a
// line-oriented format; other bytes unchanged.
std::string EscapeControlChars(std::string_view s);

}  // namespace oomscope
