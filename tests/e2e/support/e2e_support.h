// What the end-to-end tests share: a call context carrying the test clock's day, the inpatient
// claim most of them settle (a Beijing retiree in hospital in Haikou, per tests/data/e2e/
// world.json), and the `crossclear` binary run as a process. Header-only; each test target
// defines CROSSCLEAR_BIN_DIR.
#pragma once

#include <sys/wait.h>

#include <chrono>
#include <cstdio>
#include <memory>
#include <string>
#include <vector>

#include <grpcpp/grpcpp.h>

#include "crossclear/v1/services.pb.h"
#include "rpc/call.h"

namespace crossclear::e2e {

// A call of `day` (the parties run with --test-clock), 15 s to answer; wait_for_ready makes a
// restarted party reconnected to rather than failed.
inline std::unique_ptr<grpc::ClientContext> Ctx(const std::string& day = "2026-03-10",
                                                bool wait_for_ready = true) {
  auto ctx = std::make_unique<grpc::ClientContext>();
  ctx->set_deadline(std::chrono::system_clock::now() + std::chrono::seconds(15));
  ctx->set_wait_for_ready(wait_for_ready);
  ctx->AddMetadata(rpc::kTodayKey, day);
  return ctx;
}

// A Beijing retiree (long-term resident in Hainan) in hospital in Haikou: nine bed days and a
// class-B drug, at the level-3 hospital H46010000001.
inline v1::SettleRequest InpatientClaim(const std::string& id,
                                        const std::string& date = "2026-03-10") {
  v1::SettleRequest req;
  auto* c = req.mutable_claim();
  c->set_mdtrt_id(id);
  c->set_psn_no("BJ-RET-01");
  c->set_fixmedins_code("H46010000001");
  c->set_med_type(v1::INPATIENT);
  c->set_date(date);
  auto* l = c->add_lines();
  l->set_item("001102000010000");  // bed, cap 60.00
  l->set_qty("9");
  l->set_price("80.00");
  l = c->add_lines();
  l->set_item("XL01XCT001");  // class B 5%, cap 1500.00
  l->set_qty("2");
  l->set_price("1688.00");
  return req;
}

struct Ran {
  int status = -1;
  std::string output;  // stdout and stderr together
};

inline std::string Quote(const std::string& arg) {
  std::string q = "'";
  for (char c : arg) q += c == '\'' ? std::string("'\\''") : std::string(1, c);
  return q + "'";
}

// Runs build/bin/crossclear with `args`, without the environment's defaults for the hub.
inline Ran Crossclear(const std::vector<std::string>& args) {
  std::string cmd = "env -u CROSSCLEAR_HUB -u CROSSCLEAR_PKI " +
                    Quote(std::string(CROSSCLEAR_BIN_DIR) + "/crossclear");
  for (const std::string& a : args) cmd += " " + Quote(a);
  cmd += " 2>&1";
  Ran r;
  FILE* pipe = popen(cmd.c_str(), "r");
  if (pipe == nullptr) return r;
  char buf[4096];
  size_t n;
  while ((n = fread(buf, 1, sizeof buf, pipe)) > 0) r.output.append(buf, n);
  int raw = pclose(pipe);
  r.status = WIFEXITED(raw) ? WEXITSTATUS(raw) : -1;
  return r;
}

}  // namespace crossclear::e2e
