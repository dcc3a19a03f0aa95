// The troupe command: parses the command line and hands over to runtime/.

#include "tools/fake_dify/fake_dify.hpp"
#include "tools/troupe/cli.hpp"

#include <csignal>
#include <cstdio>

// jemalloc (linked in for speed, see CMakeLists.txt) keeps freed pages for
// ten seconds by default, so a run's memory follows its busiest moment
// rather than what it holds. Give them back within a second (B5); at once
// would cost B4 a fifth of its speed in madvise calls.
extern "C" {
const char* malloc_conf = "dirty_decay_ms:1000,muzzy_decay_ms:0";
}

int main(int argc, char** argv) {
  std::signal(SIGPIPE, SIG_IGN);
  // A file size limit (ulimit -f) makes a write fail with EFBIG, which the
  // run reports (exit 4), instead of killing the process mid-line.
  std::signal(SIGXFSZ, SIG_IGN);
  // A parent that ignores SIGCHLD passes that on through exec, and then the
  // kernel reaps an exec target's commands before their exit codes can be
  // read (the exec pool refuses to run so). The command owns its process:
  // take the default back.
  std::signal(SIGCHLD, SIG_DFL);
  std::vector<std::string> args(argv + 1, argv + argc);
  auto cmd = troupe::cli::parse(args);
  if (auto* msg = std::get_if<troupe::cli::message>(&cmd)) {
    std::fputs(msg->text.c_str(), msg->code == 0 ? stdout : stderr);
    return msg->code;
  }
  if (auto* run = std::get_if<troupe::cli::run_command>(&cmd)) {
    run->options.quick_exit = true; // the process ends with the run
    return troupe::runtime::run(run->options);
  }
  if (auto* rep = std::get_if<troupe::cli::report_command>(&cmd))
    return troupe::runtime::report(rep->options);
  if (auto* d = std::get_if<troupe::cli::diff_command>(&cmd))
    return troupe::runtime::diff(d->options);
  if (auto* node = std::get_if<troupe::cli::node_command>(&cmd))
    return troupe::runtime::serve_node(node->options);
  if (auto* init = std::get_if<troupe::cli::init_command>(&cmd))
    return troupe::cli::init(*init);
  if (auto* fake = std::get_if<troupe::cli::fake_dify_command>(&cmd))
    return troupe::fake_dify::main(fake->args);
  auto& validate = std::get<troupe::cli::validate_command>(cmd);
  return troupe::runtime::validate(validate.manifest, validate.limits);
}
