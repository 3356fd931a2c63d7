// The federation bench (see federation_run.h).
#include "bench/federation_run.h"

#include <algorithm>
#include <atomic>
#include <chrono>
#include <condition_variable>
#include <fstream>
#include <functional>
#include <mutex>
#include <thread>

#include "absl/strings/str_cat.h"
#include "crossclear/v1/relay.grpc.pb.h"
#include "crossclear/v1/services.grpc.pb.h"
#include "rpc/call.h"
#include "tools/federation_harness.h"

namespace crossclear::bench {
namespace {

using SteadyClock = std::chrono::steady_clock;

// Issues call n and calls `done` once with its outcome (on any thread).
using Issue = std::function<void(uint64_t n, std::function<void(grpc::Status)> done)>;

// One asynchronous call of a run, the same for a settlement and a relayed claim: `call` starts
// it with a context, request and reply that live until it is answered (10 s deadline); `check`
// turns a reply that is OK but wrong into a failure; `done` gets the outcome once.
template <typename Req, typename Reply, typename Call, typename Check>
void IssueOne(Req req, Call call, Check check, std::function<void(grpc::Status)> done) {
  struct InFlight {
    grpc::ClientContext ctx;
    Req req;
    Reply reply;
  };
  auto* c = new InFlight;
  c->req = std::move(req);
  c->ctx.set_deadline(std::chrono::system_clock::now() + std::chrono::seconds(10));
  call(&c->ctx, &c->req, &c->reply,
       [c, check = std::move(check), done = std::move(done)](grpc::Status s) {
         if (s.ok()) s = check(c->req, c->reply);
         delete c;
         done(s);
       });
}

// Keeps `concurrency` calls in flight for warm-up + window, each slot issuing its next call as
// soon as its last is answered; counts the calls answered within the window.
class Driver {
 public:
  Driver(Issue issue, uint64_t first_n) : issue_(std::move(issue)), next_(first_n) {}

  LoadFigures Run(int concurrency, double warmup_s, double seconds) {
    const auto now = SteadyClock::now();
    from_ = now + std::chrono::duration_cast<SteadyClock::duration>(
                      std::chrono::duration<double>(warmup_s));
    to_ = from_ + std::chrono::duration_cast<SteadyClock::duration>(
                      std::chrono::duration<double>(seconds));
    in_flight_ = concurrency;
    for (int i = 0; i < concurrency; ++i) Launch();
    std::this_thread::sleep_until(to_);
    stop_ = true;
    {
      std::unique_lock<std::mutex> lock(mu_);
      cv_.wait(lock, [&] { return in_flight_ == 0; });
    }
    LoadFigures f;
    f.concurrency = concurrency;
    f.seconds = seconds;
    f.completed = latencies_ms_.size();
    f.failed = failed_;
    f.first_error = first_error_;
    f.per_s = static_cast<double>(f.completed) / seconds;
    std::sort(latencies_ms_.begin(), latencies_ms_.end());
    auto at = [&](double q) {
      if (latencies_ms_.empty()) return 0.0;
      size_t i = static_cast<size_t>(q * static_cast<double>(latencies_ms_.size()));
      return latencies_ms_[std::min(i, latencies_ms_.size() - 1)];
    };
    f.p50_ms = at(0.50);
    f.p99_ms = at(0.99);
    f.p999_ms = at(0.999);
    return f;
  }

  uint64_t next() const { return next_; }

 private:
  void Launch() {
    const uint64_t n = next_++;
    const auto t0 = SteadyClock::now();
    issue_(n, [this, t0](grpc::Status s) {
      const auto t1 = SteadyClock::now();
      {
        std::lock_guard<std::mutex> lock(mu_);
        if (!s.ok()) {
          ++failed_;
          if (first_error_.empty()) {
            first_error_ = absl::StrCat(s.error_code(), " ", s.error_message());
          }
        } else if (t0 >= from_ && t1 <= to_) {
          latencies_ms_.push_back(std::chrono::duration<double, std::milli>(t1 - t0).count());
        }
        // A failing federation is not hammered: the run goes on, each failure counted.
        if (stop_ || failed_ > 1000) {
          if (--in_flight_ == 0) cv_.notify_all();
          return;
        }
      }
      Launch();
    });
  }

