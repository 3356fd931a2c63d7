// For the component tests: a claim with its lines, as a hospital sends it, and a call's context.
#pragma once

#include <grpcpp/grpcpp.h>

#include <chrono>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "crossclear/v1/services.pb.h"
#include "rpc/call.h"

namespace crossclear::federation_test {

struct Line {
  std::string item, qty, price;
  std::optional<bool> chronic = std::nullopt;  // the hospital's chronic mark, when it sends one
};

inline v1::SettleRequest Claim(const std::string& id, const std::string& person,
                               const std::string& institution, v1::Setting setting,
                               const std::string& date, const std::vector<Line>& lines) {
  v1::SettleRequest req;
  v1::HospitalClaim* c = req.mutable_claim();
  c->set_mdtrt_id(id);
  c->set_psn_no(person);
  c->set_fixmedins_code(institution);
  c->set_med_type(setting);
  c->set_date(date);
  for (const Line& l : lines) {
    v1::HospitalLine* line = c->add_lines();
    line->set_item(l.item);
    line->set_qty(l.qty);
    line->set_price(l.price);
    if (l.chronic.has_value()) line->set_chronic(*l.chronic);
  }
  return req;
}

// A call on `day` (the parties run with the test clock), waiting for a peer still starting.
inline std::unique_ptr<grpc::ClientContext> Ctx(const std::string& day) {
  auto ctx = std::make_unique<grpc::ClientContext>();
  ctx->set_deadline(std::chrono::system_clock::now() + std::chrono::seconds(15));
  ctx->set_wait_for_ready(true);
  ctx->AddMetadata(rpc::kTodayKey, day);
  return ctx;
}

}  // namespace crossclear::federation_test
