// Masks secrets in text.

#include "actors/http/redact.hpp"

namespace troupe {

std::string secret_mask(std::string_view secret) {
  auto dash = secret.find('-');
  if (dash != std::string_view::npos && dash < 8 && dash + 1 < secret.size())
    return std::string{secret.substr(0, dash + 1)} + "***";
  return "***";
}

size_t redact(std::string& text, std::string_view secret) {
  if (secret.size() < 6 || text.size() < secret.size())
    return 0;
  auto pos = text.find(secret);
  if (pos == std::string::npos)
    return 0;
  auto mask = secret_mask(secret);
  size_t n = 0;
  for (; pos != std::string::npos; pos = text.find(secret, pos + mask.size())) {
    text.replace(pos, secret.size(), mask);
    ++n;
  }
  return n;
}

} // namespace troupe
