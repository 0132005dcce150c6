// Small string helpers shared by the flag and resource parsers.
//
// Thread-safety: pure functions.
#pragma once

#include <string_view>
#include <vector>

namespace mezzo {

// `text` without leading and trailing ASCII white space.
inline std::string_view trim(std::string_view text) {
  constexpr std::string_view kSpace = " \t\r\n\f\v";
  size_t first = text.find_first_not_of(kSpace);
  if (first == std::string_view::npos) return {};
  size_t last = text.find_last_not_of(kSpace);
  return text.substr(first, last - first + 1);
}

// Splits on `separator`, keeping empty pieces ("a,,b" -> "a", "", "b"; "" -> "").
inline std::vector<std::string_view> split(std::string_view text, char separator) {
  std::vector<std::string_view> pieces;
  size_t start = 0;
  while (true) {
    size_t at = text.find(separator, start);
    if (at == std::string_view::npos) {
      pieces.push_back(text.substr(start));
      return pieces;
    }
    pieces.push_back(text.substr(start, at - start));
    start = at + 1;
  }
}

}  // namespace mezzo
