// Clearing months between their proto and core shapes: a ledger entry as a month event (the
// one reading every party uses, so the hub and the nodes compare like with like), and a
// month's statement, disputes and transfers as the hub answers them.
#pragma once

#include <vector>

#include "absl/status/statusor.h"
#include "core/month.h"
#include "crossclear/v1/services.pb.h"
#include "crossclear/v1/types.pb.h"

namespace crossclear::protoconv {

// A SETTLE, CANCEL or ADJUST ledger entry as a month event; nullopt for any other kind.
// The event's period is the entry's `period` when set (the hub's booking month), else the
// month of its day. DataLoss naming the entry when its day or figures do not parse.
absl::StatusOr<std::optional<core::MonthEvent>> MonthEventOf(const v1::LedgerEntry& e);

// The same into `out`, reusing its strings and parts (a month read off the ledger decodes
// millions of entries into one event): false for an entry that is no month event (`out` then
// unspecified). Reads of the result only what a month sums, each part's setting and figures,
// and checks them (the auditor's replay checks the rest of an entry).
absl::StatusOr<bool> ReadMonthEvent(const v1::LedgerEntry& e, core::MonthEvent& out);

// The month's lines per (insured, treatment, clearing class), in the statement's order.
std::vector<v1::ClassLine> ClassLines(const core::MonthStatement& month);

v1::Dispute ToProto(const core::Difference& d, const std::string& region, core::Side side);
v1::TransferRecord ToProto(const core::Transfer& t);

}  // namespace crossclear::protoconv
