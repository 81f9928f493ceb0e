#pragma once

#include <initializer_list>
#include <string>
#include <string_view>
#include <utility>

namespace oomscope::log {

enum class Level { kDebug, kInfo, kWarn, kError };
enum class Format { kText, kJson };

// Process-wide logger configuration; logs go to stderr. Thread-safe.
void Configure(Level min_level, Format format);
Level ParseLevel(std::string_view name, Level fallback);

// One key/value of a structured log line. Values are rendered as strings (JSON: quoted).
using Field = std::pair<std::string_view, std::string>;

// Writes one line: text `2026-11-27T01:02:03.456Z INFO msg key=value ...`
// or JSON `{"ts":"...","level":"info","msg":"...","key":"value"}`. Thread-safe.
void Write(Level level, std::string_view message, std::initializer_list<Field> fields = {});

inline void Debug(std::string_view m, std::initializer_list<Field> f = {}) { Write(Level::kDebug, m, f); }
inline void Info(std::string_view m, std::initializer_list<Field> f = {}) { Write(Level::kInfo, m, f); }
inline void Warn(std::string_view m, std::initializer_list<Field> f = {}) { Write(Level::kWarn, m, f); }
inline void Error(std::string_view m, std::initializer_list<Field> f = {}) { Write(Level::kError, m, f); }

}  // namespace oomscope::log
