// The dispatch gate: backlog and batches hold new tasks, then the adaptive
// limit and the rate limiter hold every call.

#include "actors/supervisor/dispatch_gate.hpp"

#include <algorithm>

namespace troupe {

dispatch_gate::dispatch_gate(const dispatch_settings& settings,
                             uint32_t concurrency)
  : settings_(settings), aimd_(concurrency), batch_left_(settings.batch_size) {
  if (settings.rate_per_second > 0)
    bucket_ = token_bucket{
      settings.rate_per_second,
      static_cast<double>(std::max<uint32_t>(1, settings.burst))};
}

bool dispatch_gate::holds_tasks(int64_t now_us, gate_load load) const noexcept {
  if (settings_.batch_size > 0 && batch_left_ == 0) {
    if (pause_end_us_ >= 0)
      return now_us < pause_end_us_ || sink_full();
    return load.in_flight > 0;
  }
  return sink_full();
}

gate_verdict dispatch_gate::ask(start_kind kind, int64_t now_us,
                                gate_load load) {
  if (kind == start_kind::task) {
    // The batch first: its pause starts when its last task is over,
    // whatever the sink's backlog.
    if (settings_.batch_size > 0 && batch_left_ == 0) {
      if (pause_end_us_ >= 0 && now_us >= pause_end_us_) {
        pause_end_us_ = -1;
        batch_left_ = settings_.batch_size;
      } else if (pause_end_us_ >= 0) {
        return {gate_verdict::paused_until, pause_end_us_};
      } else if (load.in_flight > 0) {
        // A batch is over when its last task is.
        return {gate_verdict::after_finish, 0};
      } else {
        pause_end_us_ = now_us + settings_.batch_pause_us;
        return {gate_verdict::paused_until, pause_end_us_};
      }
    }
    if (sink_full())
      return {gate_verdict::after_finish, 0};
  }
  if (settings_.adaptive && load.running >= aimd_.limit())
    return {gate_verdict::after_finish, 0};
  if (bucket_.enabled()) {
    auto token = bucket_.next_token_us(now_us);
    if (token > now_us)
      return {gate_verdict::at, token};
  }
  return {gate_verdict::now, now_us};
}

void dispatch_gate::started(start_kind kind, int64_t now_us) {
  bucket_.try_take(now_us);
  if (kind == start_kind::task && settings_.batch_size > 0 && batch_left_ > 0)
    --batch_left_;
}

void dispatch_gate::on_success() {
  aimd_.on_success();
}

void dispatch_gate::on_throttle(int64_t started_us, int64_t now_us) {
  if (settings_.adaptive)
    aimd_.on_throttle(started_us, now_us);
}

void dispatch_gate::on_written(uint64_t n) noexcept {
  sink_backlog_ -= std::min(sink_backlog_, n);
}

uint32_t dispatch_gate::limit() const noexcept {
  return settings_.adaptive ? aimd_.limit() : 0;
}

uint32_t dispatch_gate::min_seen() const noexcept {
  return settings_.adaptive ? aimd_.min_seen() : 0;
}

} // namespace troupe
