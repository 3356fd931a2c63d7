// Model-based test of the federation's money (issue 8): seeded random histories of
// settlements, retries, duplicate ids, cancellations, reversals, pre-settlements, crashes
// between commit and reply, lost answers, late status queries and the operator's month
// (close, reconcile, resolve either way, finalize, pay) run through ONE real federation
// (hub and node processes over mutual TLS), each step checked against model.h's model:
// every fact counted once, in the month the model puts it; the three ledgers agree; nothing
// dropped. A failing history is printed with its seed and shrunk by replaying it without
// steps on a fresh year.
//
//   CROSSCLEAR_MODEL_HISTORIES  how many histories (default 200)
//   CROSSCLEAR_MODEL_STEPS      steps per history (default 20)
//   CROSSCLEAR_MODEL_SEED       the first history's seed (default 8); history i uses seed + i
//   CROSSCLEAR_MODEL_SHRINK     replays allowed for shrinking a failure (default 40)
//   CROSSCLEAR_MODEL_KEEP_GOING 1: go on after a failing history (each one reported)
#include <gtest/gtest.h>
#include <sys/wait.h>

#include <algorithm>
#include <chrono>
#include <csignal>
#include <cstdlib>
#include <iostream>
#include <random>
#include <set>
#include <sstream>
#include <thread>

#include "absl/strings/str_cat.h"
#include "crossclear/v1/services.grpc.pb.h"
#include "proto/status.h"
#include "rpc/call.h"
#include "tests/e2e/model/model.h"
#include "tools/federation_harness.h"

namespace crossclear::model {
namespace {

using tools::Federation;
using tools::FederationOptions;

const std::string kWorld = std::string(CROSSCLEAR_SOURCE_DIR) + "/tests/data/e2e/world.json";
// Each history runs from October of its own year into the next year's first months. A
// federation serves this many histories, then a fresh one starts: month figures and node
// reconciliations read whole ledgers, which a long run would otherwise grow without end.
constexpr int kFirstYear = 2030;
constexpr int kHistoriesPerFederation = 300;
// Long enough that only the fault injections make a call fail, even on a loaded machine
// (a call that fails all the same is resolved at once by a status query, as a hospital would).
constexpr int kDeadlineMs = 2000;
// How long a paused party leaves a call in flight before the crash that loses its answer.
constexpr auto kInFlight = std::chrono::milliseconds(400);

uint64_t Env(const char* name, uint64_t fallback) {
  const char* v = std::getenv(name);
  return v != nullptr && *v != '\0' ? std::strtoull(v, nullptr, 10) : fallback;
}

std::unique_ptr<grpc::ClientContext> Ctx(const core::Date& day) {
  auto ctx = std::make_unique<grpc::ClientContext>();
  ctx->set_deadline(std::chrono::system_clock::now() + std::chrono::seconds(30));
  ctx->set_wait_for_ready(true);
  ctx->AddMetadata(rpc::kTodayKey, day.ToString());
  return ctx;
}

std::string StatusText(const grpc::Status& st) {
  std::string out = absl::StrCat("grpc ", st.error_code(), " \"", st.error_message(), "\"");
  if (auto d = protoconv::DetailOf(st)) {
    absl::StrAppend(&out, " ", v1::Reason_Name(d->reason()), " field ", d->field());
  }
  return out;
}

std::string Fen(int64_t fen) { return absl::StrCat(fen, " fen"); }

// One history's run against the federation: executes each step, compares every answer with
// the model, moves the model. The first difference ends the run (failure()).
class Runner {
 public:
  Runner(Federation& fed, int slot, uint64_t seed)
      : fed_(fed),
        model_(core::Period{kFirstYear + slot, 10}),
        prefix_(absl::StrCat("MH", kFirstYear + slot, "-")),
        rng_(seed ^ 0x9e3779b97f4a7c15ULL) {}

  const std::string& failure() const { return failure_; }
  const std::string& prefix() const { return prefix_; }
  const Calendar& calendar() const { return model_.calendar(); }

  bool Begin() {
    last_day_ = FirstDayOf(model_.calendar().first);
    return ReadOutstanding(&baseline_);
  }

  bool Do(const Step& s) {
    core::Date day = model_.calendar().DayOf(s.month, s.day);
    if (day < last_day_) day = last_day_;  // time never runs backwards
    last_day_ = day;
    switch (s.op) {
      case Op::kSettle:
        return NewClaim(s, day);
      case Op::kRetry:
        return Retry(s, day);
      case Op::kDuplicate:
        return Duplicate(s, day);
      case Op::kPreSettle:
        return PreSettle(s, day);
      case Op::kCancel:
        return Cancel(s, day);
      case Op::kQuery:
        return Query(s, day);
      case Op::kCrashSettle:
        return CrashSettle(s, day);
      case Op::kDownSettle:
        return DownSettle(s, day);
      case Op::kLostCancel:
        return LostCancel(s, day);
      case Op::kRestartNode:
        return RestartNode(kRegions[s.region], day);
      case Op::kRestartHub:
        return RestartHub();
      case Op::kClose:
        return Close(model_.calendar().PeriodOf(s.target_month), day);
      case Op::kReconcile:
        return Reconcile(model_.calendar().PeriodOf(s.target_month), day);
      case Op::kResolve:
        return Resolve(model_.calendar().PeriodOf(s.target_month), day, s.choice);
      case Op::kFinalize:
        return Finalize(model_.calendar().PeriodOf(s.target_month), day);
      case Op::kPay:
        return Pay(model_.calendar().PeriodOf(s.target_month), day);
    }
    return Fail("unknown step");
  }

  // After every step: every pair's outstanding amount at the hub (what it counts over the
  // months not paid) moved by exactly what the model booked.
  bool CheckOutstanding() {
    std::map<Pair, int64_t> now;
    if (!ReadOutstanding(&now)) return false;
    std::map<Pair, int64_t> want = model_.Outstanding();
    std::set<Pair> pairs;
    for (const auto* m : {&now, &baseline_, &want}) {
      for (const auto& [pair, _] : *m) pairs.insert(pair);
    }
    for (const Pair& pair : pairs) {
      const int64_t got = Get(now, pair) - Get(baseline_, pair);
      if (got != Get(want, pair)) {
        return Fail(absl::StrCat("the hub counts ", Fen(got), " for insured ", pair.first,
                                 " / treatment ", pair.second,
                                 " in its unpaid months of this "
                                 "history; the claims settled and not cancelled make ",
                                 Fen(Get(want, pair)), BookingText(pair)));
      }
    }
    return true;
  }

