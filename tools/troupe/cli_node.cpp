// `troupe node`'s options, and the TLS flags it shares with
// `troupe run --nodes` (docs/distribution-plan.md, section 6).

#include "tools/troupe/cli_parts.hpp"

namespace troupe::cli {

void add_node_options(CLI::App& node, runtime::node_options& o) {
  add_value(node, "--listen", "HOST:PORT",
            "where to listen (default 127.0.0.1:7100; loopback\n"
            "only, unless TLS or --insecure)",
            [&o](auto& v) { o.listen = v; })
    ->check(non_empty("--listen"));
  add_value(node, "--workers", "N",
            "workers a run may use (1 to 100000, 8); a run asks\n"
            "for at most its concurrency",
            [&o](auto& v) {
              o.workers
                = static_cast<uint32_t>(*integer_in(v, 1, max_concurrency));
            })
    ->check(non_empty("--workers"))
    ->check(range("--workers", 1, max_concurrency, "1 to 100000"));
  add_tls_options(node, o.tls, "supervisors");
  auto* insecure = node.add_flag("--insecure", o.insecure,
                                 "listen beyond loopback without TLS (a "
                                 "warning)");
  insecure->disable_flag_override();
  for (auto* flag : {"--tls-cert", "--tls-key", "--tls-ca"})
    insecure->excludes(node.get_option(flag));
}

void add_tls_options(CLI::App& app, runtime::tls_files& tls,
                     const std::string& whose, CLI::Option* needs) {
  auto add = [&](const char* name, const std::string& help,
                 std::string runtime::tls_files::*field) {
    auto* opt = add_value(app, name, "FILE", help, [&tls, field](auto& v) {
                  tls.*field = v;
                })->check(non_empty(name));
    if (needs != nullptr)
      opt->needs(needs);
  };
  add("--tls-cert",
      "mutual TLS: this side's PEM certificate (with\n"
      "--tls-key and --tls-ca, all three or none)",
      &runtime::tls_files::cert);
  add("--tls-key", "mutual TLS: the certificate's private key (PEM)",
      &runtime::tls_files::key);
  add("--tls-ca",
      "mutual TLS: the CA (PEM) that must have signed\nthe " + whose
        + "' certificates",
      &runtime::tls_files::ca);
}

std::optional<std::string> tls_usage_error(const runtime::tls_files& tls) {
  int given = !tls.cert.empty() + !tls.key.empty() + !tls.ca.empty();
  if (given == 0 || given == 3)
    return std::nullopt;
  std::string missing;
  for (auto [flag, value] :
       {std::pair{"--tls-cert", &tls.cert}, std::pair{"--tls-key", &tls.key},
        std::pair{"--tls-ca", &tls.ca}})
    if (value->empty())
      missing += (missing.empty() ? "" : " and ") + std::string{flag};
  return "--tls-cert, --tls-key and --tls-ca go together (missing " + missing
         + ")";
}

} // namespace troupe::cli
