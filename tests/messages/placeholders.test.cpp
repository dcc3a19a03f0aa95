// The {{...}} grammar: how a template splits into parts, and the errors a
// manifest check reports for it.

#include "messages/placeholders.hpp"

#include <boost/test/unit_test.hpp>

#include <string>

using namespace troupe;

namespace {

using kind = template_part_kind;

// The parts as "kind:text" words, for one readable comparison.
std::string parts_of(std::string_view templ) {
  static const char* names[] = {"literal", "input",   "param",   "case_id",
                                "task_id", "unknown", "unclosed"};
  std::string out;
  for (auto& p : parse_template(templ)) {
    if (!out.empty())
      out += ' ';
    out += names[static_cast<int>(p.kind)];
    out += ':';
    out += p.text;
    if (!p.key.empty()) {
      out += '=';
      out += p.key;
    }
  }
  return out;
}

} // namespace

BOOST_AUTO_TEST_SUITE(placeholders)

BOOST_AUTO_TEST_CASE(a_template_without_braces_is_one_literal) {
  BOOST_CHECK_EQUAL(parts_of("https://svc.test/run"),
                    "literal:https://svc.test/run");
  BOOST_CHECK(parse_template("").empty());
}

BOOST_AUTO_TEST_CASE(the_four_known_names_are_told_apart) {
  BOOST_CHECK_EQUAL(parts_of("/{{case_id}}?q={{inputs.text}}&s={{params.s}}"
                             "#{{task_id}}"),
                    "literal:/ case_id:case_id literal:?q= "
                    "input:inputs.text=text literal:&s= param:params.s=s "
                    "literal:# task_id:task_id");
}

BOOST_AUTO_TEST_CASE(adjacent_placeholders_leave_no_empty_literal) {
  BOOST_CHECK_EQUAL(parts_of("{{case_id}}{{task_id}}"),
                    "case_id:case_id task_id:task_id");
}

BOOST_AUTO_TEST_CASE(a_name_runs_to_the_first_closing_braces) {
  BOOST_CHECK_EQUAL(parts_of("{{inputs.a}}}"), "input:inputs.a=a literal:}");
  BOOST_CHECK_EQUAL(parts_of("{{a{{inputs.b}}"), "unknown:a{{inputs.b");
  BOOST_CHECK_EQUAL(parts_of("{{inputs.a.b}}"), "input:inputs.a.b=a.b");
}

BOOST_AUTO_TEST_CASE(other_names_are_unknown) {
  BOOST_CHECK_EQUAL(parts_of("{{input.q}}"), "unknown:input.q");
  BOOST_CHECK_EQUAL(parts_of("{{inputs.}}"), "unknown:inputs.");
  BOOST_CHECK_EQUAL(parts_of("{{ case_id }}"), "unknown: case_id ");
  BOOST_CHECK_EQUAL(parts_of("{{}}"), "unknown:");
}

BOOST_AUTO_TEST_CASE(an_unclosed_brace_pair_keeps_the_rest_as_it_is) {
  BOOST_CHECK_EQUAL(parts_of("a{{case_id}}b{{inputs.x"),
                    "literal:a case_id:case_id literal:b unclosed:{{inputs.x");
  auto parts = parse_template("x{{y");
  BOOST_REQUIRE_EQUAL(parts.size(), 2u);
  BOOST_CHECK(parts[0].kind == kind::literal);
  BOOST_CHECK(parts[1].kind == kind::unclosed);
  BOOST_CHECK_EQUAL(parts[1].text, "{{y");
}

BOOST_AUTO_TEST_CASE(a_valid_template_has_no_error) {
  BOOST_CHECK(!template_error("{{inputs.a}}/{{params.b}}/{{case_id}}"));
  BOOST_CHECK(!template_error("no placeholders } here {"));
}

BOOST_AUTO_TEST_CASE(errors_are_worded_as_the_manifest_reports_them) {
  BOOST_CHECK_EQUAL(template_error("x/{{inputs.a").value_or(""),
                    "has an unclosed \"{{\"");
  BOOST_CHECK_EQUAL(template_error("x/{{input.q}}").value_or(""),
                    "unknown placeholder {{input.q}} (expected "
                    "{{inputs.NAME}}, {{params.NAME}}, {{case_id}} or "
                    "{{task_id}})");
}

BOOST_AUTO_TEST_CASE(the_first_error_in_the_text_is_reported) {
  BOOST_CHECK_EQUAL(template_error("{{bad}} {{inputs.a").value_or(""),
                    "unknown placeholder {{bad}} (expected "
                    "{{inputs.NAME}}, {{params.NAME}}, {{case_id}} or "
                    "{{task_id}})");
}

BOOST_AUTO_TEST_SUITE_END()
