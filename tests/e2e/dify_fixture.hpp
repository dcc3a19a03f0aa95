#pragma once

// The dify suite's fixture: a manifest against a fake-dify process, a troupe
// run with the key in its environment, and readers for what comes back.
//
//   manifest(target(server), cases) ─▶ run ─▶ results() / server.stats()

#include <boost/json/parse.hpp>
#include <boost/json/serialize.hpp>

#include "tests/support/fake_dify_process.hpp"
#include "tests/support/process.hpp"
#include "tests/support/results_file.hpp"
#include "tests/support/temp_dir.hpp"

#include <chrono>
#include <string>
#include <string_view>
#include <vector>

namespace troupe::test {

/// A temp folder, a key, and the runs made in it.
struct dify_fixture {
  temp_dir dir;
  std::string key = "app-test";
  std::vector<std::string> env;
  int runs = 0;
  std::string out;

  /// A target object for the server.
  static std::string target(const fake_dify_process& s,
                            const std::string& mode = "blocking",
                            const std::string& type = "dify-workflow",
                            const std::string& extra = "") {
    return R"({"type": ")" + type + R"(", "base_url": ")" + s.base_url()
           + R"(", "api_key_env": "TEST_DIFY_KEY", "response_mode": ")" + mode
           + "\"" + (extra.empty() ? "" : ", " + extra) + "}";
  }

  /// Writes a manifest with one dataset "d" of `cases`.
  std::string manifest(const std::string& target_json, const std::string& cases,
                       const std::string& rest = "") {
    auto text = R"({"name": "e2e", "target": )" + target_json
                + R"(, "datasets": [{"name": "d", "cases": )" + cases + "}]"
                + (rest.empty() ? "" : ", " + rest) + "}";
    return dir.write("m" + std::to_string(runs) + ".json", text);
  }

  /// Runs troupe on `manifest_path` with the key in the environment.
  process_result
  run(const std::string& manifest_path, std::vector<std::string> extra = {},
      std::chrono::milliseconds limit = std::chrono::seconds{60}) {
    out = dir.file("r" + std::to_string(++runs) + ".jsonl");
    std::vector<std::string> args{troupe_binary(), "run", manifest_path,
                                  "--out",         out,   "--progress",
                                  "never"};
    args.insert(args.end(), extra.begin(), extra.end());
    auto e = env;
    e.push_back("TEST_DIFY_KEY=" + key);
    child_process child{args, dir.path(), e};
    return child.wait(limit);
  }

  results_file results() {
    return read_results(out);
  }

  /// Copies config/examples/NAME (and its cases) into the test folder,
  /// pointed at `server` instead of 127.0.0.1:5001.
  std::string example_for(const fake_dify_process& server,
                          const std::string& name) {
    auto examples = source_dir() + "/config/examples/";
    dir.write("demo-cases.jsonl", read_file(examples + "demo-cases.jsonl"));
    auto text = read_file(examples + name);
    auto host = server.url().substr(7); // "127.0.0.1:PORT"
    for (auto at = text.find("127.0.0.1:5001"); at != std::string::npos;
         at = text.find("127.0.0.1:5001"))
      text.replace(at, 14, host);
    return dir.write(name, text);
  }

  /// Milliseconds between the end of attempt i and the start of i + 1.
  static double gap_ms(const boost::json::object& result, size_t i) {
    auto& log = result.at("attempt_log").as_array();
    auto end = log[i].at("started_ms").to_number<double>()
               + log[i].at("duration_ms").to_number<double>();
    return log[i + 1].at("started_ms").to_number<double>() - end;
  }

  static bool starts(std::string_view s, std::string_view prefix) {
    return s.substr(0, prefix.size()) == prefix;
  }

  static bool ends(std::string_view s, std::string_view suffix) {
    return s.size() >= suffix.size()
           && s.substr(s.size() - suffix.size()) == suffix;
  }

  static std::string str(const boost::json::value& v) {
    return v.is_string() ? std::string{v.get_string()}
                         : boost::json::serialize(v);
  }

  /// The text a raw reply carries: a workflow's outputs.text or an answer,
  /// blocking, or joined from the events of a stream.
  static std::string answer_text(const std::string& body) {
    auto text_of = [](const boost::json::object& o) -> std::string {
      if (auto* a = o.if_contains("answer"))
        return str(*a);
      if (auto* d = o.if_contains("data"); d != nullptr && d->is_object())
        if (auto* out = d->as_object().if_contains("outputs");
            out != nullptr && out->is_object())
          return str(out->at("text"));
      return {};
    };
    if (!starts(body, "event:") && !starts(body, "data:"))
      return text_of(boost::json::parse(body).as_object());
    std::string text;
    for (size_t at = body.find("data: "); at != std::string::npos;
         at = body.find("data: ", at + 1)) {
      auto o
        = boost::json::parse(body.substr(at + 6, body.find('\n', at) - at - 6))
            .as_object();
      auto event = str(o.at("event"));
      if (event == "message" || event == "workflow_finished")
        text += text_of(o);
    }
    return text;
  }
};

/// Fast retries for the fault tests.
inline constexpr const char* quick_retry
  = R"("retry_policy": {"max_attempts": 3,
  "backoff_seconds": 0.05, "backoff_multiplier": 1, "jitter": "none"})";

} // namespace troupe::test
