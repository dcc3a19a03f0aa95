// Tasks from datasets crossed with parameter sets.

#include "runtime/dataset_source.hpp"

#include "config/dataset_reader.hpp"
#include "config/expect.hpp"

#include <boost/json/parse.hpp>
#include <boost/json/serialize.hpp>

namespace json = boost::json;

namespace troupe::runtime {

namespace {

class dataset_source : public task_source {
public:
  explicit dataset_source(const config::manifest& m) : m_(m) {
    for (auto& p : m_.parameters)
      params_.push_back(json::parse(p).as_object());
  }

  bool next(task_spec& out) override {
    for (;;) {
      if (has_case_ && param_ < m_.parameters.size()) {
        make_task(out);
        ++param_;
        return true;
      }
      if (!next_case())
        return false;
    }
  }

  std::string error() const override {
    return error_;
  }

private:
  bool next_case() {
    has_case_ = false;
    while (ds_ < m_.datasets.size()) {
      if (!reader_)
        reader_ = std::make_unique<config::case_reader>(m_.datasets[ds_]);
      if (reader_->next(case_)) {
        has_case_ = true;
        param_ = 0;
        return true;
      }
      if (reader_->error()) {
        error_ = reader_->error()->message;
        ds_ = m_.datasets.size();
        reader_.reset();
        return false;
      }
      reader_.reset();
      ++ds_;
    }
    return false;
  }

  void make_task(task_spec& out) {
    auto& ds = m_.datasets[ds_];
    out.dataset = ds.name;
    out.case_id = case_.id;
    out.param_index = static_cast<uint32_t>(param_);
    out.id = ds.name;
    out.id += '/';
    out.id += case_.id;
    out.id += '#';
    out.id += std::to_string(param_);
    out.params_json = m_.parameters[param_];
    if (params_[param_].empty()) {
      out.inputs_json = case_.inputs_json;
    } else {
      // The parameter set first, then the case's inputs over it.
      json::object merged = params_[param_];
      auto inputs = json::parse(case_.inputs_json).as_object();
      for (auto& kv : inputs)
        merged[kv.key()] = kv.value();
      out.inputs_json = json::serialize(merged);
    }
    out.query = case_.query;
    out.conversation_id = case_.conversation_id;
    out.expect = ds.expect.empty()
                   ? case_.expect
                   : config::merge_expect(ds.expect, case_.expect);
    out.seq = seq_++;
    out.cache_key.clear();
    out.cached = false;
    out.cached_output_json.clear();
  }

  const config::manifest& m_;
  std::vector<json::object> params_;
  size_t ds_ = 0;
  std::unique_ptr<config::case_reader> reader_;
  config::case_config case_;
  bool has_case_ = false;
  size_t param_ = 0;
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

class cached_source : public task_source {
public:
  cached_source(std::shared_ptr<task_source> source,
                std::shared_ptr<const result_cache> cache,
                const config::target_config& target)
    : source_(std::move(source)), cache_(std::move(cache)), target_(target) {}

  bool next(task_spec& out) override {
    if (!source_->next(out))
      return false;
    out.cache_key = result_cache::key(target_, out);
    out.cached = false;
    out.cached_output_json.clear();
    if (auto hit = cache_->lookup(out.cache_key)) {
      out.cached = true;
      out.cached_output_json = std::move(*hit);
    }
    return true;
  }

  std::string error() const override {
    return source_->error();
  }

private:
  std::shared_ptr<task_source> source_;
  std::shared_ptr<const result_cache> cache_;
  const config::target_config& target_;
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

std::shared_ptr<task_source>
make_cached_source(std::shared_ptr<task_source> source,
                   std::shared_ptr<const result_cache> cache,
                   const config::target_config& target) {
  return std::make_shared<cached_source>(std::move(source), std::move(cache),
                                         target);
}

} // namespace troupe::runtime
