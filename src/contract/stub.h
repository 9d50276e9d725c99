// The interface the records contract is written against: a narrow, C++ rendering of Fabric's
// ChaincodeStubInterface. The embedded ledger's simulator and the chaincode-as-a-service shim both
// implement it, so the contract runs unchanged on either ledger. Implementations must be
// deterministic for a given transaction: no clock, no randomness, no I/O visible to the contract.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "common/result.h"
#include "common/time.h"

namespace medledger::contract {

struct KeyValue {
  std::string key;
  std::string value;
};

struct KeyModification {
  std::string tx_id;
  std::string value;  // empty when is_delete
  Timestamp timestamp;
  bool is_delete = false;
};

struct Page {
  std::vector<KeyValue> items;
  std::string bookmark;  // empty when there are no more results
};

// The transaction's creator, decoded from the signed proposal (msp.SerializedIdentity).
struct Creator {
  std::string msp_id;
  std::string cert_pem;  // the X.509 certificate the proposal was signed with
};

class ChaincodeStub {
 public:
  virtual ~ChaincodeStub() = default;

  // std::nullopt when the key does not exist (or was deleted).
  virtual Result<std::optional<std::string>> GetState(std::string_view key) = 0;
  virtual Status PutState(std::string_view key, std::string_view value) = 0;
  virtual Status DelState(std::string_view key) = 0;
  // The key-level endorsement policy (a serialized common.SignaturePolicyEnvelope) that later changes of `key`
  // must satisfy, as Fabric's SetStateValidationParameter. It takes effect when this transaction commits.
  virtual Status SetStateValidationParameter(std::string_view key, std::string_view policy) = 0;

  // Keys in [start, end) in byte order; "" as end means "to the end of the namespace".
  // page_size 0 means unbounded. The bookmark is the key to resume from.
  virtual Result<Page> GetStateByRange(std::string_view start, std::string_view end, uint32_t page_size,
                                       std::string_view bookmark) = 0;
  // All committed modifications of `key`, oldest first.
  virtual Result<std::vector<KeyModification>> GetHistoryForKey(std::string_view key) = 0;

  virtual const Creator& GetCreator() const = 0;
  virtual const std::string& GetTxID() const = 0;
  virtual const std::string& GetChannelID() const = 0;
  virtual Timestamp GetTxTimestamp() const = 0;
  // At most one event per transaction, as in Fabric; a later call replaces the earlier one.
  virtual Status SetEvent(std::string_view name, std::string_view payload) = 0;
};

// Composite keys in Fabric's encoding: U+0000 objectType U+0000 attr1 U+0000 attr2 U+0000 ...
// Attributes may not contain U+0000 or U+10FFFF.
Result<std::string> CreateCompositeKey(std::string_view object_type, const std::vector<std::string>& attributes);
Result<std::pair<std::string, std::vector<std::string>>> SplitCompositeKey(std::string_view key);
// The [start, end) range covering every composite key that begins with the given attributes.
Result<std::pair<std::string, std::string>> PartialCompositeKeyRange(std::string_view object_type,
                                                                     const std::vector<std::string>& attributes);

// A contract's answer, as Fabric's peer.Response: status 200 is success; >= 400 is an error whose
// message is "<code>: <human text>" so every layer above can surface a stable machine code.
struct Response {
  int32_t status = 200;
  std::string message;
  std::string payload;
};

class Contract {
 public:
  virtual ~Contract() = default;
  virtual Response Invoke(ChaincodeStub& stub, std::string_view function, const std::vector<std::string>& args) = 0;
};

}  // namespace medledger::contract
