// The binary against hostile input and a hostile machine: files without line
// breaks, devices and FIFOs as datasets, an output that names an input, a
// full or capped disk, a quick second Ctrl+C, and a kill before the first
// line (issue 14's probe). Each test failed before its fix.

#include <boost/json/parse.hpp>
#include <boost/test/unit_test.hpp>

#include "tests/support/process.hpp"
#include "tests/support/results_file.hpp"
#include "tests/support/temp_dir.hpp"
#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <atomic>
#include <csignal>
#include <thread>

using namespace std::chrono_literals;
using namespace troupe::test;
namespace utf = boost::unit_test;

namespace {

struct hardening_fixture {
  temp_dir dir;

  process_result troupe(std::vector<std::string> args,
                        std::chrono::milliseconds limit = 60s) {
    args.insert(args.begin(), troupe_binary());
    return run_process(std::move(args), limit, dir.path());
  }

  /// A stub manifest over `cases.jsonl` with `n` cases, each `delay` s.
  std::string stub_manifest(int n, double delay, int concurrency = 8,
                            const std::string& name = "m.json") {
    std::string cases;
    for (int i = 0; i < n; ++i)
      cases += "{\"id\": \"c" + std::to_string(i) + "\"}\n";
    auto cases_file
      = name == "m.json" ? std::string{"cases.jsonl"} : name + ".cases.jsonl";
    dir.write(cases_file, cases);
    return dir.write(name, R"({"target": {"type": "stub"},
      "datasets": [{"name": "d", "file": ")"
                             + cases_file + R"("}],
      "execution_policy": {"concurrency": )"
                             + std::to_string(concurrency) + R"(},
      "stub": {"simulated_delay_seconds": )"
                             + std::to_string(delay) + "}}");
  }

  /// Whether the file is empty or ends with a line break, and every line
  /// is JSON.
  static bool whole_lines(const std::string& path) {
    auto text = read_file(path);
    if (!text.empty() && text.back() != '\n')
      return false;
    size_t start = 0;
    for (size_t nl; (nl = text.find('\n', start)) != std::string::npos;
         start = nl + 1) {
      boost::json::error_code ec;
      boost::json::parse(std::string_view{text}.substr(start, nl - start), ec);
      if (ec)
        return false;
    }
    return true;
  }

  static size_t count_lines(const std::string& path) {
    auto text = read_file(path);
    return static_cast<size_t>(std::count(text.begin(), text.end(), '\n'));
  }
};

} // namespace

BOOST_FIXTURE_TEST_SUITE(hardening, hardening_fixture)

BOOST_AUTO_TEST_CASE(a_device_as_dataset_is_refused_up_front,
                     *utf::timeout(30)) {
  // /dev/zero has no line break: reading it grew to 4 GB and died.
  dir.write("m.json", R"({"target": {"type": "stub"},
    "datasets": [{"name": "d", "file": "zero.jsonl"}]})");
  BOOST_REQUIRE_EQUAL(::symlink("/dev/zero", dir.file("zero.jsonl").c_str()),
                      0);
  auto r = troupe({"validate", "m.json"}, 20s);
  BOOST_CHECK_EQUAL(r.code, 2);
  BOOST_CHECK_NE(r.err.find("zero.jsonl: is a character device; a dataset "
                            "file must be a regular file"),
                 std::string::npos);
  BOOST_REQUIRE_EQUAL(::mkfifo(dir.file("fifo.jsonl").c_str(), 0600), 0);
  dir.write("f.json", R"({"target": {"type": "stub"},
    "datasets": [{"name": "d", "file": "fifo.jsonl"}]})");
  r = troupe({"run", "f.json", "--out", "r.jsonl"}, 20s);
  BOOST_CHECK_EQUAL(r.code, 2);
  BOOST_CHECK_NE(r.err.find("fifo.jsonl: is a FIFO"), std::string::npos);
}

