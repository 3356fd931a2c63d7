// KeyQueue: one work at a time per key, in arrival order, none waiting on another key, a key
// freed by a Release however it ends, and a flat stack for a long queue released at once.
#include "rpc/key_queue.h"

#include <atomic>
#include <string>
#include <thread>
#include <vector>

#include <gtest/gtest.h>

namespace crossclear::rpc {
namespace {

TEST(KeyQueueTest, AFreeKeyRunsAtOnce_AHeldKeyWaitsForItsRelease) {
  KeyQueue q;
  std::vector<std::string> order;
  KeyQueue::Release held;
  q.Run("claim-1", [&](KeyQueue::Release r) {
    order.push_back("first");
    held = std::move(r);  // kept: the work is "in flight"
  });
  q.Run("claim-1", [&](KeyQueue::Release r) {
    order.push_back("second");
    r();
  });
  q.Run("claim-2", [&](KeyQueue::Release r) {
    order.push_back("other key");
    r();
  });
  EXPECT_EQ(order, (std::vector<std::string>{"first", "other key"}));
  EXPECT_EQ(q.busy_keys(), 1u);
  held();
  EXPECT_EQ(order, (std::vector<std::string>{"first", "other key", "second"}));
  EXPECT_EQ(q.busy_keys(), 0u);
}

TEST(KeyQueueTest, WorksForOneKeyRunInArrivalOrder) {
  KeyQueue q;
  std::vector<int> order;
  KeyQueue::Release held;
  q.Run("p", [&](KeyQueue::Release r) { held = std::move(r); });
  for (int i = 0; i < 5; ++i) {
    q.Run("p", [&order, i](KeyQueue::Release r) {
      order.push_back(i);
      r();
    });
  }
  held();
  EXPECT_EQ(order, (std::vector<int>{0, 1, 2, 3, 4}));
}

TEST(KeyQueueTest, AReleaseDroppedUncalled_FreesTheKey) {
  KeyQueue q;
  q.Run("k", [](KeyQueue::Release) {});  // an early return: the Release dies uncalled
  bool ran = false;
  q.Run("k", [&](KeyQueue::Release) { ran = true; });
  EXPECT_TRUE(ran);
  EXPECT_EQ(q.busy_keys(), 0u);
}

TEST(KeyQueueTest, ALongQueueReleasedAtOnce_KeepsTheStackFlat) {
  // 200,000 works that each release at once: recursion would overflow the stack.
  KeyQueue q;
  KeyQueue::Release held;
  q.Run("k", [&](KeyQueue::Release r) { held = std::move(r); });
  long ran = 0;
  for (int i = 0; i < 200000; ++i) {
    q.Run("k", [&ran](KeyQueue::Release r) {
      ++ran;
      r();
    });
  }
  held();
  EXPECT_EQ(ran, 200000);
  EXPECT_EQ(q.busy_keys(), 0u);
}

TEST(KeyQueueTest, ManyThreads_NeverTwoWorksOfOneKeyAtOnce) {
  KeyQueue q;
  std::atomic<int> inside{0};
  std::atomic<int> overlaps{0};
  std::atomic<int> done{0};
  std::vector<std::thread> threads;
  for (int t = 0; t < 4; ++t) {
    threads.emplace_back([&] {
      for (int i = 0; i < 2000; ++i) {
        q.Run("shared", [&](KeyQueue::Release r) {
          if (inside.fetch_add(1) != 0) overlaps.fetch_add(1);
          inside.fetch_sub(1);
          done.fetch_add(1);
          r();
        });
      }
    });
  }
  for (auto& t : threads) t.join();
  EXPECT_EQ(overlaps.load(), 0);
  EXPECT_EQ(done.load(), 8000);
  EXPECT_EQ(q.busy_keys(), 0u);
}

}  // namespace
}  // namespace crossclear::rpc
