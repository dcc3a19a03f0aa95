// The progress display actor.

#include "actors/results/progress.hpp"

#include "actors/results/status_order.hpp"

#include <caf/actor_system.hpp>
#include <caf/event_based_actor.hpp>
#include <caf/stateful_actor.hpp>
#include <caf/typed_event_based_actor.hpp>

#include <fmt/format.h>

#include <chrono>
#include <iterator>

namespace troupe {

namespace {

struct progress_state {
  progress_config cfg;
  uint64_t throttled_seen = 0;
  static inline const char* name = "progress";
};

using progress_pointer = progress_actor::stateful_pointer<progress_state>;

std::string clock_text(int64_t us) {
  auto s = us / 1000000;
  return fmt::format("{}:{:02}:{:02}", s / 3600, s / 60 % 60, s % 60);
}

uint64_t count(const run_status& s, task_status x) {
  return s.counts[static_cast<size_t>(x)];
}

void on_tick(progress_pointer self) {
  auto& cfg = self->state.cfg;
  self->request(cfg.source, std::chrono::seconds{5}, status_atom::value)
    .then(
      [=](const run_status& s) {
        auto& c = self->state.cfg;
        bool throttled = s.throttled > self->state.throttled_seen;
        self->state.throttled_seen = s.throttled;
        auto line = render_progress(s, throttled);
        if (c.live)
          std::fprintf(c.out, "\r\033[K%s", fit_width(line, c.width).c_str());
        else
          std::fprintf(c.out, "%s\n", line.c_str());
        std::fflush(c.out);
        self->delayed_send(self, std::chrono::microseconds{c.interval_us},
                           tick_atom::value);
      },
      [=](caf::error&) { self->quit(); });
}

progress_actor::behavior_type progress(progress_pointer self,
                                       progress_config cfg) {
  self->state.cfg = std::move(cfg);
  self->delayed_send(self,
                     std::chrono::microseconds{self->state.cfg.interval_us},
                     tick_atom::value);
  return {
    [=](tick_atom) { on_tick(self); },
  };
}

} // namespace

std::string render_progress(const run_status& s, bool throttled) {
  auto done = s.done();
  // The rate of this run: tasks a resumed file already had do not count.
  auto done_now = done > s.done_before ? done - s.done_before : 0;
  double rate = s.elapsed_us > 0 ? static_cast<double>(done_now) * 1e6
                                     / static_cast<double>(s.elapsed_us)
                                 : 0.0;
  double pct = s.total > 0 ? 100.0 * static_cast<double>(done)
                               / static_cast<double>(s.total)
                           : 100.0;
  auto line = fmt::format("{}/{} {:.0f}% {:.1f}/s", done, s.total, pct, rate);
  if (rate > 0 && done < s.total && !s.stopping) {
    auto eta_us
      = static_cast<int64_t>(static_cast<double>(s.total - done) / rate * 1e6);
    line += " eta " + clock_text(eta_us);
  }
  auto out = std::back_inserter(line);
  line += " |";
  for (auto& look : status_order)
    if (is_terminal(look.status))
      fmt::format_to(out, " {} {}", look.word, count(s, look.status));
  fmt::format_to(out, " | running {} backoff {} | {}",
                 count(s, task_status::running), s.backoff,
                 clock_text(s.elapsed_us));
  if (s.effective_concurrency > 0)
    fmt::format_to(out, " | concurrency {}/{}", s.effective_concurrency,
                   s.concurrency);
  if (throttled)
    line += " [throttled]";
  if (s.stopping)
    line += " [stopping]";
  return line;
}

std::string fit_width(std::string line, size_t width) {
  if (width > 1 && line.size() >= width)
    line.resize(width - 1);
  return line;
}

progress_actor spawn_progress(caf::actor_system& sys, progress_config cfg) {
  return sys.spawn(progress, std::move(cfg));
}

void clear_progress_line(std::FILE* out) {
  std::fprintf(out, "\r\033[K");
  std::fflush(out);
}

} // namespace troupe
