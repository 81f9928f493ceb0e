#pragma once

// Kubernetes resource quantities ("512Mi", "1G", "1.5Gi", "129e6") as whole bytes, and back.

#include <cstdint>
#include <string>
#include <string_view>

#include "oomscope/common/status.h"

namespace oomscope::op {

// Parses a quantity into bytes, rounding a fraction of a byte up (as the API server does for
// memory). InvalidArgument names the text when it is not a quantity.
Result<int64_t> ParseQuantity(std::string_view text);

// The shortest exact form: "512Mi", "3Gi", or plain bytes ("1000000").
std::string FormatQuantity(int64_t bytes);

}  // namespace oomscope::op
