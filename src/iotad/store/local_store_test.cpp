#include <unistd.h>

#include <filesystem>
#include <fstream>
#include <memory>
#include <random>
#include <string>
#include <vector>

#include <gtest/gtest.h>

#include "iotad/store/object_store.h"

namespace iotad::store {
namespace {
namespace fs = std::filesystem;

/// A fresh folder under the system temp folder, removed at the end of the test.
class TempDir {
 public:
  TempDir() {
    std::random_device rd;
    path_ = fs::temp_directory_path() /
            fmt::format("iotad-store-test-{}-{:08x}", ::getpid(), rd());
    fs::create_directories(path_);
  }
  ~TempDir() {
    std::error_code ec;
    fs::remove_all(path_, ec);
  }
  const fs::path& path() const { return path_; }

 private:
  fs::path path_;
};

std::vector<std::string> Keys(const std::vector<ObjectInfo>& objects) {
  std::vector<std::string> keys;
  for (const auto& o : objects) keys.push_back(o.key);
  return keys;
}

class LocalStoreTest : public ::testing::Test {
 protected:
  void SetUp() override {
    auto opened = OpenLocalStore(dir_.path());
    ASSERT_TRUE(opened.ok()) << opened.status().message();
    store_ = std::move(*opened);
  }

  TempDir dir_;
  std::unique_ptr<ObjectStore> store_;
};

TEST(OpenLocalStoreTest, MissingFolderIsNotFound) {
  TempDir dir;
  auto opened = OpenLocalStore(dir.path() / "missing");
  ASSERT_FALSE(opened.ok());
  EXPECT_EQ(opened.status().code(), Errc::kNotFound);
  EXPECT_NE(opened.status().message().find("missing"), std::string::npos);
}

TEST(OpenLocalStoreTest, DescribesItsFolder) {
  TempDir dir;
  auto opened = OpenLocalStore(dir.path() / "");  // trailing slash is normalized away
  ASSERT_TRUE(opened.ok()) << opened.status().message();
  EXPECT_EQ((*opened)->Describe(), dir.path().string());
}

TEST_F(LocalStoreTest, PutThenGetRoundTrips) {
  const std::string data("binary\0data\nwith bytes \xff", 24);
  ASSERT_TRUE(store_->Put("a/b/c.bin", data).ok());
  auto got = store_->Get("a/b/c.bin");
  ASSERT_TRUE(got.ok()) << got.status().message();
  EXPECT_EQ(*got, data);
  EXPECT_TRUE(fs::exists(dir_.path() / "a" / "b" / "c.bin"));
  EXPECT_EQ(store_->ReadPath("a/b/c.bin"), (dir_.path() / "a/b/c.bin").string());
  auto exists = store_->Exists("a/b/c.bin");
  ASSERT_TRUE(exists.ok());
  EXPECT_TRUE(*exists);
}

TEST_F(LocalStoreTest, PutAndGetEmptyAndLargeObjects) {
  ASSERT_TRUE(store_->Put("empty", "").ok());
  auto empty = store_->Get("empty");
  ASSERT_TRUE(empty.ok());
  EXPECT_EQ(*empty, "");

  std::string large(300'000, '\0');
  for (size_t i = 0; i < large.size(); ++i) large[i] = static_cast<char>(i * 31 % 251);
  ASSERT_TRUE(store_->Put("large", large).ok());
  auto got = store_->Get("large");
  ASSERT_TRUE(got.ok());
  EXPECT_EQ(*got, large);
}

TEST_F(LocalStoreTest, PutOverwrites) {
  ASSERT_TRUE(store_->Put("k", "first, longer value").ok());
  ASSERT_TRUE(store_->Put("k", "second").ok());
  auto got = store_->Get("k");
  ASSERT_TRUE(got.ok());
  EXPECT_EQ(*got, "second");
}

TEST_F(LocalStoreTest, PutIfAbsentConflictsWhenPresent) {
  ASSERT_TRUE(store_->PutIfAbsent("log/1.json", "one").ok());
  const Status again = store_->PutIfAbsent("log/1.json", "other");
  EXPECT_EQ(again.code(), Errc::kConflict);
  EXPECT_NE(again.message().find("log/1.json"), std::string::npos) << again.message();
  auto got = store_->Get("log/1.json");
  ASSERT_TRUE(got.ok());
  EXPECT_EQ(*got, "one");
  // The failed attempt leaves no temporary behind.
  auto listed = store_->List("");
  ASSERT_TRUE(listed.ok());
  EXPECT_EQ(Keys(*listed), std::vector<std::string>{"log/1.json"});
  size_t entries = 0;
  for (const auto& e : fs::directory_iterator(dir_.path() / "log")) {
    (void)e;
    ++entries;
  }
  EXPECT_EQ(entries, 1u);
}

TEST_F(LocalStoreTest, GetOfMissingKeyIsNotFound) {
  auto got = store_->Get("no/such/key");
  ASSERT_FALSE(got.ok());
  EXPECT_EQ(got.status().code(), Errc::kNotFound);
  EXPECT_NE(got.status().message().find("no/such/key"), std::string::npos);
  std::string buffer = "stale";
  EXPECT_EQ(store_->GetInto("no/such/key", buffer).code(), Errc::kNotFound);
  auto exists = store_->Exists("no/such/key");
  ASSERT_TRUE(exists.ok());
  EXPECT_FALSE(*exists);
}

TEST_F(LocalStoreTest, ListIsRecursiveSortedAndFilteredByPrefix) {
  for (const char* key : {"b/e.txt", "a/d.txt", "ab.txt", "a/b/c.txt", "a/b/z/deep.txt"}) {
    ASSERT_TRUE(store_->Put(key, key).ok());
  }
  auto all = store_->List("");
  ASSERT_TRUE(all.ok()) << all.status().message();
  EXPECT_EQ(Keys(*all), (std::vector<std::string>{"a/b/c.txt", "a/b/z/deep.txt", "a/d.txt",
                                                  "ab.txt", "b/e.txt"}));

  auto folder = store_->List("a/");
  ASSERT_TRUE(folder.ok());
  EXPECT_EQ(Keys(*folder), (std::vector<std::string>{"a/b/c.txt", "a/b/z/deep.txt", "a/d.txt"}));

  auto name_prefix = store_->List("a");
  ASSERT_TRUE(name_prefix.ok());
  EXPECT_EQ(Keys(*name_prefix),
            (std::vector<std::string>{"a/b/c.txt", "a/b/z/deep.txt", "a/d.txt", "ab.txt"}));

  auto partial = store_->List("a/b/c");
  ASSERT_TRUE(partial.ok());
  EXPECT_EQ(Keys(*partial), std::vector<std::string>{"a/b/c.txt"});

  ASSERT_EQ(folder->size(), 3u);
  EXPECT_EQ((*folder)[0].size_bytes, std::string("a/b/c.txt").size());
}

TEST_F(LocalStoreTest, ListOfMissingFolderIsEmpty) {
  auto listed = store_->List("nothing/here/");
  ASSERT_TRUE(listed.ok()) << listed.status().message();
  EXPECT_TRUE(listed->empty());
}

TEST_F(LocalStoreTest, ListHidesTemporaryFiles) {
  ASSERT_TRUE(store_->Put("x/real.txt", "r").ok());
  std::ofstream(dir_.path() / "x" / ".iotad-tmp-123-0") << "partial";
  std::ofstream(dir_.path() / ".iotad-tmp-9-9") << "partial";
  auto listed = store_->List("");
  ASSERT_TRUE(listed.ok());
  EXPECT_EQ(Keys(*listed), std::vector<std::string>{"x/real.txt"});
}

TEST_F(LocalStoreTest, DeleteOfMissingKeyIsOk) {
  EXPECT_TRUE(store_->Delete("never/was/here").ok());
  EXPECT_TRUE(fs::exists(dir_.path()));
}

TEST_F(LocalStoreTest, DeletePrunesEmptyParentFoldersOnly) {
  ASSERT_TRUE(store_->Put("p/q/r/one.txt", "1").ok());
  ASSERT_TRUE(store_->Put("p/two.txt", "2").ok());
  ASSERT_TRUE(store_->Delete("p/q/r/one.txt").ok());
  auto exists = store_->Exists("p/q/r/one.txt");
  ASSERT_TRUE(exists.ok());
  EXPECT_FALSE(*exists);
  EXPECT_FALSE(fs::exists(dir_.path() / "p" / "q"));  // empty: pruned
  EXPECT_TRUE(fs::exists(dir_.path() / "p"));         // still holds two.txt

  ASSERT_TRUE(store_->Delete("p/two.txt").ok());
  EXPECT_FALSE(fs::exists(dir_.path() / "p"));
  EXPECT_TRUE(fs::is_directory(dir_.path()));  // never the root itself
}

TEST_F(LocalStoreTest, MoveRenamesAnObject) {
  ASSERT_TRUE(store_->Put("staging/run/a.parquet", "payload").ok());
  ASSERT_TRUE(store_->Move("staging/run/a.parquet", "silver/year=2024/a.parquet").ok());
  auto moved = store_->Get("silver/year=2024/a.parquet");
  ASSERT_TRUE(moved.ok());
  EXPECT_EQ(*moved, "payload");
  auto old = store_->Exists("staging/run/a.parquet");
  ASSERT_TRUE(old.ok());
  EXPECT_FALSE(*old);

  const Status missing = store_->Move("staging/run/none", "silver/none");
  EXPECT_FALSE(missing.ok());
}

TEST_F(LocalStoreTest, PutFileConsumesAScratchFile) {
  auto scratch = store_->ScratchDir();
  ASSERT_TRUE(scratch.ok()) << scratch.status().message();
  EXPECT_TRUE(fs::is_directory(*scratch));
  const fs::path local = *scratch / "part.tmp";
  std::ofstream(local, std::ios::binary) << "parquet bytes";
  ASSERT_TRUE(store_->PutFile("gold/h/part.parquet", local).ok());
  EXPECT_FALSE(fs::exists(local));
  auto got = store_->Get("gold/h/part.parquet");
  ASSERT_TRUE(got.ok());
  EXPECT_EQ(*got, "parquet bytes");
}

TEST_F(LocalStoreTest, GetIntoReusesTheCallersBuffer) {
  ASSERT_TRUE(store_->Put("one", "first object").ok());
  ASSERT_TRUE(store_->Put("two", "2nd").ok());
  std::string buffer;
  buffer.reserve(1 << 20);
  const char* memory = buffer.data();
  ASSERT_TRUE(store_->GetInto("one", buffer).ok());
  EXPECT_EQ(buffer, "first object");
  ASSERT_TRUE(store_->GetInto("two", buffer).ok());
  EXPECT_EQ(buffer, "2nd");
  EXPECT_EQ(buffer.data(), memory);  // no fresh allocation per object
}

TEST_F(LocalStoreTest, SecondWriterLockConflictsUntilTheFirstIsReleased) {
  auto first = store_->LockForWriting();
  ASSERT_TRUE(first.ok()) << first.status().message();

  // flock locks belong to an open file description: a second open conflicts, even in-process.
  auto second = store_->LockForWriting();
  ASSERT_FALSE(second.ok());
  EXPECT_EQ(second.status().code(), Errc::kConflict);

  auto other_store = OpenLocalStore(dir_.path());
  ASSERT_TRUE(other_store.ok());
  EXPECT_EQ((*other_store)->LockForWriting().status().code(), Errc::kConflict);

  first->reset();
  auto third = store_->LockForWriting();
  EXPECT_TRUE(third.ok()) << third.status().message();
}

}  // namespace
}  // namespace iotad::store
