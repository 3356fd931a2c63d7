// The per-call arena (see call_arena.h).
#include "rpc/call_arena.h"

namespace crossclear::rpc {
namespace {

// A call's first block, in the same allocation as the arena: a settlement's request, its
// forward and its record (a claim of ten lines resolved against the catalog is about 3 KiB
// parsed) fit in it or in one block more.
constexpr size_t kFirstBlock = 8192;

struct ArenaBox {
  ArenaBox() : arena(Options(block)) {}
  static google::protobuf::ArenaOptions Options(char* first) {
    google::protobuf::ArenaOptions o;
    o.initial_block = first;
    o.initial_block_size = kFirstBlock;
    o.start_block_size = kFirstBlock;
    o.max_block_size = 8 * kFirstBlock;
    return o;
  }
  alignas(16) char block[kFirstBlock];
  google::protobuf::Arena arena;  // after the block it uses: destroyed before it
};

std::shared_ptr<google::protobuf::Arena> NewArena() {
  auto box = std::make_shared<ArenaBox>();
  return std::shared_ptr<google::protobuf::Arena>(box, &box->arena);
}

}  // namespace

ArenaOwner::ArenaOwner() : arena_(NewArena()) {}

std::shared_ptr<google::protobuf::Arena> CallArena(grpc::CallbackServerContext* ctx) {
  if (auto* owner = dynamic_cast<ArenaOwner*>(ctx->GetRpcAllocatorState())) return owner->arena();
  return NewArena();
}

}  // namespace crossclear::rpc