  // The end of a history: every claim in doubt resolved by a status query, then every month
  // touched closed, reconciled, its disputes resolved, finalized and paid; then the three
  // ledgers compared with the model claim by claim and month by month.
  bool Finish() {
    const core::Date day = last_day_;
    for (Claim& c : model_.claims) {
      if (c.state == ClaimState::kInDoubt && !ResolveInDoubt(c, day)) return false;
    }
    if (!CheckOutstanding()) return false;
    for (size_t i = 0; i < model_.Touched().size(); ++i) {  // Touched() grows as we book
      const core::Period p = model_.Touched()[i];
      core::Date when = std::max(last_day_, FirstDayOf(p.Next()));
      last_day_ = when;
      if (model_.months[p].status == MonthStatus::kOpen && !Close(p, when)) return false;
      if (model_.months[p].status == MonthStatus::kClosed && !Reconcile(p, when)) return false;
      for (int round = 0; model_.months[p].status == MonthStatus::kDisputed; ++round) {
        if (round > 3) return Fail(p.ToString() + " stays disputed");
        if (!Resolve(p, when, rng_())) return false;
        if (model_.months[p].status == MonthStatus::kDisputed && !Reconcile(p, when)) {
          return false;
        }
      }
      if (model_.months[p].status == MonthStatus::kReconciled && !Finalize(p, when)) return false;
      if (model_.months[p].status == MonthStatus::kFinal && !Pay(p, when)) return false;
      if (!CheckOutstanding()) return false;
    }
    return CheckMonths() && CheckClaims() && CheckNodes();
  }

  // What the history did, for the figures printed at the end and the check that histories
  // move money at all (a federation refusing every claim would pass every money check).
  void Tally(std::map<std::string, int>* t) const {
    for (const Claim& c : model_.claims) {
      if (c.state != ClaimState::kUnsent) ++(*t)[std::string("claims ") + StateName(c.state)];
      if (c.settle.present && c.amount != 0) ++(*t)["claims settled with money"];
    }
    for (const auto& [p, m] : model_.months) {
      if (m.status == MonthStatus::kPaid) ++(*t)["months paid"];
      for (const v1::Dispute& d : m.disputes) {
        if (d.resolved()) ++(*t)["disputes resolved adopting " + d.resolution()];
      }
    }
  }

  // After a failure: every claim of the history asked about once (each one in doubt, or with
  // a cancel in doubt, is resolved now), so that no node's resolver books it later, into
  // the outstanding figures the next history starts from.
  void Quiesce() {
    for (const Claim& c : model_.claims) {
      v1::StatusReply r;
      if (c.state != ClaimState::kUnsent) (void)QueryStatus(c, last_day_, &r);
    }
  }

  // Before a replay on a fresh year after a failure: every party up and responsive.
  static void Reset(Federation& fed) {
    for (const char* r : kRegions) {
      (void)fed.SignalNode(r, SIGCONT);
      (void)fed.KillNode(r);
      (void)fed.WaitNodeExit(r, 1);
      (void)fed.StartNode(r);
    }
    (void)fed.StartHub();  // FailedPrecondition when it runs
  }

 private:
  static int64_t Get(const std::map<Pair, int64_t>& m, const Pair& k) {
    auto it = m.find(k);
    return it == m.end() ? 0 : it->second;
  }

  bool Fail(const std::string& why) {
    if (failure_.empty()) failure_ = why;
    return false;
  }

  std::string BookingText(const Pair& pair) const {
    std::string out = " (model:";
    for (const Claim& c : model_.claims) {
      if (Pair{c.insured, c.treatment} != pair) continue;
      absl::StrAppend(&out, " ", c.id, " ", StateName(c.state));
      if (c.settle.present) {
        absl::StrAppend(&out, " +", c.amount, " day ", c.settle.day.ToString(),
                        c.settle.hub ? " booked " + c.settle.booked.ToString() : " not at hub");
      }
      if (c.cancel.present) {
        absl::StrAppend(&out, " -", c.amount, " day ", c.cancel.day.ToString(),
                        c.cancel.hub ? " booked " + c.cancel.booked.ToString() : " not at hub");
      }
      absl::StrAppend(&out, ";");
    }
    return out + ")";
  }

  bool ReadOutstanding(std::map<Pair, int64_t>* out) {
    auto stub = v1::ClearingService::NewStub(fed_.OperatorChannel());
    v1::ListPrepaymentsReply reply;
    auto ctx = Ctx(last_day_);
    grpc::Status st = stub->ListPrepayments(ctx.get(), v1::ListPrepaymentsRequest(), &reply);
    if (!st.ok()) return Fail("ListPrepayments: " + StatusText(st));
    out->clear();
    for (const auto& p : reply.positions())
      (*out)[{p.insured(), p.treatment()}] = p.outstanding_fen();
    return true;
  }

  // ---- calls --------------------------------------------------------------------------

  std::unique_ptr<v1::HospitalService::Stub> Hospital(const std::string& institution,
                                                      const std::string& region) {
    return v1::HospitalService::NewStub(fed_.HospitalChannel(institution, region));
  }

  grpc::Status Send(const v1::SettleRequest& req, const std::string& region, const core::Date& day,
                    v1::SettleReply* reply, bool presettle = false) {
    auto stub = Hospital(req.claim().fixmedins_code(), region);
    auto ctx = Ctx(day);
    return presettle ? stub->PreSettle(ctx.get(), req, reply) : stub->Settle(ctx.get(), req, reply);
  }

  grpc::Status QueryStatus(const Claim& c, const core::Date& day, v1::StatusReply* reply) {
    v1::StatusRequest req;
    req.set_mdtrt_id(c.id);
    req.set_fixmedins_code(c.institution);
    auto ctx = Ctx(day);
    return Hospital(c.institution, c.treatment)->QueryStatus(ctx.get(), req, reply);
  }

  // The insured node's own record of the claim (read-only, asked as the hub asks it).
  bool InsuredRecord(const Claim& c, v1::RouteStatusReply* reply) {
    auto peer = v1::PeerService::NewStub(fed_.ChannelAs("hub", fed_.NodeAddress(c.insured)));
    v1::InsuredStatusRequest req;
    req.set_claim_id(c.id);
    req.set_treatment_region(c.treatment);
    auto ctx = Ctx(last_day_);
    grpc::Status st = peer->Status(ctx.get(), req, reply);
    if (!st.ok()) return Fail("the insured node's record of " + c.id + ": " + StatusText(st));
    return true;
  }

  grpc::Status MonthCall(const std::string& rpc, const core::Period& p, const core::Date& day,
                         v1::MonthReply* reply) {
    auto stub = v1::ClearingService::NewStub(fed_.OperatorChannel());
    v1::MonthRequest req;
    req.set_period(p.ToString());
    auto ctx = Ctx(day);
    return rpc == "close"       ? stub->CloseMonth(ctx.get(), req, reply)
           : rpc == "reconcile" ? stub->ReconcileMonth(ctx.get(), req, reply)
           : rpc == "finalize"  ? stub->FinalizeMonth(ctx.get(), req, reply)
                                : stub->GetMonth(ctx.get(), req, reply);
  }

  // ---- claims -------------------------------------------------------------------------

