// A connection: read ▶ route ▶ plan ▶ [hold] ▶ [latency] ▶ write, again
// while the client keeps the connection alive.
//
//   read ─▶ handle ─▶ fixed / lookup / stop ──────────────────▶ respond
//             └─▶ on_run ─▶ plan_run ─▶ [hold] ─▶ go_on ─▶ [latency] ─▶
//                  execute: respond | stream | reset | cut | hang

#include "tools/fake_dify/session.hpp"

#include "tools/fake_dify/server_state.hpp"

#include <boost/asio/post.hpp>
#include <boost/asio/ssl.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/write.hpp>
#include <boost/beast/core.hpp>
#include <boost/beast/http.hpp>
#include <boost/beast/ssl.hpp>

#include <algorithm>
#include <chrono>
#include <memory>
#include <optional>

namespace troupe::fake_dify {

namespace {

namespace beast = boost::beast;
namespace http = beast::http;
namespace net = boost::asio;
namespace ssl = net::ssl;
using tcp = net::ip::tcp;

template <class Stream>
class session : public std::enable_shared_from_this<session<Stream>> {
public:
  session(Stream stream, server_state& st)
    : stream_(std::move(stream)), st_(st), timer_(stream_.get_executor()) {}

  void start_plain() {
    do_read();
  }

  void start_tls() {
    stream_.async_handshake(
      ssl::stream_base::server,
      [self = this->shared_from_this()](beast::error_code ec) {
        if (!ec)
          self->do_read();
      });
  }

private:
  using request = http::request<http::string_body>;

  auto& socket() {
    return beast::get_lowest_layer(stream_).socket();
  }

  void do_read() {
    parser_.emplace();
    parser_->body_limit(64 * 1024 * 1024);
    http::async_read(
      stream_, buffer_, *parser_,
      [self = this->shared_from_this()](beast::error_code ec, size_t) {
        if (ec)
          return self->close();
        self->handle(self->parser_->release());
      });
  }

  void close() {
    beast::error_code ec;
    socket().shutdown(tcp::socket::shutdown_both, ec);
    socket().close(ec);
  }

  // Closes with a TCP reset: the peer sees "connection reset by peer".
  void reset() {
    beast::error_code ec;
    socket().set_option(net::socket_base::linger(true, 0), ec);
    socket().close(ec);
  }

  void handle(request req) {
    // Only a run is timed; a keep-alive session's earlier one is done.
    timed_ = false;
    timing_ = {};
    timing_.received_us = server_state::steady_us();
    keep_alive_ = req.keep_alive();
    version_ = req.version();
    std::string target{req.target()};
    path_ = target.substr(0, target.find('?'));
    auto r = route_of(req.method(), path_);
    if (r.to == endpoint::stats)
      return respond(json_plan(st_.stats_json()), false);
    if (r.to != endpoint::welcome
        && !authorized(req[http::field::authorization], st_.opts().api_key))
      return respond(unauthorized_plan());
    switch (r.to) {
      case endpoint::run_lookup: {
        auto run = st_.find_run(r.id);
        return respond(run ? json_plan(*run) : run_not_found_plan());
      }
      case endpoint::stop: {
        auto s = plan_stop(r.id, req.body());
        if (!s.task_id.empty())
          st_.stop(s.task_id);
        return respond(std::move(s.answer));
      }
      case endpoint::run:
        return on_run(r.app, req);
      case endpoint::upload:
        return respond(plan_upload(req[http::field::content_type], req.body(),
                                   st_.opts().max_upload_bytes, st_.files,
                                   st_));
      default:
        return respond(fixed_plan(r.to));
    }
  }

  void on_run(app_kind app, const request& req) {
    auto max = st_.opts().max_active;
    if (max > 0 && st_.active.load() >= max) {
      st_.count_rejected();
      return respond(too_many_active_plan(max, st_.opts().faults));
    }
    active_.emplace(st_);
    timed_ = !st_.opts().timing_log.empty();
    if (timed_)
      timing_.inputs = inputs_of(req.body());
    plan_ = plan_run(app, req.body(), req[http::field::authorization],
                     st_.opts().faults, st_);
    if (!plan_.run_id.empty())
      st_.remember_run(plan_.run_id, std::move(plan_.run_json));
    if (st_.barrier)
      return hold();
    go_on();
  }

  // The planned answer, after its latency.
  void go_on() {
    if (plan_.kind == plan::hang) {
      st_.count(path_, 0);
      return hang();
    }
    if (plan_.latency_ms > 0 && plan_.kind != plan::stream) {
      timer_.expires_after(std::chrono::milliseconds{plan_.latency_ms});
      timer_.async_wait([self = this->shared_from_this()](beast::error_code) {
        self->execute();
      });
      return;
    }
    execute();
  }

