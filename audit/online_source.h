// A running party read over its LogService with the auditor's certificate (the online audit):
// every entry up to its latest signed checkpoint, streamed in chunks; that checkpoint, and a
// node's last cosigned hub checkpoint. The parties' state families are not read online (the
// offline audit of a data directory compares them).
#pragma once

#include <memory>
#include <string>

#include "absl/status/statusor.h"
#include "audit/source.h"
#include "certs/tls.h"

namespace crossclear::audit {

absl::StatusOr<std::unique_ptr<LedgerSource>> OpenOnline(const std::string& address, Party party,
                                                         const certs::ClientTls& creds);

}  // namespace crossclear::audit