  Claim& Make(const Step& s, const core::Date& day) {
    if (model_.claims.size() <= static_cast<size_t>(s.claim)) model_.claims.resize(s.claim + 1);
    Claim& c = model_.claims[s.claim];
    c.id = absl::StrCat(prefix_, "C", s.claim);
    c.request = BuildRequest(c.id, s.spec, day);
    c.institution = kInstitutions[s.spec.institution].code;
    c.treatment = kInstitutions[s.spec.institution].region;
    c.insured = kPersons[s.spec.person].insured;
    return c;
  }

  Claim* Existing(const Step& s) {
    if (s.claim < 0 || static_cast<size_t>(s.claim) >= model_.claims.size()) return nullptr;
    Claim* c = &model_.claims[s.claim];
    return c->state == ClaimState::kUnsent ? nullptr : c;
  }

  // The answer to a settlement of a claim the federation has never stored.
  bool FirstAnswer(Claim& c, const core::Date& day, const grpc::Status& st,
                   const v1::SettleReply& reply) {
    if (st.error_code() == grpc::StatusCode::UNAVAILABLE ||
        st.error_code() == grpc::StatusCode::DEADLINE_EXCEEDED) {
      // Not a fault this step injected: learn at once what happened (no month moves meanwhile).
      c.state = ClaimState::kInDoubt;
      v1::RouteStatusReply record;
      if (!InsuredRecord(c, &record)) return false;
      c.committed = record.known() && record.claim().state() == v1::SETTLED;
      if (c.committed) {
        c.result = record.claim().result();
        c.amount = ClearingOf(c.result);
        c.settle.present = true;
        c.settle.day = day;
      }
      return ResolveInDoubt(c, day);
    }
    if (!st.ok()) return Fail("settle " + c.id + ": " + StatusText(st));
    if (reply.replayed()) return Fail("a new claim " + c.id + " was answered as a replay");
    if (!reply.result().settled()) {
      if (reply.result().reason() == v1::DUPLICATE_CLAIM) {
        return Fail("a new claim id " + c.id + " was refused DUPLICATE_CLAIM");
      }
      c.state = ClaimState::kRejected;
      c.result = reply.result();
      return true;
    }
    if (reply.setl_date() != day.ToString()) {
      return Fail(c.id + " settled on " + reply.setl_date() + ", today is " + day.ToString());
    }
    if (reply.insuplc_admdvs() != c.insured) {
      return Fail(c.id + " decided by " + reply.insuplc_admdvs() + ", insured in " + c.insured);
    }
    model_.Settled(c, day, reply.result());
    return true;
  }

  bool NewClaim(const Step& s, const core::Date& day) {
    if (Existing(s) != nullptr) return true;  // (a shrunk history never re-creates)
    Claim& c = Make(s, day);
    v1::SettleReply reply;
    grpc::Status st = Send(c.request, c.treatment, day, &reply);
    return FirstAnswer(c, day, st, reply);
  }

  bool Retry(const Step& s, const core::Date& day) {
    Claim* c = Existing(s);
    if (c == nullptr) return true;
    v1::SettleReply reply;
    grpc::Status st = Send(c->request, c->treatment, day, &reply);
    const std::string what = absl::StrCat("retry of ", c->id, " (", StateName(c->state), ")");
    switch (c->state) {
      case ClaimState::kRejected:
        return FirstAnswer(*c, day, st, reply);
      case ClaimState::kSettled:
        if (!st.ok()) return Fail(what + ": " + StatusText(st));
        if (!reply.replayed() || !reply.result().settled() ||
            reply.result().SerializeAsString() != c->result.SerializeAsString() ||
            reply.setl_date() != c->settle.day.ToString()) {
          return Fail(what + ": not the stored result replayed (replayed=" +
                      (reply.replayed() ? "true" : "false") + ", setl_date " + reply.setl_date() +
                      ", " + Fen(ClearingOf(reply.result())) + ")");
        }
        return true;
      case ClaimState::kCancelled:
      case ClaimState::kTombstone:
        if (!st.ok()) return Fail(what + ": " + StatusText(st));
        if (reply.result().settled() || reply.result().reason() != v1::DUPLICATE_CLAIM) {
          return Fail(what + ": expected DUPLICATE_CLAIM, got " +
                      (reply.result().settled() ? std::string("settled")
                                                : v1::Reason_Name(reply.result().reason())));
        }
        return true;
      case ClaimState::kInDoubt:
        if (!st.ok()) return Fail(what + ": every party is up, yet " + StatusText(st));
        if (c->committed) {
          if (!reply.result().settled() || !reply.replayed() ||
              reply.setl_date() != c->settle.day.ToString() ||
              ClearingOf(reply.result()) != c->amount) {
            return Fail(what + ": the insured region committed it on " + c->settle.day.ToString() +
                        " for " + Fen(c->amount) + "; the retry must replay that (got replayed=" +
                        (reply.replayed() ? "true" : "false") + " setl_date " + reply.setl_date() +
                        ")");
          }
          model_.Settled(*c, c->settle.day, reply.result());
          return true;
        }
        // Never seen by the insured region: the retry decides it now.
        c->state = ClaimState::kUnsent;
        return FirstAnswer(*c, day, st, reply);
      case ClaimState::kUnsent:
        break;
    }
    return true;
  }

  bool Duplicate(const Step& s, const core::Date& day) {
    Claim* c = Existing(s);
    if (c == nullptr) return true;
    v1::SettleRequest req = BuildRequest(c->id, s.spec, day);
    const std::string region = kInstitutions[s.spec.institution].region;
    if (req.claim().SerializeAsString() == c->request.claim().SerializeAsString()) return true;
    const bool same_node = region == c->treatment;
    // An id in doubt is known to its treatment node only; a rejected id was never stored.
    const bool used = c->state == ClaimState::kSettled || c->state == ClaimState::kCancelled ||
                      c->state == ClaimState::kTombstone ||
                      (c->state == ClaimState::kInDoubt && same_node);
    if (!used) return true;
    v1::SettleReply reply;
    grpc::Status st = Send(req, region, day, &reply);
    const std::string what = absl::StrCat(
        "a second claim under id ", c->id, " (", StateName(c->state), " at ", c->institution,
        ") from ", req.claim().fixmedins_code(), " for ", req.claim().psn_no());
    if (!st.ok()) return Fail(what + ": " + StatusText(st));
    // A claim of the treatment region's own insured is no cross-region claim at all: which
    // refusal comes first (LOCAL_CLAIM or DUPLICATE_CLAIM) the spec leaves open.
    const bool local = kPersons[s.spec.person].insured == region;
    if (local && !reply.result().settled() && reply.result().reason() == v1::LOCAL_CLAIM) {
      return true;
    }
    if (reply.result().settled() || reply.result().reason() != v1::DUPLICATE_CLAIM) {
      return Fail(what + ": expected DUPLICATE_CLAIM, got " +
                  (reply.result().settled() ? "settled by " + reply.insuplc_admdvs() + " for " +
                                                  Fen(ClearingOf(reply.result()))
                                            : v1::Reason_Name(reply.result().reason())));
    }
    return true;
  }

