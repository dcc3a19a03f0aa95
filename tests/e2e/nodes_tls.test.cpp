// `troupe node` and `troupe run --nodes` with mutual TLS (caf::openssl), as
// real processes on loopback, with a CA and certificates made by the
// `openssl` command in the test's folder: the right CA runs, a wrong one is
// refused in the handshake (exit 2 naming the node), and the flags' rules.

#include <boost/test/unit_test.hpp>

#include "tests/e2e/node_process.hpp"
#include "tests/support/fake_dify_process.hpp"
#include "tests/support/results_file.hpp"
#include "tests/support/temp_dir.hpp"
#include "tests/support/text.hpp"

#include <string>
#include <vector>

using namespace std::chrono_literals;
using namespace troupe::test;
namespace utf = boost::unit_test;

namespace {

/// A folder with two CAs, "ca" and "other"; "node" and "client" signed by
/// "ca", "stranger" by "other" (NAME.pem and NAME.key each).
struct tls_fixture {
  temp_dir dir;

  tls_fixture() {
    make_ca("ca");
    make_ca("other");
    make_cert("node", "ca");
    make_cert("client", "ca");
    make_cert("stranger", "other");
  }

  std::string file(const std::string& name) const {
    return dir.path() + "/" + name;
  }

  /// --tls-cert NAME.pem --tls-key NAME.key --tls-ca CA.pem.
  std::vector<std::string> tls(const std::string& name,
                               const std::string& ca) const {
    return {"--tls-cert",        file(name + ".pem"), "--tls-key",
            file(name + ".key"), "--tls-ca",          file(ca + ".pem")};
  }

  process_result troupe(std::vector<std::string> args) {
    args.insert(args.begin(), troupe_binary());
    return run_process(std::move(args), 60s, dir.path());
  }

  /// `troupe run all-ok.json --nodes ADDRESS` with `extra`, into OUT.
  process_result run_on(const std::string& address, const std::string& out,
                        std::vector<std::string> extra) {
    std::vector<std::string> args{
      "run",        source_dir() + "/tests/manifests/all-ok.json",
      "--nodes",    address,
      "--out",      out,
      "--progress", "never"};
    args.insert(args.end(), extra.begin(), extra.end());
    return troupe(std::move(args));
  }

private:
  void openssl(std::vector<std::string> args) {
    // posix_spawn does not search PATH; env does.
    args.insert(args.begin(), {"/usr/bin/env", "openssl"});
    auto r = run_process(std::move(args), 60s, dir.path());
    BOOST_REQUIRE_MESSAGE(r.code == 0, "openssl failed: " + r.err);
  }

  void make_ca(const std::string& name) {
    openssl({"req", "-x509", "-newkey", "ec", "-pkeyopt",
             "ec_paramgen_curve:prime256v1", "-nodes", "-keyout", name + ".key",
             "-out", name + ".pem", "-days", "30", "-subj",
             "/CN=troupe test " + name});
  }

  void make_cert(const std::string& name, const std::string& ca) {
    openssl({"req", "-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:prime256v1",
             "-nodes", "-keyout", name + ".key", "-out", name + ".csr", "-subj",
             "/CN=troupe test " + name});
    openssl({"x509", "-req", "-in", name + ".csr", "-CA", ca + ".pem", "-CAkey",
             ca + ".key", "-CAcreateserial", "-out", name + ".pem", "-days",
             "30"});
  }
};

} // namespace

BOOST_FIXTURE_TEST_SUITE(nodes_tls, tls_fixture)

