#include "contract/records_contract.h"

#include <array>
#include <exception>
#include <utility>

#include "contract/records_support.h"

namespace medledger::contract {
namespace {

using records::Ctx;
using Function = Result<std::string> (*)(Ctx&, std::string_view);

constexpr std::array<std::pair<std::string_view, Function>, 25> kFunctions = {{
    {"RegisterPatient", &records::RegisterPatient},
    {"GetPatient", &records::GetPatient},
    {"CreateReport", &records::CreateReport},
    {"AmendReport", &records::AmendReport},
    {"GetReport", &records::GetReport},
    {"ListReportsByPatient", &records::ListReportsByPatient},
    {"GetReportHistory", &records::GetReportHistory},
    {"GrantAccess", &records::GrantAccess},
    {"RevokeAccess", &records::RevokeAccess},
    {"ListConsents", &records::ListConsents},
    {"EmergencyAccess", &records::EmergencyAccess},
    {"RecordAccess", &records::RecordAccess},
    {"ListAccessEvents", &records::ListAccessEvents},
    {"RecordUserEvent", &records::RecordUserEvent},
    {"GetUserRecord", &records::GetUserRecord},
    {"RecordLookup", &records::RecordLookup},
    {"AnchorCheckpoint", &records::AnchorCheckpoint},
    {"GetCheckpointAnchor", &records::GetCheckpointAnchor},
    {"RecordKeyRelease", &records::RecordKeyRelease},
    {"GetAccessGrants", &records::GetAccessGrants},
    {"PublishClinician", &records::PublishClinician},
    {"ListClinicians", &records::ListClinicians},
    {"ListConsentsForDoctor", &records::ListConsentsForDoctor},
    {"EraseReport", &records::EraseReport},
    {"ListErasures", &records::ListErasures},
}};

// Years 1970..9999: keeps fixed-width time keys sortable and "now + 4 h" free of overflow.
constexpr int64_t kMaxTimestampSeconds = 253402300799;

int32_t StatusFor(ErrorKind kind) {
  switch (kind) {
    case ErrorKind::kInvalidArgument:
    case ErrorKind::kTooLarge: return 400;
    case ErrorKind::kUnauthenticated:
    case ErrorKind::kPermissionDenied: return 403;
    case ErrorKind::kNotFound: return 404;
    case ErrorKind::kAlreadyExists:
    case ErrorKind::kConflict: return 409;
    default: return 500;
  }
}

class RecordsContract final : public Contract {
 public:
  Response Invoke(ChaincodeStub& stub, std::string_view function, const std::vector<std::string>& args) override {
    Result<std::string> result = MakeError(ErrorKind::kInternal, "internal", "the contract did not run");
    // nlohmann/json and std containers may throw (bad_alloc, a broken invariant); nothing escapes the
    // contract boundary.
    try {
      result = Dispatch(stub, function, args);
    } catch (const std::exception&) {
      result = MakeError(ErrorKind::kInternal, "internal", "the contract failed unexpectedly");
    }
    if (!result.ok()) {
      const Error& e = result.error();
      return Response{StatusFor(e.kind), e.code + ": " + e.message, ""};
    }
    return Response{200, "", std::move(result).value()};
  }

 private:
  Result<std::string> Dispatch(ChaincodeStub& stub, std::string_view function, const std::vector<std::string>& args) {
    Function handler = nullptr;
    for (const auto& [name, f] : kFunctions) {
      if (name == function) handler = f;
    }
    if (handler == nullptr) {
      return records::Invalid("unknown_function", "the records contract has no such function");
    }
    if (args.size() != 1) {
      return records::Invalid("invalid_arguments", "every function takes exactly one argument, a JSON object");
    }
    const Timestamp now = stub.GetTxTimestamp();
    if (now.seconds < 0 || now.seconds > kMaxTimestampSeconds || now.nanos < 0 || now.nanos >= 1000000000) {
      return records::Invalid("invalid_timestamp", "the transaction timestamp is out of range");
    }
    // The transaction ID names consents, grants and events, so it must be a plain identifier.
    if (!MatchesPattern(stub.GetTxID(), Pattern::kId)) {
      return records::Invalid("invalid_tx_id", "the transaction ID is not a valid identifier");
    }
    ML_ASSIGN_OR_RETURN(ClientIdentity caller, identities_.Resolve(stub.GetCreator()));
    Ctx ctx{stub, caller, now, stub.GetTxID()};
    ML_RETURN_IF_ERROR(records::RequireApprovedAccount(ctx));
    return handler(ctx, args[0]);
  }

  IdentityResolver identities_;  // a memo of pure certificate parsing; see client_identity.h
};

}  // namespace

std::unique_ptr<Contract> NewRecordsContract() {
  return std::make_unique<RecordsContract>();
}

}  // namespace medledger::contract
