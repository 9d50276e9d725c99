#include "fhir/bulk_export.h"

#include <algorithm>
#include <chrono>

#include "common/time.h"
#include "crypto/random.h"

namespace medledger::fhir {

using nlohmann::json;

const char* JobStateName(JobState s) {
  switch (s) {
    case JobState::kQueued: return "queued";
    case JobState::kRunning: return "running";
    case JobState::kDone: return "done";
    case JobState::kFailed: return "failed";
    case JobState::kCancelled: return "cancelled";
  }
  return "unknown";
}

Status NdjsonWriter::Add(const json& resource) {
  std::string line = resource.dump(-1, ' ', false, json::error_handler_t::replace);
  if (lines_ > 0 && (lines_ >= max_lines_ || buffer_.size() + line.size() + 1 > max_bytes_)) {
    ML_RETURN_IF_ERROR(FlushOpen());
  }
  buffer_ += line;
  buffer_ += '\n';
  ++lines_;
  ++total_;
  return OkStatus();
}

Status NdjsonWriter::Finish() {
  return lines_ > 0 ? FlushOpen() : OkStatus();
}

Status NdjsonWriter::FlushOpen() {
  ExportFile f{type_, type_ + "-" + std::to_string(files_.size() + 1) + ".ndjson", lines_};
  ML_RETURN_IF_ERROR(flush_(f.name, buffer_));
  files_.push_back(std::move(f));
  buffer_.clear();
  lines_ = 0;
  return OkStatus();
}

// One job's writers: a file set per asked-for type plus the error file, all bounded by the job's file count.
class BulkExports::Sink : public ExportSink {
 public:
  Sink(BulkExports& owner, std::shared_ptr<Job> job) : owner_(owner), job_(std::move(job)) {
    for (const auto& type : job_->status.request.types) {
      writers_.emplace(type, Writer(type));
    }
  }

  Status Emit(const json& resource) override {
    const std::string type = resource.is_object() ? resource.value("resourceType", "") : "";
    auto it = writers_.find(type);
    if (it == writers_.end()) return OkStatus();
    return it->second.Add(resource);
  }
  Status EmitError(const json& outcome) override { return errors_.Add(outcome); }
  void Progress(std::string text) override {
    std::lock_guard lock(owner_.mu_);
    job_->status.progress = std::move(text);
  }
  bool Cancelled() const override {
    std::lock_guard lock(owner_.mu_);
    return job_->cancel || owner_.stop_;
  }

  Status Finish(std::vector<ExportFile>* output, std::vector<ExportFile>* errors) {
    for (const auto& type : job_->status.request.types) {
      auto& w = writers_.at(type);
      ML_RETURN_IF_ERROR(w.Finish());
      output->insert(output->end(), w.files().begin(), w.files().end());
    }
    ML_RETURN_IF_ERROR(errors_.Finish());
    *errors = errors_.files();
    return OkStatus();
  }

 private:
  NdjsonWriter Writer(const std::string& type) {
    return NdjsonWriter(type, owner_.options_.max_lines_per_file, owner_.options_.max_bytes_per_file,
                        [this](const std::string& name, const std::string& bytes) { return Store(name, bytes); });
  }
  Status Store(const std::string& name, const std::string& bytes) {
    if (files_ >= owner_.options_.max_files_per_job) {
      return MakeError(ErrorKind::kTooLarge, "export_too_large",
                       "the export exceeds " + std::to_string(owner_.options_.max_files_per_job) +
                           " files; export fewer types or use _since");
    }
    ++files_;
    {
      std::lock_guard lock(owner_.mu_);
      job_->files.push_back(name);  // recorded before writing, so a partial write is removed too
    }
    return owner_.sealer_.Write(owner_.PathOf(job_->id, name), bytes, owner_.Aad(job_->id, name));
  }

