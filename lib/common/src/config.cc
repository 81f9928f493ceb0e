#include "oomscope/common/config.h"

#include <cmath>
#include <cstdlib>
#include <string>

extern char** environ;

namespace oomscope {

std::map<std::string, std::string> ProcessEnvironment() {
  std::map<std::string, std::string> env;
  for (char** e = environ; *e; ++e) {
    std::string_view kv(*e);
    size_t eq = kv.find('=');
    if (eq != std::string_view::npos) env.emplace(kv.substr(0, eq), kv.substr(eq + 1));
  }
  return env;
}

namespace {

// The multiplier of a quantity suffix, 0 when the suffix is not one.
double SuffixMultiplier(std::string_view suffix) {
  static constexpr std::pair<std::string_view, double> kSuffixes[] = {
      {"", 1.0},       {"Ki", 0x1p10},  {"Mi", 0x1p20},  {"Gi", 0x1p30}, {"Ti", 0x1p40},
      {"Pi", 0x1p50},  {"Ei", 0x1p60},  {"n", 1e-9},     {"u", 1e-6},    {"m", 1e-3},
      {"k", 1e3},      {"M", 1e6},      {"G", 1e9},      {"T", 1e12},    {"P", 1e15},
      {"E", 1e18}};
  for (const auto& [name, multiplier] : kSuffixes)
    if (suffix == name) return multiplier;
  return 0;
}

bool AllDigits(std::string_view s) {
  if (s.empty()) return false;
  for (char c : s)
    if (c < '0' || c > '9') return false;
  return true;
}

}  // namespace

Result<int64_t> ParseQuantity(std::string_view text) {
  auto bad = [&] {
    return InvalidArgument("not a quantity: \"" + std::string(text) +
                           "\" (e.g. 512Mi, 1.5Gi, 1G, 129e6, 1000000)");
  };
  size_t i = 0;
  if (i < text.size() && (text[i] == '+' || text[i] == '-')) ++i;
  const size_t digits_begin = i;
  while (i < text.size() && ((text[i] >= '0' && text[i] <= '9') || text[i] == '.')) ++i;
  if (i == digits_begin) return bad();
  const std::string number(text.substr(0, i));
  const std::string_view suffix = text.substr(i);
  double multiplier = SuffixMultiplier(suffix);
  if (multiplier == 0) {
    // A decimal exponent: "129e6", "1E-3" (an "E" alone is the exa suffix, handled above).
    if (suffix.empty() || (suffix[0] != 'e' && suffix[0] != 'E')) return bad();
    std::string_view exp = suffix.substr(1);
    std::string_view digits = (!exp.empty() && (exp[0] == '+' || exp[0] == '-')) ? exp.substr(1) : exp;
    if (!AllDigits(digits) || digits.size() > 3) return bad();
    multiplier = std::pow(10.0, std::strtod(std::string(exp).c_str(), nullptr));
  }
  char* end = nullptr;
  const double value = std::strtod(number.c_str(), &end);
  if (end != number.c_str() + number.size()) return bad();  // "1.2.3"
  const double bytes = std::ceil(value * multiplier);
  if (!(bytes >= -9.2e18 && bytes <= 9.2e18)) return bad();
  return static_cast<int64_t>(bytes);
}

std::string FormatQuantity(int64_t bytes) {
  static constexpr std::pair<int64_t, const char*> kUnits[] = {
      {int64_t{1} << 40, "Ti"}, {int64_t{1} << 30, "Gi"}, {int64_t{1} << 20, "Mi"}, {int64_t{1} << 10, "Ki"}};
  if (bytes != 0)
    for (const auto& [unit, name] : kUnits)
      if (bytes % unit == 0) return std::to_string(bytes / unit) + name;
  return std::to_string(bytes);
}

Result<double> ParseDurationSeconds(std::string_view text) {
  auto bad = [&] {
    return InvalidArgument("not a duration: \"" + std::string(text) + "\" (e.g. 168h, 1h30m, 10s, 500ms)");
  };
  if (text.empty()) return bad();
  double total = 0;
  size_t i = 0;
  while (i < text.size()) {
    const size_t start = i;
    while (i < text.size() && ((text[i] >= '0' && text[i] <= '9') || text[i] == '.')) ++i;
    if (i == start) return bad();
    const std::string number(text.substr(start, i - start));
    char* end = nullptr;
    const double value = std::strtod(number.c_str(), &end);
    if (end != number.c_str() + number.size()) return bad();
    double unit = 1;  // a bare trailing number means seconds
    if (text.substr(i, 2) == "ms") {
      unit = 1e-3, i += 2;
    } else if (i < text.size()) {
      switch (text[i++]) {
        case 'h': unit = 3600; break;
        case 'm': unit = 60; break;
        case 's': unit = 1; break;
        default: return bad();
      }
    }
    total += value * unit;
  }
  if (!std::isfinite(total)) return bad();
  return total;
}

}  // namespace oomscope
