// rpc::ParseCommandLine (rpc/flags.h): the one way every server and tool parses its command line
// (CLI11) and prints help and usage errors; and the check of --max-message-bytes.
#include <optional>
#include <sstream>
#include <string>
#include <vector>

#include "CLI/CLI.hpp"
#include "gtest/gtest.h"
#include "rpc/flags.h"

namespace crossclear::rpc {
namespace {

struct Parsed {
  std::optional<int> status;
  std::string out, err;
};

// A command shaped like the officer's: a positional, a single-valued option, a repeatable one
// and a flag.
struct Command {
  CLI::App app{"usage: tool PERIOD [--hub ADDR] [--executed X]... [--json]\n\nWhat it does.\n",
               "tool"};
  std::string period, hub;
  std::vector<std::string> executed;
  bool json = false;

  Command() {
    app.option_defaults()->multi_option_policy(CLI::MultiOptionPolicy::TakeLast);
    app.add_option("PERIOD", period, "the month")->required();
    app.add_option("--hub", hub, "the hub")->type_name("ADDR");
    app.add_option("--executed", executed, "one transfer")
        ->allow_extra_args(false)
        ->multi_option_policy(CLI::MultiOptionPolicy::TakeAll);
    app.add_flag("--json", json, "JSON");
    app.footer("exit status: 0 done, 2 bad usage");
  }

  Parsed Parse(const std::vector<std::string>& args) {
    std::ostringstream out, err;
    Parsed p;
    p.status = ParseCommandLine(app, args, "tool", out, err);
    p.out = out.str();
    p.err = err.str();
    return p;
  }
};

TEST(CommandLine, ValuesPositionalsAndRepeats) {
  Command c;
  Parsed p = c.Parse(
      {"--executed", "A", "2026-03", "--hub=h:1", "--executed", "B", "--json", "--hub", "h:2"});
  EXPECT_FALSE(p.status.has_value()) << p.err;
  EXPECT_EQ(c.period, "2026-03");
  EXPECT_EQ(c.hub, "h:2") << "a repeated option keeps its last value";
  EXPECT_EQ(c.executed, (std::vector<std::string>{"A", "B"}))
      << "one value per --executed: it never swallows the positional after it";
  EXPECT_TRUE(c.json);
}

TEST(CommandLine, HelpPrintsTheSynopsisTheOptionsAndTheFooter_ExitZero) {
  Command c;
  Parsed p = c.Parse({"--help"});
  ASSERT_EQ(p.status, 0);
  EXPECT_EQ(p.out.rfind("usage: tool PERIOD", 0), 0u) << p.out;
  EXPECT_EQ(p.out.find("Usage:"), std::string::npos) << "CLI11's own usage line is left out";
  EXPECT_NE(p.out.find("--executed"), std::string::npos) << p.out;
  EXPECT_NE(p.out.find("exit status: 0 done"), std::string::npos) << p.out;
  EXPECT_TRUE(p.err.empty());
}

TEST(CommandLine, UnknownOptionIsBadUsage_NamedAsTyped) {
  Command c;
  Parsed p = c.Parse({"2026-03", "--colour=red"});
  ASSERT_EQ(p.status, 2);
  EXPECT_EQ(p.err.rfind("tool: unknown option --colour\n", 0), 0u) << p.err;
  EXPECT_NE(p.err.find("usage: tool PERIOD"), std::string::npos) << "the help follows";
  Command d;
  EXPECT_EQ(d.Parse({"2026-03", "--colour", "red"}).status, 2);
}

TEST(CommandLine, ExtraPositionalAndMissingOnesAreBadUsage) {
  Command c;
  Parsed extra = c.Parse({"2026-03", "2026-04"});
  ASSERT_EQ(extra.status, 2);
  EXPECT_EQ(extra.err.rfind("tool: unexpected argument 2026-04\n", 0), 0u) << extra.err;
  Command d;
  Parsed missing = d.Parse({"--json"});
  ASSERT_EQ(missing.status, 2);
  EXPECT_EQ(missing.err.rfind("tool: PERIOD is required\n", 0), 0u) << missing.err;
  Command e;
  Parsed no_value = e.Parse({"2026-03", "--hub"});
  EXPECT_EQ(no_value.status, 2) << no_value.err;
}

TEST(CommandLine, MaxMessageBytesOnlyLowersTheLimit) {
  EXPECT_TRUE(CheckMaxMessageBytes(kDefaultMaxMessageBytes).ok());
  EXPECT_TRUE(CheckMaxMessageBytes(kMinMaxMessageBytes).ok());
  EXPECT_FALSE(CheckMaxMessageBytes(kMinMaxMessageBytes - 1).ok());
  EXPECT_FALSE(CheckMaxMessageBytes(kDefaultMaxMessageBytes + 1).ok());
}

}  // namespace
}  // namespace crossclear::rpc
