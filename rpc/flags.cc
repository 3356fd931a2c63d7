// The servers' and tools' command line (CLI11) and the message-size flag's check.
#include "rpc/flags.h"

#include <algorithm>

#include "CLI/CLI.hpp"
#include "absl/strings/str_cat.h"

namespace crossclear::rpc {
namespace {

// The help begins with the app's description, the hand-written synopsis ("usage: crossclear
// close PERIOD [connection]" and what the command does): CLI11's own "Usage:" line would repeat
// it less precisely (it cannot say FROM:TO:AMOUNT:SERIAL[:DATE]).
class SynopsisFirst : public CLI::Formatter {
 public:
  std::string make_usage(const CLI::App*, std::string) const override { return ""; }
};

void AllowExtras(CLI::App& app) {
  app.allow_extras();
  for (CLI::App* sub : app.get_subcommands({})) AllowExtras(*sub);
}

}  // namespace

std::optional<int> ParseCommandLine(CLI::App& app, const std::vector<std::string>& args,
                                    std::string_view who, std::ostream& out, std::ostream& err) {
  app.formatter(std::make_shared<SynopsisFirst>());
  if (std::string text = app.get_description(); text.ends_with('\n')) {
    text.pop_back();  // CLI11 ends the description with a line of its own
    app.description(text);
  }
  // What CLI11 does not take is reported below in our words, not refused by CLI11's
  // "arguments were not expected".
  AllowExtras(app);
  std::vector<std::string> reversed(args.rbegin(), args.rend());  // CLI11 pops from the back
  try {
    app.parse(reversed);
  } catch (const CLI::CallForHelp&) {
    out << app.help();
    return 0;
  } catch (const CLI::ParseError& e) {
    err << who << ": " << e.what() << "\n" << app.help();
    return 2;
  }
  std::vector<std::string> extra = app.remaining(/*recurse=*/true);
  if (!extra.empty()) {
    auto option = std::find_if(extra.begin(), extra.end(),
                               [](const std::string& a) { return a.starts_with("-"); });
    if (option != extra.end()) {
      err << who << ": unknown option " << option->substr(0, option->find('=')) << "\n";
    } else {
      err << who << ": unexpected argument " << extra.front() << "\n";
    }
    err << app.help();
    return 2;
  }
  return std::nullopt;
}

absl::Status CheckMaxMessageBytes(int bytes) {
  if (bytes < kMinMaxMessageBytes || bytes > kDefaultMaxMessageBytes) {
    return absl::InvalidArgumentError(
        absl::StrCat("--max-message-bytes: ", bytes, " is not between ", kMinMaxMessageBytes,
                     " and ", kDefaultMaxMessageBytes, " (it only lowers gRPC's limit)"));
  }
  return absl::OkStatus();
}

}  // namespace crossclear::rpc
