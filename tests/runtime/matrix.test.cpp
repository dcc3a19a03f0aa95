// The report's matrix as data: where a task goes, what its cell holds, how
// text is cut and rows are ordered.

#include "runtime/matrix.hpp"

#include <boost/test/unit_test.hpp>

using namespace troupe;
using namespace troupe::runtime;

namespace {

task_result task(const std::string& dataset, const std::string& case_id,
                 uint32_t param, task_status status) {
  task_result r;
  r.task_id = dataset + "/" + case_id + "#" + std::to_string(param);
  r.dataset = dataset;
  r.case_id = case_id;
  r.params_json = R"({"p":)" + std::to_string(param) + "}";
  r.status = status;
  return r;
}

} // namespace

BOOST_AUTO_TEST_SUITE(matrix)

BOOST_AUTO_TEST_CASE(the_parameter_index_is_the_number_after_the_last_hash) {
  BOOST_CHECK_EQUAL(param_index("d/c#2"), 2u);
  BOOST_CHECK_EQUAL(param_index("d/c#1#13"), 13u);
  BOOST_CHECK_EQUAL(param_index("d/c"), 0u);
  BOOST_CHECK_EQUAL(param_index("d/c#"), 0u);
  BOOST_CHECK_EQUAL(param_index("d/c#x1"), 0u);
  BOOST_CHECK_EQUAL(param_index("d/c#99999999999"), 0u);
}

BOOST_AUTO_TEST_CASE(an_output_shows_as_text_where_it_is_one) {
  BOOST_CHECK_EQUAL(output_text(R"("a\nb")"), "a\nb");
  BOOST_CHECK_EQUAL(output_text(R"({"text":"hi"})"), "hi");
  BOOST_CHECK_EQUAL(output_text(R"({"text":"hi","n":1})"),
                    R"({"text":"hi","n":1})");
  BOOST_CHECK_EQUAL(output_text(R"({"n":1})"), R"({"n":1})");
  BOOST_CHECK_EQUAL(output_text("[1,2]"), "[1,2]");
  BOOST_CHECK_EQUAL(output_text(""), "");
}

BOOST_AUTO_TEST_CASE(cuts_never_split_a_utf8_character) {
  std::string s = "a\xC3\xA9\xE2\x82\xAC"; // a, e-acute, euro: 1+2+3 bytes
  BOOST_CHECK_EQUAL(cut_utf8(s, 2), "a");
  BOOST_CHECK_EQUAL(cut_utf8(s, 3), "a\xC3\xA9");
  BOOST_CHECK_EQUAL(cut_utf8(s, 5), "a\xC3\xA9");
  BOOST_CHECK_EQUAL(cut_utf8(s, 6), s);
  BOOST_CHECK_EQUAL(first_chars(s, 2), "a\xC3\xA9");
  BOOST_CHECK_EQUAL(first_chars(s, 3), s);
  BOOST_CHECK_EQUAL(first_chars(s, 0), "");
}

BOOST_AUTO_TEST_CASE(case_ids_sort_with_numbers_as_numbers) {
  BOOST_CHECK(natural_less("case-2", "case-10"));
  BOOST_CHECK(!natural_less("case-10", "case-2"));
  BOOST_CHECK(natural_less("a", "a1"));
  BOOST_CHECK(natural_less("1", "01"));
  BOOST_CHECK(!natural_less("01", "1"));
  BOOST_CHECK(natural_less("x9y", "x10"));
  BOOST_CHECK(!natural_less("b", "b"));
  BOOST_CHECK(natural_less("B", "a"));
}

