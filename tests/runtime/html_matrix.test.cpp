// The matrix section of the HTML report, from results files: its exact
// cells for a small run with two parameter sets, its pages and size for
// 10,000 cases x 3 parameter sets, and no reference outside the page.

#include "runtime/html_matrix.hpp"

#include "actors/results/result_line.hpp"
#include "runtime/html_report.hpp"

#include <boost/test/unit_test.hpp>

#include "tests/support/temp_dir.hpp"
#include "tests/support/text.hpp"

#include <cstdio>

using namespace troupe;
using namespace troupe::runtime;
using troupe::test::contains;
using troupe::test::report_epoch_us;

namespace {

task_result task(const std::string& case_id, uint32_t param,
                 task_status status) {
  task_result r;
  r.task_id = "qa/" + case_id + "#" + std::to_string(param);
  r.dataset = "qa";
  r.case_id = case_id;
  r.params_json = param == 0 ? R"({"model":"gpt-4o"})" : R"({"model":"mini"})";
  r.status = status;
  r.finished_us = 1000;
  return r;
}

size_t occurrences(const std::string& page, const std::string& text) {
  size_t n = 0;
  for (auto at = page.find(text); at != std::string::npos;
       at = page.find(text, at + 1))
    ++n;
  return n;
}

struct matrix_fixture {
  test::temp_dir dir;

  /// The whole page for a results file holding `results`.
  std::string page(uint64_t tasks, const std::vector<task_result>& results) {
    header_info h;
    h.started_at_us = report_epoch_us;
    h.name = "matrix";
    h.tasks = tasks;
    auto text = encode_header(h);
    for (auto& r : results)
      append_result_line(text, r, report_epoch_us);
    auto path = dir.write("r.jsonl", text);
    auto built = build_report(path, {}, true);
    if (auto* err = std::get_if<config::config_error>(&built))
      BOOST_FAIL(err->message);
    return render_html_report(std::get<report_data>(built), "r.jsonl");
  }

  /// A small run: two parameter sets, every terminal status, a failed
  /// check, a script in an output, a conversation, and one missing task.
  std::string small() {
    auto greet = task("greet", 0, task_status::succeeded);
    greet.output_json = R"({"text":"Hi <script>alert(1)</script>"})";
    auto greet1 = task("greet", 1, task_status::succeeded);
    greet1.output_json = R"("Hi")";
    greet1.assertions
      = {{"regex", true, "matched"}, {"contains", false, R"(no "bye")"}};
    auto slow = task("slow", 0, task_status::timeout);
    slow.error = "attempt timed out after 0.5 s";
    auto slow1 = task("slow", 1, task_status::error);
    slow1.error = "connection reset";
    auto no = task("no", 0, task_status::failed);
    no.error = "HTTP 400";
    auto no1 = task("no", 1, task_status::cancelled);
    no1.error = "cancelled";
    auto chat = task("chat", 0, task_status::succeeded);
    chat.output_json = R"("fine")";
    turn_result first;
    first.query = "hi";
    first.status = task_status::succeeded;
    first.output_json = R"("hello")";
    turn_result second;
    second.query = "how are you?";
    second.status = task_status::succeeded;
    second.output_json = R"("fine")";
    chat.turns = {first, second};
    return page(8, {greet, greet1, slow, slow1, no, no1, chat});
  }
};

// The start of a cell: a status pill.
std::string pill(const std::string& status) {
  return "<td><span class=\"pill\" data-s=\"" + status + "\">" + status
         + "</span>";
}

} // namespace

BOOST_FIXTURE_TEST_SUITE(html_matrix, matrix_fixture)

BOOST_AUTO_TEST_CASE(columns_are_parameter_sets_labelled_by_their_params) {
  auto p = small();
  BOOST_CHECK(
    contains(p, "<h2 id=\"matrix\">Matrix</h2><p class=\"muted\">4 cases "
                "&times; 2 parameter sets, in pages of 200 rows."));
  BOOST_CHECK(contains(
    p, "<tr><th>case</th><th>#0 <code>{&quot;model&quot;:&quot;gpt-4o&quot;}"
       "</code><div class=\"muted\">2 of 4 succeeded</div></th><th>#1 <code>"
       "{&quot;model&quot;:&quot;mini&quot;}</code><div class=\"muted\">1 of "
       "3 succeeded, 1 with failed checks</div></th></tr>"));
}

BOOST_AUTO_TEST_CASE(rows_are_cases_in_order_with_each_status_in_its_cell) {
  auto p = small();
  auto chat = p.find("<td class=\"id\">qa/chat</td>");
  auto greet = p.find("<td class=\"id\">qa/greet</td>");
  auto no = p.find("<td class=\"id\">qa/no</td>");
  auto slow = p.find("<td class=\"id\">qa/slow</td>");
  BOOST_CHECK(chat < greet && greet < no && no < slow
              && slow != std::string::npos);
  BOOST_CHECK(contains(p, "<tr><td class=\"id\">qa/no</td>" + pill("FAILED")
                            + "<div class=\"o er\">HTTP 400</div></td>"
                            + pill("CANCELLED")
                            + "<div class=\"o er\">cancelled</div></td></tr>"));
  BOOST_CHECK(contains(p, "<tr><td class=\"id\">qa/slow</td>" + pill("TIMEOUT")
                            + "<div class=\"o er\">attempt timed out after 0.5 "
                              "s</div></td>"
                            + pill("ERROR")
                            + "<div class=\"o er\">connection reset</div></td>"
                              "</tr>"));
  // The statuses take their colours from the page's pill rules.
  BOOST_CHECK(contains(p, ".pill[data-s=TIMEOUT]{background:"));
}