  bool PreSettle(const Step& s, const core::Date& day) {
    v1::SettleRequest req =
        BuildRequest(absl::StrCat(prefix_, "C", s.claim, "-pre", pre_++), s.spec, day);
    v1::SettleReply reply;
    grpc::Status st =
        Send(req, kInstitutions[s.spec.institution].region, day, &reply, /*presettle=*/true);
    if (!st.ok()) return Fail("presettle: " + StatusText(st));
    if (reply.replayed()) return Fail("a pre-settlement was answered as a replay");
    return true;  // CheckOutstanding: it changed nothing
  }

  bool Cancel(const Step& s, const core::Date& day) {
    Claim* c = Existing(s);
    if (c == nullptr) return true;
    const ClaimState before = c->state;
    v1::CancelRequest req;
    req.set_mdtrt_id(c->id);
    req.set_fixmedins_code(c->institution);
    v1::CancelReply reply;
    auto ctx = Ctx(day);
    grpc::Status st = Hospital(c->institution, c->treatment)->Cancel(ctx.get(), req, &reply);
    const std::string what = absl::StrCat("cancel of ", c->id, " (", StateName(before), ")");
    if (!st.ok()) return Fail(what + ": every party is up, yet " + StatusText(st));
    const auto refused = [&](v1::Reason want) {
      if (reply.cancelled() || reply.reason() != want) {
        return Fail(
            what + ": expected " + v1::Reason_Name(want) + ", got " +
            (reply.cancelled() ? std::string("cancelled") : v1::Reason_Name(reply.reason())));
      }
      return true;
    };
    switch (before) {
      case ClaimState::kRejected:
      case ClaimState::kTombstone:
        return refused(v1::UNKNOWN_CLAIM);
      case ClaimState::kCancelled:
        if (!refused(v1::ALREADY_CANCELLED)) return false;
        if (reply.cancelled_on() != c->cancel.day.ToString()) {
          return Fail(what + ": cancelled_on " + reply.cancelled_on() + ", cancelled on " +
                      c->cancel.day.ToString());
        }
        return true;
      case ClaimState::kInDoubt:
        // The node resolves it first: learnt (then cancelled), or reversed.
        if (!c->committed) {
          c->state = ClaimState::kTombstone;
          return refused(v1::UNKNOWN_CLAIM);
        }
        model_.Settled(*c, c->settle.day, c->result);
        [[fallthrough]];
      case ClaimState::kSettled:
        if (!reply.cancelled() || reply.cancelled_on() != day.ToString()) {
          return Fail(what + ": expected cancelled on " + day.ToString() + ", got " +
                      (reply.cancelled() ? "cancelled on " + reply.cancelled_on()
                                         : v1::Reason_Name(reply.reason())));
        }
        model_.Cancelled(*c, day);
        return true;
      case ClaimState::kUnsent:
        break;
    }
    return true;
  }

  // What the treatment node says of a claim the model knows the outcome of.
  bool ExpectStatus(const Claim& c, const v1::StatusReply& r, const std::string& what) {
    const std::string got =
        absl::StrCat(v1::ClaimState_Name(r.state()), " settled_on \"", r.settled_on(),
                     "\" cancelled_on \"", r.cancelled_on(), "\"");
    switch (c.state) {
      case ClaimState::kSettled:
        if (r.state() != v1::SETTLED || r.settled_on() != c.settle.day.ToString()) {
          return Fail(what + ": the treatment node holds " + got + "; expected SETTLED on " +
                      c.settle.day.ToString());
        }
        return true;
      case ClaimState::kCancelled:
        if (r.state() != v1::CANCELLED || r.cancelled_on() != c.cancel.day.ToString() ||
            r.settled_on() != c.settle.day.ToString()) {
          return Fail(what + ": the treatment node holds " + got + "; expected CANCELLED on " +
                      c.cancel.day.ToString());
        }
        return true;
      case ClaimState::kTombstone:
        if (r.state() != v1::TOMBSTONE) {
          return Fail(what + ": the treatment node holds " + got + "; expected TOMBSTONE");
        }
        return true;
      default:
        return Fail(what + ": the model holds " + StateName(c.state));
    }
  }

  // A claim in doubt, resolved by the hospital's status query: the insured region's record
  // decides (SETTLED, learnt by the node and the hub now; or never seen: reversed).
  bool ResolveInDoubt(Claim& c, const core::Date& day) {
    v1::StatusReply r;
    grpc::Status st = QueryStatus(c, day, &r);
    const std::string what = "status query of " + c.id + " (in doubt)";
    if (!st.ok()) {
      v1::RouteStatusReply record;
      const std::string insured = !InsuredRecord(c, &record) ? "unreadable"
                                  : record.known() ? v1::ClaimState_Name(record.claim().state())
                                                   : "nothing";
      return Fail(what + ": " + StatusText(st) + "; the insured node holds " + insured);
    }
    if (c.committed) {
      model_.Settled(c, c.settle.day, c.result);
      if (ClearingOf(r.result()) != c.amount) {
        return Fail(what + ": learnt " + Fen(ClearingOf(r.result())) +
                    ", the insured region "
                    "committed " +
                    Fen(c.amount));
      }
    } else {
      c.state = ClaimState::kTombstone;
    }
    return ExpectStatus(c, r, what);
  }

  bool Query(const Step& s, const core::Date& day) {
    Claim* c = Existing(s);
    if (c == nullptr) return true;
    if (c->state == ClaimState::kInDoubt) return ResolveInDoubt(*c, day);
    v1::StatusReply r;
    grpc::Status st = QueryStatus(*c, day, &r);
    const std::string what = absl::StrCat("status query of ", c->id);
    if (c->state == ClaimState::kRejected) {
      if (st.error_code() != grpc::StatusCode::NOT_FOUND) {
        return Fail(what + " (rejected, never stored): expected NOT_FOUND, got " + StatusText(st) +
                    " " + v1::ClaimState_Name(r.state()));
      }
      return true;
    }
    if (!st.ok()) return Fail(what + ": " + StatusText(st));
    return ExpectStatus(*c, r, what);
  }

  // A node restarted: its resolver runs at once over its claims in doubt; the model resolves
  // them in the same step (by status queries, which wait for the node's own resolution).
  bool ResolveTreatedAt(const std::string& region, const core::Date& day) {
    for (Claim& c : model_.claims) {
      if (c.state == ClaimState::kInDoubt && c.treatment == region && !ResolveInDoubt(c, day)) {
        return false;
      }
    }
    return true;
  }

