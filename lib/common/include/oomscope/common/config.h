#pragma once

// The value syntax every oomscope program shares on its command line and in its environment:
// Kubernetes resource quantities for sizes ("512Mi", "1.5Gi", "129e6") and Go-style durations
// ("168h", "30m", "1h30m", "500ms"), so a value means the same in a flag, an env var, a Helm
// value and a Deployment's resources.

#include <cstdint>
#include <map>
#include <string>
#include <string_view>

#include "oomscope/common/status.h"

namespace oomscope {

// The process's environment as a map (programs pass it to their ParseConfig, tests pass their own).
std::map<std::string, std::string> ProcessEnvironment();

// A Kubernetes quantity as whole bytes, a fraction of a byte rounded up (as the API server does
// for memory): plain numbers, decimal exponents (129e6), decimal (k M G T P E, and m u n) and
// binary (Ki Mi Gi Ti Pi Ei) suffixes. InvalidArgument names the text when it is not one.
Result<int64_t> ParseQuantity(std::string_view text);

// The shortest exact form of a byte count: "512Mi", "3Gi", or plain bytes ("1000000").
std::string FormatQuantity(int64_t bytes);

// A non-negative Go-style duration in seconds: a sequence of numbers with units h, m, s or ms
// ("1h30m", "2.5s", "500ms"); a bare number means seconds.
Result<double> ParseDurationSeconds(std::string_view text);

}  // namespace oomscope