BOOST_AUTO_TEST_CASE(the_cell_cap_shrinks_past_2048_cells_down_to_a_floor) {
  BOOST_CHECK_EQUAL(matrix_cell_cap(0), 4096u);
  BOOST_CHECK_EQUAL(matrix_cell_cap(2048), 4096u);
  BOOST_CHECK_EQUAL(matrix_cell_cap(4096), 2048u);
  BOOST_CHECK_EQUAL(matrix_cell_cap(30'000), 279u);
  BOOST_CHECK_EQUAL(matrix_cell_cap(60'000), 256u);
}

BOOST_AUTO_TEST_CASE(tasks_fill_rows_by_case_and_columns_by_parameter_set) {
  matrix_data m;
  auto ok = task("d", "case-10", 0, task_status::succeeded);
  ok.assertions = {{"contains", true, ""}, {"regex", false, "no match"}};
  add_to_matrix(m, ok);
  add_to_matrix(m, task("d", "case-2", 1, task_status::failed));
  add_to_matrix(m, task("d", "case-2", 0, task_status::succeeded));
  add_to_matrix(m, task("a", "z", 1, task_status::timeout));
  sort_matrix(m);
  BOOST_REQUIRE_EQUAL(m.rows.size(), 3u);
  BOOST_CHECK_EQUAL(m.rows[0].case_id, "z");
  BOOST_CHECK_EQUAL(m.rows[1].case_id, "case-2");
  BOOST_CHECK_EQUAL(m.rows[2].case_id, "case-10");
  BOOST_CHECK_EQUAL(m.rows[1].cells.size(), 2u);
  BOOST_CHECK_EQUAL(m.cells, 4u);
  BOOST_REQUIRE_EQUAL(m.columns.size(), 2u);
  BOOST_CHECK_EQUAL(m.columns[0].params_json, R"({"p":0})");
  BOOST_CHECK_EQUAL(m.columns[0].tasks, 2u);
  BOOST_CHECK_EQUAL(m.columns[0].succeeded, 2u);
  BOOST_CHECK_EQUAL(m.columns[0].checks_failed, 1u);
  BOOST_CHECK_EQUAL(m.columns[1].succeeded, 0u);
  auto& c = m.rows[2].cells.at(0);
  BOOST_CHECK_EQUAL(c.status, "SUCCEEDED");
  BOOST_CHECK_EQUAL(c.checks_passed, 1u);
  BOOST_REQUIRE_EQUAL(c.failed_checks.size(), 1u);
  BOOST_CHECK_EQUAL(c.failed_checks[0], "regex");
  BOOST_CHECK_EQUAL(c.failed_details[0], "regex: no match");
  BOOST_CHECK(c.expands);
}

BOOST_AUTO_TEST_CASE(a_long_output_is_shortened_in_the_cell_and_cut_in_full) {
  matrix_data m;
  m.cell_cap = 300;
  auto r = task("d", "c", 0, task_status::succeeded);
  r.output_json = "\"" + std::string(500, 'x') + "\"";
  add_to_matrix(m, r);
  auto& c = m.rows.at(0).cells.at(0);
  BOOST_CHECK_EQUAL(c.short_text, std::string(120, 'x'));
  BOOST_CHECK(c.short_more);
  BOOST_CHECK_EQUAL(c.output, std::string(300, 'x'));
  BOOST_CHECK(c.cut);
  BOOST_CHECK(c.expands);
}

BOOST_AUTO_TEST_CASE(a_short_output_needs_no_expansion) {
  matrix_data m;
  auto r = task("d", "c", 0, task_status::succeeded);
  r.output_json = R"("short")";
  add_to_matrix(m, r);
  auto& c = m.rows.at(0).cells.at(0);
  BOOST_CHECK_EQUAL(c.short_text, "short");
  BOOST_CHECK(!c.short_more);
  BOOST_CHECK(c.output.empty());
  BOOST_CHECK(!c.expands);
}

BOOST_AUTO_TEST_CASE(without_an_output_the_cell_shows_the_error) {
  matrix_data m;
  auto r = task("d", "c", 0, task_status::failed);
  r.error = "HTTP 500";
  add_to_matrix(m, r);
  auto& c = m.rows.at(0).cells.at(0);
  BOOST_CHECK_EQUAL(c.short_text, "HTTP 500");
  BOOST_CHECK(c.short_is_error);
  BOOST_CHECK(c.error.empty());
  BOOST_CHECK(!c.expands);
}

BOOST_AUTO_TEST_CASE(
  a_task_that_did_not_succeed_shows_why_and_keeps_its_output) {
  matrix_data m;
  auto r = task("d", "c", 0, task_status::failed);
  r.output_json = R"("partial answer")";
  r.error = "HTTP 500";
  add_to_matrix(m, r);
  auto& c = m.rows.at(0).cells.at(0);
  BOOST_CHECK_EQUAL(c.short_text, "HTTP 500");
  BOOST_CHECK(c.short_is_error);
  BOOST_CHECK(c.error.empty());
  BOOST_CHECK_EQUAL(c.output, "partial answer");
  BOOST_CHECK(c.expands);
}

BOOST_AUTO_TEST_CASE(a_conversation_expands_to_its_turns_within_the_cap) {
  matrix_data m;
  m.cell_cap = 10;
  auto r = task("d", "c", 0, task_status::succeeded);
  r.output_json = R"("second answer")";
  turn_result first;
  first.query = "hi";
  first.status = task_status::succeeded;
  first.output_json = R"("hello")";
  turn_result second;
  second.query = "and?";
  second.status = task_status::succeeded;
  second.output_json = r.output_json;
  r.turns = {first, second};
  add_to_matrix(m, r);
  auto& c = m.rows.at(0).cells.at(0);
  BOOST_CHECK_EQUAL(c.short_text, "second answer");
  BOOST_CHECK(c.output.empty());
  BOOST_REQUIRE_EQUAL(c.turns.size(), 2u);
  BOOST_CHECK_EQUAL(c.turns[0].query, "hi");
  BOOST_CHECK_EQUAL(c.turns[0].output, "hello");
  BOOST_CHECK_EQUAL(c.turns[1].query, "and");
  BOOST_CHECK_EQUAL(c.turns[1].output, "");
  BOOST_CHECK_EQUAL(c.turns[1].status, "SUCCEEDED");
  BOOST_CHECK(c.cut);
}

BOOST_AUTO_TEST_CASE(cases_past_the_cell_limit_are_counted_not_kept) {
  matrix_data m;
  for (size_t i = 0; i < matrix_cell_limit + 3; ++i)
    add_to_matrix(m, task("d", std::to_string(i), 0, task_status::succeeded));
  BOOST_CHECK_EQUAL(m.rows.size(), matrix_cell_limit);
  BOOST_CHECK_EQUAL(m.left_out, 3u);
  BOOST_CHECK_EQUAL(m.columns[0].tasks, matrix_cell_limit + 3);
}

BOOST_AUTO_TEST_SUITE_END()