  // -- the barrier (--hold-until-active) --
  //
  //  hold ─▶ holding ──wake──▶ released ─▶ go_on
  //            │  (a read watches   ├────▶ failed ─▶ 503
  //            │   the socket)      └─ the client left meanwhile ─▶ close
  //            └─ the client leaves ─▶ gone: close

  enum class hold_state { holding, released, failed, gone };

  void hold() {
    hold_state_ = hold_state::holding;
    auto self = this->shared_from_this();
    auto wake = [self](hold_barrier::outcome o, const std::string& message) {
      net::post(self->stream_.get_executor(),
                [self, o, message] { self->on_wake(o, message); });
    };
    hold_id_ = st_.barrier->enter(st_.active.load(), wake);
    if (hold_id_ == 0)
      return go_on();
    watch_held();
  }

  // While held, a pending read notices a client that gives up; bytes that
  // arrive (a pipelined request) stay in the buffer for the next parse.
  void watch_held() {
    watching_ = true;
    stream_.async_read_some(
      buffer_.prepare(512),
      [self = this->shared_from_this()](beast::error_code ec, size_t n) {
        self->watching_ = false;
        self->buffer_.commit(n);
        if (self->hold_state_ != hold_state::holding)
          return self->finish_hold(); // on_wake cancelled this read
        if (!ec)
          return self->watch_held();
        if (self->st_.barrier->leave(self->hold_id_)) {
          self->hold_state_ = hold_state::gone;
          return self->drop_held();
        }
        // Its wake is already posted; on_wake finishes.
        self->client_left_ = true;
      });
  }

  void on_wake(hold_barrier::outcome o, const std::string& message) {
    hold_state_ = o == hold_barrier::outcome::release ? hold_state::released
                                                      : hold_state::failed;
    hold_message_ = message;
    if (watching_) {
      // The read's handler goes on from here.
      beast::error_code ec;
      socket().cancel(ec);
      return;
    }
    finish_hold();
  }

  void finish_hold() {
    if (client_left_)
      return drop_held();
    if (hold_state_ == hold_state::failed)
      return respond(error_plan(503, "service_unavailable", hold_message_));
    go_on();
  }

  // A held call whose client left still counts as a call received, as a
  // hung one does, so the server's count matches the client's attempts.
  void drop_held() {
    st_.count(path_, 0);
    active_.reset();
    close();
  }

  // -- carrying out a plan --

  void execute() {
    switch (plan_.kind) {
      case plan::respond:
        return respond(std::move(plan_));
      case plan::stream:
        return start_stream();
      case plan::reset:
        st_.count(path_, 0);
        return write_raw(std::string{reset_bytes}, [](session& self) {
          self.active_.reset();
          self.reset();
        });
      case plan::cut:
        st_.count(path_, 200);
        return write_raw(cut_bytes(plan_.body), [](session& self) {
          self.active_.reset();
          self.close();
        });
      case plan::hang:
        return hang();
    }
  }

  // Never answers; waits for the client to go away.
  void hang() {
    auto byte = std::make_shared<char>();
    stream_.async_read_some(
      net::buffer(byte.get(), 1),
      [self = this->shared_from_this(), byte](beast::error_code ec, size_t) {
        if (ec) {
          self->active_.reset();
          self->close();
        } else {
          self->hang();
        }
      });
  }

  // Sends the plan's status, headers and body; `counted` in the stats
  // unless it is the stats call itself.
  void respond(plan p, bool counted = true) {
    if (counted)
      st_.count(path_, p.status);
    res_ = {};
    res_.result(static_cast<http::status>(p.status));
    res_.version(version_);
    res_.set(http::field::server, "troupe-fake-dify");
    bool content_type = false;
    for (auto& [name, value] : p.headers) {
      res_.set(name, value);
      content_type = content_type || beast::iequals(name, "content-type");
    }
    if (!content_type)
      res_.set(http::field::content_type, "application/json");
    res_.keep_alive(keep_alive_);
    res_.body() = std::move(p.body);
    res_.prepare_payload();
    if (timed_)
      return respond_timed();
    http::async_write(
      stream_, res_,
      [self = this->shared_from_this()](beast::error_code ec, size_t) {
        self->active_.reset();
        self->log_timing();
        if (ec || !self->keep_alive_)
          return self->close();
        self->do_read();
      });
  }