  bool Restart(const std::string& region, const std::vector<std::string>& flags = {}) {
    (void)fed_.KillNode(region);
    if (auto s = fed_.StartNode(region, flags); !s.ok()) {
      return Fail("restart of node " + region + ": " + std::string(s.message()));
    }
    return true;
  }

  bool RestartNode(const std::string& region, const core::Date& day) {
    return Restart(region) && ResolveTreatedAt(region, day);
  }

  bool RestartHub() {
    if (auto s = fed_.KillHub(); !s.ok()) return Fail("kill the hub: " + std::string(s.message()));
    if (auto s = fed_.StartHub(); !s.ok()) {
      return Fail("restart the hub: " + std::string(s.message()));
    }
    return true;
  }

  // The insured node dies right after committing the claim, before it answers the hub.
  bool CrashSettle(const Step& s, const core::Date& day) {
    if (Existing(s) != nullptr) return true;
    Claim& c = Make(s, day);
    if (c.insured == c.treatment) return NewClaim(s, day);
    if (!Restart(c.insured, {"--test-crash-after-decide", c.id})) return false;
    v1::SettleReply reply;
    grpc::Status st = Send(c.request, c.treatment, day, &reply);
    if (st.ok()) {
      // Refused on the merits: nothing was committed, nothing crashed.
      if (!FirstAnswer(c, day, st, reply)) return false;
      return Restart(c.insured) && ResolveTreatedAt(c.insured, day);
    }
    auto exit = fed_.WaitNodeExit(c.insured, 15000);
    if (!exit.ok() || *exit != 137) {
      return Fail("settle " + c.id + " answered " + StatusText(st) +
                  " but the insured node did not crash after committing it");
    }
    if (auto started = fed_.StartNode(c.insured); !started.ok()) {
      return Fail("restart of node " + c.insured + ": " + std::string(started.message()));
    }
    v1::RouteStatusReply record;
    if (!InsuredRecord(c, &record)) return false;
    if (!record.known() || record.claim().state() != v1::SETTLED ||
        record.claim().settled_on() != day.ToString()) {
      return Fail("the insured node does not hold " + c.id + " SETTLED on " + day.ToString() +
                  " after committing it");
    }
    c.state = ClaimState::kInDoubt;
    c.committed = true;
    c.result = record.claim().result();
    c.amount = ClearingOf(c.result);
    c.settle.present = true;
    c.settle.day = day;
    return ResolveTreatedAt(c.insured, day);
  }

  // The insured node is paused while the hub forwards the claim, then killed: it never
  // decides it. The claim is in doubt at the treatment node until a status query reverses it.
  bool DownSettle(const Step& s, const core::Date& day) {
    if (Existing(s) != nullptr) return true;
    Claim& c = Make(s, day);
    if (c.insured == c.treatment) return NewClaim(s, day);
    if (auto p = fed_.SignalNode(c.insured, SIGSTOP); !p.ok())
      return Fail(std::string(p.message()));
    v1::SettleReply reply;
    grpc::Status st;
    auto stub = Hospital(c.institution, c.treatment);
    std::thread call([&] {
      auto ctx = Ctx(day);
      st = stub->Settle(ctx.get(), c.request, &reply);
    });
    const auto sent = std::chrono::steady_clock::now();
    std::this_thread::sleep_for(kInFlight);
    (void)fed_.KillNode(c.insured);
    call.join();
    // A call that failed by the treatment node's deadline may leave the hub's own forward
    // (begun a little later, waiting for the insured node to come back) still pending: let
    // it run out, or the node restarted now would decide the claim after all.
    if (std::chrono::steady_clock::now() - sent >=
        std::chrono::milliseconds(kDeadlineMs) - kInFlight) {
      std::this_thread::sleep_for(std::chrono::milliseconds(kDeadlineMs) / 2);
    }
    if (!Restart(c.insured)) return false;
    if (st.ok()) {
      if (!FirstAnswer(c, day, st, reply)) return false;
    } else {
      c.state = ClaimState::kInDoubt;
      c.committed = false;
      v1::RouteStatusReply record;
      if (!InsuredRecord(c, &record)) return false;
      if (record.known()) {
        return Fail("the insured node was killed before deciding " + c.id + ", yet holds it " +
                    v1::ClaimState_Name(record.claim().state()));
      }
    }
    return ResolveTreatedAt(c.insured, day);
  }

  // The hospital cancels while the insured node is paused; the treatment node is killed
  // before the answer comes back; the insured node resumes, the treatment node restarts.
  // The cancel must then be completed (or never have happened) everywhere alike.
  bool LostCancel(const Step& s, const core::Date& day) {
    Claim* cp = Existing(s);
    if (cp == nullptr || cp->state != ClaimState::kSettled || cp->insured == cp->treatment) {
      return true;
    }
    Claim& c = *cp;
    if (auto p = fed_.SignalNode(c.insured, SIGSTOP); !p.ok())
      return Fail(std::string(p.message()));
    v1::CancelRequest req;
    req.set_mdtrt_id(c.id);
    req.set_fixmedins_code(c.institution);
    v1::CancelReply reply;
    grpc::Status st;
    auto stub = Hospital(c.institution, c.treatment);
    std::thread call([&] {
      auto ctx = Ctx(day);
      st = stub->Cancel(ctx.get(), req, &reply);
    });
    std::this_thread::sleep_for(kInFlight);
    (void)fed_.KillNode(c.treatment);
    (void)fed_.SignalNode(c.insured, SIGCONT);
    call.join();
    if (auto started = fed_.StartNode(c.treatment); !started.ok()) {
      return Fail("restart of node " + c.treatment + ": " + std::string(started.message()));
    }
    v1::StatusReply r;
    grpc::Status qs = QueryStatus(c, day, &r);
    if (!qs.ok())
      return Fail("status query of " + c.id + " after a lost cancel: " + StatusText(qs));
    v1::RouteStatusReply record;
    if (!InsuredRecord(c, &record)) return false;
    const v1::ClaimState at_insured =
        record.known() ? record.claim().state() : v1::CLAIM_STATE_UNSPECIFIED;
    if (r.state() != at_insured) {
      return Fail("after a cancel of " + c.id +
                  " whose answer was lost, the treatment node "
                  "holds it " +
                  v1::ClaimState_Name(r.state()) + " and the insured node " +
                  v1::ClaimState_Name(at_insured) + " (the hospital got " + StatusText(st) + ")");
    }
    if (r.state() == v1::CANCELLED) {
      if (r.cancelled_on() != day.ToString()) {
        return Fail(c.id + " cancelled on " + r.cancelled_on() + ", the cancel was sent on " +
                    day.ToString());
      }
      model_.Cancelled(c, day);
    } else if (r.state() != v1::SETTLED) {
      return Fail(c.id + " is " + v1::ClaimState_Name(r.state()) + " after a lost cancel");
    }
    return ResolveTreatedAt(c.treatment, day);
  }

  // ---- the operator's month -------------------------------------------------------------

