// "HOST:PORT" for nodes.

#include "config/node_address.hpp"

#include <cstdlib>

namespace troupe::config {

std::string node_address::text() const {
  return host + ":" + std::to_string(port);
}

std::variant<node_address, std::string>
parse_node_address(const std::string& text, bool any_port) {
  auto colon = text.rfind(':');
  auto bad = [&] {
    return "\"" + text + "\" is not HOST:PORT (a port from 1 to 65535)";
  };
  if (colon == std::string::npos || colon == 0 || colon + 1 == text.size())
    return bad();
  auto port_text = text.substr(colon + 1);
  char* end = nullptr;
  auto port = std::strtoul(port_text.c_str(), &end, 10);
  if (*end != '\0' || port < (any_port ? 0u : 1u) || port > 65535
      || port_text[0] == '-')
    return bad();
  node_address out;
  out.host = text.substr(0, colon);
  // [::1]:7100
  if (out.host.size() > 2 && out.host.front() == '[' && out.host.back() == ']')
    out.host = out.host.substr(1, out.host.size() - 2);
  out.port = static_cast<uint16_t>(port);
  return out;
}

std::variant<std::vector<node_address>, std::string>
parse_node_addresses(const std::string& list) {
  std::vector<node_address> out;
  size_t pos = 0;
  while (pos <= list.size()) {
    auto comma = list.find(',', pos);
    auto item = list.substr(pos, comma == std::string::npos ? std::string::npos
                                                            : comma - pos);
    auto parsed = parse_node_address(item);
    if (auto* err = std::get_if<std::string>(&parsed))
      return *err;
    out.push_back(std::get<node_address>(parsed));
    if (comma == std::string::npos)
      break;
    pos = comma + 1;
  }
  return out;
}

} // namespace troupe::config
