// The runner's --federation backend: plays each step as the real clients would — a
// hospital settles, pre-settles and cancels at its region's node (which goes through the
// hub to the insured region), the insured region's office reimburses and reads balances at
// its own node, the national operator clears at the hub. Each call carries the step's day.
// Prepayments are topped up by the insured region itself at the hub; the operator pays a
// month and reads prepayment positions.
#include <algorithm>
#include <filesystem>
#include <set>
#include <variant>

#include "absl/strings/str_cat.h"
#include "crossclear/v1/services.grpc.pb.h"
#include "proto/convert.h"
#include "proto/status.h"
#include "rpc/call.h"
#include "tools/federation.h"
#include "tools/federation_harness.h"

namespace crossclear::tools {
namespace {

namespace v1 = ::crossclear::v1;

class FederationBackend final : public Backend {
 public:
  FederationBackend(std::unique_ptr<Federation> fed, const data::World& world)
      : fed_(std::move(fed)) {
    for (const auto& [code, region] : world.regions) {
      regions_.push_back(code);
      for (const auto& i : region.institutions) institution_region_[i.code] = code;
      for (const auto& p : region.persons) person_region_[p.id] = code;
    }
  }

  Federation& federation() { return *fed_; }

  absl::StatusOr<core::ClaimResult> Submit(const core::RawClaim& raw, core::Mode mode,
                                           core::Date today) override {
    v1::SettleRequest req;
    *req.mutable_claim() = protoconv::HospitalFromRaw(raw);
    v1::SettleReply reply;
    grpc::Status st;
    if (mode == core::Mode::kReimburse) {
      std::string region = RegionOrFirst(person_region_, raw.person);
      auto stub = v1::RegionAdminService::NewStub(fed_->RegionChannel(region));
      v1::ReimburseRequest rreq;
      *rreq.mutable_claim() = req.claim();
      auto ctx = Context(today);
      st = stub->Reimburse(ctx.get(), rreq, &reply);
    } else {
      // The hospital's own certificate; a claim without an institution code is sent with
      // some institution's certificate so that the node can say what is malformed.
      std::string institution = raw.institution;
      if (institution.empty() && !institution_region_.empty()) {
        institution = institution_region_.begin()->first;
      }
      std::string region = TreatmentRegion(institution);
      auto channel = fed_->HospitalChannel(institution, region);
      if (!channel) return absl::InternalError("cannot make a certificate for " + institution);
      auto stub = v1::HospitalService::NewStub(channel);
      auto ctx = Context(today);
      st = mode == core::Mode::kPresettle ? stub->PreSettle(ctx.get(), req, &reply)
                                          : stub->Settle(ctx.get(), req, &reply);
      // Who a later cancel of the id is sent as: the institution it settled for; another
      // institution's claim refused under the same id does not take it over.
      if (!claims_.contains(raw.id) ||
          (st.ok() && mode == core::Mode::kSettle && reply.result().settled())) {
        claims_[raw.id] = {raw.institution, region};
      }
    }
    if (!st.ok()) return Refusal(st);
    return protoconv::FromProto(reply.result());
  }

  absl::StatusOr<core::Reason> Cancel(const std::string& claim_id, core::Date today) override {
    auto it = claims_.find(claim_id);
    std::string institution, region;
    if (it != claims_.end() && !it->second.institution.empty()) {
      institution = it->second.institution;
      region = it->second.region;
    } else if (!institution_region_.empty()) {
      // Never sent: ask as the first institution of the world (its node has no such claim).
      institution = institution_region_.begin()->first;
      region = institution_region_.begin()->second;
    } else {
      return absl::FailedPreconditionError("the world has no institution to cancel as");
    }
    auto stub = v1::HospitalService::NewStub(fed_->HospitalChannel(institution, region));
    v1::CancelRequest req;
    req.set_mdtrt_id(claim_id);
    req.set_fixmedins_code(institution);
    v1::CancelReply reply;
    auto ctx = Context(today);
    grpc::Status st = stub->Cancel(ctx.get(), req, &reply);
    if (!st.ok()) return protoconv::ToAbsl(st);
    if (reply.cancelled()) return core::Reason::kNone;
    return protoconv::FromProto(reply.reason(), "reason");
  }

  absl::StatusOr<core::Money> Balance(const std::string& person_id) override {
    std::string region = RegionOrFirst(person_region_, person_id);
    auto stub = v1::RegionAdminService::NewStub(fed_->RegionChannel(region));
    v1::BalanceRequest req;
    req.set_person(person_id);
    v1::BalanceReply reply;
    auto ctx = Context(rpc::Clock::SystemToday());
    grpc::Status st = stub->GetBalance(ctx.get(), req, &reply);
    if (!st.ok()) return protoconv::ToAbsl(st);
    return core::Money::FromFen(reply.account_balance_fen());
  }

