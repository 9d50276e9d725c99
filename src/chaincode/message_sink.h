// Where the shim's outgoing messages go: the gRPC stream in production, a recording fake in tests.
#pragma once

#include "common/result.h"

namespace protos {
class ChaincodeMessage;
}

namespace medledger::chaincode {

class MessageSink {
 public:
  virtual ~MessageSink() = default;
  // Must be safe to call from several threads: transactions run concurrently.
  virtual Status Send(const protos::ChaincodeMessage& message) = 0;
};

}  // namespace medledger::chaincode
