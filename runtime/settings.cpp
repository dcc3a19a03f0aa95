// Adapters from the manifest's structs to the actors' settings.

#include "runtime/settings.hpp"

#include <caf/send.hpp>

#include <sys/resource.h>

#include <algorithm>
#include <chrono>

namespace troupe::runtime {

int64_t seconds_to_us(double s) {
  return static_cast<int64_t>(s * 1e6 + 0.5);
}

stub_settings make_stub_settings(const config::stub_config& s) {
  stub_settings out;
  out.delay_us = seconds_to_us(s.simulated_delay_seconds);
  out.failure_rate = s.failure_rate;
  out.seed = s.seed;
  for (auto& [id, list] : s.task_behaviors)
    out.behaviors.emplace(id, list);
  for (auto& [name, list] : s.dataset_behaviors)
    out.dataset_behaviors.emplace(name, list);
  return out;
}

retry_settings make_retry_settings(const config::retry_policy& r) {
  retry_settings out;
  out.max_attempts = r.max_attempts;
  out.backoff_us = seconds_to_us(r.backoff_seconds);
  out.multiplier = r.backoff_multiplier;
  out.max_backoff_us = seconds_to_us(r.max_backoff_seconds);
  switch (r.jitter) {
    case config::jitter_kind::none:
      out.jitter = jitter_mode::none;
      break;
    case config::jitter_kind::full:
      out.jitter = jitter_mode::full;
      break;
    case config::jitter_kind::equal:
      out.jitter = jitter_mode::equal;
      break;
  }
  return out;
}

http_target make_http_target(const config::target_config& t,
                             std::string api_key) {
  http_target out;
  switch (t.type) {
    case config::target_type::dify_workflow:
      out.kind = target_kind::dify_workflow;
      break;
    case config::target_type::dify_chat:
      out.kind = target_kind::dify_chat;
      break;
    case config::target_type::dify_completion:
      out.kind = target_kind::dify_completion;
      break;
    default:
      out.kind = target_kind::http;
      break;
  }
  out.base_url = t.base_url;
  out.api_key = std::move(api_key);
  out.streaming = t.streaming;
  out.user = t.user;
  out.method = t.method;
  out.url = t.url;
  out.headers = t.headers;
  out.body = t.body;
  out.success_status = t.success_status;
  out.output_pointer = t.output_pointer;
  out.ca_file = t.ca_file;
  out.max_response_bytes = t.max_response_bytes;
  out.auto_generate_name = t.auto_generate_name;
  return out;
}

dispatch_settings make_dispatch_settings(const config::execution_policy& e) {
  dispatch_settings out;
  out.rate_per_second = e.rate_per_second;
  out.burst = e.burst;
  out.adaptive = e.adaptive;
  out.batch_size = e.batch_size;
  out.batch_pause_us = seconds_to_us(e.batch_pause_seconds);
  out.run_deadline_us
    = e.run_deadline_seconds ? seconds_to_us(*e.run_deadline_seconds) : -1;
  return out;
}

std::shared_ptr<http_client> make_http_client(const config::target_config& t) {
  // Thousands of connections need thousands of file descriptors.
  rlimit lim{};
  if (::getrlimit(RLIMIT_NOFILE, &lim) == 0 && lim.rlim_cur < lim.rlim_max) {
    lim.rlim_cur = lim.rlim_max;
    ::setrlimit(RLIMIT_NOFILE, &lim);
  }
  http_client_options copts;
  copts.ca_file = t.ca_file;
  copts.max_response_bytes = t.max_response_bytes;
  proxy_from_environment(copts);
  return std::make_shared<http_client>(std::move(copts));
}

void schedule_stub_events(const std::vector<config::stub_event>& events,
                          const stub_executor_actor& stub,
                          const supervisor_actor& supervisor,
                          int64_t elapsed_us) {
  for (auto& e : events) {
    if (e.kind != config::stub_event::cancel && !stub)
      continue;
    auto at
      = std::chrono::microseconds{std::max<int64_t>(0, e.at_us - elapsed_us)};
    switch (e.kind) {
      case config::stub_event::cancel:
        if (supervisor)
          caf::delayed_anon_send(supervisor, at, cancel_atom::value,
                                 "cancelled by a scripted event at "
                                   + std::to_string(e.at_us / 1000) + " ms");
        break;
      case config::stub_event::set_failure_rate:
        caf::delayed_anon_send(stub, at, set_failure_rate_atom::value, e.value);
        break;
      case config::stub_event::set_simulated_delay:
        caf::delayed_anon_send(stub, at, set_delay_atom::value,
                               seconds_to_us(e.value));
        break;
      case config::stub_event::clear_task_behaviors:
        caf::delayed_anon_send(stub, at, clear_behaviors_atom::value);
        break;
      case config::stub_event::set_task_behavior:
        for (auto& [id, list] : e.behaviors)
          caf::delayed_anon_send(stub, at, set_behavior_atom::value, id, list);
        break;
    }
  }
}

worker_config make_worker_config(const config::manifest& m,
                                 executor_actor executor,
                                 uint64_t jitter_seed) {
  worker_config wc;
  wc.executor = std::move(executor);
  wc.retry = make_retry_settings(m.retry);
  wc.timeout_us = seconds_to_us(m.execution.timeout_seconds);
  wc.deadline_us = m.execution.deadline_seconds
                     ? seconds_to_us(*m.execution.deadline_seconds)
                     : -1;
  wc.jitter_seed = jitter_seed;
  wc.gated = make_dispatch_settings(m.execution).gates_retries();
  return wc;
}

} // namespace troupe::runtime
