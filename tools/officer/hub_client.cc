// The officer commands' shared client (hub_client.h): call contexts, the stub, failures and
// their exit statuses, and the printing helpers.
#include "tools/officer/hub_client.h"

#include <chrono>
#include <iomanip>
#include <sstream>

#include "absl/strings/str_cat.h"
#include "proto/convert.h"
#include "proto/status.h"
#include "rpc/call.h"

namespace crossclear::tools::officer {

std::unique_ptr<grpc::ClientContext> Ctx(const HubTarget& hub) {
  auto ctx = std::make_unique<grpc::ClientContext>();
  ctx->set_deadline(std::chrono::system_clock::now() + std::chrono::milliseconds(hub.deadline_ms));
  if (hub.day) ctx->AddMetadata(rpc::kTodayKey, hub.day->ToString());
  return ctx;
}

std::unique_ptr<v1::ClearingService::Stub> Stub(const HubTarget& hub) {
  return v1::ClearingService::NewStub(hub.channel);
}

int Failed(std::string_view what, const grpc::Status& st, std::ostream& err) {
  auto detail = protoconv::DetailOf(st);
  if (detail && detail->reason() != v1::REASON_UNSPECIFIED) {
    err << "crossclear " << what << ": refused " << v1::Reason_Name(detail->reason());
    if (!detail->field().empty()) err << " (field " << detail->field() << ")";
    err << ": " << detail->message() << "\n";
    return kExitRefused;
  }
  if (st.error_code() == grpc::StatusCode::PERMISSION_DENIED ||
      st.error_code() == grpc::StatusCode::INVALID_ARGUMENT ||
      st.error_code() == grpc::StatusCode::FAILED_PRECONDITION ||
      st.error_code() == grpc::StatusCode::NOT_FOUND) {
    err << "crossclear " << what << ": refused: " << st.error_message() << "\n";
    return kExitRefused;
  }
  err << "crossclear " << what << ": the hub did not answer (gRPC code " << st.error_code()
      << "): " << st.error_message() << "\n";
  return kExitUnavailable;
}

std::string Named(const HubTarget& hub, const std::string& code) {
  auto it = hub.region_names.find(code);
  return it == hub.region_names.end() ? code : code + " " + it->second;
}

std::string PairColumns(const HubTarget& hub, const std::string& from, const std::string& to) {
  std::ostringstream text;
  text << std::left << std::setw(24) << Named(hub, from) << " -> " << std::setw(24)
       << Named(hub, to) << std::right;
  return text.str();
}

std::string PairRow(const HubTarget& hub, const std::string& from, const std::string& to,
                    std::initializer_list<int64_t> fens) {
  std::ostringstream text;
  text << "  " << PairColumns(hub, from, to);
  for (int64_t fen : fens) text << std::setw(14) << Yuan(fen);
  return text.str();
}

std::string DisputeFigures(const v1::Dispute& d) {
  return "hub " + (d.has_hub_fen() ? Yuan(d.hub_fen()) : std::string("absent")) + ", node " +
         (d.has_party_fen() ? Yuan(d.party_fen()) : std::string("absent"));
}

std::string AlertName(v1::Alert a) {
  auto alert = protoconv::FromProto(a, "alert");
  return alert.ok() ? std::string(core::AlertName(*alert)) : std::string("unknown");
}

std::string PercentText(int64_t bp) {
  return absl::StrCat(bp / 100, ".", (bp % 100) / 10, bp % 10, "%");
}

}  // namespace crossclear::tools::officer
