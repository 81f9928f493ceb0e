#include "quantity.h"

#include <cmath>
#include <string>

namespace oomscope::op {

Result<int64_t> ParseQuantity(std::string_view text) {
  auto bad = [&] { return InvalidArgument("not a quantity: \"" + std::string(text) + "\""); };
  size_t i = 0;
  if (i < text.size() && (text[i] == '+' || text[i] == '-')) ++i;
  size_t digits_begin = i;
  while (i < text.size() && ((text[i] >= '0' && text[i] <= '9') || text[i] == '.')) ++i;
  if (i == digits_begin) return bad();
  std::string number(text.substr(0, i));
  std::string_view suffix = text.substr(i);
  double multiplier = 1.0;
  if (suffix.empty()) {
  } else if (suffix == "Ki") multiplier = 1024.0;
  else if (suffix == "Mi") multiplier = 1024.0 * 1024;
  else if (suffix == "Gi") multiplier = 1024.0 * 1024 * 1024;
  else if (suffix == "Ti") multiplier = 1024.0 * 1024 * 1024 * 1024;
  else if (suffix == "Pi") multiplier = 1024.0 * 1024 * 1024 * 1024 * 1024;
  else if (suffix == "Ei") multiplier = 1024.0 * 1024 * 1024 * 1024 * 1024 * 1024;
  else if (suffix == "n") multiplier = 1e-9;
  else if (suffix == "u") multiplier = 1e-6;
  else if (suffix == "m") multiplier = 1e-3;
  else if (suffix == "k") multiplier = 1e3;
  else if (suffix == "M") multiplier = 1e6;
  else if (suffix == "G") multiplier = 1e9;
  else if (suffix == "T") multiplier = 1e12;
  else if (suffix == "P") multiplier = 1e15;
  else if (suffix == "E") multiplier = 1e18;
  else if (suffix[0] == 'e' || suffix[0] == 'E') {
    std::string exp(suffix.substr(1));
    if (exp.empty()) return bad();
    for (size_t k = (exp[0] == '-' || exp[0] == '+') ? 1 : 0; k < exp.size(); ++k)
      if (exp[k] < '0' || exp[k] > '9') return bad();
    multiplier = std::pow(10.0, std::stod(exp));
  } else {
    return bad();
  }
  double value = 0;
  try {
    value = std::stod(number);
  } catch (...) {
    return bad();
  }
  double bytes = std::ceil(value * multiplier);
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

}  // namespace oomscope::op