  absl::StatusOr<core::Statement> Clear(const core::Period& period) override {
    auto stub = v1::ClearingService::NewStub(fed_->OperatorChannel());
    v1::ClearRequest req;
    req.set_period(period.ToString());
    v1::Statement reply;
    auto ctx = Context(rpc::Clock::SystemToday());
    grpc::Status st = stub->Clear(ctx.get(), req, &reply);
    if (!st.ok()) return protoconv::ToAbsl(st);
    return protoconv::FromProto(reply);
  }

  absl::StatusOr<std::variant<core::Money, core::Reason>> Prepay(const std::string& insured,
                                                                 const std::string& treatment,
                                                                 const std::string& amount,
                                                                 core::Date today) override {
    // As the insured region itself; a region the world does not name has no certificate,
    // so the operator books it (the hub then still answers on the merits).
    bool known = std::find(regions_.begin(), regions_.end(), insured) != regions_.end();
    auto channel =
        known ? fed_->ChannelAs("region-" + insured, fed_->HubAddress()) : fed_->OperatorChannel();
    if (!channel) return absl::InternalError("no certificate to prepay as region " + insured);
    auto stub = v1::ClearingService::NewStub(channel);
    v1::PrepayRequest req;
    req.set_insured(insured);
    req.set_treatment(treatment);
    req.set_amount(amount);
    v1::PrepayReply reply;
    auto ctx = Context(today);
    grpc::Status st = stub->Prepay(ctx.get(), req, &reply);
    if (!st.ok()) return ClearingRefusal(st);
    return core::Money::FromFen(reply.quota_fen());
  }

  // The clearing officer's whole month, as the vector's "pay" means it: close, reconcile,
  // finalize, then record every transfer instruction as executed. A month already paid is
  // refused by the hub's Pay (ALREADY_PAID).
  absl::StatusOr<std::variant<core::Money, core::Reason>> Pay(const core::Period& period,
                                                              core::Date today) override {
    auto stub = v1::ClearingService::NewStub(fed_->OperatorChannel());
    v1::MonthRequest mreq;
    mreq.set_period(period.ToString());
    v1::MonthReply month;
    {
      auto ctx = Context(today);
      grpc::Status st = stub->GetMonth(ctx.get(), mreq, &month);
      if (!st.ok()) return protoconv::ToAbsl(st);
    }
    using Step = grpc::Status (v1::ClearingService::Stub::*)(
        grpc::ClientContext*, const v1::MonthRequest&, v1::MonthReply*);
    const std::vector<std::pair<std::string, Step>> steps = {
        {"open", &v1::ClearingService::Stub::CloseMonth},
        {"closed", &v1::ClearingService::Stub::ReconcileMonth},
        {"reconciled", &v1::ClearingService::Stub::FinalizeMonth},
    };
    for (const auto& [from, step] : steps) {
      if (month.state().status() != from) continue;
      auto ctx = Context(today);
      grpc::Status st = ((*stub).*step)(ctx.get(), mreq, &month);
      if (!st.ok()) return ClearingRefusal(st);
    }
    v1::PayRequest req;
    req.set_period(period.ToString());
    if (month.state().status() == "final") {
      for (const v1::TransferRecord& t : month.state().transfers()) {
        v1::TransferRecord* done = req.add_executed();
        *done = t;
        done->set_bank_serial(absl::StrCat("VECTOR-", period.ToString(), "-", t.from(), "-", t.to()));
      }
    }
    v1::PayReply reply;
    auto ctx = Context(today);
    grpc::Status st = stub->Pay(ctx.get(), req, &reply);
    if (!st.ok()) return ClearingRefusal(st);
    return core::Money::FromFen(reply.transferred_fen());
  }

  absl::StatusOr<PrepaymentState> Prepayment(const std::string& insured,
                                             const std::string& treatment) override {
    auto stub = v1::ClearingService::NewStub(fed_->OperatorChannel());
    v1::PrepaymentRequest req;
    req.set_insured(insured);
    req.set_treatment(treatment);
    v1::PrepaymentReply reply;
    // A read: the seam gives it no day, and the hub does not consult one for it.
    auto ctx = Context(rpc::Clock::SystemToday());
    grpc::Status st = stub->GetPrepayment(ctx.get(), req, &reply);
    if (!st.ok()) return protoconv::ToAbsl(st);
    PrepaymentState out;
    out.quota = core::Money::FromFen(reply.quota_fen());
    out.outstanding = core::Money::FromFen(reply.outstanding_fen());
    if (reply.has_utilisation_bp()) out.utilisation_bp = reply.utilisation_bp();
    auto alert = protoconv::FromProto(reply.alert(), "alert");
    if (!alert.ok()) {
      return absl::InternalError(absl::StrCat("the hub answered ", alert.status().message()));
    }
    out.alert = *alert;
    return out;
  }

