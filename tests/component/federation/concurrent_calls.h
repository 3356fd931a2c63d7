// For the component tests of the callback servers: many calls in flight together, and a fake
// party that notes the deadline of each call it gets (to see a caller's deadline travel on).
#pragma once

#include <grpcpp/grpcpp.h>

#include <chrono>
#include <condition_variable>
#include <cstddef>
#include <functional>
#include <memory>
#include <mutex>
#include <string>
#include <utility>
#include <vector>

#include "claims.h"

namespace crossclear::federation_test {

// Starts n calls at once (start(i, ctx, done) issues call i on an async stub, with a context of
// `day`) and waits until every one has been answered: all n are in flight together.
inline void AllAtOnce(size_t n, const std::string& day,
                      const std::function<void(size_t, grpc::ClientContext*,
                                               std::function<void(grpc::Status)>)>& start,
                      std::vector<grpc::Status>* statuses) {
  statuses->assign(n, grpc::Status());
  std::vector<std::unique_ptr<grpc::ClientContext>> ctxs;
  std::mutex mu;
  std::condition_variable cv;
  size_t left = n;
  for (size_t i = 0; i < n; ++i) ctxs.push_back(Ctx(day));
  for (size_t i = 0; i < n; ++i) {
    start(i, ctxs[i].get(), [&, i](grpc::Status s) {
      std::lock_guard<std::mutex> lock(mu);
      (*statuses)[i] = std::move(s);
      if (--left == 0) cv.notify_all();
    });
  }
  std::unique_lock<std::mutex> lock(mu);
  cv.wait(lock, [&] { return left == 0; });
}

// A fake server's notes: the deadline of each call it got, in arrival order.
class DeadlineNotes {
 public:
  std::vector<std::chrono::system_clock::time_point> deadlines() {
    std::lock_guard<std::mutex> lock(mu_);
    return deadlines_;
  }

 protected:
  void Note(const grpc::ServerContextBase& ctx) {
    std::lock_guard<std::mutex> lock(mu_);
    deadlines_.push_back(ctx.deadline());
  }

 private:
  std::mutex mu_;
  std::vector<std::chrono::system_clock::time_point> deadlines_;
};

}  // namespace crossclear::federation_test
