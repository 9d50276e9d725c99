#include "http/app.h"
#include "http/openapi_data.h"

namespace medledger::http {

const char* OpenApiDocument() {
  return kOpenApiJson;
}

}  // namespace medledger::http
