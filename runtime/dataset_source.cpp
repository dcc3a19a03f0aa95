// Tasks from datasets crossed with parameter sets.

#include "runtime/dataset_source.hpp"

#include "config/dataset_reader.hpp"

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
    out.seq = seq_++;
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

} // namespace

std::shared_ptr<task_source> make_dataset_source(const config::manifest& m) {
  return std::make_shared<dataset_source>(m);
}

} // namespace troupe::runtime
