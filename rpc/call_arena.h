// One protobuf arena per call of a callback unary method: gRPC's MessageAllocator hook makes the
// call's request and reply on it, so parsing a claim costs a few arena blocks instead of an
// allocation per line, item and string; the handler makes its own messages for the call (the
// forward, the record) on the same arena and moves the claim between them by pointer instead
// of copying it. The arena lives as long as its last holder: gRPC's, released after the call's
// reply is sent, and each handler's that keeps it (CallArena) past that.
#ifndef CROSSCLEAR_RPC_CALL_ARENA_H_
#define CROSSCLEAR_RPC_CALL_ARENA_H_

#include <memory>

#include <google/protobuf/arena.h>
#include <grpcpp/grpcpp.h>
#include <grpcpp/support/message_allocator.h>

namespace crossclear::rpc {

// What a call's allocator state is when the method has an ArenaMessages allocator.
class ArenaOwner {
 public:
  virtual ~ArenaOwner() = default;
  const std::shared_ptr<google::protobuf::Arena>& arena() const { return arena_; }

 protected:
  ArenaOwner();

 private:
  std::shared_ptr<google::protobuf::Arena> arena_;
};

// The call's arena; a new one when the method was registered without ArenaMessages (then the
// request and reply are gRPC's own heap messages and moving out of them copies, which is
// correct, only slower).
std::shared_ptr<google::protobuf::Arena> CallArena(grpc::CallbackServerContext* ctx);

// The call's request as a message the handler may move parts out of: the request is the call's
// own (made by the method's allocator, gRPC's default or ArenaMessages), and gRPC does not read
// it again once the handler has it. Null only if the context has no allocator state.
template <class Request, class Reply>
Request* MutableRequest(grpc::CallbackServerContext* ctx) {
  auto* holder = dynamic_cast<grpc::MessageHolder<Request, Reply>*>(ctx->GetRpcAllocatorState());
  return holder == nullptr ? nullptr : holder->request();
}

// Moves `from` into `to` (both of one message type): a pointer swap when both are on one arena,
// a copy otherwise. `from` is left empty.
template <class Message>
void MoveInto(Message* from, Message* to) {
  to->Clear();
  to->Swap(from);  // protobuf swaps across arenas by copying: correct either way
}

// Install with the generated SetMessageAllocatorFor_<Method>(&allocator); it must outlive the
// server (a member of the service object).
template <class Request, class Reply>
class ArenaMessages final : public grpc::MessageAllocator<Request, Reply> {
 public:
  grpc::MessageHolder<Request, Reply>* AllocateMessages() override { return new Holder; }

 private:
  class Holder final : public ArenaOwner, public grpc::MessageHolder<Request, Reply> {
   public:
    Holder() {
      this->set_request(google::protobuf::Arena::CreateMessage<Request>(arena().get()));
      this->set_response(google::protobuf::Arena::CreateMessage<Reply>(arena().get()));
    }
    // gRPC's hold ends; the messages go with the arena when its last holder lets it go.
    void Release() override { delete this; }
  };
};

}  // namespace crossclear::rpc

#endif  // CROSSCLEAR_RPC_CALL_ARENA_H_
