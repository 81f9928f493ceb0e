#pragma once

// The API's time formats: metav1.Time ("2026-11-26T23:22:02Z", seconds) and metav1.MicroTime
// ("2026-11-26T23:22:02.714908Z", exactly six fractional digits, which events.k8s.io/v1 eventTime
// and Lease acquireTime/renewTime require).

#include <chrono>
#include <string>
#include <string_view>

#include "oomscope/common/status.h"

namespace oomscope::kube {

using TimePoint = std::chrono::system_clock::time_point;

std::string FormatTime(TimePoint t);
std::string FormatMicroTime(TimePoint t);
// Accepts RFC 3339 in UTC ("Z") or with an offset, with or without a fraction (any digits).
Result<TimePoint> ParseTime(std::string_view s);

}  // namespace oomscope::kube
