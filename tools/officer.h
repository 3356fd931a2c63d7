// The clearing officer's commands (the national platform's operator at the hub): close,
// reconcile, resolve, finalize, pay a month; read its statement; top up and list prepayments;
// re-size quotas for a new year; write the month's report; locate or assign a person in the
// hub's directory. Each talks to the hub's ClearingService (DirectoryService, HubService for
// the directory) over mutual TLS with a certificate from a PKI folder.
//
// Exit statuses (every command):
//   0  done
//   1  the hub refused (its reason code, the field and the message are printed)
//   2  bad usage (unknown option, missing or malformed argument)
//   3  the hub could not be reached or answered an error of its own (transport, TLS,
//      deadline, internal), or a local file could not be read or written
//   4  reconcile: the month is held by disputes (each is printed)
#pragma once

#include <grpcpp/grpcpp.h>

#include <iosfwd>
#include <map>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "absl/status/statusor.h"
#include "core/date.h"
#include "report/report.h"

namespace crossclear::tools {

inline constexpr int kExitRefused = 1;
inline constexpr int kExitUsage = 2;
inline constexpr int kExitUnavailable = 3;
inline constexpr int kExitDisputed = 4;

// Where the commands send their calls.
struct HubTarget {
  std::shared_ptr<grpc::Channel> channel;
  // Sent as the call's day; only a hub started with --test-clock reads it (a production hub
  // takes today from its own clock).
  std::optional<core::Date> day;
  int deadline_ms = 60000;  // reconcile asks every node
  // Region code -> name, for the report and the printed tables (a name beside each code).
  std::map<std::string, std::string> region_names;
};

// The officer commands, by name: close, statement, reconcile, resolve, finalize, pay, prepay,
// prepayments, resize, report, directory, metrics.
struct OfficerCommand {
  std::string_view name;
  std::string_view summary;
};
const std::vector<OfficerCommand>& OfficerCommands();
bool IsOfficerCommand(std::string_view name);

// `crossclear COMMAND ARGS...` from the command line: reads the connection options (--hub,
// --pki, --as, --day, --deadline-ms, --names) and runs the command. Messages go to out/err.
int RunOfficerCli(std::string_view command, const std::vector<std::string_view>& args,
                  std::ostream& out, std::ostream& err);

// The same command with a ready target (the demo uses it with its federation's channel).
// `args` are the command's own arguments (no connection options).
int RunOfficer(std::string_view command, const std::vector<std::string_view>& args,
               const HubTarget& hub, std::ostream& out, std::ostream& err);

// The month's figures for the report: GetMonth (statement, lines, disputes, adjustments,
// transfers) and every pair's prepayment position (ListPrepayments), with the target's region
// names. generated_on: the day the report is made.
absl::StatusOr<report::ReportData> FetchReportData(const HubTarget& hub, const core::Period& period,
                                                   const core::Date& generated_on);

// Province-level region names (GB/T 2260 codes, e.g. "110000" -> "北京市") and the national
// clearing account "000000".
const std::map<std::string, std::string>& ProvinceNames();

// A names file: a JSON object {"460100": "海口市", ...}; an error names the file and the key.
absl::StatusOr<std::map<std::string, std::string>> ReadRegionNames(const std::string& path);

}  // namespace crossclear::tools