BOOST_AUTO_TEST_CASE(a_line_over_the_cap_names_file_line_and_limit,
                     *utf::timeout(30)) {
  std::string big(5000, 'x');
  dir.write("cases.jsonl", "{\"id\": \"a\"}\n{\"id\": \"" + big + "\"}\n");
  dir.write("m.json", R"({"target": {"type": "stub"},
    "datasets": [{"name": "d", "file": "cases.jsonl"}],
    "execution_policy": {"limits": {"max_line_bytes": 4096}}})");
  auto r = troupe({"validate", "m.json"}, 20s);
  BOOST_CHECK_EQUAL(r.code, 2);
  BOOST_CHECK_NE(r.err.find("cases.jsonl:2: line longer than the limit of "
                            "4096 bytes"),
                 std::string::npos);
  // The flag wins over the manifest.
  r = troupe({"validate", "m.json", "--max-line-bytes", "8192"}, 20s);
  BOOST_CHECK_EQUAL(r.code, 0);
  // A manifest over its cap.
  r = troupe({"validate", "m.json", "--max-line-bytes", "8192",
              "--max-manifest-bytes", "1024"},
             20s);
  BOOST_CHECK_EQUAL(r.code, 0);
  dir.write("pad.json", R"({"name": ")" + big + R"(", "target": {"type":
    "stub"}, "datasets": [{"name": "d", "cases": [{"id": "a"}]}]})");
  r = troupe({"validate", "pad.json", "--max-manifest-bytes", "4096"}, 20s);
  BOOST_CHECK_EQUAL(r.code, 2);
  BOOST_CHECK_NE(r.err.find("pad.json: manifest is 50"), std::string::npos);
  BOOST_CHECK_NE(r.err.find("over the limit of 4096"), std::string::npos);
}

BOOST_AUTO_TEST_CASE(misleading_messages_say_what_is_wrong, *utf::timeout(30)) {
  auto r = troupe({"validate", dir.path()}, 20s);
  BOOST_CHECK_EQUAL(r.code, 2);
  BOOST_CHECK_NE(r.err.find("is a directory, expected a manifest file"),
                 std::string::npos);
  std::string garbage;
  for (int i = 0; i < 3000; ++i)
    garbage += static_cast<char>((i * 7919) % 251 + 1);
  garbage.erase(std::remove(garbage.begin(), garbage.end(), '\n'),
                garbage.end());
  dir.write("garbage.bin", garbage);
  r = troupe({"report", "garbage.bin"}, 20s);
  BOOST_CHECK_EQUAL(r.code, 2);
  BOOST_CHECK_NE(r.err.find("garbage.bin: not a troupe results file"),
                 std::string::npos);
  dir.write("lines.bin", "\x01\x02 binary\n\x7f more\n");
  r = troupe({"report", "lines.bin"}, 20s);
  BOOST_CHECK_EQUAL(r.code, 2);
  BOOST_CHECK_NE(r.err.find("lines.bin:1: not a troupe results file"),
                 std::string::npos);
}

BOOST_AUTO_TEST_CASE(output_never_overwrites_an_input, *utf::timeout(30)) {
  auto m = stub_manifest(3, 0);
  auto before = read_file(dir.file("cases.jsonl"));
  for (auto* flag : {"--out", "--summary-json"}) {
    auto r = troupe({"run", m, flag, "cases.jsonl", "--force"}, 20s);
    BOOST_CHECK_EQUAL(r.code, 2);
    BOOST_CHECK_NE(r.err.find("cases.jsonl: this is datasets[0].file"),
                   std::string::npos);
  }
  auto r = troupe({"run", m, "--out", "m.json", "--force"}, 20s);
  BOOST_CHECK_EQUAL(r.code, 2);
  BOOST_CHECK_NE(r.err.find("this is the manifest"), std::string::npos);
  BOOST_CHECK_EQUAL(read_file(dir.file("cases.jsonl")), before);
}

BOOST_AUTO_TEST_CASE(an_unwritable_file_stops_the_run_with_exit_4,
                     *utf::timeout(60)) {
  auto m = stub_manifest(20, 0);
  auto r = troupe({"run", m, "--out", "/dev/full", "--force"}, 30s);
  BOOST_CHECK_EQUAL(r.code, 4);
  BOOST_CHECK_NE(r.err.find("/dev/full: cannot write results"),
                 std::string::npos);
  // A file that fills up mid-run (a 64 KiB file size limit): the run stops
  // at the first failed write instead of spending every call.
  m = stub_manifest(4000, 0.005);
  r = run_process({"/bin/sh", "-c", "ulimit -f 64; exec \"$0\" \"$@\"",
                   troupe_binary(), "run", m, "--out", "r.jsonl",
                   "--summary-json", "s.json", "--progress", "never"},
                  50s, dir.path());
  BOOST_TEST_MESSAGE(r.err);
  BOOST_CHECK_EQUAL(r.code, 4);
  BOOST_CHECK(whole_lines(dir.file("r.jsonl")));
  auto summary = boost::json::parse(read_file(dir.file("s.json")));
  BOOST_CHECK_EQUAL(summary.at("end").as_string(), "unwritable");
  // Dispatch stopped near the ~200 lines that fit, far from all 4,000.
  auto attempts = summary.at("attempts").to_number<int64_t>();
  BOOST_CHECK_GT(attempts, 0);
  BOOST_CHECK_LT(attempts, 2000);
  BOOST_CHECK_LT(count_lines(dir.file("r.jsonl")), 4000u);
}