  BulkExports& owner_;
  std::shared_ptr<Job> job_;
  std::map<std::string, NdjsonWriter> writers_;
  NdjsonWriter errors_ = Writer("OperationOutcome");
  size_t files_ = 0;
};

Result<std::unique_ptr<BulkExports>> BulkExports::Open(BulkExportOptions options, const identity::MasterKey& master_key,
                                                       io::Env* env) {
  if (env == nullptr) env = io::Env::Default();
  ML_ASSIGN_OR_RETURN(auto sealer, identity::SealedFiles::Create(master_key, "bulk-export", env));
  ML_RETURN_IF_ERROR(env->CreateDirs(options.dir.string()));
  // Jobs live in memory: whatever an earlier run left is unreachable, so it is removed (PHI kept for nothing).
  ML_ASSIGN_OR_RETURN(auto leftovers, env->ListDir(options.dir.string()));
  for (const auto& name : leftovers) {
    ML_RETURN_IF_ERROR(env->RemoveFile((options.dir / name).string()));
  }
  std::unique_ptr<BulkExports> out(new BulkExports(std::move(options), std::move(sealer), env));
  out->worker_ = std::thread([p = out.get()] { p->Run(); });
  return out;
}

BulkExports::BulkExports(BulkExportOptions options, identity::SealedFiles sealer, io::Env* env)
    : options_(std::move(options)), sealer_(std::move(sealer)), env_(env) {}

BulkExports::~BulkExports() {
  {
    std::lock_guard lock(mu_);
    stop_ = true;
  }
  wake_.notify_all();
  if (worker_.joinable()) worker_.join();
  for (const auto& [id, job] : jobs_) RemoveFiles(*job);
}

int64_t BulkExports::Now() const {
  return options_.clock ? options_.clock() : Timestamp::Now().seconds;
}

std::string BulkExports::PathOf(const std::string& job_id, const std::string& name) const {
  return (options_.dir / (job_id + "-" + name + ".sealed")).string();
}

std::string BulkExports::Aad(const std::string& job_id, const std::string& name) const {
  return "bulk-export/" + job_id + "/" + name;
}

void BulkExports::RemoveFiles(const Job& job) {
  for (const auto& name : job.files) {
    // Best effort: a file that is already gone is what we want; Open sweeps anything left at the next start.
    (void)env_->RemoveFile(PathOf(job.id, name));
  }
}

void BulkExports::SweepLocked(int64_t now) {
  for (auto it = jobs_.begin(); it != jobs_.end();) {
    const Job& job = *it->second;
    if (job.status.expires_at != 0 && job.status.expires_at <= now) {
      RemoveFiles(job);
      it = jobs_.erase(it);
    } else {
      ++it;
    }
  }
}

Result<std::string> BulkExports::Start(const ExportOwner& owner, ExportRequest request, ExportWork work) {
  std::lock_guard lock(mu_);
  const int64_t now = Now();
  SweepLocked(now);
  size_t unfinished = 0, kept = 0;
  for (const auto& [id, job] : jobs_) {
    if (!(job->owner == owner)) continue;
    ++kept;
    const JobState s = job->status.state;
    if (s == JobState::kQueued || s == JobState::kRunning) ++unfinished;
  }
  if (unfinished >= options_.max_unfinished_per_owner) {
    return MakeError(ErrorKind::kResourceExhausted, "too_many_exports",
                     "at most " + std::to_string(options_.max_unfinished_per_owner) +
                         " exports of one caller run at once; wait for one to finish");
  }
  if (kept >= options_.max_jobs_per_owner) {
    return MakeError(ErrorKind::kResourceExhausted, "too_many_exports",
                     "at most " + std::to_string(options_.max_jobs_per_owner) +
                         " exports of one caller are kept; DELETE a finished one first");
  }
  if (jobs_.size() >= options_.max_jobs) {
    return MakeError(ErrorKind::kResourceExhausted, "too_many_exports",
                     "the server holds as many exports as it keeps; try again later");
  }
  auto job = std::make_shared<Job>();
  job->id = crypto::RandomHex(16);
  job->owner = owner;
  job->work = std::move(work);
  job->status.request = std::move(request);
  job->status.transaction_time = Timestamp::Now().ToRfc3339();
  jobs_.emplace(job->id, job);
  queue_.push_back(job->id);
  wake_.notify_all();
  return job->id;
}

Result<std::shared_ptr<BulkExports::Job>> BulkExports::FindLocked(const ExportOwner& owner, const std::string& job_id) {
  SweepLocked(Now());
  auto it = jobs_.find(job_id);
  if (it == jobs_.end() || !(it->second->owner == owner)) {
    return MakeError(ErrorKind::kNotFound, "export_not_found", "no such export job (deleted, expired or not yours)");
  }
  return it->second;
}

Result<JobStatus> BulkExports::Poll(const ExportOwner& owner, const std::string& job_id) {
  std::lock_guard lock(mu_);
  ML_ASSIGN_OR_RETURN(auto job, FindLocked(owner, job_id));
  return job->status;
}

Status BulkExports::Delete(const ExportOwner& owner, const std::string& job_id) {
  std::lock_guard lock(mu_);
  ML_ASSIGN_OR_RETURN(auto job, FindLocked(owner, job_id));
  jobs_.erase(job_id);
  queue_.erase(std::remove(queue_.begin(), queue_.end(), job_id), queue_.end());
  if (job->status.state == JobState::kRunning) {
    job->cancel = true;  // the worker removes what it wrote once the work returns
  } else {
    RemoveFiles(*job);
  }
  idle_.notify_all();
  return OkStatus();
}

Result<std::string> BulkExports::ReadFile(const ExportOwner& owner, const std::string& job_id,
                                          const std::string& name) {
  std::string path, aad;
  {
    std::lock_guard lock(mu_);
    ML_ASSIGN_OR_RETURN(auto job, FindLocked(owner, job_id));
    bool listed = false;
    for (const auto* files : {&job->status.output, &job->status.errors}) {
      for (const auto& f : *files) listed = listed || f.name == name;
    }
    if (job->status.state != JobState::kDone || !listed) {
      return MakeError(ErrorKind::kNotFound, "export_file_not_found", "the job's manifest names no such file");
    }
    path = PathOf(job_id, name);
    aad = Aad(job_id, name);
  }
  return sealer_.Read(path, aad);
}

void BulkExports::WaitIdle() {
  std::unique_lock lock(mu_);
  idle_.wait(lock, [this] { return queue_.empty() && !running_job_; });
}

void BulkExports::Run() {
  std::unique_lock lock(mu_);
  while (!stop_) {
    // Wake at least once a minute to sweep expired jobs even when nobody calls.
    wake_.wait_for(lock, std::chrono::seconds(60), [this] { return stop_ || !queue_.empty(); });
    SweepLocked(Now());
    if (stop_ || queue_.empty()) continue;
    auto it = jobs_.find(queue_.front());
    queue_.pop_front();
    if (it == jobs_.end()) continue;
    std::shared_ptr<Job> job = it->second;
    job->status.state = JobState::kRunning;
    running_job_ = true;
    lock.unlock();
    RunJob(job);
    lock.lock();
    running_job_ = false;
    if (job->cancel) RemoveFiles(*job);  // deleted while running: nothing of it stays
    if (queue_.empty()) idle_.notify_all();
  }
  running_job_ = false;
  idle_.notify_all();
}

void BulkExports::RunJob(const std::shared_ptr<Job>& job) {
  Sink sink(*this, job);
  std::vector<ExportFile> output, errors;
  Status s = job->work(sink);
  if (s.ok() && !sink.Cancelled()) s = sink.Finish(&output, &errors);  // a cancelled job writes nothing more
  std::lock_guard lock(mu_);
  job->work = nullptr;  // releases the principal the work captured
  if (job->cancel || stop_) {
    job->status.state = JobState::kCancelled;
  } else if (!s.ok()) {
    job->status.state = JobState::kFailed;
    job->status.failure = s.error();
    RemoveFiles(*job);
    job->files.clear();
  } else {
    job->status.state = JobState::kDone;
    job->status.output = std::move(output);
    job->status.errors = std::move(errors);
  }
  job->status.expires_at = Now() + options_.retention_seconds;
}

}  // namespace medledger::fhir
