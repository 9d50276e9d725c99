// Where the report log lives in a data directory: one writer (service::ReportLog, `serve`) and several
// readers (`medledger verify`'s audit, `medledger log export-trust`) name its files from here.
#pragma once

namespace medledger::reportlog::files {

inline constexpr char kLogDir[] = "log";                    // DATA/log
inline constexpr char kTree[] = "tree";                     // tlog::TreeStore
inline constexpr char kBlockEnds[] = "block-ends";          // 8-byte big-endian tree size after each block
inline constexpr char kCheckpoints[] = "checkpoints.json";  // the recent published checkpoints
inline constexpr char kTrust[] = "trust.json";              // the published trust bundle (public)
inline constexpr char kLogKey[] = "log-key.sealed";         // the log's signing key, sealed

}  // namespace medledger::reportlog::files
