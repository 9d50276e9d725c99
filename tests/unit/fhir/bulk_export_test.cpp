// Bulk export jobs (docs/FHIR.md, Bulk Data): the NDJSON writer's lines and splitting, the job state machine,
// ownership, cancellation, bounds, expiry, and that files are sealed at rest.
#include "fhir/bulk_export.h"

#include <gtest/gtest.h>

#include <atomic>
#include <filesystem>
#include <fstream>
#include <sstream>

#include "temp_dir.h"

namespace medledger::fhir {
namespace {

using medledger::testing::TempDir;
using nlohmann::json;

TEST(NdjsonWriterTest, OneCompactObjectPerLineAndSplitsAtTheLineBound) {
  std::vector<std::pair<std::string, std::string>> flushed;
  NdjsonWriter w("DiagnosticReport", 2, 1 << 20, [&](const std::string& name, const std::string& bytes) {
    flushed.emplace_back(name, bytes);
    return OkStatus();
  });
  for (int i = 0; i < 5; ++i) {
    // A newline inside a value must not split the line: it is escaped.
    ASSERT_TRUE(w.Add({{"resourceType", "DiagnosticReport"}, {"id", std::to_string(i)}, {"conclusion", "a\nb"}}).ok());
  }
  ASSERT_TRUE(w.Finish().ok());
  ASSERT_EQ(flushed.size(), 3u);
  EXPECT_EQ(flushed[0].first, "DiagnosticReport-1.ndjson");
  EXPECT_EQ(flushed[2].first, "DiagnosticReport-3.ndjson");
  ASSERT_EQ(w.files().size(), 3u);
  EXPECT_EQ(w.files()[0].count, 2u);
  EXPECT_EQ(w.files()[2].count, 1u);
  EXPECT_EQ(w.total(), 5u);
  std::istringstream lines(flushed[0].second);
  std::string line;
  int n = 0;
  while (std::getline(lines, line)) {
    json j = json::parse(line);
    EXPECT_EQ(j["id"], std::to_string(n));
    EXPECT_EQ(j["conclusion"], "a\nb");
    ++n;
  }
  EXPECT_EQ(n, 2);
}

TEST(NdjsonWriterTest, SplitsAtTheByteBoundAndWritesNothingWhenEmpty) {
  const json resource = {{"resourceType", "Patient"}, {"id", std::string(30, 'x')}};
  const size_t line = resource.dump().size() + 1;
  std::vector<std::string> names;
  NdjsonWriter w("Patient", 1000, 2 * line, [&](const std::string& name, const std::string& bytes) {
    EXPECT_LE(bytes.size(), 2 * line);
    names.push_back(name);
    return OkStatus();
  });
  ASSERT_TRUE(w.Finish().ok());
  EXPECT_TRUE(names.empty());
  for (int i = 0; i < 6; ++i) ASSERT_TRUE(w.Add(resource).ok());
  ASSERT_TRUE(w.Finish().ok());
  EXPECT_EQ(names.size(), 3u);  // two lines fit a file, a third does not
}

class BulkExportsTest : public ::testing::Test {
 protected:
  std::unique_ptr<BulkExports> Open(BulkExportOptions o = {}) {
    o.dir = dir_.path() / "bulk";
    o.clock = [this] { return now_.load(); };
    auto b = BulkExports::Open(std::move(o), master_);
    EXPECT_TRUE(b.ok());
    return b.ok() ? std::move(*b) : nullptr;
  }
  static ExportRequest Request() { return {"http://x/fhir/r4/Patient/p1/$export", {"Patient", "DiagnosticReport"}}; }
  static ExportWork Emits(int reports) {
    return [reports](ExportSink& sink) -> Status {
      ML_RETURN_IF_ERROR(sink.Emit({{"resourceType", "Patient"}, {"id", "p1"}}));
      for (int i = 0; i < reports; ++i) {
        ML_RETURN_IF_ERROR(sink.Emit({{"resourceType", "DiagnosticReport"}, {"id", "r" + std::to_string(i)}}));
      }
      ML_RETURN_IF_ERROR(sink.Emit({{"resourceType", "Provenance"}, {"id", "not-asked-for"}}));
      return sink.EmitError({{"resourceType", "OperationOutcome"}, {"issue", json::array()}});
    };
  }
  size_t FilesOnDisk() const {
    size_t n = 0;
    for ([[maybe_unused]] const auto& e : std::filesystem::directory_iterator(dir_.path() / "bulk")) ++n;
    return n;
  }

