#include "agent/fetcher_uri.hpp"

#include <gtest/gtest.h>

namespace mezzo::agent {
namespace {

v1::CommandInfo::URI uri(const std::string& value, const std::string& outputFile = "") {
  v1::CommandInfo::URI out;
  out.set_value(value);
  if (!outputFile.empty()) out.set_output_file(outputFile);
  return out;
}

std::string nameOf(const v1::CommandInfo::URI& u) {
  auto name = fetchedFileName(u);
  return name ? *name : "error: " + name.error();
}

TEST(FetcherUri, LocalPathsAndFileUrisAreLocalFiles) {
  for (const char* value : {"/opt/tool", "file:///opt/tool", "file://localhost/opt/tool"}) {
    auto source = parseFetchSource(value);
    ASSERT_TRUE(source) << value << ": " << source.error();
    EXPECT_EQ(source->kind, FetchSource::Kind::kLocalFile) << value;
    EXPECT_EQ(source->location, "/opt/tool") << value;
  }
}

TEST(FetcherUri, HttpAndHttpsAreDownloadedInAnyCase) {
  for (const char* value : {"http://h/x", "https://h:8443/a/x?y=1", "HTTP://h/x"}) {
    auto source = parseFetchSource(value);
    ASSERT_TRUE(source) << value;
    EXPECT_EQ(source->kind, FetchSource::Kind::kHttp) << value;
    EXPECT_EQ(source->location, value);
  }
}

TEST(FetcherUri, OtherSchemesRelativePathsAndRemoteFilesAreRefused) {
  auto ftp = parseFetchSource("ftp://h/x");
  ASSERT_FALSE(ftp);
  EXPECT_NE(ftp.error().find("Unsupported URI scheme 'ftp'"), std::string::npos) << ftp.error();
  EXPECT_FALSE(parseFetchSource("hdfs://nn/x"));
  EXPECT_FALSE(parseFetchSource("relative/x"));
  EXPECT_FALSE(parseFetchSource("file://otherhost/x"));
  EXPECT_FALSE(parseFetchSource("file:relative"));
  EXPECT_FALSE(parseFetchSource(""));
  EXPECT_FALSE(parseFetchSource("http:///x")) << "no host";
}

TEST(FetcherUri, TheNameIsTheLastPathComponentWithoutQuery) {
  EXPECT_EQ(nameOf(uri("http://h/a/b/tool.tar.gz")), "tool.tar.gz");
  EXPECT_EQ(nameOf(uri("https://h/dl/app.zip?token=abc#frag")), "app.zip");
  EXPECT_EQ(nameOf(uri("file:///opt/data.txt")), "data.txt");
  EXPECT_EQ(nameOf(uri("/opt/data.txt")), "data.txt");
  EXPECT_NE(nameOf(uri("http://h")).find("does not name a file"), std::string::npos);
  EXPECT_NE(nameOf(uri("http://h/dir/")).find("does not name a file"), std::string::npos);
  EXPECT_NE(nameOf(uri("/opt/..")).find("does not name a file"), std::string::npos);
}

TEST(FetcherUri, OutputFileNamesTheCopyInsideTheSandbox) {
  EXPECT_EQ(nameOf(uri("http://h/x", "renamed.bin")), "renamed.bin");
  EXPECT_EQ(nameOf(uri("http://h/x", "sub/dir/./y")), "sub/dir/y");
  EXPECT_NE(nameOf(uri("http://h/x", "/etc/passwd")).find("relative"), std::string::npos);
  EXPECT_NE(nameOf(uri("http://h/x", "../escape")).find("leaves the sandbox"), std::string::npos);
  EXPECT_NE(nameOf(uri("http://h/x", "a/../../escape")).find("leaves the sandbox"), std::string::npos);
  EXPECT_NE(nameOf(uri("http://h/x", "dir/")).find("names a directory"), std::string::npos);
  EXPECT_NE(nameOf(uri("http://h/x", ".")).find("names a directory"), std::string::npos);
  v1::CommandInfo::URI empty = uri("http://h/x");
  empty.set_output_file("");
  EXPECT_NE(nameOf(empty).find("empty"), std::string::npos);
}

TEST(FetcherUri, ArchivesAreRecognisedBySuffix) {
  for (const char* name :
       {"a.tar", "a.tar.gz", "a.tgz", "a.tar.bz2", "a.tbz2", "a.tar.xz", "a.txz", "a.zip", "A.TAR.GZ", "app.Zip"}) {
    EXPECT_EQ(archiveTypeOf(name), ArchiveType::kArchive) << name;
  }
  EXPECT_EQ(archiveTypeOf("data.gz"), ArchiveType::kGzip);
  EXPECT_EQ(gunzippedName("data.txt.gz"), "data.txt");
  for (const char* name : {"tool", "a.txt", "a.bz2", "gz", ".gz", "a.tar.gz.sig", "tarball"}) {
    EXPECT_EQ(archiveTypeOf(name), ArchiveType::kNone) << name;
  }
}

TEST(FetcherUri, EntriesThatEscapeAreRefused) {
  EXPECT_EQ(*containedEntryPath("a/b.txt"), "a/b.txt");
  EXPECT_EQ(*containedEntryPath("./a//b/./c"), "a/b/c");
  EXPECT_EQ(*containedEntryPath("a/../b"), "b");
  EXPECT_EQ(*containedEntryPath("./"), "");
  EXPECT_EQ(*containedEntryPath("dir/"), "dir");
  EXPECT_FALSE(containedEntryPath("../evil"));
  EXPECT_FALSE(containedEntryPath("a/../../evil"));
  EXPECT_FALSE(containedEntryPath("./.."));
  EXPECT_FALSE(containedEntryPath("/etc/passwd"));
}

TEST(FetcherUri, ByteSizesUseMesosUnits) {
  EXPECT_EQ(*parseByteSize("2GB"), uint64_t{2} << 30);
  EXPECT_EQ(*parseByteSize("512MB"), uint64_t{512} << 20);
  EXPECT_EQ(*parseByteSize("10KB"), 10u * 1024u);
  EXPECT_EQ(*parseByteSize("100B"), 100u);
  EXPECT_EQ(*parseByteSize("1tb"), uint64_t{1} << 40);
  EXPECT_FALSE(parseByteSize("2"));
  EXPECT_FALSE(parseByteSize("GB"));
  EXPECT_FALSE(parseByteSize("2XB"));
  EXPECT_FALSE(parseByteSize("-1GB"));
  EXPECT_FALSE(parseByteSize("99999999999TB"));
}

}  // namespace
}  // namespace mezzo::agent