  // A month step the model refuses: FAILED_PRECONDITION with WRONG_MONTH_STATE (or
  // ALREADY_PAID), and nothing changes.
  bool Refused(const std::string& what, const grpc::Status& st, v1::Reason want) {
    auto d = protoconv::DetailOf(st);
    if (st.error_code() != grpc::StatusCode::FAILED_PRECONDITION || !d || d->reason() != want) {
      return Fail(what + ": expected FAILED_PRECONDITION " + v1::Reason_Name(want) + ", got " +
                  (st.ok() ? std::string("OK") : StatusText(st)));
    }
    return true;
  }

  bool ExpectMonth(const std::string& what, const core::Period& p, const v1::MonthReply& m) {
    const Month& want = model_.months[p];
    if (m.state().status() != std::string(core::MonthStatusName(want.status))) {
      return Fail(what + ": the hub says " + m.state().status() + ", the model " +
                  std::string(core::MonthStatusName(want.status)));
    }
    std::map<Pair, int64_t> got;
    for (const auto& o : m.statement().obligations()) {
      if (o.amount_fen() != 0) got[{o.insured(), o.treatment()}] = o.amount_fen();
    }
    const std::map<Pair, int64_t> obligations = model_.Obligations(p);
    if (got != obligations) {
      std::string text;
      for (const auto& [pair, fen] : got) {
        absl::StrAppend(&text, " hub ", pair.first, "->", pair.second, " ", fen, ";");
      }
      for (const auto& [pair, fen] : obligations) {
        absl::StrAppend(&text, " model ", pair.first, "->", pair.second, " ", fen,
                        BookingText(pair), ";");
      }
      return Fail(what + ": " + p.ToString() + "'s obligations differ:" + text);
    }
    return true;
  }

  // A lifecycle step the model allows from `from` only (elsewhere it must be refused, and
  // nothing changes); *moved says whether the month went to `to`.
  bool Lifecycle(const std::string& rpc, const core::Period& p, const core::Date& day,
                 MonthStatus from, MonthStatus to, v1::MonthReply* m, bool* moved) {
    grpc::Status st = MonthCall(rpc, p, day, m);
    const std::string what = rpc + " " + p.ToString();
    *moved = false;
    if (model_.months[p].status != from) return Refused(what, st, v1::WRONG_MONTH_STATE);
    if (!st.ok()) return Fail(what + ": " + StatusText(st));
    model_.months[p].status = to;
    *moved = true;
    return true;
  }

  bool Close(const core::Period& p, const core::Date& day) {
    v1::MonthReply m;
    bool moved = false;
    if (!Lifecycle("close", p, day, MonthStatus::kOpen, MonthStatus::kClosed, &m, &moved)) {
      return false;
    }
    return !moved || ExpectMonth("close " + p.ToString(), p, m);
  }

  bool Reconcile(const core::Period& p, const core::Date& day) {
    Month& month = model_.months[p];
    v1::MonthReply m;
    grpc::Status st = MonthCall("reconcile", p, day, &m);
    const std::string what = "reconcile " + p.ToString();
    const MonthStatus before = month.status;
    if (before != MonthStatus::kClosed && before != MonthStatus::kDisputed &&
        before != MonthStatus::kReconciled) {
      return Refused(what, st, v1::WRONG_MONTH_STATE);
    }
    // The differences found, less those resolved before (they stay as resolved).
    std::vector<v1::Dispute> open;
    for (const v1::Dispute& d : model_.Differences(p)) {
      const bool resolved = std::any_of(month.disputes.begin(), month.disputes.end(),
                                        [&](const v1::Dispute& r) {
                                          return r.resolved() && SameDispute(r, d);
                                        });
      if (!resolved) open.push_back(d);
    }
    if (before == MonthStatus::kReconciled && !open.empty()) {
      return Refused(what, st, v1::WRONG_MONTH_STATE);
    }
    if (!st.ok()) return Fail(what + ": " + StatusText(st));
    std::vector<v1::Dispute> got;
    for (const v1::Dispute& d : m.state().disputes()) {
      if (!d.resolved()) got.push_back(d);
    }
    std::string diff;
    for (const v1::Dispute& d : got) {
      auto it = std::find_if(open.begin(), open.end(),
                             [&](const v1::Dispute& w) { return SameDispute(w, d); });
      if (it == open.end()) {
        absl::StrAppend(&diff, "\n    unexpected: ", DisputeText(d));
      } else if (it->has_hub_fen() != d.has_hub_fen() || it->hub_fen() != d.hub_fen() ||
                 it->has_party_fen() != d.has_party_fen() || it->party_fen() != d.party_fen()) {
        absl::StrAppend(&diff, "\n    figures: ", DisputeText(d), ", model ", DisputeText(*it));
      }
    }
    for (const v1::Dispute& w : open) {
      if (std::none_of(got.begin(), got.end(),
                       [&](const v1::Dispute& d) { return SameDispute(w, d); })) {
        absl::StrAppend(&diff, "\n    missing: ", DisputeText(w));
      }
    }
    if (!diff.empty()) return Fail(what + ": the disputes are not the model's:" + diff);
    std::vector<v1::Dispute> kept;
    for (const v1::Dispute& d : month.disputes) {
      if (d.resolved()) kept.push_back(d);
    }
    for (const v1::Dispute& d : open) kept.push_back(d);
    month.disputes = std::move(kept);
    month.status = open.empty() ? MonthStatus::kReconciled : MonthStatus::kDisputed;
    return ExpectMonth(what, p, m);
  }

  bool Resolve(const core::Period& p, const core::Date& day, uint64_t choice) {
    Month& month = model_.months[p];
    if (month.status != MonthStatus::kDisputed) return true;
    auto stub = v1::ClearingService::NewStub(fed_.OperatorChannel());
    for (size_t i = 0; i < month.disputes.size(); ++i) {
      v1::Dispute& d = month.disputes[i];
      if (d.resolved()) continue;
      Claim* c = model_.ById(d.claim_id());
      if (c == nullptr) return Fail("a dispute of an unknown claim " + DisputeText(d));
      Fact& fact = d.kind() == "cancel" ? c->cancel : c->settle;
      v1::ResolveDisputeRequest req;
      req.set_period(p.ToString());
      req.set_region(d.region());
      req.set_side(d.side());
      req.set_claim_id(d.claim_id());
      req.set_kind(d.kind());
      req.set_adopt((choice >> (i % 64)) & 1 ? "party" : "hub");
      v1::MonthReply m;
      auto ctx = Ctx(day);
      grpc::Status st = stub->ResolveDispute(ctx.get(), req, &m);
      const std::string what = "resolve " + DisputeText(d) + " adopting " + req.adopt();
      if (req.adopt() == "party") {
        // The party is right only where the insured region's record says what it says: a
        // figure the record contradicts is refused, and then the hub's figure stands. Any
        // other refusal of "party" is acceptable too.
        const bool contradicted = d.has_party_fen() != fact.present;
        if (st.ok() && contradicted) {
          return Fail(what + ": adopted, though the insured region's record says the " + d.kind() +
                      (fact.present ? " happened" : " never happened"));
        }
        if (!st.ok()) {
          if (st.error_code() != grpc::StatusCode::FAILED_PRECONDITION) {
            return Fail(what + ": " + StatusText(st));
          }
          req.set_adopt("hub");
          auto hctx = Ctx(day);
          st = stub->ResolveDispute(hctx.get(), req, &m);
        } else {
          model_.Learn(fact);
        }
      }
      if (!st.ok()) return Fail(what + ": " + StatusText(st));
      d.set_resolved(true);
      d.set_resolution(req.adopt());
      const bool all = std::all_of(month.disputes.begin(), month.disputes.end(),
                                   [](const v1::Dispute& x) { return x.resolved(); });
      if (all) month.status = MonthStatus::kReconciled;
      if (!ExpectMonth(what, p, m) || !CheckOutstanding()) return false;
    }
    return true;
  }

