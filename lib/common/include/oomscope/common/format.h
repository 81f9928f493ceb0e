#pragma once

#include <cstdint>
#include <string>

namespace oomscope {

// "0 B", "512 B", "1.5 KiB", "12.3 MiB", "2.00 GiB".
std::string FormatBytes(double bytes);
// Signed variant: "+1.5 MiB", "-3 B".
std::string FormatBytesDelta(double bytes);
// "850 ms", "12.4 s", "3m05s", "2h10m".
std::string FormatSeconds(double seconds);
// RFC 3339 UTC with seconds: "2026-11-27T01:02:03Z".
std::string FormatUnixTime(int64_t unix_seconds);

}  // namespace oomscope
