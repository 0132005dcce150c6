// The fetcher against real things: local files, a loopback HTTP server
// (counting requests, to prove cache hits), and archives written here with
// libarchive.
#include "agent/fetcher.hpp"

#include <gtest/gtest.h>
#include <sys/stat.h>

#include <boost/asio/executor_work_guard.hpp>
#include <filesystem>
#include <fstream>
#include <optional>
#include <thread>

#include "http_file_server.hpp"
#include "test_archive.hpp"

namespace mezzo::agent {
namespace {

namespace fs = std::filesystem;
using namespace std::chrono_literals;
using testhelpers::ArchiveEntry;
using testhelpers::ArchiveFormat;
using testhelpers::HttpFileServer;
using testhelpers::makeArchive;

std::string readFile(const fs::path& path) {
  std::ifstream in(path, std::ios::binary);
  return std::string(std::istreambuf_iterator<char>(in), {});
}

void writeFile(const fs::path& path, const std::string& content) { std::ofstream(path, std::ios::binary) << content; }

v1::CommandInfo::URI uri(const std::string& value) {
  v1::CommandInfo::URI out;
  out.set_value(value);
  return out;
}

v1::CommandInfo::URI cachedUri(const std::string& value) {
  v1::CommandInfo::URI out = uri(value);
  out.set_cache(true);
  return out;
}

bool waitUntilRequested(const HttpFileServer& server, const std::string& path) {
  const auto deadline = std::chrono::steady_clock::now() + 10s;
  while (server.requests(path) == 0 && std::chrono::steady_clock::now() < deadline) {
    std::this_thread::sleep_for(10ms);
  }
  return server.requests(path) > 0;
}

class FetcherTest : public ::testing::Test {
 protected:
  void SetUp() override {
    root = fs::temp_directory_path() / ("mezzo-fetcher-test-" + std::to_string(getpid()) + "-" +
                                        ::testing::UnitTest::GetInstance()->current_test_info()->name());
    fs::remove_all(root);
    fs::create_directories(root / "files");
    startFetcher(1 << 20);
  }
  void TearDown() override {
    fetcher.reset();
    fs::remove_all(root);
  }

  void startFetcher(uint64_t cacheSize, Duration stallTimeout = 60s) {
    fetcher.reset();
    FetcherOptions options;
    options.cacheDir = (root / "cache").string();
    options.cacheSize = cacheSize;
    options.stallTimeout = stallTimeout;
    fetcher = std::make_unique<Fetcher>(io, options);
    ASSERT_TRUE(fetcher->start());
  }

  // A fresh sandbox directory.
  fs::path sandbox(const std::string& name = "sandbox") {
    fs::path dir = root / name;
    fs::create_directories(dir);
    return dir;
  }

  // Starts a fetch of `uris` into `dir`; wait() gives its outcome.
  std::shared_ptr<std::optional<Status>> start(const fs::path& dir, std::vector<v1::CommandInfo::URI> uris,
                                               const std::string& container = "container") {
    auto result = std::make_shared<std::optional<Status>>();
    fetcher->fetch(FetchRequest{container, dir.string(), "", std::move(uris)},
                   [result](const Status& status) { *result = status; });
    return result;
  }

  Status wait(const std::shared_ptr<std::optional<Status>>& result, std::chrono::seconds timeout = 30s) {
    const auto deadline = std::chrono::steady_clock::now() + timeout;
    while (!result->has_value() && std::chrono::steady_clock::now() < deadline) io.run_one_for(100ms);
    return result->value_or(Status::internal("the fetch did not finish in time"));
  }

  Status fetch(const fs::path& dir, std::vector<v1::CommandInfo::URI> uris) {
    return wait(start(dir, std::move(uris)));
  }