  bool Finalize(const core::Period& p, const core::Date& day) {
    v1::MonthReply m;
    bool moved = false;
    const std::string what = "finalize " + p.ToString();
    if (!Lifecycle("finalize", p, day, MonthStatus::kReconciled, MonthStatus::kFinal, &m, &moved)) {
      return false;
    }
    if (!moved) return true;
    int64_t in = 0;
    for (const auto& t : m.state().transfers()) {
      if (t.to() == "000000") in += t.amount_fen();
    }
    if (in != model_.Transferred(p)) {
      return Fail(what + ": the transfers move " + Fen(in) +
                  " through the clearing account, "
                  "the model's month " +
                  Fen(model_.Transferred(p)));
    }
    return ExpectMonth(what, p, m);
  }

  bool Pay(const core::Period& p, const core::Date& day) {
    auto stub = v1::ClearingService::NewStub(fed_.OperatorChannel());
    v1::MonthReply month;
    grpc::Status st = MonthCall("get", p, day, &month);
    if (!st.ok()) return Fail("GetMonth " + p.ToString() + ": " + StatusText(st));
    v1::PayRequest req;
    req.set_period(p.ToString());
    for (const auto& t : month.state().transfers()) {
      v1::TransferRecord* done = req.add_executed();
      *done = t;
      done->set_bank_serial(absl::StrCat("MODEL-", p.ToString(), "-", t.from(), "-", t.to()));
    }
    v1::PayReply reply;
    auto ctx = Ctx(day);
    st = stub->Pay(ctx.get(), req, &reply);
    const std::string what = "pay " + p.ToString();
    const MonthStatus status = model_.months[p].status;
    if (status == MonthStatus::kPaid) return Refused(what, st, v1::ALREADY_PAID);
    if (status != MonthStatus::kFinal) return Refused(what, st, v1::WRONG_MONTH_STATE);
    if (!st.ok()) return Fail(what + ": " + StatusText(st));
    model_.months[p].status = MonthStatus::kPaid;
    if (reply.month().status() != "paid" || reply.transferred_fen() != model_.Transferred(p)) {
      return Fail(what + ": " + reply.month().status() + ", transferred " +
                  Fen(reply.transferred_fen()) + "; the model's month transfers " +
                  Fen(model_.Transferred(p)));
    }
    return true;
  }

  // ---- the three ledgers at the end -----------------------------------------------------

  bool CheckMonths() {
    for (const core::Period& p : model_.Touched()) {
      v1::MonthReply m;
      grpc::Status st = MonthCall("get", p, last_day_, &m);
      if (!st.ok()) return Fail("GetMonth " + p.ToString() + ": " + StatusText(st));
      if (!ExpectMonth("at the end, GetMonth", p, m)) return false;
    }
    return true;
  }

  bool CheckClaims() {
    for (const Claim& c : model_.claims) {
      if (c.state == ClaimState::kUnsent) continue;
      v1::RouteStatusReply record;
      if (!InsuredRecord(c, &record)) return false;
      v1::StatusReply r;
      grpc::Status st = QueryStatus(c, last_day_, &r);
      const std::string what = "at the end, " + c.id;
      if (c.state == ClaimState::kRejected) {
        if (st.error_code() != grpc::StatusCode::NOT_FOUND || record.known()) {
          return Fail(what + " was refused, yet a node holds it");
        }
        continue;
      }
      if (!st.ok()) return Fail(what + ": " + StatusText(st));
      if (!ExpectStatus(c, r, what)) return false;
      const v1::ClaimState want = c.state == ClaimState::kSettled     ? v1::SETTLED
                                  : c.state == ClaimState::kCancelled ? v1::CANCELLED
                                                                      : v1::TOMBSTONE;
      if (!record.known() || record.claim().state() != want ||
          (want != v1::TOMBSTONE && (record.claim().settled_on() != c.settle.day.ToString() ||
                                     ClearingOf(record.claim().result()) != c.amount))) {
        return Fail(what + ": the insured node holds " +
                    (record.known() ? v1::ClaimState_Name(record.claim().state()) + " settled on " +
                                          record.claim().settled_on()
                                    : std::string("nothing")) +
                    ", the model " + StateName(c.state));
      }
    }
    return true;
  }

  // Each treatment node's own records, month by month (by day), as it reports them to each
  // of its hospitals (3201, read-only): fund_pay + acct_pay net of cancellations. (The
  // insured node's side is its record of each claim, CheckClaims.)
  bool CheckNodes() {
    for (const InstitutionRef& inst : kInstitutions) {
      auto stub = Hospital(inst.code, inst.region);
      for (const core::Period& p : model_.Touched()) {
        v1::ReconcileTotalsRequest req;
        req.set_period(p.ToString());
        v1::ReconcileTotalsReply reply;
        auto ctx = Ctx(last_day_);
        grpc::Status st = stub->ReconcileTotals(ctx.get(), req, &reply);
        if (!st.ok()) {
          return Fail(absl::StrCat(inst.code, "'s month ", p.ToString(), ": ", StatusText(st)));
        }
        const int64_t got = reply.totals().fund_pay_sumamt_fen() + reply.totals().acct_pay_fen();
        if (got != model_.InstitutionFen(inst.code, p)) {
          return Fail(absl::StrCat("node ", inst.region, " says ", inst.code, "'s ", p.ToString(),
                                   " cleared ", Fen(got), " (3201); the model ",
                                   Fen(model_.InstitutionFen(inst.code, p))));
        }
      }
    }
    return true;
  }

