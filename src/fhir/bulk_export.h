// FHIR Bulk Data `$export` jobs (docs/FHIR.md, Bulk Data): the job state machine, the NDJSON writer, sealed
// output files and the one background worker. What a job reads is not decided here: the caller hands in an
// ExportWork that reads through RecordsService with the kick-off's principal, so an export is only a sequence of
// ordinary, recorded reads. Jobs belong to their owner (username and client ID); anyone else is told 404.
#pragma once

#include <condition_variable>
#include <cstdint>
#include <deque>
#include <filesystem>
#include <functional>
#include <map>
#include <memory>
#include <mutex>
#include <nlohmann/json.hpp>
#include <optional>
#include <string>
#include <thread>
#include <vector>

#include "common/result.h"
#include "identity/master_key.h"
#include "identity/sealed_file.h"
#include "io/env.h"

namespace medledger::fhir {

struct ExportOwner {
  std::string username;
  std::string client_id;  // empty for a user's own token
  bool operator==(const ExportOwner&) const = default;
};

struct ExportRequest {
  std::string request_url;         // the kick-off URL, for the manifest's `request`
  std::vector<std::string> types;  // resource types to export, in output order
};

struct ExportFile {
  std::string type;
  std::string name;  // the file's name within the job ("DiagnosticReport-1.ndjson")
  size_t count = 0;
};

enum class JobState { kQueued, kRunning, kDone, kFailed, kCancelled };
const char* JobStateName(JobState s);

struct JobStatus {
  JobState state = JobState::kQueued;
  std::string progress;          // "37 reports" while running
  std::string transaction_time;  // RFC 3339, the kick-off's time
  ExportRequest request;
  std::vector<ExportFile> output;
  std::vector<ExportFile> errors;  // OperationOutcome NDJSON
  std::optional<Error> failure;    // kFailed: why (its kind gives the HTTP status)
  int64_t expires_at = 0;          // unix seconds; 0 until finished
};

// Writes resources of one type as NDJSON (one JSON object per line, no line breaks inside: nlohmann's compact
// dump escapes them) into files of at most `max_lines` lines and about `max_bytes` bytes (a single larger
// resource still gets a file of its own). `flush(name, bytes)` stores a finished file.
class NdjsonWriter {
 public:
  using Flush = std::function<Status(const std::string& name, const std::string& bytes)>;
  NdjsonWriter(std::string type, size_t max_lines, size_t max_bytes, Flush flush)
      : type_(std::move(type)), max_lines_(max_lines), max_bytes_(max_bytes), flush_(std::move(flush)) {}

  Status Add(const nlohmann::json& resource);
  Status Finish();  // flushes the open file, if it holds anything
  const std::vector<ExportFile>& files() const { return files_; }
  size_t total() const { return total_; }

 private:
  Status FlushOpen();

  std::string type_;
  size_t max_lines_, max_bytes_;
  Flush flush_;
  std::string buffer_;
  size_t lines_ = 0;
  size_t total_ = 0;
  std::vector<ExportFile> files_;
};

// What the worker gives the export work: where resources go, and whether to stop.
class ExportSink {
 public:
  virtual ~ExportSink() = default;
  virtual Status Emit(const nlohmann::json& resource) = 0;  // by its resourceType; a type not asked for is dropped
  virtual Status EmitError(const nlohmann::json& operation_outcome) = 0;
  virtual void Progress(std::string text) = 0;
  virtual bool Cancelled() const = 0;
};

// The job's reads. A returned error fails the whole job (the status URL answers it); per-resource refusals go
// to EmitError and the job goes on.
using ExportWork = std::function<Status(ExportSink& sink)>;

struct BulkExportOptions {
  std::filesystem::path dir;      // DATA/server/bulk
  size_t max_jobs = 64;           // every job not yet deleted or expired, any state
  size_t max_jobs_per_owner = 5;  // kept jobs of one owner, any state: one caller cannot fill max_jobs
  size_t max_unfinished_per_owner = 2;
  int64_t retention_seconds = 3600;  // a finished job's files live this long
  size_t max_lines_per_file = 1000;
  size_t max_bytes_per_file = size_t{16} << 20;
  size_t max_files_per_job = 100;
  std::function<int64_t()> clock;  // unix seconds; empty: the system clock
};

class BulkExports {
 public:
  // Removes whatever an earlier run left in `dir` (jobs are not kept across restarts), then starts the worker.
  static Result<std::unique_ptr<BulkExports>> Open(BulkExportOptions options, const identity::MasterKey& master_key,
                                                   io::Env* env = nullptr);
  ~BulkExports();  // stops the worker (a running job is cancelled) and removes every job's files
  BulkExports(const BulkExports&) = delete;
  BulkExports& operator=(const BulkExports&) = delete;

  // Queues the job; its ID. "too_many_exports" (429) past the bounds.
  Result<std::string> Start(const ExportOwner& owner, ExportRequest request, ExportWork work);
  // "export_not_found" (404) for an unknown, expired or deleted job, or one of another owner.
  Result<JobStatus> Poll(const ExportOwner& owner, const std::string& job_id);
  // Cancels a queued or running job or deletes a finished one; its files are removed. "export_not_found".
  Status Delete(const ExportOwner& owner, const std::string& job_id);
  // A finished job's output or error file, decrypted. "export_not_found", "export_not_ready" (404 too: the
  // manifest has not named it yet).
  Result<std::string> ReadFile(const ExportOwner& owner, const std::string& job_id, const std::string& name);

  // Blocks until the queue is empty and no job runs (tests).
  void WaitIdle();

 private:
  struct Job {
    std::string id;
    ExportOwner owner;
    ExportWork work;
    JobStatus status;
    bool cancel = false;
    std::vector<std::string> files;  // every file written, for removal
  };
  class Sink;

  BulkExports(BulkExportOptions options, identity::SealedFiles sealer, io::Env* env);
  int64_t Now() const;
  void Run();
  void RunJob(const std::shared_ptr<Job>& job);
  void SweepLocked(int64_t now);
  void RemoveFiles(const Job& job);
  std::string PathOf(const std::string& job_id, const std::string& name) const;
  std::string Aad(const std::string& job_id, const std::string& name) const;
  Result<std::shared_ptr<Job>> FindLocked(const ExportOwner& owner, const std::string& job_id);

  BulkExportOptions options_;
  identity::SealedFiles sealer_;
  io::Env* env_;
  std::mutex mu_;
  std::condition_variable wake_;
  std::condition_variable idle_;
  std::map<std::string, std::shared_ptr<Job>> jobs_;
  std::deque<std::string> queue_;
  bool running_job_ = false;
  bool stop_ = false;
  std::thread worker_;  // last: started once everything above exists
};

}  // namespace medledger::fhir
