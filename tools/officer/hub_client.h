// The officer commands' shared client: the call context every command sends (deadline, the
// call's day), the ClearingService stub, what a failed call prints and its exit status (refused:
// 1, unavailable: 3), and the printing helpers every command's output uses (yuan, region names
// beside codes, alerts, percentages). It does not parse arguments (command.h) nor run commands.
#pragma once

#include <grpcpp/grpcpp.h>

#include <cstdint>
#include <initializer_list>
#include <memory>
#include <ostream>
#include <string>
#include <string_view>

#include "core/money.h"
#include "crossclear/v1/services.grpc.pb.h"
#include "tools/officer.h"

namespace crossclear::tools::officer {

namespace v1 = ::crossclear::v1;

inline std::string Yuan(int64_t fen) { return core::Money::FromFen(fen).ToYuan(); }

// A call's context: the target's deadline and, when set, its day (read by a --test-clock hub).
std::unique_ptr<grpc::ClientContext> Ctx(const HubTarget& hub);

std::unique_ptr<v1::ClearingService::Stub> Stub(const HubTarget& hub);

// Prints why a call failed and gives the exit status: a refusal by the hub (an error with our
// ErrorDetail and a reason, or a permission refusal) is 1; anything else is 3.
int Failed(std::string_view what, const grpc::Status& st, std::ostream& err);

// "110000 北京市": a region code with its name when the target knows it.
std::string Named(const HubTarget& hub, const std::string& code);

// "110000 北京市            -> 460100                  " : a pair in fixed columns.
std::string PairColumns(const HubTarget& hub, const std::string& from, const std::string& to);

// "  110000 北京市            -> 460100                       1234.00      56.78": a pair's row,
// PairColumns and each amount in yuan right-aligned in 14 columns (the caller ends the line).
std::string PairRow(const HubTarget& hub, const std::string& from, const std::string& to,
                    std::initializer_list<int64_t> fens);

// "hub 12.00, node absent": a dispute's two figures, as the hub and the node hold them.
std::string DisputeFigures(const v1::Dispute& d);

// "none" | "yellow" | "red" (core's names), "unknown" for a value the hub should not send.
std::string AlertName(v1::Alert a);

// Basis points as "71.25%".
std::string PercentText(int64_t bp);

}  // namespace crossclear::tools::officer