  Federation& fed_;
  Model model_;
  std::string prefix_;
  std::mt19937_64 rng_;
  core::Date last_day_;
  std::map<Pair, int64_t> baseline_;
  std::string failure_;
  int pre_ = 0;
};

// ---- running, reporting and shrinking ----------------------------------------------------------

struct Outcome {
  bool ok = true;
  std::string failure;
  int step = -1;  // the failing step; steps.size() for the end-of-history checks
  std::string prefix;
  Calendar calendar;
};

class Histories {
 public:
  std::unique_ptr<Federation> fed;
  int next_year = kFirstYear;
  std::map<std::string, double> seconds;  // where the time goes, per kind of step
  std::map<std::string, int> tally;       // what the histories did

  bool Start() {
    FederationOptions o;
    o.bin_dir = CROSSCLEAR_BIN_DIR;
    o.data_file = kWorld;
    o.regions = {"110000", "310000", "460100"};
    for (const InstitutionRef& i : kInstitutions) o.institutions.push_back(i.code);
    o.deadline_ms = kDeadlineMs;
    // The nodes' resolvers run only when a node starts: learning happens at the calls a
    // history makes, so the model can say in which month the hub books a fact.
    o.resolve_interval_ms = 24 * 3600 * 1000;
    auto started = Federation::Start(o);
    if (!started.ok()) {
      ADD_FAILURE() << "the federation did not start: " << started.status();
      return false;
    }
    fed = std::move(*started);
    next_year = kFirstYear;
    return true;
  }

  // Plays `steps` on a fresh year (a new federation when the years run out).
  Outcome Play(const std::vector<Step>& steps, uint64_t seed) {
    if (next_year >= kFirstYear + kHistoriesPerFederation && !Start())
      return Outcome{false, "no federation", -1, "", {}};
    Runner run(*fed, next_year++ - kFirstYear, seed);
    Outcome out;
    out.prefix = run.prefix();
    out.calendar = run.calendar();
    bool ok = run.Begin();
    for (size_t i = 0; ok && i < steps.size(); ++i) {
      const auto t0 = std::chrono::steady_clock::now();
      ok = run.Do(steps[i]) && run.CheckOutstanding();
      seconds[OpName(steps[i].op)] +=
          std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
      if (!ok) out.step = static_cast<int>(i);
    }
    const auto t0 = std::chrono::steady_clock::now();
    if (ok && !run.Finish()) {
      ok = false;
      out.step = static_cast<int>(steps.size());
    }
    seconds["end-of-history"] +=
        std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
    out.ok = ok;
    out.failure = run.failure();
    run.Tally(&tally);
    if (!ok) {
      Runner::Reset(*fed);
      run.Quiesce();
    }
    return out;
  }
};

std::string Print(const std::vector<Step>& steps, const Outcome& o) {
  std::ostringstream out;
  for (size_t i = 0; i < steps.size(); ++i) {
    out << "    " << (i + 1) << ". " << Describe(steps[i], o.calendar, o.prefix)
        << (static_cast<int>(i) == o.step ? "   <== fails here" : "") << "\n";
  }
  if (o.step == static_cast<int>(steps.size()))
    out << "    (then the end-of-history checks fail)\n";
  out << "    failure: " << o.failure << "\n";
  return out.str();
}

// ddmin over the steps: drop chunks (halves, quarters, ... single steps) while the history
// still fails, each try a replay on a fresh year.
std::pair<std::vector<Step>, Outcome> Shrink(Histories& h, std::vector<Step> steps, Outcome failed,
                                             uint64_t seed, int budget) {
  if (failed.step >= 0 && failed.step < static_cast<int>(steps.size())) {
    steps.resize(failed.step + 1);
  }
  int chunks = 2;
  while (budget > 0 && steps.size() > 1) {
    const size_t size = (steps.size() + chunks - 1) / chunks;
    bool removed = false;
    for (size_t start = 0; start < steps.size() && budget > 0; start += size) {
      std::vector<Step> candidate(steps.begin(), steps.begin() + start);
      candidate.insert(candidate.end(), steps.begin() + std::min(steps.size(), start + size),
                       steps.end());
      --budget;
      Outcome o = h.Play(candidate, seed);
      if (!o.ok) {
        if (o.step >= 0 && o.step < static_cast<int>(candidate.size())) {
          candidate.resize(o.step + 1);
        }
        steps = std::move(candidate);
        failed = o;
        chunks = std::max(chunks - 1, 2);
        removed = true;
        break;
      }
    }
    if (!removed) {
      if (size <= 1) break;
      chunks = std::min<int>(chunks * 2, static_cast<int>(steps.size()));
    }
  }
  return {steps, failed};
}

TEST(ModelFederation, RandomHistories_EveryFactCountedOnceAndLedgersAgree) {
  const int histories = static_cast<int>(Env("CROSSCLEAR_MODEL_HISTORIES", 200));
  const int steps = static_cast<int>(Env("CROSSCLEAR_MODEL_STEPS", 20));
  const uint64_t seed = Env("CROSSCLEAR_MODEL_SEED", 8);
  const int shrink = static_cast<int>(Env("CROSSCLEAR_MODEL_SHRINK", 40));
  const bool keep_going = Env("CROSSCLEAR_MODEL_KEEP_GOING", 0) != 0;
  Histories h;
  ASSERT_TRUE(h.Start());
  const auto started = std::chrono::steady_clock::now();
  int failures = 0, total_steps = 0, played = 0;
  for (int i = 0; i < histories; ++i) {
    const uint64_t history_seed = seed + static_cast<uint64_t>(i);
    const std::vector<Step> history = Generate(history_seed, steps);
    total_steps += static_cast<int>(history.size());
    ++played;
    Outcome o = h.Play(history, history_seed);
    if (o.ok) continue;
    ++failures;
    std::cout << "history seed " << history_seed << " FAILED (" << history.size()
              << " steps; rerun: CROSSCLEAR_MODEL_SEED=" << history_seed
              << " CROSSCLEAR_MODEL_HISTORIES=1 CROSSCLEAR_MODEL_STEPS=" << steps << "):\n"
              << Print(history, o);
    auto [shortest, why] = Shrink(h, history, o, history_seed, shrink);
    const std::string report = Print(shortest, why);
    std::cout << "  shortest failing history found (" << shortest.size() << " steps):\n"
              << report << std::flush;
    ADD_FAILURE() << "seed " << history_seed << ", shortest history (" << shortest.size()
                  << " steps):\n"
                  << report;
    if (!keep_going) break;
  }
  const double seconds =
      std::chrono::duration<double>(std::chrono::steady_clock::now() - started).count();
  std::cout << "model: " << played << " of " << histories << " histories from seed " << seed << ", "
            << total_steps << " steps, " << failures << " failing, " << seconds << " s\n";
  for (const auto& [op, s] : h.seconds) std::cout << "  " << op << ": " << s << " s\n";
  for (const auto& [what, n] : h.tally) std::cout << "  " << what << ": " << n << "\n";
  EXPECT_GE(h.tally["claims settled with money"], 2 * played)
      << "the histories hardly moved any money: the checks above prove little";
}

}  // namespace
}  // namespace crossclear::model
