// Temporary forwarder: SealedFiles moved to identity/sealed_file.h (auth and service both seal files, and auth
// must not depend on service). Only src/fhir/bulk_export still includes this path; drop this file when it
// includes identity/sealed_file.h and names identity::SealedFiles.
#pragma once

#include "identity/sealed_file.h"

namespace medledger::service {
using SealedFiles = identity::SealedFiles;
}  // namespace medledger::service
