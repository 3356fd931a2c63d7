// KeyQueue: one-at-a-time work per key without a thread waiting. The callback servers use it
// where a synchronous server held a mutex across a forward or an fsync: the work for a key
// (a claim id, a person) runs when the key is free, and the next work queued for that key runs
// when the holder calls its Release — from whichever thread finishes the work (a commit's or an
// RPC's completion). Work for other keys never waits. Memory: one entry per key with work
// running or queued, none for an idle key.
#pragma once

#include <cstddef>
#include <deque>
#include <functional>
#include <memory>
#include <mutex>
#include <string>
#include <string_view>
#include <unordered_map>
#include <utility>

namespace crossclear::rpc {

class KeyQueue {
 public:
  // Frees the key and starts the next work queued for it. Call exactly once; a Release
  // destroyed without having been called releases the key then (an early return cannot leak
  // the key). Movable, not copyable: it travels with the work through its callbacks.
  class Release {
   public:
    Release() = default;
    Release(Release&& other) noexcept : queue_(other.queue_), key_(std::move(other.key_)) {
      other.queue_ = nullptr;
    }
    Release& operator=(Release&& other) noexcept {
      if (this != &other) {
        (*this)();
        queue_ = other.queue_;
        key_ = std::move(other.key_);
        other.queue_ = nullptr;
      }
      return *this;
    }
    Release(const Release&) = delete;
    Release& operator=(const Release&) = delete;
    ~Release() { (*this)(); }

    void operator()() {
      if (KeyQueue* q = queue_) {
        queue_ = nullptr;
        q->Next(std::move(key_));
      }
    }

   private:
    friend class KeyQueue;
    Release(KeyQueue* queue, std::string key) : queue_(queue), key_(std::move(key)) {}
    KeyQueue* queue_ = nullptr;
    std::string key_;
  };

  using Work = std::function<void(Release)>;

  // Runs `work` now on this thread if `key` is free, else when the works queued before it
  // have released the key (on the releasing thread). Works for one key run in arrival order.
  void Run(std::string_view key, Work work) {
    {
      std::lock_guard<std::mutex> lock(mu_);
      auto [it, fresh] = keys_.try_emplace(std::string(key));
      if (!fresh) {  // held: wait behind the holder
        it->second.push_back(std::move(work));
        return;
      }
    }
    work(Release(this, std::string(key)));
  }

  // Keys held or waited for (for metrics and tests).
  size_t busy_keys() const {
    std::lock_guard<std::mutex> lock(mu_);
    return keys_.size();
  }

 private:
  // Hands the key to its next work, or frees it. A work that releases before it returns (a
  // repeat answered at once) would recurse here once per queued work; a thread already
  // handing keys on queues the release instead, so the stack stays flat however long a queue.
  void Next(std::string key) {
    thread_local std::deque<std::pair<KeyQueue*, std::string>>* pending = nullptr;
    if (pending != nullptr) {
      pending->emplace_back(this, std::move(key));
      return;
    }
    std::deque<std::pair<KeyQueue*, std::string>> mine;
    pending = &mine;
    mine.emplace_back(this, std::move(key));
    while (!mine.empty()) {
      auto [queue, k] = std::move(mine.front());
      mine.pop_front();
      Work next;
      {
        std::lock_guard<std::mutex> lock(queue->mu_);
        auto it = queue->keys_.find(k);
        if (it == queue->keys_.end()) continue;
        if (it->second.empty()) {
          queue->keys_.erase(it);
          continue;
        }
        next = std::move(it->second.front());
        it->second.pop_front();
      }
      next(Release(queue, std::move(k)));
    }
    pending = nullptr;
  }

  mutable std::mutex mu_;
  // A key present is held; its deque holds the works waiting for it.
  std::unordered_map<std::string, std::deque<Work>> keys_;
};

}  // namespace crossclear::rpc
