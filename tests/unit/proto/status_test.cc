// Reasons -> gRPC statuses: the code table, the "<REASON>: <field>: <message>" text, and the
// google.rpc.Status (ErrorDetail + ErrorInfo) every non-OK reply carries.
#include "proto/status.h"

#include <grpcpp/support/error_details.h>

#include <map>
#include <string>
#include <utility>
#include <vector>

#include "gtest/gtest.h"

namespace crossclear::protoconv {
namespace {

TEST(CodeFor, EveryProtoReason_HasItsCode) {
  const std::vector<std::pair<v1::Reason, grpc::StatusCode>> table = {
      {v1::REASON_UNSPECIFIED, grpc::StatusCode::FAILED_PRECONDITION},
      {v1::INVALID_CLAIM, grpc::StatusCode::INVALID_ARGUMENT},
      {v1::UNKNOWN_PERSON, grpc::StatusCode::NOT_FOUND},
      {v1::UNKNOWN_INSTITUTION, grpc::StatusCode::NOT_FOUND},
      {v1::LOCAL_CLAIM, grpc::StatusCode::FAILED_PRECONDITION},
      {v1::NOT_INSURED, grpc::StatusCode::FAILED_PRECONDITION},
      {v1::NOT_NETWORKED, grpc::StatusCode::FAILED_PRECONDITION},
      {v1::NOT_REGISTERED, grpc::StatusCode::FAILED_PRECONDITION},
      {v1::DISEASE_NOT_COVERED, grpc::StatusCode::FAILED_PRECONDITION},
      {v1::DISEASE_NOT_SUPPORTED, grpc::StatusCode::FAILED_PRECONDITION},
      {v1::NOT_QUALIFIED, grpc::StatusCode::FAILED_PRECONDITION},
      {v1::NO_POLICY, grpc::StatusCode::FAILED_PRECONDITION},
      {v1::NO_CATALOG, grpc::StatusCode::FAILED_PRECONDITION},
      {v1::DUPLICATE_CLAIM, grpc::StatusCode::ALREADY_EXISTS},
      {v1::UNKNOWN_CLAIM, grpc::StatusCode::NOT_FOUND},
      {v1::ALREADY_CANCELLED, grpc::StatusCode::FAILED_PRECONDITION},
      {v1::INVALID_AMOUNT, grpc::StatusCode::INVALID_ARGUMENT},
      {v1::LOCAL_PREPAYMENT, grpc::StatusCode::FAILED_PRECONDITION},
      {v1::ALREADY_PAID, grpc::StatusCode::FAILED_PRECONDITION},
      {v1::WRONG_MONTH_STATE, grpc::StatusCode::FAILED_PRECONDITION},
      {v1::INVALID_DATA, grpc::StatusCode::INVALID_ARGUMENT},
      {v1::DIRECTORY_CONFLICT, grpc::StatusCode::FAILED_PRECONDITION},
  };
  ASSERT_EQ(table.size(), static_cast<size_t>(v1::Reason_ARRAYSIZE));  // every reason listed
  for (const auto& [reason, code] : table) {
    EXPECT_EQ(CodeFor(reason), code) << v1::Reason_Name(reason);
  }
}

TEST(CodeFor, CoreReasons_AgreeWithTheirProtoReason) {
  const std::vector<std::pair<core::Reason, v1::Reason>> pairs = {
      {core::Reason::kInvalidClaim, v1::INVALID_CLAIM},
      {core::Reason::kInvalidAmount, v1::INVALID_AMOUNT},
      {core::Reason::kUnknownPerson, v1::UNKNOWN_PERSON},
      {core::Reason::kUnknownInstitution, v1::UNKNOWN_INSTITUTION},
      {core::Reason::kUnknownClaim, v1::UNKNOWN_CLAIM},
      {core::Reason::kDuplicateClaim, v1::DUPLICATE_CLAIM},
      {core::Reason::kNotRegistered, v1::NOT_REGISTERED},
      {core::Reason::kAlreadyPaid, v1::ALREADY_PAID},
      {core::Reason::kWrongMonthState, v1::WRONG_MONTH_STATE},
      {core::Reason::kNone, v1::REASON_UNSPECIFIED},
  };
  for (const auto& [core_reason, proto_reason] : pairs) {
    EXPECT_EQ(CodeFor(core_reason), CodeFor(proto_reason)) << v1::Reason_Name(proto_reason);
  }
}

TEST(ErrorStatus, MessageNamesReasonAndField_DetailRoundTrips) {
  const grpc::Status s = ErrorStatus(v1::INVALID_CLAIM, "claim.lines[2].price", "\"x\" is bad");
  EXPECT_EQ(s.error_code(), grpc::StatusCode::INVALID_ARGUMENT);
  EXPECT_EQ(s.error_message(), "INVALID_CLAIM: claim.lines[2].price: \"x\" is bad");
  std::optional<v1::ErrorDetail> d = DetailOf(s);
  ASSERT_TRUE(d.has_value());
  EXPECT_EQ(d->reason(), v1::INVALID_CLAIM);
  EXPECT_EQ(d->field(), "claim.lines[2].price");
  EXPECT_EQ(d->message(), "\"x\" is bad");
}

TEST(ErrorStatus, EmptyField_LeftOutOfTheMessage) {
  const grpc::Status s = ErrorStatus(v1::UNKNOWN_CLAIM, "", "no claim C9");
  EXPECT_EQ(s.error_code(), grpc::StatusCode::NOT_FOUND);
  EXPECT_EQ(s.error_message(), "UNKNOWN_CLAIM: no claim C9");
  ASSERT_TRUE(DetailOf(s).has_value());
  EXPECT_EQ(DetailOf(s)->field(), "");
}

TEST(ErrorStatus, CoreReasonOverload_SameAsProto) {
  const grpc::Status s = ErrorStatus(core::Reason::kDuplicateClaim, "mdtrt_id", "differs");
  EXPECT_EQ(s.error_code(), grpc::StatusCode::ALREADY_EXISTS);
  EXPECT_EQ(s.error_message(), "DUPLICATE_CLAIM: mdtrt_id: differs");
  ASSERT_TRUE(DetailOf(s).has_value());
  EXPECT_EQ(DetailOf(s)->reason(), v1::DUPLICATE_CLAIM);
}

TEST(ErrorStatus, UnspecifiedReason_IsStillAnError) {
  EXPECT_FALSE(ErrorStatus(v1::REASON_UNSPECIFIED, "", "why").ok());
  EXPECT_FALSE(ErrorStatus(core::Reason::kNone, "", "why").ok());
}

TEST(PermissionDenied, NamesWhoAndWhat_CarriesDetail) {
  const grpc::Status s = PermissionDenied("institution/H1", "settle claims of institution H2");
  EXPECT_EQ(s.error_code(), grpc::StatusCode::PERMISSION_DENIED);
  EXPECT_EQ(s.error_message(), "institution/H1 may not settle claims of institution H2");
  ASSERT_TRUE(DetailOf(s).has_value());
  EXPECT_EQ(DetailOf(s)->reason(), v1::REASON_UNSPECIFIED);
  EXPECT_EQ(DetailOf(s)->message(), s.error_message());
}

TEST(Internal, CodeAndMessage) {
  const grpc::Status s = Internal("ledger write failed");
  EXPECT_EQ(s.error_code(), grpc::StatusCode::INTERNAL);
  EXPECT_EQ(s.error_message(), "ledger write failed");
  EXPECT_TRUE(DetailOf(s).has_value());
}

TEST(DetailOf, NoneOrGarbage_IsNullopt) {
  EXPECT_FALSE(DetailOf(grpc::Status::OK).has_value());
  EXPECT_FALSE(DetailOf(grpc::Status(grpc::StatusCode::UNAVAILABLE, "down")).has_value());
  EXPECT_FALSE(
      DetailOf(grpc::Status(grpc::StatusCode::INTERNAL, "x", std::string("\xff\xff\xff", 3)))
          .has_value());
}

// The trailer as any gRPC client reads it (gRPC's own ExtractErrorDetails, i.e. a plain
// google.rpc.Status parse), with the type URLs other languages look their detail types up by.
struct Rich {
  google::rpc::Status status;
  std::optional<v1::ErrorDetail> detail;
  std::optional<google::rpc::ErrorInfo> info;
};

Rich ReadTrailer(const grpc::Status& s) {
  Rich rich;
  EXPECT_TRUE(grpc::ExtractErrorDetails(s, &rich.status).ok()) << "not a google.rpc.Status";
  for (const google::protobuf::Any& any : rich.status.details()) {
    if (any.type_url() == "type.googleapis.com/crossclear.v1.ErrorDetail") {
      EXPECT_TRUE(any.UnpackTo(&rich.detail.emplace()));
    } else if (any.type_url() == "type.googleapis.com/google.rpc.ErrorInfo") {
      EXPECT_TRUE(any.UnpackTo(&rich.info.emplace()));
    } else {
      ADD_FAILURE() << "unexpected detail " << any.type_url();
    }
  }
  return rich;
}

TEST(ErrorStatus, Trailer_IsGoogleRpcStatus_WithErrorDetailAndErrorInfo) {
  const grpc::Status s = ErrorStatus(v1::INVALID_CLAIM, "claim.lines[2].price", "\"x\" is bad");
  const Rich rich = ReadTrailer(s);
  EXPECT_EQ(rich.status.code(), static_cast<int>(grpc::StatusCode::INVALID_ARGUMENT));
  EXPECT_EQ(rich.status.message(), s.error_message());
  ASSERT_EQ(rich.status.details_size(), 2);
  ASSERT_TRUE(rich.detail.has_value());
  EXPECT_EQ(rich.detail->reason(), v1::INVALID_CLAIM);
  EXPECT_EQ(rich.detail->field(), "claim.lines[2].price");
  EXPECT_EQ(rich.detail->message(), "\"x\" is bad");
  ASSERT_TRUE(rich.info.has_value());
  EXPECT_EQ(rich.info->reason(), "INVALID_CLAIM");
  EXPECT_EQ(rich.info->domain(), "crossclear.v1");
  const std::map<std::string, std::string> metadata(rich.info->metadata().begin(),
                                                    rich.info->metadata().end());
  EXPECT_EQ(metadata, (std::map<std::string, std::string>{{"field", "claim.lines[2].price"}}));
}

TEST(ErrorStatus, Trailer_NoFieldNamed_ErrorInfoHasNoMetadata) {
  const grpc::Status s = ErrorStatus(core::Reason::kDuplicateClaim, "", "settled already");
  const Rich rich = ReadTrailer(s);
  EXPECT_EQ(rich.status.code(), static_cast<int>(grpc::StatusCode::ALREADY_EXISTS));
  EXPECT_EQ(rich.status.message(), "DUPLICATE_CLAIM: settled already");
  ASSERT_TRUE(rich.info.has_value());
  EXPECT_EQ(rich.info->reason(), "DUPLICATE_CLAIM");
  EXPECT_TRUE(rich.info->metadata().empty());
  ASSERT_TRUE(rich.detail.has_value());
  EXPECT_EQ(rich.detail->reason(), v1::DUPLICATE_CLAIM);
}

TEST(ErrorStatus, EveryOtherWriter_SameCodeAndMessageInTheTrailer) {
  for (const grpc::Status& s :
       {PermissionDenied("region-110000", "read statements"), Internal("ledger write failed"),
        FromAbsl(absl::UnavailableError("down")),
        FromAbsl(absl::InvalidArgumentError("period: \"2026-13\" bad"))}) {
    const Rich rich = ReadTrailer(s);
    EXPECT_EQ(rich.status.code(), static_cast<int>(s.error_code())) << s.error_message();
    EXPECT_EQ(rich.status.message(), s.error_message());
    ASSERT_TRUE(rich.detail.has_value()) << s.error_message();
    ASSERT_TRUE(rich.info.has_value()) << s.error_message();
    EXPECT_EQ(rich.info->reason(), v1::Reason_Name(rich.detail->reason()));
    EXPECT_EQ(rich.info->domain(), "crossclear.v1");
  }
}

TEST(DetailOf, RichStatusWithoutErrorDetail_IsNullopt) {
  google::rpc::Status rich;
  rich.set_code(static_cast<int>(grpc::StatusCode::INTERNAL));
  rich.set_message("x");
  google::rpc::ErrorInfo info;
  info.set_reason("INVALID_DATA");
  rich.add_details()->PackFrom(info);
  const grpc::Status s(grpc::StatusCode::INTERNAL, "x", rich.SerializeAsString());
  ASSERT_TRUE(RichStatusOf(s).has_value());
  EXPECT_FALSE(DetailOf(s).has_value());
}

TEST(Relayed, PrefixesBothMessages_KeepsCodeAndDetails) {
  const grpc::Status peer = ErrorStatus(v1::UNKNOWN_CLAIM, "claim_id", "no claim C9");
  const grpc::Status s = Relayed(peer, "insured region 110000: ");
  EXPECT_EQ(s.error_code(), grpc::StatusCode::NOT_FOUND);
  EXPECT_EQ(s.error_message(), "insured region 110000: UNKNOWN_CLAIM: claim_id: no claim C9");
  const Rich rich = ReadTrailer(s);
  EXPECT_EQ(rich.status.code(), static_cast<int>(grpc::StatusCode::NOT_FOUND));
  EXPECT_EQ(rich.status.message(), s.error_message());
  ASSERT_TRUE(rich.detail.has_value());
  EXPECT_EQ(rich.detail->reason(), v1::UNKNOWN_CLAIM);
  EXPECT_EQ(rich.detail->field(), "claim_id");
  ASSERT_TRUE(rich.info.has_value());
  EXPECT_EQ(rich.info->reason(), "UNKNOWN_CLAIM");
}

TEST(Relayed, NoOrForeignDetails_PassOnUnchanged) {
  const grpc::Status down = Relayed(grpc::Status(grpc::StatusCode::UNAVAILABLE, "down"), "hub: ");
  EXPECT_EQ(down.error_code(), grpc::StatusCode::UNAVAILABLE);
  EXPECT_EQ(down.error_message(), "hub: down");
  EXPECT_EQ(down.error_details(), "");
  const std::string garbage("\xff\xff\xff", 3);
  const grpc::Status odd =
      Relayed(grpc::Status(grpc::StatusCode::INTERNAL, "x", garbage), "hub: ");
  EXPECT_EQ(odd.error_message(), "hub: x");
  EXPECT_EQ(odd.error_details(), garbage);
}

TEST(FromAbsl, InvalidArgument_IsInvalidDataNamingTheFieldInTheMessage) {
  const grpc::Status s = FromAbsl(absl::InvalidArgumentError("claim.date: \"2026-02-30\" bad"));
  EXPECT_EQ(s.error_code(), grpc::StatusCode::INVALID_ARGUMENT);
  EXPECT_EQ(s.error_message(), "INVALID_DATA: claim.date: \"2026-02-30\" bad");
  ASSERT_TRUE(DetailOf(s).has_value());
  EXPECT_EQ(DetailOf(s)->reason(), v1::INVALID_DATA);
  EXPECT_EQ(DetailOf(s)->message(), "claim.date: \"2026-02-30\" bad");
}

TEST(FromAbsl, OtherCodes_MapToTheSameGrpcCode) {
  EXPECT_TRUE(FromAbsl(absl::OkStatus()).ok());
  const std::vector<std::pair<absl::Status, grpc::StatusCode>> table = {
      {absl::UnavailableError("a"), grpc::StatusCode::UNAVAILABLE},
      {absl::DeadlineExceededError("a"), grpc::StatusCode::DEADLINE_EXCEEDED},
      {absl::NotFoundError("a"), grpc::StatusCode::NOT_FOUND},
      {absl::AlreadyExistsError("a"), grpc::StatusCode::ALREADY_EXISTS},
      {absl::PermissionDeniedError("a"), grpc::StatusCode::PERMISSION_DENIED},
      {absl::FailedPreconditionError("a"), grpc::StatusCode::FAILED_PRECONDITION},
      {absl::InternalError("a"), grpc::StatusCode::INTERNAL},
      {absl::DataLossError("a"), grpc::StatusCode::DATA_LOSS},
      {absl::ResourceExhaustedError("a"), grpc::StatusCode::RESOURCE_EXHAUSTED},
      {absl::AbortedError("a"), grpc::StatusCode::ABORTED},
      {absl::UnauthenticatedError("a"), grpc::StatusCode::UNAUTHENTICATED},
  };
  for (const auto& [status, code] : table) {
    const grpc::Status s = FromAbsl(status);
    EXPECT_EQ(s.error_code(), code) << status.ToString();
    EXPECT_EQ(s.error_message(), "a");
  }
}

TEST(ToAbsl, KeepsCodeAndMessage) {
  EXPECT_TRUE(ToAbsl(grpc::Status::OK).ok());
  const absl::Status s = ToAbsl(ErrorStatus(v1::UNKNOWN_PERSON, "psn_no", "no such person"));
  EXPECT_EQ(s.code(), absl::StatusCode::kNotFound);
  EXPECT_EQ(std::string(s.message()), "UNKNOWN_PERSON: psn_no: no such person");
  EXPECT_EQ(ToAbsl(grpc::Status(grpc::StatusCode::UNAVAILABLE, "down")).code(),
            absl::StatusCode::kUnavailable);
}

}  // namespace
}  // namespace crossclear::protoconv
