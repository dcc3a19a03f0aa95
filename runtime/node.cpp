// `troupe node`: publishes a node actor (plain, or mutual TLS through
// caf::openssl) and prepares runs from the manifests supervisors send: a
// stub, or an HTTP client of its own with the key from its environment.

#include "runtime/node.hpp"

#include "actors/http/http_executor.hpp"
#include "actors/node/node.hpp"
#include "actors/stub/stub_executor.hpp"
#include "config/manifest.hpp"
#include "runtime/nodes.hpp"
#include "runtime/run.hpp"
#include "runtime/settings.hpp"
#include "runtime/signals.hpp"
#include "runtime/system.hpp"

#include <caf/actor_cast.hpp>
#include <caf/actor_system.hpp>
#include <caf/actor_system_config.hpp>
#include <caf/exit_reason.hpp>
#include <caf/io/middleman.hpp>
#include <caf/openssl/publish.hpp>
#include <caf/scoped_actor.hpp>
#include <caf/send.hpp>

#include <netdb.h>
#include <sys/socket.h>

#include <cerrno>
#include <chrono>
#include <csignal>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <future>
#include <random>

namespace troupe::runtime {

namespace {

// A run of `manifest` on this node, or why not. An HTTP target takes the
// key the supervisor sent (over TLS, with --send-keys), else the one in this
// node's environment.
std::variant<node_run, std::string> prepare_run(caf::actor_system& sys,
                                                const std::string& manifest,
                                                const std::string& key) {
  config::load_options lo;
  lo.read_datasets = false;
  auto parsed = config::parse_manifest(manifest, "manifest", lo);
  if (auto* err = std::get_if<config::config_error>(&parsed))
    return err->message;
  auto& m = std::get<config::manifest>(parsed);
  node_run run;
  if (m.target.type == config::target_type::stub) {
    auto stub = spawn_stub_executor(sys, make_stub_settings(m.stub));
    run.executor = stub;
    run.worker = make_worker_config(m, run.executor, m.stub.seed);
    // The script's setters, on the supervisor's time line; its cancel
    // events stay with the supervisor.
    run.start = [stub, events = m.stub.events](int64_t elapsed_us) {
      schedule_stub_events(events, stub, {}, elapsed_us);
    };
    return run;
  }
  // troupe run refuses --nodes with exec targets; a node says why too.
  if (m.target.type == config::target_type::exec)
    return std::string{"an exec target runs its command on the supervisor's "
                       "machine only; nodes do not take it"};
  auto api_key = key;
  if (api_key.empty() && !m.target.api_key_env.empty()) {
    auto* value = std::getenv(m.target.api_key_env.c_str());
    if (value == nullptr || *value == '\0')
      return "the environment variable " + m.target.api_key_env
             + " is not set on this node (it must hold the API key; set it "
               "where the node runs, or give troupe run --send-keys over "
               "TLS)";
    api_key = value;
  }
  std::shared_ptr<http_client> client;
  try {
    client = make_http_client(m.target);
  } catch (const std::runtime_error& e) {
    return std::string{e.what()}; // libcurl cannot be loaded here
  }
  run.executor = spawn_http_executor(
    sys, http_executor_config{make_http_target(m.target, api_key), client});
  run.worker = make_worker_config(m, run.executor, std::random_device{}());
  // The Dify stop calls of attempts that ended as the run did get a moment
  // to go out, as on the supervisor (run_threaded.cpp).
  run.finish = [client] {
    client->drain(std::chrono::seconds{2});
    client->stop();
  };
  return run;
}

} // namespace

bool is_loopback(const std::string& host) {
  return host == "localhost" || host == "::1" || host.rfind("127.", 0) == 0;
}

namespace {

// Why `addr` cannot be listened on, as the system says it (CAF's error
// says only that the socket could not be made): a plain bind, with the
// address reuse CAF asks for too. Empty when the bind works now.
std::string bind_error(const node_address& addr) {
  std::string why;
  auto unresolved
    = each_tcp_socket(addr, true, 0, [&](int fd, const addrinfo& a) {
        int on = 1;
        (void)::setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &on, sizeof(on));
        if (::bind(fd, a.ai_addr, a.ai_addrlen) == 0) {
          why.clear();
          return true;
        }
        int err = errno;
        why = std::strerror(err);
        if (err == EADDRINUSE)
          why += ": another process listens there; port 0 lets the system "
                 "choose a free one";
        else if (err == EACCES)
          why += ": ports below 1024 need privileges";
        else if (err == EADDRNOTAVAIL)
          why += ": no network interface of this machine has that address";
        return false;
      });
  return unresolved.empty() ? why : unresolved;
}

} // namespace