  Issue issue_;
  std::atomic<uint64_t> next_;
  std::atomic<bool> stop_{false};
  SteadyClock::time_point from_, to_;
  std::mutex mu_;
  std::condition_variable cv_;
  int in_flight_ = 0;
  std::vector<double> latencies_ms_;
  uint64_t failed_ = 0;
  std::string first_error_;
};

}  // namespace

struct FederationBench::Impl {
  const Workload* workload = nullptr;
  std::unique_ptr<tools::Federation> federation;
  // One channel per hospital, as each hospital has its connection to its node.
  std::vector<std::unique_ptr<v1::HospitalService::Stub>> settle;
  std::vector<std::unique_ptr<v1::RelayService::Stub>> relay;
  uint64_t next_claim = 0;  // claim numbers are never reused across runs
  std::string run_id;
};

FederationBench::FederationBench(std::unique_ptr<Impl> impl) : impl_(std::move(impl)) {}
FederationBench::~FederationBench() = default;

absl::StatusOr<std::unique_ptr<FederationBench>> FederationBench::Start(
    const Workload& workload, const std::string& work_dir) {
  const std::string world = work_dir + "/bench-world.json";
  {
    std::ofstream out(world);
    out << workload.world_json().dump();
    if (!out) return absl::UnavailableError(absl::StrCat(world, ": cannot be written"));
  }
  tools::FederationOptions fo;
  fo.work_dir = work_dir;
  fo.data_file = world;
  fo.regions = {kTreatmentRegion};
  fo.regions.insert(fo.regions.end(), workload.insured_regions().begin(),
                    workload.insured_regions().end());
  fo.institutions = workload.hospitals();
  fo.test_clock = false;  // production: every party takes today from its own clock
  fo.deadline_ms = 10000;
  fo.checkpoint_interval_ms = 2000;  // the parties' default
  fo.party_flags = {"--bench-relay"};
  auto federation = tools::Federation::Start(fo);
  if (!federation.ok()) return federation.status();
  auto impl = std::make_unique<Impl>();
  impl->workload = &workload;
  impl->federation = *std::move(federation);
  for (const std::string& h : workload.hospitals()) {
    auto channel = impl->federation->HospitalChannel(h, kTreatmentRegion);
    if (channel == nullptr) return absl::UnavailableError(absl::StrCat("no channel for ", h));
    impl->settle.push_back(v1::HospitalService::NewStub(channel));
    impl->relay.push_back(v1::RelayService::NewStub(channel));
  }
  impl->run_id = absl::StrCat("B", std::chrono::system_clock::now().time_since_epoch().count());
  return std::unique_ptr<FederationBench>(new FederationBench(std::move(impl)));
}

LoadFigures FederationBench::Run(bool relay, int concurrency, double warmup_s, double seconds) {
  Impl& b = *impl_;
  const core::Date day = rpc::Clock::SystemToday();
  const size_t hospitals = b.workload->hospitals().size();
  Issue issue;
  if (!relay) {
    issue = [&b, day, hospitals](uint64_t n, std::function<void(grpc::Status)> done) {
      IssueOne<v1::SettleRequest, v1::SettleReply>(
          b.workload->Claim(n, absl::StrCat(b.run_id, "-", n), day),
          [stub = b.settle[n % hospitals].get()](auto* ctx, auto* req, auto* reply, auto cb) {
            stub->async()->Settle(ctx, req, reply, std::move(cb));
          },
          [](const v1::SettleRequest& req, const v1::SettleReply& reply) {
            if (reply.result().settled()) return grpc::Status::OK;
            return grpc::Status(grpc::StatusCode::FAILED_PRECONDITION,
                                absl::StrCat("claim ", req.claim().mdtrt_id(), " refused: ",
                                             v1::Reason_Name(reply.result().reason())));
          },
          std::move(done));
    };
  } else {
    issue = [&b, day, hospitals](uint64_t n, std::function<void(grpc::Status)> done) {
      v1::RelayRequest req;
      *req.mutable_settle() = b.workload->Claim(n, absl::StrCat(b.run_id, "-", n), day);
      req.set_insured_region(b.workload->InsuredRegionOf(n));
      IssueOne<v1::RelayRequest, v1::RelayReply>(
          std::move(req),
          [stub = b.relay[n % hospitals].get()](auto* ctx, auto* req, auto* reply, auto cb) {
            stub->async()->Relay(ctx, req, reply, std::move(cb));
          },
          [](const v1::RelayRequest&, const v1::RelayReply& reply) {
            if (reply.writes() == 3) return grpc::Status::OK;
            return grpc::Status(grpc::StatusCode::INTERNAL,
                                absl::StrCat("relay made ", reply.writes(), " writes, not 3"));
          },
          std::move(done));
    };
  }
  Driver driver(std::move(issue), b.next_claim);
  LoadFigures f = driver.Run(concurrency, warmup_s, seconds);
  b.next_claim = driver.next();
  return f;
}

}  // namespace crossclear::bench
