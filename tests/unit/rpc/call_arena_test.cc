// The per-call arena: a call's request and reply on one arena that outlives gRPC's hold while a
// handler keeps a share of it; a claim moved between messages of that arena by pointer, and
// moved correctly (by copy) between messages of different arenas or off any arena.
#include "rpc/call_arena.h"

#include <memory>

#include <gtest/gtest.h>

#include "crossclear/v1/services.pb.h"

namespace crossclear::rpc {
namespace {

namespace v1 = ::crossclear::v1;
using google::protobuf::Arena;

void FillClaim(v1::ResolvedClaim* c) {
  c->mutable_claim()->set_id("M-1");
  c->mutable_claim()->set_person("P-1");
  for (int i = 0; i < 10; ++i) {
    auto* line = c->add_lines();
    line->mutable_line()->set_item("ITEM-" + std::to_string(i));
    line->set_amount_fen(100 + i);
    line->mutable_item()->set_name(std::string(64, 'n'));  // past the short-string buffer
  }
}

TEST(CallArenaTest, RequestAndReplyAreOnOneArena_WhichOutlivesTheHolderWhileShared) {
  ArenaMessages<v1::RouteSettleRequest, v1::RouteSettleReply> allocator;
  auto* holder = allocator.AllocateMessages();
  v1::RouteSettleRequest* req = holder->request();
  ASSERT_NE(req->GetArena(), nullptr);
  EXPECT_EQ(req->GetArena(), holder->response()->GetArena());
  auto* owner = dynamic_cast<ArenaOwner*>(static_cast<grpc::RpcAllocatorState*>(holder));
  ASSERT_NE(owner, nullptr);
  std::shared_ptr<Arena> kept = owner->arena();
  EXPECT_EQ(kept.get(), req->GetArena());
  FillClaim(req->mutable_claim());
  auto* record = Arena::CreateMessage<v1::StoredClaim>(kept.get());
  MoveInto(req->mutable_claim(), record->mutable_claim());
  holder->Release();  // gRPC's hold ends: the arena, and the record on it, stay with `kept`
  EXPECT_EQ(record->claim().claim().id(), "M-1");
  EXPECT_EQ(record->claim().lines_size(), 10);
  EXPECT_EQ(record->claim().lines(9).item().name(), std::string(64, 'n'));
}

TEST(CallArenaTest, OnOneArenaTheClaimMovesByPointer_AndTheSourceIsLeftEmpty) {
  Arena arena;
  auto* from = Arena::CreateMessage<v1::RouteSettleRequest>(&arena);
  auto* to = Arena::CreateMessage<v1::DecideRequest>(&arena);
  FillClaim(from->mutable_claim());
  const v1::ResolvedLine* first_line = &from->claim().lines(0);
  MoveInto(from->mutable_claim(), to->mutable_claim());
  EXPECT_EQ(&to->claim().lines(0), first_line);  // the same line object: nothing copied
  EXPECT_EQ(from->claim().lines_size(), 0);
  EXPECT_TRUE(from->claim().claim().id().empty());
}

TEST(CallArenaTest, AcrossArenasOrOffAnyTheClaimIsCopied_AndEqual) {
  Arena a;
  auto* from = Arena::CreateMessage<v1::RouteSettleRequest>(&a);
  FillClaim(from->mutable_claim());
  v1::RouteSettleRequest expected = *from;  // a heap copy to compare with
  v1::DecideRequest heap;                   // no arena: gRPC's default holder's messages
  MoveInto(from->mutable_claim(), heap.mutable_claim());
  EXPECT_EQ(heap.claim().SerializeAsString(), expected.claim().SerializeAsString());
  EXPECT_EQ(from->claim().lines_size(), 0);

  Arena b;
  auto* other = Arena::CreateMessage<v1::StoredClaim>(&b);
  MoveInto(heap.mutable_claim(), other->mutable_claim());
  EXPECT_EQ(other->claim().SerializeAsString(), expected.claim().SerializeAsString());
  EXPECT_EQ(heap.claim().lines_size(), 0);
}

TEST(CallArenaTest, MovingIntoAMessageDropsWhatItHeld) {
  Arena arena;
  auto* from = Arena::CreateMessage<v1::RouteSettleRequest>(&arena);
  auto* to = Arena::CreateMessage<v1::DecideRequest>(&arena);
  FillClaim(to->mutable_claim());
  from->mutable_claim()->mutable_claim()->set_id("M-2");
  MoveInto(from->mutable_claim(), to->mutable_claim());
  EXPECT_EQ(to->claim().claim().id(), "M-2");
  EXPECT_EQ(to->claim().lines_size(), 0);
  EXPECT_EQ(from->claim().lines_size(), 0);
}

}  // namespace
}  // namespace crossclear::rpc