int serve_node(const node_options& opts) {
  auto parsed = parse_node_address(opts.listen, true);
  if (auto* err = std::get_if<std::string>(&parsed)) {
    std::fprintf(stderr, "troupe: node: --listen: %s\n", err->c_str());
    return exit_usage;
  }
  auto addr = std::get<node_address>(parsed);
  bool tls = opts.tls.enabled();
  if (tls) {
    if (auto err = check_tls_files(opts.tls); !err.empty()) {
      std::fprintf(stderr, "troupe: node: %s\n", err.c_str());
      return exit_usage;
    }
  } else if (!is_loopback(addr.host) && !opts.insecure) {
    std::fprintf(stderr,
                 "troupe: node: --listen %s: only loopback without TLS; give "
                 "--tls-cert, --tls-key and --tls-ca, or --insecure to "
                 "accept plain connections from the network\n",
                 opts.listen.c_str());
    return exit_usage;
  } else if (!is_loopback(addr.host)) {
    std::fprintf(stderr,
                 "troupe: node: warning: --insecure: anyone who can reach "
                 "%s can run tasks here, unencrypted\n",
                 opts.listen.c_str());
  }
  signal_watcher signals;
  caf::actor_system_config cfg;
  register_message_types(cfg);
  // CAF's default is at least 4 threads, too many next to the supervisor
  // and other nodes on a small machine.
  cfg.set("scheduler.max-threads", scheduler_threads());
  // Its work comes from the middleman's thread and the clock's
  // (run_threaded.cpp).
  idle_on_condition(cfg);
  enable_network(cfg, opts.tls);
  caf::actor_system sys{cfg};
  node_config nc;
  nc.workers = opts.workers;
  nc.version = version();
  if (auto* fake = std::getenv(test_node_version_env); fake && *fake)
    nc.version = fake; // test-only (node.hpp)
  nc.protocol = node_protocol();
  nc.prepare = prepare_run;
  auto node = spawn_node(sys, std::move(nc));
  // Published untyped: supervisors of any version connect, then compare
  // versions in `hello` (docs/distribution-plan.md).
  auto handle = caf::actor_cast<caf::actor>(node);
  auto port
    = tls ? caf::openssl::publish(handle, addr.port, addr.host.c_str(), true)
          : sys.middleman().publish(handle, addr.port, addr.host.c_str(), true);
  if (!port) {
    auto why = bind_error(addr);
    if (why.empty())
      why = sys.render(port.error());
    std::fprintf(stderr, "troupe: node: cannot listen on %s (%s)\n",
                 opts.listen.c_str(), why.c_str());
    caf::anon_send_exit(node, caf::exit_reason::user_shutdown);
    return exit_usage;
  }
  std::fprintf(stderr, "troupe node: listening on %s:%u with %u workers%s\n",
               addr.host.c_str(), static_cast<unsigned>(*port),
               static_cast<unsigned>(opts.workers), tls ? " (mutual TLS)" : "");
  std::promise<int> stopped;
  signals.start(nullptr, [&stopped](int sig) { stopped.set_value(sig); });
  auto sig = stopped.get_future().get();
  signals.stop();
  std::fprintf(stderr, "troupe node: %s: stopping\n",
               sig == SIGINT ? "interrupt" : "terminate");
  // The plain call for TLS too: both middleman actors publish on the same
  // BASP broker (caf/openssl/unpublish.hpp does not compile in 0.17.6).
  sys.middleman().unpublish(handle, *port);
  caf::anon_send_exit(node, caf::exit_reason::user_shutdown);
  return exit_ok;
}

} // namespace troupe::runtime
