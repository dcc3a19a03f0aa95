// Tasks from datasets crossed with parameter sets.

#include "runtime/dataset_source.hpp"

#include "config/dataset_reader.hpp"
#include "config/expect.hpp"
#include "config/file_inputs.hpp"

#include <boost/json/parse.hpp>
#include <boost/json/serialize.hpp>

#include <algorithm>

namespace json = boost::json;

namespace troupe::runtime {

namespace {

// Tasks of several datasets, shared by weight while more than one has work
// (smooth weighted round robin: weights 2 and 1 give A A B, A A B, ...).
// Each dataset is read as a stream; a case gives its tasks, one per
// parameter set, before the dataset's next case is read.
class dataset_source : public task_source {
public:
  explicit dataset_source(const config::manifest& m) : m_(m) {
    for (auto& p : m_.parameters)
      params_.push_back(json::parse(p).as_object());
    for (size_t i = 0; i < m_.datasets.size(); ++i)
      streams_.push_back(stream{i, nullptr, {}, false, 0, 0.0});
  }

  bool next(task_spec& out) override {
    while (!streams_.empty() && error_.empty()) {
      auto& s = pick();
      if (!s.has_case && !advance(s)) {
        drop(s);
        continue;
      }
      make_task(s, out);
      if (++s.param == m_.parameters.size())
        s.has_case = false;
      return true;
    }
    return false;
  }

  std::string error() const override {
    return error_;
  }

private:
  struct stream {
    size_t ds;
    std::unique_ptr<config::case_reader> reader;
    config::case_config current;
    bool has_case;
    size_t param;
    double credit;
  };

  // The stream whose turn it is.
  stream& pick() {
    if (streams_.size() == 1)
      return streams_.front();
    double total = 0;
    stream* best = nullptr;
    for (auto& s : streams_) {
      auto w = m_.datasets[s.ds].weight;
      s.credit += w;
      total += w;
      if (best == nullptr || s.credit > best->credit)
        best = &s;
    }
    best->credit -= total;
    return *best;
  }

  bool advance(stream& s) {
    if (!s.reader)
      s.reader = std::make_unique<config::case_reader>(m_.datasets[s.ds]);
    if (s.reader->next(s.current)) {
      s.has_case = true;
      s.param = 0;
      return true;
    }
    if (s.reader->error())
      error_ = s.reader->error()->message;
    return false;
  }

  void drop(stream& s) {
    auto i = std::find_if(streams_.begin(), streams_.end(),
                          [&](auto& x) { return &x == &s; });
    streams_.erase(i);
  }

  void make_task(const stream& s, task_spec& out) {
    auto& ds = m_.datasets[s.ds];
    auto& c = s.current;
    auto param = s.param;
    out.dataset = ds.name;
    out.case_id = c.id;
    out.param_index = static_cast<uint32_t>(param);
    out.id = ds.name;
    out.id += '/';
    out.id += c.id;
    out.id += '#';
    out.id += std::to_string(param);
    out.params_json = m_.parameters[param];
    if (params_[param].empty()) {
      out.inputs_json = c.inputs_json;
    } else {
      // The parameter set first, then the case's inputs over it.
      json::object merged = params_[param];
      auto inputs = json::parse(c.inputs_json).as_object();
      for (auto& kv : inputs)
        merged[kv.key()] = kv.value();
      out.inputs_json = json::serialize(merged);
    }
    out.files = config::task_files(out.inputs_json, m_);
    out.query = c.query;
    out.conversation_id = c.conversation_id;
    out.expect = ds.expect.empty() ? c.expect
                                   : config::merge_expect(ds.expect, c.expect);
    out.turns = c.turns;
    if (!out.turns.empty()) {
      // A conversation: the dataset's checks apply to every turn's answer,
      // none to the task's output (the last answer) again.
      out.query = out.turns.front().query;
      out.expect = expectation{};
      if (!ds.expect.empty())
        for (auto& t : out.turns)
          t.expect = config::merge_expect(ds.expect, t.expect);
      turn_inputs(out);
    }
    out.seq = seq_++;
  }

  // A turn's own inputs go over the task's for that turn; once one turn has
  // inputs of its own, every turn gets its whole set, so that none inherits
  // the one before's.
  static void turn_inputs(task_spec& out) {
    if (std::all_of(out.turns.begin(), out.turns.end(),
                    [](auto& t) { return t.inputs_json.empty(); }))
      return;
    for (auto& t : out.turns) {
      if (t.inputs_json.empty()) {
        t.inputs_json = out.inputs_json;
        continue;
      }
      auto merged = json::parse(out.inputs_json).as_object();
      auto own = json::parse(t.inputs_json);
      for (auto& kv : own.as_object())
        merged[kv.key()] = kv.value();
      t.inputs_json = json::serialize(merged);
    }
    out.inputs_json = out.turns.front().inputs_json;
  }

  const config::manifest& m_;
  std::vector<json::object> params_;
  std::vector<stream> streams_;
  uint64_t seq_ = 0;
  std::string error_;
};

class filtered_source : public task_source {
public:
  filtered_source(std::shared_ptr<task_source> source,
                  std::function<bool(const task_spec&)> keep)
    : source_(std::move(source)), keep_(std::move(keep)) {}

  bool next(task_spec& out) override {
    while (source_->next(out))
      if (keep_(out))
        return true;
    return false;
  }

  std::string error() const override {
    return source_->error();
  }

private:
  std::shared_ptr<task_source> source_;
  std::function<bool(const task_spec&)> keep_;
};

} // namespace

std::shared_ptr<task_source> make_dataset_source(const config::manifest& m) {
  return std::make_shared<dataset_source>(m);
}

std::shared_ptr<task_source>
make_filtered_source(std::shared_ptr<task_source> source,
                     std::function<bool(const task_spec&)> keep) {
  return std::make_shared<filtered_source>(std::move(source), std::move(keep));
}

} // namespace troupe::runtime
