// Reasons <-> gRPC statuses and the google.rpc.Status (ErrorDetail + ErrorInfo) carried in every
// non-OK reply.
#include "proto/status.h"

#include <cstdint>
#include <optional>
#include <string>
#include <utility>

#include "absl/strings/str_cat.h"
#include "proto/convert.h"

namespace crossclear::protoconv {
namespace {

// This Abseil (Debian's) has its own string_view type, which is not std::string_view.
absl::string_view Abs(std::string_view s) { return absl::string_view(s.data(), s.size()); }
std::string_view Std(absl::string_view s) { return std::string_view(s.data(), s.size()); }

// The ErrorInfo domain: the package that defines the reason names.
constexpr char kDomain[] = "crossclear.v1";

std::string ReasonName(v1::Reason reason) {
  std::string name = v1::Reason_Name(reason);
  if (name.empty()) name = absl::StrCat("REASON_", static_cast<int>(reason));
  return name;
}

// error_details is a google.rpc.Status {code, message, details: [ErrorDetail, ErrorInfo]}: the
// standard form every language's rich-error helpers read (ErrorInfo is what they print), with
// our typed ErrorDetail beside it for our own clients (DetailOf).
grpc::Status WithDetail(grpc::StatusCode code, std::string message, v1::Reason reason,
                        std::string_view field, std::string_view detail_message) {
  v1::ErrorDetail detail;
  detail.set_reason(reason);
  detail.set_field(std::string(field));
  detail.set_message(std::string(detail_message));
  google::rpc::ErrorInfo info;
  info.set_reason(ReasonName(reason));
  info.set_domain(kDomain);
  if (!field.empty()) (*info.mutable_metadata())["field"] = std::string(field);
  google::rpc::Status rich;
  rich.set_code(static_cast<int32_t>(code));
  rich.set_message(message);
  rich.add_details()->PackFrom(detail);
  rich.add_details()->PackFrom(info);
  return grpc::Status(code, std::move(message), rich.SerializeAsString());
}

grpc::StatusCode GrpcCode(absl::StatusCode code) {
  switch (code) {
    case absl::StatusCode::kOk:
      return grpc::StatusCode::OK;
    case absl::StatusCode::kCancelled:
      return grpc::StatusCode::CANCELLED;
    case absl::StatusCode::kUnknown:
      return grpc::StatusCode::UNKNOWN;
    case absl::StatusCode::kInvalidArgument:
      return grpc::StatusCode::INVALID_ARGUMENT;
    case absl::StatusCode::kDeadlineExceeded:
      return grpc::StatusCode::DEADLINE_EXCEEDED;
    case absl::StatusCode::kNotFound:
      return grpc::StatusCode::NOT_FOUND;
    case absl::StatusCode::kAlreadyExists:
      return grpc::StatusCode::ALREADY_EXISTS;
    case absl::StatusCode::kPermissionDenied:
      return grpc::StatusCode::PERMISSION_DENIED;
    case absl::StatusCode::kResourceExhausted:
      return grpc::StatusCode::RESOURCE_EXHAUSTED;
    case absl::StatusCode::kFailedPrecondition:
      return grpc::StatusCode::FAILED_PRECONDITION;
    case absl::StatusCode::kAborted:
      return grpc::StatusCode::ABORTED;
    case absl::StatusCode::kOutOfRange:
      return grpc::StatusCode::OUT_OF_RANGE;
    case absl::StatusCode::kUnimplemented:
      return grpc::StatusCode::UNIMPLEMENTED;
    case absl::StatusCode::kInternal:
      return grpc::StatusCode::INTERNAL;
    case absl::StatusCode::kUnavailable:
      return grpc::StatusCode::UNAVAILABLE;
    case absl::StatusCode::kDataLoss:
      return grpc::StatusCode::DATA_LOSS;
    case absl::StatusCode::kUnauthenticated:
      return grpc::StatusCode::UNAUTHENTICATED;
    default:
      return grpc::StatusCode::UNKNOWN;
  }
}

absl::StatusCode AbslCode(grpc::StatusCode code) {
  switch (code) {
    case grpc::StatusCode::OK:
      return absl::StatusCode::kOk;
    case grpc::StatusCode::CANCELLED:
      return absl::StatusCode::kCancelled;
    case grpc::StatusCode::UNKNOWN:
      return absl::StatusCode::kUnknown;
    case grpc::StatusCode::INVALID_ARGUMENT:
      return absl::StatusCode::kInvalidArgument;
    case grpc::StatusCode::DEADLINE_EXCEEDED:
      return absl::StatusCode::kDeadlineExceeded;
    case grpc::StatusCode::NOT_FOUND:
      return absl::StatusCode::kNotFound;
    case grpc::StatusCode::ALREADY_EXISTS:
      return absl::StatusCode::kAlreadyExists;
    case grpc::StatusCode::PERMISSION_DENIED:
      return absl::StatusCode::kPermissionDenied;
    case grpc::StatusCode::RESOURCE_EXHAUSTED:
      return absl::StatusCode::kResourceExhausted;
    case grpc::StatusCode::FAILED_PRECONDITION:
      return absl::StatusCode::kFailedPrecondition;
    case grpc::StatusCode::ABORTED:
      return absl::StatusCode::kAborted;
    case grpc::StatusCode::OUT_OF_RANGE:
      return absl::StatusCode::kOutOfRange;
    case grpc::StatusCode::UNIMPLEMENTED:
      return absl::StatusCode::kUnimplemented;
    case grpc::StatusCode::INTERNAL:
      return absl::StatusCode::kInternal;
    case grpc::StatusCode::UNAVAILABLE:
      return absl::StatusCode::kUnavailable;
    case grpc::StatusCode::DATA_LOSS:
      return absl::StatusCode::kDataLoss;
    case grpc::StatusCode::UNAUTHENTICATED:
      return absl::StatusCode::kUnauthenticated;
    default:
      return absl::StatusCode::kUnknown;
  }
}

}  // namespace

grpc::StatusCode CodeFor(v1::Reason reason) {
  switch (reason) {
    case v1::INVALID_CLAIM:
    case v1::INVALID_AMOUNT:
    case v1::INVALID_DATA:
      return grpc::StatusCode::INVALID_ARGUMENT;
    case v1::UNKNOWN_PERSON:
    case v1::UNKNOWN_INSTITUTION:
    case v1::UNKNOWN_CLAIM:
      return grpc::StatusCode::NOT_FOUND;
    case v1::DUPLICATE_CLAIM:
      return grpc::StatusCode::ALREADY_EXISTS;
    default:
      return grpc::StatusCode::FAILED_PRECONDITION;
  }
}

grpc::StatusCode CodeFor(core::Reason reason) { return CodeFor(ToProto(reason)); }

grpc::Status ErrorStatus(v1::Reason reason, std::string_view field, std::string_view message) {
  const std::string name = ReasonName(reason);
  std::string text = field.empty() ? absl::StrCat(name, ": ", Abs(message))
                                   : absl::StrCat(name, ": ", Abs(field), ": ", Abs(message));
  return WithDetail(CodeFor(reason), std::move(text), reason, field, message);
}

grpc::Status ErrorStatus(core::Reason reason, std::string_view field, std::string_view message) {
  return ErrorStatus(ToProto(reason), field, message);
}

grpc::Status PermissionDenied(std::string_view who, std::string_view what) {
  std::string message = absl::StrCat(Abs(who), " may not ", Abs(what));
  return WithDetail(grpc::StatusCode::PERMISSION_DENIED, message, v1::REASON_UNSPECIFIED, "",
                    message);
}

grpc::Status Internal(std::string_view message) {
  return WithDetail(grpc::StatusCode::INTERNAL, std::string(message), v1::REASON_UNSPECIFIED, "",
                    message);
}

grpc::Status FromAbsl(const absl::Status& status) {
  if (status.ok()) return grpc::Status::OK;
  if (status.code() == absl::StatusCode::kInvalidArgument) {
    return ErrorStatus(v1::INVALID_DATA, "", Std(status.message()));
  }
  return WithDetail(GrpcCode(status.code()), std::string(status.message()), v1::REASON_UNSPECIFIED,
                    "", Std(status.message()));
}

std::optional<v1::ErrorDetail> DetailOf(const grpc::Status& status) {
  std::optional<google::rpc::Status> rich = RichStatusOf(status);
  if (!rich) return std::nullopt;
  for (const google::protobuf::Any& any : rich->details()) {
    v1::ErrorDetail detail;
    if (any.Is<v1::ErrorDetail>() && any.UnpackTo(&detail)) return detail;
  }
  return std::nullopt;
}

std::optional<google::rpc::Status> RichStatusOf(const grpc::Status& status) {
  const std::string details = status.error_details();
  if (details.empty()) return std::nullopt;
  google::rpc::Status rich;
  if (!rich.ParseFromString(details)) return std::nullopt;
  return rich;
}

grpc::Status Relayed(const grpc::Status& status, std::string_view prefix) {
  std::string message = absl::StrCat(Abs(prefix), status.error_message());
  std::optional<google::rpc::Status> rich = RichStatusOf(status);
  if (!rich) return grpc::Status(status.error_code(), std::move(message), status.error_details());
  rich->set_message(message);
  return grpc::Status(status.error_code(), std::move(message), rich->SerializeAsString());
}

absl::Status ToAbsl(const grpc::Status& status) {
  if (status.ok()) return absl::OkStatus();
  return absl::Status(AbslCode(status.error_code()), status.error_message());
}

}  // namespace crossclear::protoconv
