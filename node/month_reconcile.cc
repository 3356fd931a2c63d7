// PeerService.Reconcile (对账): the hub's SETTLE / CANCEL entries of a clearing month that
// involve this region, compared with this node's own ledger, as treatment region and as
// insured region. The comparison is core's (core/month.h); the rest of PeerService is
// insured_service.cc.
#include <cstdint>
#include <map>
#include <optional>
#include <string>
#include <vector>

#include "core/month.h"
#include "node/node_state.h"
#include "proto/month_convert.h"

namespace crossclear::node {

// 对账: the hub's SETTLE/CANCEL entries of the month that involve this region (streamed in
// chunks), against this node's own ledger, once as treatment region and once as insured
// region. The differences go back in bounded chunks; the last message has the verdict.
grpc::Status InsuredService::Reconcile(
    grpc::ServerContext* ctx,
    grpc::ServerReaderWriter<v1::ReconcileReply, v1::ReconcileRequest>* stream) {
  if (auto s = n_.Require(*ctx, Role::kHub, "", "reconcile a clearing month"); !s.ok()) return s;
  std::optional<core::Period> period;
  std::string period_text;
  std::vector<core::MonthEvent> hub;
  size_t index = 0;
  v1::ReconcileRequest chunk;
  while (stream->Read(&chunk)) {
    if (!period) {
      auto parsed = core::Period::Parse(chunk.period());
      if (!parsed.ok()) {
        return protoconv::ErrorStatus(v1::INVALID_DATA, "period",
                                      "\"" + chunk.period() + "\" is not a month YYYY-MM");
      }
      period = *parsed;
      period_text = chunk.period();
    } else if (chunk.period() != period_text) {
      return protoconv::ErrorStatus(
          v1::INVALID_DATA, "period",
          "a chunk names " + chunk.period() + ", the first named " + period_text);
    }
    for (const v1::LedgerEntry& e : chunk.hub_entries()) {
      auto event = protoconv::MonthEventOf(e);
      if (!event.ok()) {
        return protoconv::ErrorStatus(v1::INVALID_DATA, absl::StrCat("hub_entries[", index, "]"),
                                      std::string(event.status().message()));
      }
      ++index;
      if (event->has_value()) hub.push_back(**std::move(event));
    }
  }
  if (!period) {
    return protoconv::ErrorStatus(v1::INVALID_DATA, "period", "no month was sent");
  }
  // This node's own month: its SETTLE/CANCEL entries by their day (a node books by day),
  // read by the ledger's month index (that month's entries only).
  std::vector<core::MonthEvent> own;
  absl::Status bad;
  absl::Status scan = n_.store->ScanLedgerIndex(
      protoconv::BookedMonthKey(*period), [&](uint64_t seq, std::string_view bytes) {
        v1::LedgerEntry e;
        if (!e.ParseFromArray(bytes.data(), static_cast<int>(bytes.size()))) {
          bad = absl::DataLossError(absl::StrCat("ledger entry ", seq, " cannot be parsed"));
          return false;
        }
        if (e.kind() != v1::LedgerEntry::SETTLE && e.kind() != v1::LedgerEntry::CANCEL) {
          return true;
        }
        auto event = protoconv::MonthEventOf(e);
        if (!event.ok()) {
          bad = event.status();
          return false;
        }
        if ((*event)->period == *period) own.push_back(**std::move(event));
        return true;
      });
  if (!scan.ok()) return protoconv::FromAbsl(scan);
  if (!bad.ok()) return protoconv::FromAbsl(bad);
  const std::string& region = n_.opt.region;
  // The pair of each claim, from whichever side holds an event of it (own first).
  std::map<std::string, const core::MonthEvent*> pair_of;
  for (const auto* events : {&own, &hub}) {
    for (const core::MonthEvent& e : *events) pair_of.emplace(e.claim_id, &e);
  }
  const size_t budget = rpc::ChunkBytes(n_.opt.max_message_bytes);
  v1::ReconcileReply reply;
  size_t size = 0;
  uint32_t total = 0;
  for (core::Side side : {core::Side::kTreatment, core::Side::kInsured}) {
    for (const core::Difference& d : core::Reconcile(*period, region, side, hub, own)) {
      v1::Dispute dispute = protoconv::ToProto(d, region, side);
      const core::MonthEvent* e = pair_of.at(d.claim_id);  // a difference has an event
      dispute.set_insured(e->insured);
      dispute.set_treatment(e->treatment);
      const size_t n = dispute.ByteSizeLong() + 8;
      if (reply.differences_size() > 0 && size + n > budget) {
        if (!stream->Write(reply)) return grpc::Status(grpc::StatusCode::CANCELLED, "hub gone");
        reply.clear_differences();
        size = 0;
      }
      *reply.add_differences() = std::move(dispute);
      size += n;
      ++total;
    }
  }
  for (const core::MonthEvent& e : own) {
    if (e.treatment == region) reply.set_treatment_fen(reply.treatment_fen() +
                                                       core::ClearingAmountOf(e).fen());
    if (e.insured == region) reply.set_insured_fen(reply.insured_fen() +
                                                   core::ClearingAmountOf(e).fen());
  }
  reply.set_agreed(total == 0);
  reply.set_differences_total(total);
  reply.set_last(true);
  stream->Write(reply);
  return grpc::Status::OK;
}

}  // namespace crossclear::node
