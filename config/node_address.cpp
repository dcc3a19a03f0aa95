// "HOST:PORT" for nodes.

#include "config/node_address.hpp"

#include <algorithm>
#include <cctype>
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

std::optional<std::pair<size_t, size_t>>
repeated_node(const std::vector<node_address>& nodes) {
  auto same_host = [](const std::string& x, const std::string& y) {
    return std::equal(x.begin(), x.end(), y.begin(), y.end(),
                      [](unsigned char a, unsigned char b) {
                        return std::tolower(a) == std::tolower(b);
                      });
  };
  for (size_t j = 1; j < nodes.size(); ++j)
    for (size_t i = 0; i < j; ++i)
      if (nodes[i].port == nodes[j].port
          && same_host(nodes[i].host, nodes[j].host))
        return std::make_pair(i, j);
  return std::nullopt;
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
  if (auto twice = repeated_node(out))
    return "\"" + out[twice->second].text()
           + "\" is given twice (a node runs one supervisor's tasks; list "
             "it once)";
  return out;
}

} // namespace troupe::config
