// The options both servers (crossclear-hub, crossclear-node) take, declared once on their CLI11
// apps, and their checks after parsing. Included by the two mains only (CLI.hpp is large).
#pragma once

#include <string>

#include "CLI/CLI.hpp"
#include "absl/status/status.h"
#include "rpc/flags.h"

namespace crossclear::rpc {

// Options: hub::HubOptions or node::NodeOptions (the same names for the same settings).
template <typename Options>
void AddServerOptions(CLI::App& app, Options& o) {
  app.add_option("--listen", o.listen, "where it serves")
      ->type_name("HOST:PORT")
      ->default_str(o.listen);
  app.add_option("--ready-file", o.ready_file, "written with the port once serving")
      ->type_name("FILE");
  app.add_option("--deadline-ms", o.forward_deadline_ms, "a forwarded call's deadline")
      ->type_name("N")
      ->default_str(std::to_string(o.forward_deadline_ms));
  app.add_option("--max-message-bytes", o.max_message_bytes, "tests only")->type_name("N");
  app.add_option("--checkpoint-interval-ms", o.checkpoint_interval_ms,
                 "ms between signed checkpoints while entries arrive (>= 10)")
      ->type_name("N")
      ->default_str(std::to_string(o.checkpoint_interval_ms));
  app.add_flag("--test-clock", o.test_clock, "tests only: the call's day from its metadata");
  app.add_flag("--bench-relay", o.bench_relay,
               "crossclear bench only: also serve the bare relay, its database in DIR-relay");
}

template <typename Options>
absl::Status CheckServerOptions(const Options& o) {
  if (o.checkpoint_interval_ms < 10) {
    return absl::InvalidArgumentError("--checkpoint-interval-ms must be a number of ms >= 10");
  }
  return CheckMaxMessageBytes(o.max_message_bytes);
}

}  // namespace crossclear::rpc