BOOST_AUTO_TEST_CASE(a_run_with_certificates_of_the_right_ca_works,
                     *utf::timeout(90)) {
  node_process node{3, tls("node", "ca")};
  BOOST_CHECK(contains(node.err(), "(mutual TLS)"));
  auto r = run_on(node.address(), "r.jsonl", tls("client", "ca"));
  BOOST_CHECK_EQUAL(r.code, 0);
  BOOST_CHECK_EQUAL(r.err, "");
  auto f = read_results(file("r.jsonl"));
  BOOST_CHECK(f.has_summary());
  BOOST_CHECK_EQUAL(f.results.size(), 30u);
  for (auto& [id, line] : f.results) {
    BOOST_CHECK_EQUAL(f.result_count.at(id), 1);
    BOOST_CHECK_EQUAL(line.at("node").as_string(), node.address());
  }
}

BOOST_AUTO_TEST_CASE(a_wrong_ca_on_either_side_is_refused_naming_the_node,
                     *utf::timeout(120)) {
  node_process node{2, tls("node", "ca")};
  auto refused = "troupe: node " + node.address()
                 + ": the TLS handshake failed: each side's certificate "
                   "must be signed by the other side's --tls-ca\n";
  // The supervisor trusts another CA than the node's.
  auto r = run_on(node.address(), "r1.jsonl", tls("client", "other"));
  BOOST_CHECK_EQUAL(r.code, 2);
  BOOST_CHECK_EQUAL(r.err, refused);
  BOOST_CHECK_EQUAL(r.out, "");
  // The node does not trust the supervisor's certificate.
  r = run_on(node.address(), "r2.jsonl", tls("stranger", "ca"));
  BOOST_CHECK_EQUAL(r.code, 2);
  BOOST_CHECK_EQUAL(r.err, refused);
  // No TLS at all against a TLS node.
  r = run_on(node.address(), "r3.jsonl", {});
  BOOST_CHECK_EQUAL(r.code, 2);
  BOOST_CHECK(contains(r.err, "node " + node.address()
                                + " closed the connection in the handshake"));
  // The refusals did not end the node: the right certificate still runs.
  r = run_on(node.address(), "r4.jsonl", tls("client", "ca"));
  BOOST_CHECK_EQUAL(r.code, 0);
  BOOST_CHECK_EQUAL(read_results(file("r4.jsonl")).results.size(), 30u);
}

BOOST_AUTO_TEST_CASE(tls_flags_go_together_and_name_a_bad_file,
                     *utf::timeout(60)) {
  auto r = troupe({"node", "--tls-cert", file("node.pem")});
  BOOST_CHECK_EQUAL(r.code, 2);
  BOOST_CHECK_EQUAL(r.err,
                    "troupe: node: --tls-cert, --tls-key and --tls-ca go "
                    "together (missing --tls-key and --tls-ca)\n"
                    "Run `troupe node --help` for usage.\n");
  r = run_on("127.0.0.1:1", "r.jsonl",
             {"--tls-key", file("client.key"), "--tls-ca", file("ca.pem")});
  BOOST_CHECK_EQUAL(r.code, 2);
  BOOST_CHECK(contains(r.err, "go together (missing --tls-cert)"));
  std::vector<std::string> no_nodes{"run", source_dir()
                                             + "/tests/manifests/all-ok.json"};
  for (auto& arg : tls("client", "ca"))
    no_nodes.push_back(arg);
  r = troupe(no_nodes);
  BOOST_CHECK_EQUAL(r.code, 2);
  BOOST_CHECK(contains(r.err, "--tls-cert, --tls-key and --tls-ca need nodes "
                              "(--nodes, or execution_policy.nodes in "));
  auto missing = tls("node", "ca");
  missing[3] = file("missing.key");
  missing.insert(missing.begin(), "node");
  r = troupe(missing);
  BOOST_CHECK_EQUAL(r.code, 2);
  BOOST_CHECK_EQUAL(r.err,
                    "troupe: node: --tls-key " + file("missing.key")
                      + ": cannot read it (No such file or directory)\n");
  auto mismatched = tls("node", "ca");
  mismatched[3] = file("client.key");
  mismatched.insert(mismatched.begin(), "run");
  mismatched.insert(
    mismatched.begin() + 1,
    {source_dir() + "/tests/manifests/all-ok.json", "--nodes", "127.0.0.1:1"});
  r = troupe(mismatched);
  BOOST_CHECK_EQUAL(r.code, 2);
  BOOST_CHECK(contains(r.err, "troupe: run: --tls-key " + file("client.key")
                                + ": not the private key of "
                                + file("node.pem")));
  r = troupe({"node", "--tls-cert", file("ca.key"), "--tls-key", file("ca.key"),
              "--tls-ca", file("ca.pem")});
  BOOST_CHECK_EQUAL(r.code, 2);
  BOOST_CHECK(contains(r.err, "troupe: node: --tls-cert " + file("ca.key")
                                + ": not a PEM certificate"));
}

