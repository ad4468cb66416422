#pragma once
// The only way stages read and write the lake: a flat key space of immutable objects.
// Keys are relative, '/'-separated (`silver/year=2024/month=01/.../part-1a2b.parquet`).
// The local-filesystem store implements it now; an S3-compatible store implements the same
// contract later (Put -> PUT, Move -> copy+delete, lock -> lease object), so no stage changes.
#include <cstdint>
#include <filesystem>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include "iotad/core/result.h"

namespace iotad::store {

struct ObjectInfo {
  std::string key;
  uint64_t size_bytes = 0;
};

/// Held while one process writes the lake; released on destruction (and by the OS on a crash).
class WriterLock {
 public:
  virtual ~WriterLock() = default;
};

/// Object store interface. Thread-compatible: one instance per thread, or external locking.
class ObjectStore {
 public:
  virtual ~ObjectStore() = default;

  /// Human-readable location, e.g. `/data/lake` or later `s3://bucket/prefix`.
  virtual std::string Describe() const = 0;

  /// Every object whose key starts with `prefix` (recursive), sorted by key. Keys of temporary
  /// files that are being written never appear.
  virtual Result<std::vector<ObjectInfo>> List(std::string_view prefix) const = 0;
  virtual Result<bool> Exists(std::string_view key) const = 0;
  virtual Result<std::string> Get(std::string_view key) const = 0;
  /// Like Get, into a caller's buffer whose capacity is reused (no fresh memory per object).
  virtual Status GetInto(std::string_view key, std::string& out) const {
    auto data = Get(key);
    if (!data.ok()) return data.status();
    out = std::move(*data);
    return Status::Ok();
  }

  /// Atomic and durable: after it returns the object is complete; a crash before leaves no
  /// object (and no partial one). Overwrites.
  virtual Status Put(std::string_view key, std::string_view data) = 0;
  /// Like Put, but fails with Errc::kConflict when the key exists (commit-log sequence claims).
  virtual Status PutIfAbsent(std::string_view key, std::string_view data) = 0;
  /// Atomically publishes a finished local file (from ScratchDir) under `key`; consumes it.
  virtual Status PutFile(std::string_view key, const std::filesystem::path& local_file) = 0;
  /// Moves one object; after a crash either the source or the destination exists.
  virtual Status Move(std::string_view from_key, std::string_view to_key) = 0;
  /// Deletes an object; deleting a missing object is not an error.
  virtual Status Delete(std::string_view key) = 0;

  /// A path or URI that DuckDB can read the object from directly.
  virtual std::string ReadPath(std::string_view key) const = 0;
  /// A local folder for files being written before PutFile (same filesystem when possible).
  virtual Result<std::filesystem::path> ScratchDir() = 0;
  /// Single-writer lock for the lake. Fails with Errc::kConflict if another process holds it.
  virtual Result<std::unique_ptr<WriterLock>> LockForWriting() = 0;
};

/// Opens a store on a local folder (which must exist).
Result<std::unique_ptr<ObjectStore>> OpenLocalStore(const std::filesystem::path& root);

}  // namespace iotad::store
