// The hub's gRPC services, internal to hub/: which handlers each has and which file defines
// them. The state they share is HubServer::Impl (hub/hub_state.h); each handler's comment is
// at its definition. The hub decides nothing on the merits: the insured region does. It
// records what was decided, once per claim id.
//   HubService (region nodes):          router.cc; a claim's cancellation and status in
//                                       cancel_and_status.cc; its directory publish in
//                                       directory_service.cc
//   DirectoryService (the operator):    directory_service.cc
//   ClearingService (operator, auditors, regions for their prepayment):
//     the month's lifecycle and payment clearing_month.cc
//     reconciliation and disputes       reconciliation.cc
//     statements, the month, metrics    month_figures.cc
//     prepayment top-up, read, re-size  prepayment_requests.cc
// A settlement's way through the hub: router.cc (RouteSettle) -> routed_claims.cc (Reserve,
// then RecordFromStoredAsync once the insured region settled) -> prepayment_book.cc
// (Moves::Book). A cancellation's and a status query's: cancel_and_status.cc (RouteCancel,
// RouteStatus; SyncCall learns the insured region's record) -> routed_claims.cc (TombstoneUnrouted,
// RecordFromStoredAsync).
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include <grpcpp/grpcpp.h>

#include "absl/status/statusor.h"
#include "certs/identity.h"
#include "core/date.h"
#include "core/month.h"
#include "crossclear/v1/services.grpc.pb.h"
#include "hub/hub_state.h"
#include "rpc/call_arena.h"
#include "storage/store.h"

namespace crossclear::hub {

// RouteSettle, RouteCancel and RouteStatus are callback methods (no thread waits on the
// insured region or a commit); the others (no hop to a claim's insured region) are synchronous.
class HubServer::Impl::Routing final
    : public v1::HubService::WithCallbackMethod_RouteSettle<
          v1::HubService::WithCallbackMethod_RouteCancel<
              v1::HubService::WithCallbackMethod_RouteStatus<v1::HubService::Service>>> {
 public:
  // A settlement's request and reply are made on a per-call arena (rpc/call_arena.h).
  explicit Routing(Impl& h) : h_(h) { SetMessageAllocatorFor_RouteSettle(&settle_messages_); }

  // router.cc
  grpc::ServerUnaryReactor* RouteSettle(grpc::CallbackServerContext* ctx,
                                        const v1::RouteSettleRequest* req,
                                        v1::RouteSettleReply* reply) override;
  grpc::Status LocatePerson(grpc::ServerContext* ctx, const v1::LocatePersonRequest* req,
                            v1::LocatePersonReply* reply) override;
  grpc::Status RouteResolve(grpc::ServerContext* ctx, const v1::RouteResolveRequest* req,
                            v1::RouteResolveReply* reply) override;

  // cancel_and_status.cc
  grpc::ServerUnaryReactor* RouteCancel(grpc::CallbackServerContext* ctx,
                                        const v1::RouteCancelRequest* req,
                                        v1::RouteCancelReply* reply) override;
  grpc::ServerUnaryReactor* RouteStatus(grpc::CallbackServerContext* ctx,
                                        const v1::RouteStatusRequest* req,
                                        v1::RouteStatusReply* reply) override;

  // directory_service.cc
  grpc::Status PublishDirectory(grpc::ServerContext* ctx,
                                grpc::ServerReader<v1::PublishDirectoryRequest>* reader,
                                v1::PublishDirectoryReply* reply) override;

 private:
  // router.cc
  grpc::Status Locate(const grpc::ServerContextBase& ctx, const std::string& id,
                      std::string* treatment, std::optional<v1::RoutedClaim>* record);
  grpc::Status CheckInstitution(const certs::Identity& who, const std::string& code,
                                const v1::Institution& named);

  Impl& h_;
  rpc::ArenaMessages<v1::RouteSettleRequest, v1::RouteSettleReply> settle_messages_;
};

class HubServer::Impl::Directory final : public v1::DirectoryService::Service {
 public:
  explicit Directory(Impl& h) : h_(h) {}

  // directory_service.cc
  grpc::Status AssignPerson(grpc::ServerContext* ctx, const v1::AssignPersonRequest* req,
                            v1::AssignPersonReply* reply) override;

