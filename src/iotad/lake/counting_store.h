#pragma once
// An ObjectStore that forwards every call to another and counts them: how tests and the commit
// benchmark show what a command reads (e.g. each commit record at most once, no log listing).
#include <map>
#include <mutex>
#include <memory>
#include <string>
#include <utility>

#include "iotad/store/object_store.h"

namespace iotad::lake {

/// Call counts, shared with whoever holds the store. Updated under `mutex` (stages call the store
/// from worker threads); read them when the counted work is done.
struct StoreCounts {
  std::mutex mutex;
  int64_t gets = 0, lists = 0, puts = 0, moves = 0, deletes = 0, exists = 0;
  std::map<std::string, int> gets_by_key;  // successful Get/GetInto, by key
  std::map<std::string, int> lists_by_prefix;
  int64_t Total() const { return gets + lists + puts + moves + deletes + exists; }
  /// Successful reads of keys starting with `prefix`.
  int64_t GetsUnder(std::string_view prefix) const {
    int64_t n = 0;
    for (const auto& [key, count] : gets_by_key) n += key.starts_with(prefix) ? count : 0;
    return n;
  }
};

class CountingStore : public store::ObjectStore {
 public:
  CountingStore(std::unique_ptr<store::ObjectStore> inner, std::shared_ptr<StoreCounts> counts)
      : inner_(std::move(inner)), counts_(std::move(counts)) {}

  std::string Describe() const override { return inner_->Describe(); }
  Result<std::vector<store::ObjectInfo>> List(std::string_view prefix) const override {
    {
      std::lock_guard lock(counts_->mutex);
      ++counts_->lists;
      ++counts_->lists_by_prefix[std::string(prefix)];
    }
    return inner_->List(prefix);
  }
  Result<bool> Exists(std::string_view key) const override {
    Count(counts_->exists);
    return inner_->Exists(key);
  }
  Result<std::string> Get(std::string_view key) const override {
    auto r = inner_->Get(key);
    std::lock_guard lock(counts_->mutex);
    ++counts_->gets;
    if (r.ok()) ++counts_->gets_by_key[std::string(key)];
    return r;
  }
  Status GetInto(std::string_view key, std::string& out) const override {
    Status st = inner_->GetInto(key, out);
    std::lock_guard lock(counts_->mutex);
    ++counts_->gets;
    if (st.ok()) ++counts_->gets_by_key[std::string(key)];
    return st;
  }
  Status Put(std::string_view key, std::string_view data) override {
    Count(counts_->puts);
    return inner_->Put(key, data);
  }
  Status PutIfAbsent(std::string_view key, std::string_view data) override {
    Count(counts_->puts);
    return inner_->PutIfAbsent(key, data);
  }
  Status PutFile(std::string_view key, const std::filesystem::path& local_file) override {
    Count(counts_->puts);
    return inner_->PutFile(key, local_file);
  }
  Status Move(std::string_view from_key, std::string_view to_key) override {
    Count(counts_->moves);
    return inner_->Move(from_key, to_key);
  }
  Status Delete(std::string_view key) override {
    Count(counts_->deletes);
    return inner_->Delete(key);
  }
  std::string ReadPath(std::string_view key) const override { return inner_->ReadPath(key); }
  Result<std::filesystem::path> ScratchDir() override { return inner_->ScratchDir(); }
  Result<std::unique_ptr<store::WriterLock>> LockForWriting() override { return inner_->LockForWriting(); }

 private:
  void Count(int64_t& counter) const {
    std::lock_guard lock(counts_->mutex);
    ++counter;
  }

  std::unique_ptr<store::ObjectStore> inner_;
  std::shared_ptr<StoreCounts> counts_;
};

}  // namespace iotad::lake
