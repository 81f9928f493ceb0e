#include "oomscope/common/log.h"

#include <chrono>
#include <cstdio>
#include <ctime>
#include <mutex>

#include <nlohmann/json.hpp>

namespace oomscope::log {
namespace {

std::mutex g_mu;
Level g_min = Level::kInfo;
Format g_format = Format::kText;

std::string_view LevelName(Level l) {
  switch (l) {
    case Level::kDebug: return "debug";
    case Level::kInfo: return "info";
    case Level::kWarn: return "warn";
    case Level::kError: return "error";
  }
  return "info";
}

std::string Timestamp() {
  using namespace std::chrono;
  auto now = system_clock::now();
  std::time_t t = system_clock::to_time_t(now);
  auto ms = duration_cast<milliseconds>(now.time_since_epoch()).count() % 1000;
  std::tm tm{};
  gmtime_r(&t, &tm);
  char buf[64];
  std::snprintf(buf, sizeof buf, "%04d-%02d-%02dT%02d:%02d:%02d.%03dZ", tm.tm_year + 1900,
                tm.tm_mon + 1, tm.tm_mday, tm.tm_hour, tm.tm_min, tm.tm_sec, static_cast<int>(ms));
  return buf;
}

// Text values with spaces or quotes are quoted so a line stays machine-splittable.
std::string TextValue(const std::string& v) {
  if (v.find_first_of(" \"=\t\n") == std::string::npos && !v.empty()) return v;
  return nlohmann::json(v).dump(-1, ' ', false, nlohmann::json::error_handler_t::replace);
}

}  // namespace

void Configure(Level min_level, Format format) {
  std::lock_guard<std::mutex> lock(g_mu);
  g_min = min_level;
  g_format = format;
}

Level ParseLevel(std::string_view name, Level fallback) {
  if (name == "debug") return Level::kDebug;
  if (name == "info") return Level::kInfo;
  if (name == "warn" || name == "warning") return Level::kWarn;
  if (name == "error") return Level::kError;
  return fallback;
}

void Write(Level level, std::string_view message, std::initializer_list<Field> fields) {
  std::string line;
  {
    std::lock_guard<std::mutex> lock(g_mu);
    if (level < g_min) return;
    if (g_format == Format::kJson) {
      nlohmann::ordered_json j;
      j["ts"] = Timestamp();
      j["level"] = LevelName(level);
      j["msg"] = std::string(message);
      for (const auto& [k, v] : fields) j[std::string(k)] = v;
      line = j.dump(-1, ' ', false, nlohmann::json::error_handler_t::replace);
    } else {
      line = Timestamp();
      line += ' ';
      std::string lv(LevelName(level));
      for (auto& c : lv) c = static_cast<char>(std::toupper(static_cast<unsigned char>(c)));
      line += lv;
      line += ' ';
      line += message;
      for (const auto& [k, v] : fields) {
        line += ' ';
        line += k;
        line += '=';
        line += TextValue(v);
      }
    }
    line += '\n';
    std::fwrite(line.data(), 1, line.size(), stderr);
    std::fflush(stderr);
  }
}

}  // namespace oomscope::log
