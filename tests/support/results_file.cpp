// Parses results files in tests.

#include "tests/support/results_file.hpp"

#include <boost/json/parse.hpp>
#include <boost/test/unit_test.hpp>

#include "tests/support/temp_dir.hpp"

#include <algorithm>

namespace json = boost::json;

namespace troupe::test {

results_file read_results(const std::string& path) {
  results_file f;
  auto text = read_file(path);
  BOOST_REQUIRE_MESSAGE(!text.empty(), "empty results file " + path);
  BOOST_CHECK_MESSAGE(text.back() == '\n', "the last line is not whole");
  size_t pos = 0;
  size_t line_no = 0;
  while (pos < text.size()) {
    auto nl = text.find('\n', pos);
    auto line = text.substr(pos, nl == std::string::npos ? nl : nl - pos);
    pos = nl == std::string::npos ? text.size() : nl + 1;
    ++line_no;
    json::error_code ec;
    auto v = json::parse(line, ec);
    BOOST_REQUIRE_MESSAGE(!ec && v.is_object(), path << ":" << line_no
                                                     << " is not a JSON "
                                                        "object: "
                                                     << line);
    auto& obj = v.as_object();
    if (obj.at("type") == "result") {
      auto id = std::string{obj.at("task_id").as_string()};
      f.results[id] = obj;
      f.result_count[id] += 1;
    }
    f.lines.push_back(std::move(obj));
  }
  return f;
}

const json::object& results_file::header() const {
  BOOST_REQUIRE(!lines.empty());
  BOOST_REQUIRE_EQUAL(lines.front().at("type").as_string(), "header");
  return lines.front();
}

bool results_file::has_summary() const {
  return !lines.empty() && lines.back().at("type") == "summary";
}

const json::object& results_file::summary() const {
  BOOST_REQUIRE(has_summary());
  return lines.back();
}

std::string results_file::status(const std::string& task_id) const {
  auto i = results.find(task_id);
  BOOST_REQUIRE_MESSAGE(i != results.end(), "no result for " + task_id);
  return std::string{i->second.at("status").as_string()};
}

int64_t results_file::attempts(const std::string& task_id) const {
  auto i = results.find(task_id);
  BOOST_REQUIRE_MESSAGE(i != results.end(), "no result for " + task_id);
  return i->second.at("attempts").as_int64();
}

size_t results_file::count(const std::string& s) const {
  size_t n = 0;
  for (auto& kv : results)
    if (kv.second.at("status") == s.c_str())
      ++n;
  return n;
}

size_t count_lines(const std::string& path) {
  auto text = read_file(path);
  return static_cast<size_t>(std::count(text.begin(), text.end(), '\n'));
}

} // namespace troupe::test