  TempDir dir_;
  identity::MasterKey master_ = identity::MasterKey::FromBytes(std::string(32, 'k'));
  std::atomic<int64_t> now_{1'800'000'000};
  ExportOwner alice_{"alice", ""};
};

TEST_F(BulkExportsTest, RunsToDoneWithAManifestOfSealedFilesOnlyItsOwnerReads) {
  auto bulk = Open();
  auto id = bulk->Start(alice_, Request(), Emits(3));
  ASSERT_TRUE(id.ok());
  bulk->WaitIdle();
  auto st = bulk->Poll(alice_, *id);
  ASSERT_TRUE(st.ok());
  EXPECT_EQ(st->state, JobState::kDone);
  ASSERT_EQ(st->output.size(), 2u);  // Provenance was not asked for
  EXPECT_EQ(st->output[0].type, "Patient");
  EXPECT_EQ(st->output[0].count, 1u);
  EXPECT_EQ(st->output[1].type, "DiagnosticReport");
  EXPECT_EQ(st->output[1].count, 3u);
  ASSERT_EQ(st->errors.size(), 1u);
  EXPECT_GT(st->expires_at, now_.load());

  auto text = bulk->ReadFile(alice_, *id, st->output[1].name);
  ASSERT_TRUE(text.ok());
  EXPECT_NE(text->find("\"r2\""), std::string::npos);
  // At rest the file is sealed: the resource IDs are not in the bytes on disk.
  for (const auto& e : std::filesystem::directory_iterator(dir_.path() / "bulk")) {
    std::ifstream in(e.path(), std::ios::binary);
    std::string raw((std::istreambuf_iterator<char>(in)), {});
    EXPECT_EQ(raw.find("DiagnosticReport"), std::string::npos);
    EXPECT_EQ(raw.rfind("MLS1", 0), 0u);
  }
  // Anyone else, including the same user through an app, is told the job does not exist.
  for (const ExportOwner& other : {ExportOwner{"bob", ""}, ExportOwner{"alice", "some-app"}}) {
    EXPECT_EQ(bulk->Poll(other, *id).error().code, "export_not_found");
    EXPECT_EQ(bulk->ReadFile(other, *id, st->output[1].name).error().code, "export_not_found");
    EXPECT_EQ(bulk->Delete(other, *id).error().code, "export_not_found");
  }
  EXPECT_EQ(bulk->ReadFile(alice_, *id, "../../etc/passwd").error().code, "export_file_not_found");
}

TEST_F(BulkExportsTest, DeleteRemovesTheJobAndItsFiles) {
  auto bulk = Open();
  auto id = bulk->Start(alice_, Request(), Emits(2));
  ASSERT_TRUE(id.ok());
  bulk->WaitIdle();
  EXPECT_EQ(FilesOnDisk(), 3u);
  ASSERT_TRUE(bulk->Delete(alice_, *id).ok());
  EXPECT_EQ(FilesOnDisk(), 0u);
  EXPECT_EQ(bulk->Poll(alice_, *id).error().code, "export_not_found");
  EXPECT_EQ(bulk->Delete(alice_, *id).error().code, "export_not_found");
}

TEST_F(BulkExportsTest, DeleteCancelsARunningJobWhichStopsAndLeavesNoFiles) {
  auto bulk = Open();
  std::atomic<bool> started{false};
  std::atomic<bool> saw_cancel{false};
  auto id = bulk->Start(alice_, Request(), [&](ExportSink& sink) -> Status {
    ML_RETURN_IF_ERROR(sink.Emit({{"resourceType", "Patient"}, {"id", "p1"}}));
    started = true;
    while (!sink.Cancelled()) std::this_thread::sleep_for(std::chrono::milliseconds(1));
    saw_cancel = true;
    return OkStatus();
  });
  ASSERT_TRUE(id.ok());
  while (!started) std::this_thread::sleep_for(std::chrono::milliseconds(1));
  EXPECT_EQ(bulk->Poll(alice_, *id)->state, JobState::kRunning);
  ASSERT_TRUE(bulk->Delete(alice_, *id).ok());
  bulk->WaitIdle();
  EXPECT_TRUE(saw_cancel);
  EXPECT_EQ(FilesOnDisk(), 0u);
  EXPECT_EQ(bulk->Poll(alice_, *id).error().code, "export_not_found");
}

TEST_F(BulkExportsTest, AFailedWorkFailsTheJobWithItsErrorAndKeepsNoFiles) {
  auto bulk = Open();
  auto id = bulk->Start(alice_, Request(), [](ExportSink& sink) -> Status {
    ML_RETURN_IF_ERROR(sink.Emit({{"resourceType", "Patient"}, {"id", "p1"}}));
    return MakeError(ErrorKind::kPermissionDenied, "no_consent", "no consent");
  });
  ASSERT_TRUE(id.ok());
  bulk->WaitIdle();
  auto st = bulk->Poll(alice_, *id);
  ASSERT_TRUE(st.ok());
  EXPECT_EQ(st->state, JobState::kFailed);
  ASSERT_TRUE(st->failure.has_value());
  EXPECT_EQ(st->failure->code, "no_consent");
  EXPECT_EQ(FilesOnDisk(), 0u);
  EXPECT_FALSE(bulk->ReadFile(alice_, *id, "Patient-1.ndjson").ok());
}

TEST_F(BulkExportsTest, BoundsUnfinishedJobsPerOwnerAndJobsInAll) {
  BulkExportOptions o;
  o.max_unfinished_per_owner = 2;
  o.max_jobs = 3;
  auto bulk = Open(o);
  std::atomic<bool> release{false};
  auto blocking = [&release](ExportSink& sink) -> Status {
    while (!release && !sink.Cancelled()) std::this_thread::sleep_for(std::chrono::milliseconds(1));
    return OkStatus();
  };
  ASSERT_TRUE(bulk->Start(alice_, Request(), blocking).ok());
  ASSERT_TRUE(bulk->Start(alice_, Request(), blocking).ok());
  EXPECT_EQ(bulk->Start(alice_, Request(), blocking).error().code, "too_many_exports");
  ASSERT_TRUE(bulk->Start({"bob", ""}, Request(), blocking).ok());
  EXPECT_EQ(bulk->Start({"carol", ""}, Request(), blocking).error().kind, ErrorKind::kResourceExhausted);
  release = true;
  bulk->WaitIdle();
  // Finished jobs no longer count as unfinished, but still against the total until they expire.
  EXPECT_EQ(bulk->Start({"carol", ""}, Request(), blocking).error().code, "too_many_exports");
  now_ += 3601;
  EXPECT_TRUE(bulk->Start({"carol", ""}, Request(), Emits(1)).ok());
}

TEST_F(BulkExportsTest, BoundsKeptJobsPerOwnerUntilOneIsDeleted) {
  BulkExportOptions o;
  o.max_jobs_per_owner = 2;
  auto bulk = Open(o);
  auto a = bulk->Start(alice_, Request(), Emits(1));
  ASSERT_TRUE(a.ok());
  bulk->WaitIdle();
  ASSERT_TRUE(bulk->Start(alice_, Request(), Emits(1)).ok());
  bulk->WaitIdle();
  EXPECT_EQ(bulk->Start(alice_, Request(), Emits(1)).error().code, "too_many_exports");
  EXPECT_TRUE(bulk->Start({"bob", ""}, Request(), Emits(1)).ok());
  ASSERT_TRUE(bulk->Delete(alice_, *a).ok());
  EXPECT_TRUE(bulk->Start(alice_, Request(), Emits(1)).ok());
}

TEST_F(BulkExportsTest, AFinishedJobExpiresWithItsFiles) {
  auto bulk = Open();
  auto id = bulk->Start(alice_, Request(), Emits(1));
  ASSERT_TRUE(id.ok());
  bulk->WaitIdle();
  ASSERT_EQ(FilesOnDisk(), 3u);
  now_ += 3599;
  EXPECT_TRUE(bulk->Poll(alice_, *id).ok());
  now_ += 2;
  EXPECT_EQ(bulk->Poll(alice_, *id).error().code, "export_not_found");
  EXPECT_EQ(FilesOnDisk(), 0u);
}

TEST_F(BulkExportsTest, TheFileCountBoundFailsTheJob) {
  BulkExportOptions o;
  o.max_lines_per_file = 1;
  o.max_files_per_job = 3;
  auto bulk = Open(o);
  auto id = bulk->Start(alice_, Request(), Emits(5));
  ASSERT_TRUE(id.ok());
  bulk->WaitIdle();
  auto st = bulk->Poll(alice_, *id);
  ASSERT_TRUE(st.ok());
  EXPECT_EQ(st->state, JobState::kFailed);
  EXPECT_EQ(st->failure->code, "export_too_large");
  EXPECT_EQ(FilesOnDisk(), 0u);
}

TEST_F(BulkExportsTest, OpenRemovesWhatAnEarlierRunLeft) {
  std::filesystem::create_directories(dir_.path() / "bulk");
  std::ofstream(dir_.path() / "bulk" / "old-Patient-1.ndjson.sealed") << "MLS1...";
  auto bulk = Open();
  EXPECT_EQ(FilesOnDisk(), 0u);
}

}  // namespace
}  // namespace medledger::fhir