  boost::asio::io_context io;
  boost::asio::executor_work_guard<boost::asio::io_context::executor_type> work = boost::asio::make_work_guard(io);
  fs::path root;
  std::unique_ptr<Fetcher> fetcher;
  HttpFileServer server;
};

TEST_F(FetcherTest, LocalFilesAreCopiedAndMadeExecutableOnRequest) {
  writeFile(root / "files" / "data.txt", "hello");
  writeFile(root / "files" / "tool", "#!/bin/sh\necho tool\n");
  v1::CommandInfo::URI tool = uri("file://" + (root / "files" / "tool").string());
  tool.set_executable(true);
  v1::CommandInfo::URI renamed = uri((root / "files" / "data.txt").string());
  renamed.set_output_file("sub/renamed.txt");
  fs::path dir = sandbox();
  ASSERT_TRUE(fetch(dir, {uri((root / "files" / "data.txt").string()), tool, renamed}));
  EXPECT_EQ(readFile(dir / "data.txt"), "hello");
  EXPECT_EQ(readFile(dir / "sub" / "renamed.txt"), "hello");
  EXPECT_EQ(readFile(dir / "tool"), "#!/bin/sh\necho tool\n");
  EXPECT_EQ(fs::status(dir / "tool").permissions() & fs::perms::owner_exec, fs::perms::owner_exec);
  EXPECT_EQ(fs::status(dir / "data.txt").permissions() & fs::perms::owner_exec, fs::perms::none);
  EXPECT_NE(readFile(dir / "stderr").find("Fetched 'file://"), std::string::npos) << "the sandbox logs the fetch";
  EXPECT_EQ(fetcher->metrics().fetchesSucceeded, 1u);
}

TEST_F(FetcherTest, MissingFilesAndUnsupportedSchemesFailNamingTheUri) {
  Status missing = fetch(sandbox(), {uri((root / "files" / "nope").string())});
  ASSERT_FALSE(missing);
  EXPECT_NE(missing.message().find("Failed to fetch URI '" + (root / "files" / "nope").string() + "'"),
            std::string::npos)
      << missing.message();
  EXPECT_NE(missing.message().find("does not exist"), std::string::npos) << missing.message();
  Status ftp = fetch(sandbox(), {uri("ftp://127.0.0.1/x")});
  ASSERT_FALSE(ftp);
  EXPECT_NE(ftp.message().find("Unsupported URI scheme 'ftp'"), std::string::npos) << ftp.message();
  EXPECT_EQ(fetcher->metrics().fetchesFailed, 2u);
}

TEST_F(FetcherTest, HttpDownloadsFollowRedirectsAndFailOnErrors) {
  server.serve("/data.txt", "over http");
  server.redirect("/moved", "/data.txt");
  v1::CommandInfo::URI moved = uri(server.url("/moved"));
  moved.set_output_file("followed.txt");
  fs::path dir = sandbox();
  ASSERT_TRUE(fetch(dir, {uri(server.url("/data.txt")), moved}));
  EXPECT_EQ(readFile(dir / "data.txt"), "over http");
  EXPECT_EQ(readFile(dir / "followed.txt"), "over http");
  EXPECT_EQ(server.requests("/moved"), 1);

  Status missing = fetch(dir, {uri(server.url("/missing.tar.gz"))});
  ASSERT_FALSE(missing);
  EXPECT_NE(missing.message().find("Failed to fetch URI '" + server.url("/missing.tar.gz") + "': HTTP 404"),
            std::string::npos)
      << missing.message();
  EXPECT_FALSE(fs::exists(dir / "missing.tar.gz")) << "no partial file is left";
}

TEST_F(FetcherTest, ACachedUriIsDownloadedOnce) {
  server.serve("/tool.bin", std::string(1000, 'x'));
  ASSERT_TRUE(fetch(sandbox("one"), {cachedUri(server.url("/tool.bin"))}));
  ASSERT_TRUE(fetch(sandbox("two"), {cachedUri(server.url("/tool.bin"))}));
  EXPECT_EQ(server.requests("/tool.bin"), 1) << "the second fetch came from the cache";
  EXPECT_EQ(readFile(root / "two" / "tool.bin"), std::string(1000, 'x'));
  EXPECT_EQ(fetcher->metrics().cacheUsedBytes, 1000u);
  EXPECT_EQ(fetcher->metrics().cacheTotalBytes, 1u << 20);
  // Without `cache`, the cache is bypassed.
  ASSERT_TRUE(fetch(sandbox("three"), {uri(server.url("/tool.bin"))}));
  EXPECT_EQ(server.requests("/tool.bin"), 2);
}

TEST_F(FetcherTest, ConcurrentFetchesOfACachedUriDownloadItOnce) {
  server.serve("/shared.bin", std::string(200000, 'y'));
  std::vector<std::shared_ptr<std::optional<Status>>> results;
  for (int i = 0; i < 6; ++i) {
    const std::string name = "s" + std::to_string(i);
    results.push_back(start(sandbox(name), {cachedUri(server.url("/shared.bin"))}, name));
  }
  for (auto& result : results) ASSERT_TRUE(wait(result));
  EXPECT_EQ(server.requests("/shared.bin"), 1);
  for (int i = 0; i < 6; ++i) EXPECT_EQ(fs::file_size(root / ("s" + std::to_string(i)) / "shared.bin"), 200000u);
}

TEST_F(FetcherTest, TheCacheEvictsTheLeastRecentlyUsedAndSkipsWhatCannotFit) {
  startFetcher(150);
  server.serve("/a", std::string(100, 'a'));
  server.serve("/b", std::string(100, 'b'));
  server.serve("/huge", std::string(151, 'h'));
  ASSERT_TRUE(fetch(sandbox("1"), {cachedUri(server.url("/a"))}));
  ASSERT_TRUE(fetch(sandbox("2"), {cachedUri(server.url("/b"))}));  // evicts a
  size_t files = 0;
  for ([[maybe_unused]] const auto& entry : fs::directory_iterator(root / "cache")) ++files;
  EXPECT_EQ(files, 1u) << "a's file was removed";
  EXPECT_EQ(fetcher->metrics().cacheUsedBytes, 100u);
  ASSERT_TRUE(fetch(sandbox("3"), {cachedUri(server.url("/b"))}));
  ASSERT_TRUE(fetch(sandbox("4"), {cachedUri(server.url("/a"))}));
  EXPECT_EQ(server.requests("/a"), 2) << "evicted, so downloaded again";
  EXPECT_EQ(server.requests("/b"), 1);
  // Larger than the whole cache: fetched each time, straight into the sandbox.
  ASSERT_TRUE(fetch(sandbox("5"), {cachedUri(server.url("/huge"))}));
  ASSERT_TRUE(fetch(sandbox("6"), {cachedUri(server.url("/huge"))}));
  EXPECT_EQ(server.requests("/huge"), 2);
  EXPECT_EQ(readFile(root / "6" / "huge"), std::string(151, 'h'));
  EXPECT_NE(readFile(root / "6" / "stderr").find("(downloaded, not cached)"), std::string::npos);
  EXPECT_LE(fetcher->metrics().cacheUsedBytes, 150u);
}

TEST_F(FetcherTest, TarballsAndZipsAreExtractedIntoTheSandbox) {
  const std::vector<ArchiveEntry> entries{
      {"data/file.txt", "payload"}, {"./bin/run.sh", "#!/bin/sh\n"}, {"data/link", "", "file.txt"}};
  server.serve("/bundle.tar.gz", makeArchive(ArchiveFormat::kTarGz, entries));
  server.serve("/bundle.zip", makeArchive(ArchiveFormat::kZip, {{"zipped/inside.txt", "from zip"}}));
  server.serve("/bundle.tbz2", makeArchive(ArchiveFormat::kTarBz2, {{"bz/inside.txt", "from bz2"}}));
  fs::path dir = sandbox();
  ASSERT_TRUE(fetch(
      dir, {uri(server.url("/bundle.tar.gz")), cachedUri(server.url("/bundle.zip")), uri(server.url("/bundle.tbz2"))}));
  EXPECT_EQ(readFile(dir / "data" / "file.txt"), "payload");
  EXPECT_EQ(readFile(dir / "data" / "link"), "payload") << "links inside the sandbox are kept";
  EXPECT_EQ(readFile(dir / "bin" / "run.sh"), "#!/bin/sh\n");
  EXPECT_EQ(readFile(dir / "zipped" / "inside.txt"), "from zip");
  EXPECT_EQ(readFile(dir / "bz" / "inside.txt"), "from bz2");
  EXPECT_TRUE(fs::exists(dir / "bundle.tar.gz")) << "the archive itself stays";
}

TEST_F(FetcherTest, PlainGzipIsDecompressedAndExtractFalseLeavesArchivesAlone) {
  server.serve("/notes.txt.gz", makeArchive(ArchiveFormat::kGzipOnly, {{"notes.txt", "gunzipped text"}}));
  server.serve("/kept.tar.gz", makeArchive(ArchiveFormat::kTarGz, {{"should-not-exist", "x"}}));
  v1::CommandInfo::URI kept = uri(server.url("/kept.tar.gz"));
  kept.set_extract(false);
  v1::CommandInfo::URI executable = uri(server.url("/kept.tar.gz"));
  executable.set_output_file("exec.tar.gz");
  executable.set_executable(true);  // executable wins over extract
  fs::path dir = sandbox();
  ASSERT_TRUE(fetch(dir, {uri(server.url("/notes.txt.gz")), kept, executable}));
  EXPECT_EQ(readFile(dir / "notes.txt"), "gunzipped text");
  EXPECT_TRUE(fs::exists(dir / "kept.tar.gz"));
  EXPECT_TRUE(fs::exists(dir / "exec.tar.gz"));
  EXPECT_FALSE(fs::exists(dir / "should-not-exist"));
}

TEST_F(FetcherTest, ArchiveEntriesThatEscapeTheSandboxAreRefused) {
  server.serve("/evil.tar.gz", makeArchive(ArchiveFormat::kTarGz, {{"fine.txt", "ok"}, {"../evil", "gotcha"}}));
  server.serve("/absolute.tar.gz", makeArchive(ArchiveFormat::kTarGz, {{(root / "absolute-evil").string(), "gotcha"}}));
  server.serve("/link.zip", makeArchive(ArchiveFormat::kZip, {{"escape", "", "../../outside"}}));
  fs::path dir = sandbox("deep/sandbox");
  Status dotdot = fetch(dir, {uri(server.url("/evil.tar.gz"))});
  ASSERT_FALSE(dotdot);
  EXPECT_NE(dotdot.message().find("entry '../evil' refused"), std::string::npos) << dotdot.message();
  EXPECT_FALSE(fs::exists(root / "deep" / "evil"));
  Status absolute = fetch(dir, {uri(server.url("/absolute.tar.gz"))});
  ASSERT_FALSE(absolute);
  EXPECT_NE(absolute.message().find("absolute path"), std::string::npos) << absolute.message();
  EXPECT_FALSE(fs::exists(root / "absolute-evil"));
  Status link = fetch(dir, {uri(server.url("/link.zip"))});
  ASSERT_FALSE(link);
  EXPECT_NE(link.message().find("symbolic link pointing outside"), std::string::npos) << link.message();
  EXPECT_FALSE(fs::is_symlink(dir / "escape"));
}

TEST_F(FetcherTest, LinksFromAnEarlierArchiveCannotRedirectALaterWrite) {
  // Each link stays inside on its own, but a/l resolves through a/d to the sandbox's parent.
  server.serve("/links.tar.gz", makeArchive(ArchiveFormat::kTarGz, {{"a/d", "", ".."}, {"a/l", "", "d/.."}}));
  writeFile(root / "files" / "payload", "gotcha");
  v1::CommandInfo::URI through = uri((root / "files" / "payload").string());
  through.set_output_file("a/l/payload");
  fs::path dir = sandbox("deep/sandbox");
  Status status = fetch(dir, {uri(server.url("/links.tar.gz")), through});
  ASSERT_FALSE(status);
  EXPECT_NE(status.message().find("resolves outside the sandbox"), std::string::npos) << status.message();
  EXPECT_FALSE(fs::exists(root / "deep" / "payload"));
}

TEST_F(FetcherTest, AStalledDownloadFailsAfterTheStallTimeout) {
  startFetcher(1 << 20, 1s);
  server.stall("/slow.bin");
  const auto began = std::chrono::steady_clock::now();
  Status stalled = fetch(sandbox(), {uri(server.url("/slow.bin"))});
  ASSERT_FALSE(stalled);
  EXPECT_NE(stalled.message().find("stalled"), std::string::npos) << stalled.message();
  EXPECT_LT(std::chrono::steady_clock::now() - began, 15s);
}

TEST_F(FetcherTest, ACancelledFetchEndsEarly) {
  server.stall("/slow.bin");
  auto result = start(sandbox(), {cachedUri(server.url("/slow.bin"))}, "doomed");
  ASSERT_TRUE(waitUntilRequested(server, "/slow.bin"));
  const auto began = std::chrono::steady_clock::now();
  fetcher->cancel("doomed");
  Status cancelled = wait(result, 10s);
  ASSERT_FALSE(cancelled);
  EXPECT_NE(cancelled.message().find("cancelled"), std::string::npos) << cancelled.message();
  EXPECT_LT(std::chrono::steady_clock::now() - began, 5s);
  EXPECT_EQ(fetcher->metrics().fetchesFailed, 0u) << "a cancelled fetch is not a failure";
}

}  // namespace
}  // namespace mezzo::agent