  // --timing-log: the answer is written at once, so that its time is when
  // its last byte went to the kernel, not when a busy loop got round to the
  // completion (10,000 answers at once, tests/e2e/dify_load.test.cpp).
  void respond_timed() {
    beast::error_code ec;
    http::write(stream_, res_, ec);
    active_.reset();
    log_timing();
    if (ec || !keep_alive_)
      return close();
    do_read();
  }

  // --timing-log: a run call's answer is written (its last byte).
  void log_timing() {
    if (!timed_)
      return;
    timed_ = false;
    st_.log_timing(timing_, server_state::steady_us());
  }

  // -- streams: one frame per chunk, the latency spread between them --

  void start_stream() {
    st_.count(path_, 200);
    next_event_ = 0;
    auto gaps = std::max<size_t>(plan_.events.size(), 1);
    event_gap_ms_ = plan_.latency_ms / static_cast<int64_t>(gaps);
    write_raw(stream_head(keep_alive_),
              [](session& self) { self.next_frame(); });
  }

  void next_frame() {
    bool stopped = !plan_.task_id.empty() && st_.stopped(plan_.task_id);
    if (stopped && !plan_.final_event.empty()) {
      // Dify ends a stopped run with its final event, status "stopped".
      auto last = std::move(plan_.final_event);
      plan_.final_event.clear();
      plan_.events.clear();
      return write_event(last, [](session& self) { self.end_stream(); });
    }
    if (next_event_ >= plan_.events.size())
      return end_stream();
    auto send = [self = this->shared_from_this()] {
      auto& e = self->plan_.events[self->next_event_++];
      self->write_event(e, [](session& s) { s.next_frame(); });
    };
    if (event_gap_ms_ > 0 && next_event_ > 0) {
      timer_.expires_after(std::chrono::milliseconds{event_gap_ms_});
      timer_.async_wait([send](beast::error_code ec) {
        if (!ec)
          send();
      });
    } else {
      send();
    }
  }

  void end_stream() {
    if (plan_.linger) {
      // As with TTS auto-play: the final event came, the connection stays.
      st_.count_lingering();
      return hang();
    }
    write_raw(std::string{last_chunk}, [](session& self) {
      self.active_.reset();
      self.log_timing();
      if (!self.keep_alive_)
        return self.close();
      self.do_read();
    });
  }

  // One SSE event, noted for --timing-log. Its bytes reach the kernel as
  // async_write starts (asio writes at once when it can), so that is its
  // time, not when a busy loop runs the completion.
  template <class Next>
  void write_event(const std::string& event, Next next) {
    if (timing_.first_event_us < 0 && event.compare(0, 5, "data:") == 0)
      timing_.first_event_us = server_state::steady_us();
    ++timing_.events;
    write_raw(chunk(event), next);
  }

  template <class Next>
  void write_raw(std::string data, Next next) {
    auto buf = std::make_shared<std::string>(std::move(data));
    net::async_write(stream_, net::buffer(*buf),
                     [self = this->shared_from_this(), buf,
                      next](beast::error_code ec, size_t) {
                       if (ec) {
                         self->active_.reset();
                         return self->close();
                       }
                       next(*self);
                     });
  }

  Stream stream_;
  server_state& st_;
  net::steady_timer timer_;
  beast::flat_buffer buffer_;
  std::optional<http::request_parser<http::string_body>> parser_;
  http::response<http::string_body> res_;
  std::optional<active_guard> active_;
  plan plan_;
  std::string path_;
  bool keep_alive_ = true;
  unsigned version_ = 11;
  size_t next_event_ = 0;
  int64_t event_gap_ms_ = 0;
  hold_state hold_state_ = hold_state::holding;
  uint64_t hold_id_ = 0;
  std::string hold_message_;
  bool watching_ = false;
  bool client_left_ = false;
  /// --timing-log: whether this run call is logged, and its times so far.
  bool timed_ = false;
  call_timing timing_;
};

} // namespace

void start_session(tcp::socket socket, server_state& st, ssl::context* tls) {
  // A socket the client already reset has no options to set: no throw.
  boost::system::error_code ec;
  socket.set_option(tcp::no_delay(true), ec);
  if (tls != nullptr) {
    using stream = beast::ssl_stream<beast::tcp_stream>;
    std::make_shared<session<stream>>(stream{std::move(socket), *tls}, st)
      ->start_tls();
  } else {
    std::make_shared<session<beast::tcp_stream>>(
      beast::tcp_stream{std::move(socket)}, st)
      ->start_plain();
  }
}

} // namespace troupe::fake_dify
