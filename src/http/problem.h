// RFC 9457 problem details (application/problem+json) carrying the stable machine code of an Error.
#pragma once

#include <string>
#include <vector>

#include "common/result.h"
#include "http/message.h"

namespace medledger::http {

struct FieldError {
  std::string field;
  std::string code;
  std::string message;
};

// The HTTP status an ErrorKind stands for (kInvalidArgument -> 400; see ProblemFor for 422).
int StatusForKind(ErrorKind kind);
const char* ReasonPhrase(int status);

// {type, title, status, detail, code, errors?}. `status` 0 means StatusForKind(error.kind).
// Internal errors (5xx) hide their message from the client: it may hold paths or library text.
Response ProblemResponse(const Error& error, int status = 0, const std::vector<FieldError>& fields = {});

}  // namespace medledger::http
