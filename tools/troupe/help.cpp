// The troupe command's help pages.

#include "tools/troupe/help.hpp"

#include <set>

namespace troupe::cli {

namespace {

// " MANIFEST [options]": the positionals, then options if it has any.
std::string usage_tail(const CLI::App* app) {
  if (app->get_prefix_command())
    return " ...";
  std::string out;
  for (auto* opt : app->get_options())
    if (opt->get_positional())
      out += opt->get_required() ? " " + opt->get_name()
                                 : " [" + opt->get_name() + "]";
  for (auto* opt : app->get_options())
    if (opt->nonpositional() && opt->get_name() != "--help")
      return out + " [options]";
  return out;
}

// "--force or --out", in name order rather than pointer order.
std::string names_of(const std::set<CLI::Option*>& opts) {
  std::set<std::string> sorted;
  for (auto* o : opts)
    sorted.insert(o->get_name());
  std::string text;
  for (auto& name : sorted)
    text += (text.empty() ? "" : " or ") + name;
  return text;
}

} // namespace

std::string help_formatter::make_help(const CLI::App* app, std::string name,
                                      CLI::AppFormatMode mode) const {
  if (app->get_parent() == nullptr)
    return main_help(app);
  std::string out = "Usage: " + name + usage_tail(app) + "\n\n";
  out += app->get_description() + "\n";
  out += make_groups(app, mode);
  if (!app->get_footer().empty())
    out += "\n" + app->get_footer() + "\n";
  return out;
}

std::string help_formatter::make_option_opts(const CLI::Option* opt) const {
  return opt->get_items_expected_max() == 0 ? "" : " " + opt->get_type_name();
}

std::string help_formatter::make_option_desc(const CLI::Option* opt) const {
  auto out = opt->get_description();
  if (!opt->get_needs().empty())
    out += "\n(needs " + names_of(opt->get_needs()) + ")";
  if (!opt->get_excludes().empty())
    out += "\n(not with " + names_of(opt->get_excludes()) + ")";
  return out;
}

std::string help_formatter::main_help(const CLI::App* app) const {
  std::string out = app->get_description() + "\n\nUsage:\n";
  auto entry = [&](const std::string& usage, const std::string& summary) {
    out += "  " + usage;
    // At least two spaces: tools/gen-docs.sh splits usage from summary
    // there.
    out += std::string(usage.size() < 35 ? 36 - usage.size() : 2, ' ');
    out += summary + "\n";
  };
  for (auto* sub : app->get_subcommands([](const CLI::App*) { return true; }))
    if (auto i = summaries.find(sub->get_name()); i != summaries.end())
      entry("troupe " + sub->get_name() + usage_tail(sub), i->second);
  entry("troupe --version", "print the version");
  return out + "\n" + app->get_footer() + "\n";
}

} // namespace troupe::cli
