// Scores answers locally: a plain function is the executor, no service is
// called. The manifest is built in code, results come through a callback.
//
//   manifest (JSON in code) ─▶ troupe::run ─▶ score() on the run's pool
//                                   └▶ on_result: one line per case

#include <troupe/troupe.hpp>

#include <cctype>
#include <cstdio>
#include <set>
#include <sstream>
#include <string>

namespace {

// The words of `text`, lower case, punctuation dropped.
std::set<std::string> words(const std::string& text) {
  std::set<std::string> out;
  std::string word;
  for (char c : text + " ") {
    if (std::isalnum(static_cast<unsigned char>(c))) {
      word += static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
    } else if (!word.empty()) {
      out.insert(word);
      word.clear();
    }
  }
  return out;
}

// The value of `"key": "..."` in flat JSON text (good enough for a demo).
std::string field(const std::string& json, const std::string& key) {
  auto at = json.find("\"" + key + "\":\"");
  if (at == std::string::npos)
    return "";
  at += key.size() + 4;
  return json.substr(at, json.find('"', at) - at);
}

// Recall of the reference's words in the answer, as {"score": S}.
troupe::attempt_reply score(const troupe::attempt_request& req,
                            troupe::cancel_token) {
  auto answer = words(field(req.task.inputs_json, "answer"));
  auto reference = words(field(req.task.inputs_json, "reference"));
  size_t hits = 0;
  for (auto& w : reference)
    hits += answer.count(w);
  double s = reference.empty() ? 0.0 : double(hits) / double(reference.size());
  troupe::attempt_reply r;
  std::ostringstream out;
  out << R"({"score":)" << s << R"(,"verdict":")"
      << (s >= 0.5 ? "pass" : "fail") << "\"}";
  r.output_json = out.str();
  return r;
}

const char* manifest_json = R"({
  "name": "score-locally",
  "target": {"type": "custom", "name": "word-recall"},
  "datasets": [{
    "name": "qa",
    "expect": {"json": {"/verdict": "pass"}},
    "cases": [
      {"id": "capital", "inputs": {"answer": "Paris is the capital of France",
                                   "reference": "Paris"}},
      {"id": "boiling", "inputs": {"answer": "Water boils at 100 degrees",
                                   "reference": "100 degrees Celsius"}},
      {"id": "planets", "inputs": {"answer": "There are eight planets",
                                   "reference": "eight planets"}}
    ]
  }]
})";

} // namespace

int main() {
  try {
    auto m = troupe::manifest_from_json(manifest_json);
    troupe::run_options opts;
    opts.execute = score;
    opts.on.on_result = [](const troupe::task_result& r) {
      std::printf("%-16s %-9s %s\n", r.task_id.c_str(),
                  troupe::status_name(r.status), r.output_json.c_str());
    };
    auto s = troupe::run(m, opts);
    auto ok = s.counts[size_t(troupe::task_status::succeeded)];
    std::printf("%llu of %llu scored, %llu below the bar\n",
                static_cast<unsigned long long>(ok),
                static_cast<unsigned long long>(s.total),
                static_cast<unsigned long long>(s.assertions_failed));
    return ok == s.total && s.assertions_failed == 0 ? 0 : 1;
  } catch (const troupe::error& e) {
    std::fprintf(stderr, "score_locally: %s\n", e.what());
    return e.exit_code();
  }
}
