// Reasons <-> gRPC statuses: the one mapping of SETTLEMENT.md reason codes to gRPC codes, and
// the details every non-OK reply of ours carries in its error_details (which gRPC sends as the
// grpc-status-details-bin trailer): a serialized google.rpc.Status {code, message, details} with
// the same code and message as the status and two details, our ErrorDetail (types.proto) and a
// google.rpc.ErrorInfo {reason: the REASON name, domain: "crossclear.v1", metadata {"field"}},
// the standard form that other languages' rich-error helpers (grpcurl, Go's status.Details,
// Python's grpc_status) read and print.
#pragma once

#include <grpcpp/support/status.h>

#include <optional>
#include <string_view>

#include "absl/status/status.h"
#include "core/types.h"
#include "crossclear/v1/types.pb.h"
#include "google/rpc/error_details.pb.h"
#include "google/rpc/status.pb.h"

namespace crossclear::protoconv {

namespace v1 = ::crossclear::v1;

// INVALID_CLAIM, INVALID_AMOUNT, INVALID_DATA -> INVALID_ARGUMENT; UNKNOWN_PERSON,
// UNKNOWN_INSTITUTION, UNKNOWN_CLAIM -> NOT_FOUND; DUPLICATE_CLAIM -> ALREADY_EXISTS; every
// other reason (REASON_UNSPECIFIED too) -> FAILED_PRECONDITION. Never OK: a reason used in
// an error status always makes it an error.
grpc::StatusCode CodeFor(v1::Reason reason);
grpc::StatusCode CodeFor(core::Reason reason);

// A non-OK status with code CodeFor(reason), error_message "<REASON_NAME>: <field>: <message>"
// (without "<field>: " when field is empty) and error_details a serialized google.rpc.Status
// holding ErrorDetail{reason, field, message} and ErrorInfo{reason, "crossclear.v1", {field}}
// (metadata left empty when field is).
grpc::Status ErrorStatus(v1::Reason reason, std::string_view field, std::string_view message);
grpc::Status ErrorStatus(core::Reason reason, std::string_view field, std::string_view message);

// PERMISSION_DENIED "<who> may not <what>" (who: the caller's identity as its certificate
// names it), with an ErrorDetail of REASON_UNSPECIFIED.
grpc::Status PermissionDenied(std::string_view who, std::string_view what);

// INTERNAL with the message, with an ErrorDetail of REASON_UNSPECIFIED.
grpc::Status Internal(std::string_view message);

// An absl status as a reply: OK stays OK; InvalidArgument (the conversions' and parsers'
// errors, whose message names the field) becomes ErrorStatus(INVALID_DATA, "", message); any
// other code maps to the gRPC code of the same name, keeps the message and carries an
// ErrorDetail of REASON_UNSPECIFIED.
grpc::Status FromAbsl(const absl::Status& status);

// The ErrorDetail in a status' error_details (the google.rpc.Status' first detail of that type);
// nullopt when there is none or the details do not parse.
std::optional<v1::ErrorDetail> DetailOf(const grpc::Status& status);

// The google.rpc.Status in a status' error_details; nullopt when empty or it does not parse.
std::optional<google::rpc::Status> RichStatusOf(const grpc::Status& status);

// A peer's error passed on to our caller: same code, message prefix + the peer's message, and
// the peer's details with the google.rpc.Status' message made the same (a client that reads the
// trailer, as Go's does, sees the message the status has). Details that are not a
// google.rpc.Status go on unchanged.
grpc::Status Relayed(const grpc::Status& status, std::string_view prefix);

// A gRPC status as absl (for code that returns absl::Status): same code, same message.
absl::Status ToAbsl(const grpc::Status& status);

}  // namespace crossclear::protoconv