BOOST_AUTO_TEST_CASE(with_tls_a_node_listens_beyond_loopback_without_insecure,
                     *utf::timeout(60)) {
  // Only bound, never connected to: no traffic leaves loopback.
  auto args = tls("node", "ca");
  args.insert(args.begin(), {troupe_binary(), "node", "--listen", "0.0.0.0:0"});
  child_process node{args, dir.path()};
  BOOST_REQUIRE(eventually(
    [&] { return contains(slurp_file(node.stderr_path()), "listening on"); },
    10s));
  node.signal(SIGINT);
  auto r = node.wait(10s);
  BOOST_CHECK_EQUAL(r.code, 0);
  BOOST_CHECK(contains(r.err, "troupe node: listening on 0.0.0.0:"));
  BOOST_CHECK(!contains(r.err, "warning"));
}

BOOST_AUTO_TEST_CASE(send_keys_gives_the_key_to_nodes_over_tls_only,
                     *utf::timeout(90)) {
  // The node has no key of its own; with --send-keys over TLS the
  // supervisor's goes with the manifest, and fake-dify accepts it.
  fake_dify_process server{{}, "app-sent"};
  auto m = dir.write(
    "dify.json",
    R"({"name": "sent", "target": {"type": "dify-workflow", "base_url": ")"
      + server.base_url() + R"(", "api_key_env": "TEST_DIFY_KEY"},
        "datasets": [{"name": "d", "cases": [{"id": "a"}, {"id": "b"},
        {"id": "c"}]}]})");
  node_process node{2, tls("node", "ca")};
  std::vector<std::string> args{troupe_binary(), "run",          m,
                                "--nodes",       node.address(), "--out",
                                file("k.jsonl"), "--progress",   "never",
                                "--send-keys"};
  for (auto& arg : tls("client", "ca"))
    args.push_back(arg);
  auto r
    = child_process{args, dir.path(), {"TEST_DIFY_KEY=app-sent"}}.wait(60s);
  BOOST_CHECK_EQUAL(r.code, 0);
  auto f = read_results(file("k.jsonl"));
  BOOST_CHECK_EQUAL(f.count("SUCCEEDED"), 3u);
  BOOST_CHECK_EQUAL(server.calls("/v1/workflows/run"), 3);
  BOOST_CHECK(!contains(slurp_file(file("k.jsonl")), "app-sent"));
  // Without TLS the key stays home: refused before anything is sent.
  node_process plain{2};
  r = child_process{{troupe_binary(), "run", m, "--nodes", plain.address(),
                     "--out", file("p.jsonl"), "--send-keys"},
                    dir.path(),
                    {"TEST_DIFY_KEY=app-sent"}}
        .wait(60s);
  BOOST_CHECK_EQUAL(r.code, 2);
  BOOST_CHECK_EQUAL(r.err, "troupe: run: --send-keys sends the API key to the "
                           "nodes, so it needs TLS (--tls-cert, --tls-key "
                           "and --tls-ca)\n");
  BOOST_CHECK_EQUAL(server.calls("/v1/workflows/run"), 3);
}

BOOST_AUTO_TEST_SUITE_END()