 private:
  struct Sent {
    std::string institution, region;
  };

  static std::unique_ptr<grpc::ClientContext> Context(const core::Date& today) {
    auto ctx = std::make_unique<grpc::ClientContext>();
    ctx->set_deadline(std::chrono::system_clock::now() + std::chrono::seconds(20));
    ctx->AddMetadata(rpc::kTodayKey, today.ToString());
    return ctx;
  }

  // A refusal carried as a grpc error (malformed input) becomes a rejected result; any
  // other error is the call failing.
  static absl::StatusOr<core::ClaimResult> Refusal(const grpc::Status& st) {
    auto detail = protoconv::DetailOf(st);
    if (detail && detail->reason() == v1::INVALID_CLAIM) {
      core::ClaimResult r;
      r.reason = core::Reason::kInvalidClaim;
      return r;
    }
    return protoconv::ToAbsl(st);
  }

  // A refusal by the clearing rules (carried as a grpc error with its reason) becomes the
  // Reason; any other error is the call failing.
  static absl::StatusOr<std::variant<core::Money, core::Reason>> ClearingRefusal(
      const grpc::Status& st) {
    auto detail = protoconv::DetailOf(st);
    if (detail &&
        (detail->reason() == v1::INVALID_AMOUNT || detail->reason() == v1::LOCAL_PREPAYMENT ||
         detail->reason() == v1::ALREADY_PAID)) {
      auto reason = protoconv::FromProto(detail->reason(), "reason");
      if (!reason.ok()) return reason.status();
      return *reason;
    }
    return protoconv::ToAbsl(st);
  }

  std::string RegionOrFirst(const std::map<std::string, std::string>& index,
                            const std::string& key) const {
    auto it = index.find(key);
    return it != index.end() ? it->second : regions_.front();
  }

  // The node an institution's hospital talks to: its region; for an institution nobody
  // knows, the region its code names when that is a node here, else the first node.
  std::string TreatmentRegion(const std::string& institution) const {
    auto it = institution_region_.find(institution);
    if (it != institution_region_.end()) return it->second;
    if (institution.size() >= 7) {
      std::string coded = institution.substr(1, 6);
      for (const auto& r : regions_) {
        if (r == coded) return r;
      }
    }
    return regions_.front();
  }

  std::unique_ptr<Federation> fed_;
  std::vector<std::string> regions_;
  std::map<std::string, std::string> institution_region_, person_region_;
  std::map<std::string, Sent> claims_;
};

}  // namespace

absl::StatusOr<std::unique_ptr<Backend>> MakeFederationBackend(const data::World& world,
                                                               const std::string& file) {
  return MakeKeptFederationBackend(world, file, "");
}

absl::StatusOr<std::unique_ptr<Backend>> MakeKeptFederationBackend(const data::World& world,
                                                                   const std::string& file,
                                                                   const std::string& keep_dir) {
  FederationOptions options;
  if (!keep_dir.empty()) {
    std::error_code ec;
    if (std::filesystem::exists(keep_dir, ec) && !std::filesystem::is_empty(keep_dir, ec)) {
      return absl::AlreadyExistsError(keep_dir + ": exists and is not empty; --keep needs a new "
                                      "folder (it would mix two runs' ledgers)");
    }
    options.work_dir = keep_dir;
    options.keep_work_dir = true;
  }
  options.data_file = file;
  for (const auto& [code, region] : world.regions) {
    options.regions.push_back(code);
    for (const auto& i : region.institutions) options.institutions.push_back(i.code);
  }
  if (options.regions.empty()) return absl::InvalidArgumentError(file + ": names no region");
  auto fed = Federation::Start(options);
  if (!fed.ok()) return fed.status();
  return std::unique_ptr<Backend>(new FederationBackend(std::move(*fed), world));
}

Federation* FederationOf(Backend& backend) {
  auto* federation = dynamic_cast<FederationBackend*>(&backend);
  return federation == nullptr ? nullptr : &federation->federation();
}

}  // namespace crossclear::tools