BOOST_AUTO_TEST_CASE(a_quick_second_ctrl_c_leaves_whole_lines,
                     *utf::timeout(240)) {
  // The results go to a FIFO that the test drains slowly, so the sink is
  // nearly always inside a 256 KiB write(2) when the second Ctrl+C comes:
  // an exit then cut the line in flight. Now it waits for that write.
  auto m = stub_manifest(300'000, 0, 8);
  for (int round = 0; round < 3; ++round) {
    auto out = dir.file("r" + std::to_string(round) + ".fifo");
    BOOST_REQUIRE_EQUAL(::mkfifo(out.c_str(), 0600), 0);
    std::atomic<size_t> received{0};
    std::string text;
    std::thread reader{[&] {
      int fd = ::open(out.c_str(), O_RDONLY);
      char buf[16384];
      for (ssize_t n; (n = ::read(fd, buf, sizeof(buf))) > 0;) {
        text.append(buf, static_cast<size_t>(n));
        received = text.size();
        std::this_thread::sleep_for(std::chrono::milliseconds{2});
      }
      ::close(fd);
    }};
    child_process p{{troupe_binary(), "run", m, "--out", out, "--force",
                     "--progress", "never"},
                    dir.path()};
    bool started = eventually([&] { return received > 300'000; }, 60s);
    p.signal(SIGINT);
    std::this_thread::sleep_for(std::chrono::milliseconds{30 + 20 * round});
    p.signal(SIGINT);
    auto r = p.wait(120s);
    reader.join();
    BOOST_REQUIRE(started);
    BOOST_CHECK_EQUAL(r.code, 130);
    auto path = dir.write("r" + std::to_string(round) + ".jsonl", text);
    BOOST_CHECK_MESSAGE(whole_lines(path),
                        "round " << round << ": " << text.size() << " bytes");
  }
}

BOOST_AUTO_TEST_CASE(resume_adopts_a_file_killed_before_its_first_line,
                     *utf::timeout(60)) {
  auto m = stub_manifest(5, 0);
  dir.write("empty.jsonl", "");
  auto r = troupe({"run", m, "--resume", "empty.jsonl"}, 30s);
  BOOST_CHECK_EQUAL(r.code, 0);
  auto f = read_results(dir.file("empty.jsonl"));
  BOOST_CHECK_EQUAL(f.count("SUCCEEDED"), 5u);
  dir.write("partial.jsonl", R"({"type":"header","manifest_ha)");
  r = troupe({"run", m, "--resume", "partial.jsonl"}, 30s);
  BOOST_CHECK_EQUAL(r.code, 0);
  BOOST_CHECK_EQUAL(read_results(dir.file("partial.jsonl")).count("SUCCEEDED"),
                    5u);
  // The header is on disk before the first task runs: a kill -9 while the
  // only task is still running leaves a file that --resume takes.
  auto slow = stub_manifest(1, 30, 1, "slow.json");
  child_process p{
    {troupe_binary(), "run", slow, "--out", "k.jsonl", "--progress", "never"},
    dir.path()};
  BOOST_REQUIRE(eventually(
    [&] {
      return read_file(dir.file("k.jsonl")).find('\n') != std::string::npos;
    },
    30s));
  p.signal(SIGKILL);
  p.wait(30s);
  BOOST_CHECK_EQUAL(count_lines(dir.file("k.jsonl")), 1u);
  BOOST_CHECK(whole_lines(dir.file("k.jsonl")));
  // A header-only file of the same manifest resumes as a whole run.
  r = troupe({"run", m, "--out", "h.jsonl"}, 30s);
  BOOST_REQUIRE_EQUAL(r.code, 0);
  auto text = read_file(dir.file("h.jsonl"));
  dir.write("h.jsonl", text.substr(0, text.find('\n') + 1));
  r = troupe({"run", m, "--resume", "h.jsonl"}, 30s);
  BOOST_CHECK_EQUAL(r.code, 0);
  BOOST_CHECK_EQUAL(read_results(dir.file("h.jsonl")).count("SUCCEEDED"), 5u);
}

BOOST_AUTO_TEST_SUITE_END()