 private:
  Impl& h_;
};

class HubServer::Impl::Clearing final : public v1::ClearingService::Service {
 public:
  explicit Clearing(Impl& h) : h_(h) {}

  // clearing_month.cc
  grpc::Status CloseMonth(grpc::ServerContext* ctx, const v1::MonthRequest* req,
                          v1::MonthReply* reply) override;
  grpc::Status FinalizeMonth(grpc::ServerContext* ctx, const v1::MonthRequest* req,
                             v1::MonthReply* reply) override;
  grpc::Status Pay(grpc::ServerContext* ctx, const v1::PayRequest* req,
                   v1::PayReply* reply) override;

  // reconciliation.cc
  grpc::Status ReconcileMonth(grpc::ServerContext* ctx, const v1::MonthRequest* req,
                              v1::MonthReply* reply) override;
  grpc::Status ResolveDispute(grpc::ServerContext* ctx, const v1::ResolveDisputeRequest* req,
                              v1::MonthReply* reply) override;

  // month_figures.cc
  grpc::Status Clear(grpc::ServerContext* ctx, const v1::ClearRequest* req,
                     v1::Statement* reply) override;
  grpc::Status GetMonth(grpc::ServerContext* ctx, const v1::MonthRequest* req,
                        v1::MonthReply* reply) override;
  grpc::Status GetMetrics(grpc::ServerContext* ctx, const v1::MetricsRequest*,
                          v1::MetricsReply* reply) override;

  // prepayment_requests.cc
  grpc::Status Prepay(grpc::ServerContext* ctx, const v1::PrepayRequest* req,
                      v1::PrepayReply* reply) override;
  grpc::Status GetPrepayment(grpc::ServerContext* ctx, const v1::PrepaymentRequest* req,
                             v1::PrepaymentReply* reply) override;
  grpc::Status ListPrepayments(grpc::ServerContext* ctx, const v1::ListPrepaymentsRequest*,
                               v1::ListPrepaymentsReply* reply) override;
  grpc::Status ResizeQuotas(grpc::ServerContext* ctx, const v1::ResizeRequest* req,
                            v1::ResizeReply* reply) override;

 private:
  // clearing_month.cc
  grpc::Status OperatorMonth(const grpc::ServerContext& ctx, const std::string& what,
                             const std::string& text, core::Period* period, core::Date* today);
  grpc::Status Step(const grpc::ServerContext& ctx, const std::string& text,
                    core::MonthAction action, v1::MonthReply* reply);
  grpc::Status Transition(const core::Period& period, v1::MonthState& m, core::MonthAction action,
                          const core::Date& today, storage::Batch& batch);

  // reconciliation.cc
  grpc::Status FindOpen(const core::Period& period, v1::MonthState& m, const v1::Dispute& key,
                        v1::Dispute* copy, v1::Dispute** found = nullptr);
  absl::StatusOr<int64_t> LearnFact(const core::Date& today, const v1::Dispute& d);
  // One region's facts of a month for reconciliation: their ledger positions, in order, and
  // their size.
  struct Facts {
    std::vector<uint64_t> seqs;
    size_t bytes = 0;
  };
  grpc::Status AskNode(const std::string& region, v1::PeerService::Stub& peer,
                       const core::Period& period, const Facts& facts, const core::Date& today,
                       bool* agreed, std::vector<v1::Dispute>* found);
  static bool SameDispute(const v1::Dispute& a, const v1::Dispute& b);

  // month_figures.cc
  grpc::Status Answer(const core::Period& period, v1::MonthReply* reply);
  static grpc::Status ParsePeriod(const std::string& text, core::Period* out);
  absl::StatusOr<Facts> MonthFacts(const core::Period& period, const std::string& region) const;
  absl::StatusOr<core::MonthStatement> Month(const core::Period& period) const;

  // prepayment_requests.cc
  grpc::Status FrozenMonth(const core::Period& period, int year) const;
  static grpc::Status CheckRegions(const std::string& insured, const std::string& treatment);
  grpc::Status CheckServed(const std::string& insured, const std::string& treatment) const;

  Impl& h_;
};

}  // namespace crossclear::hub