BOOST_AUTO_TEST_CASE(an_output_is_escaped_and_failed_checks_are_named) {
  auto p = small();
  BOOST_CHECK(
    contains(p, "<tr><td class=\"id\">qa/greet</td>" + pill("SUCCEEDED")
                  + "<div class=\"o\">Hi &lt;script&gt;alert(1)&lt;/"
                    "script&gt;</div></td>"
                  + pill("SUCCEEDED")
                  + "<div class=\"ck bad\">checks: 1 passed, 1 failed "
                    "(contains)</div><div class=\"o\">Hi</div><details>"
                    "<summary>more</summary><div class=\"er\">contains: "
                    "no \"bye\"</div></details></td></tr>"));
  BOOST_CHECK(!contains(p, "<script"));
}

BOOST_AUTO_TEST_CASE(a_conversation_expands_to_each_turn_and_a_gap_says_so) {
  auto p = small();
  BOOST_CHECK(contains(
    p, "<tr><td class=\"id\">qa/chat</td>" + pill("SUCCEEDED")
         + "<div class=\"o\">fine</div><details><summary>more</summary>"
           "<ol class=\"tn\"><li><span class=\"pill\" data-s=\"SUCCEEDED\">"
           "SUCCEEDED</span> <b>hi</b><pre>hello</pre></li><li><span "
           "class=\"pill\" data-s=\"SUCCEEDED\">SUCCEEDED</span> <b>how are "
           "you?</b><pre>fine</pre></li></ol></details></td>"
           "<td class=\"none\">no result</td></tr>"));
}

BOOST_AUTO_TEST_CASE(a_long_output_expands_to_the_whole_of_it) {
  auto r = task("long", 0, task_status::succeeded);
  std::string text;
  for (int i = 0; i < 30; ++i)
    text += "line " + std::to_string(i) + "\n";
  append_json_string(r.output_json, text);
  auto p = page(1, {r});
  BOOST_CHECK(contains(p, pill("SUCCEEDED") + "<div class=\"o\">"
                            + text.substr(0, 120) + "&hellip;</div><details>"
                            + "<summary>more</summary><pre>" + text
                            + "</pre></details></td></tr>"));
  BOOST_CHECK(contains(p, "1 case &times; 1 parameter set"));
}

BOOST_AUTO_TEST_CASE(the_page_refers_to_nothing_outside_itself) {
  auto p = small();
  BOOST_CHECK(!contains(p, "http://"));
  BOOST_CHECK(!contains(p, "https://"));
  BOOST_CHECK(!contains(p, "src="));
  BOOST_CHECK(!contains(p, "@import"));
  BOOST_CHECK(!contains(p, "url("));
  BOOST_CHECK(!contains(p, "href="));
  BOOST_CHECK(!contains(p, "<link"));
}

BOOST_AUTO_TEST_CASE(ten_thousand_cases_by_three_params_page_and_stay_small) {
  // Outputs of 1,000 characters: 30 MB of them, more than the page may be.
  std::string text;
  append_json_string(text, std::string(1000, 'o'));
  std::string lines;
  {
    header_info h;
    h.started_at_us = report_epoch_us;
    h.tasks = 30'000;
    lines = encode_header(h);
  }
  for (int c = 0; c < 10'000; ++c)
    for (uint32_t p = 0; p < 3; ++p) {
      auto r = task("case-" + std::to_string(c), p,
                    c % 10 == 0 ? task_status::failed : task_status::succeeded);
      r.output_json = text;
      append_result_line(lines, r, report_epoch_us);
    }
  auto path = dir.write("big.jsonl", lines);
  lines.clear();
  auto built = build_report(path, {}, true);
  BOOST_REQUIRE(std::holds_alternative<report_data>(built));
  auto page = render_html_report(std::get<report_data>(built), "big.jsonl");
  BOOST_TEST_MESSAGE("10,000 x 3 page: " << page.size() << " bytes");
  BOOST_CHECK_LT(page.size(), 20'000'000u);
  auto matrix = page.substr(page.find("<h2 id=\"matrix\">"));
  BOOST_CHECK_EQUAL(occurrences(matrix, "<tr><td class=\"id\">qa/"), 10'000u);
  BOOST_CHECK_EQUAL(occurrences(page, "<details class=\"pg\""), 50u);
  BOOST_CHECK_EQUAL(occurrences(page, "<details class=\"pg\" open>"), 1u);
  BOOST_CHECK_EQUAL(occurrences(page, "<div class=\"muted\">cut at 279 "
                                      "bytes</div>"),
                    30'000u);
  BOOST_CHECK(contains(page,
                       "<summary>Cases 201&ndash;400 of 10000: qa/case-200 "
                       "&hellip; qa/case-399</summary>"));
}

BOOST_AUTO_TEST_SUITE_END()
