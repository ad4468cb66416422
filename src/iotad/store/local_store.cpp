#include <fcntl.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <atomic>
#include <cerrno>
#include <cstring>
#include <system_error>

#include "iotad/core/fault.h"
#include "iotad/store/object_store.h"

namespace iotad::store {
namespace fs = std::filesystem;
namespace {

constexpr std::string_view kScratch = "_iotad/tmp";

Status IoError(std::string_view what, const fs::path& path, int err) {
  return Error(Errc::kIo, "cannot {} '{}': {}", what, path.string(), std::strerror(err));
}

Status FsyncPath(const fs::path& path, bool directory) {
  const int fd = ::open(path.c_str(), directory ? (O_RDONLY | O_DIRECTORY) : O_RDONLY);
  if (fd < 0) return IoError("open for fsync", path, errno);
  const int rc = ::fsync(fd);
  const int err = errno;
  ::close(fd);
  if (rc != 0) return IoError("fsync", path, err);
  return Status::Ok();
}

Status WriteAll(int fd, std::string_view data, const fs::path& path) {
  while (!data.empty()) {
    const ssize_t n = ::write(fd, data.data(), data.size());
    if (n < 0) {
      if (errno == EINTR) continue;
      return IoError("write", path, errno);
    }
    data.remove_prefix(static_cast<size_t>(n));
  }
  return Status::Ok();
}

class LocalWriterLock final : public WriterLock {
 public:
  explicit LocalWriterLock(int fd) : fd_(fd) {}
  ~LocalWriterLock() override {
    ::flock(fd_, LOCK_UN);
    ::close(fd_);
  }

 private:
  int fd_;
};

class LocalStore final : public ObjectStore {
 public:
  explicit LocalStore(fs::path root) : root_(std::move(root)) {}

  std::string Describe() const override { return root_.string(); }

  Result<std::vector<ObjectInfo>> List(std::string_view prefix) const override {
    std::vector<ObjectInfo> out;
    // Walk from the deepest existing folder named by the prefix.
    const size_t slash = prefix.rfind('/');
    const fs::path start = slash == std::string_view::npos
                               ? root_
                               : root_ / std::string(prefix.substr(0, slash));
    std::error_code ec;
    if (!fs::is_directory(start, ec)) return out;
    fs::recursive_directory_iterator it(start, fs::directory_options::skip_permission_denied, ec);
    if (ec) return IoError("list", start, ec.value());
    const size_t root_len = root_.string().size() + 1;
    for (; it != fs::recursive_directory_iterator(); it.increment(ec)) {
      if (ec) return IoError("list", start, ec.value());
      const auto& entry = *it;
      if (!entry.is_regular_file(ec)) continue;
      std::string key = entry.path().string().substr(root_len);
      if (key.compare(0, prefix.size(), prefix) != 0) continue;
      // In-flight temporaries are invisible.
      if (key.find(".iotad-tmp-") != std::string::npos) continue;
      out.push_back({std::move(key), static_cast<uint64_t>(entry.file_size(ec))});
    }
    std::sort(out.begin(), out.end(),
              [](const ObjectInfo& a, const ObjectInfo& b) { return a.key < b.key; });
    return out;
  }

  Result<bool> Exists(std::string_view key) const override {
    std::error_code ec;
    return fs::exists(Path(key), ec);
  }

  Result<std::string> Get(std::string_view key) const override {
    std::string data;
    IOTAD_TRY(GetInto(key, data));
    return data;
  }

  Status GetInto(std::string_view key, std::string& out) const override {
    const fs::path path = Path(key);
    const int fd = ::open(path.c_str(), O_RDONLY | O_CLOEXEC);
    if (fd < 0) {
      if (errno == ENOENT) return Error(Errc::kNotFound, "no object '{}' in {}", key, Describe());
      return IoError("open", path, errno);
    }
    struct stat st {};
    size_t size = 0;
    if (::fstat(fd, &st) == 0) size = static_cast<size_t>(st.st_size);
    // A caller reading object after object into one buffer (silver's parse) should not reallocate
    // (fresh pages, zero-filled, the old bytes copied) each time one is a little bigger.
    // One byte more than the file, so the read that finds its end has room and does not grow
    // the buffer (doubling it, the old bytes copied, once per object).
    if (size + 1 > out.capacity()) {
      out.clear();
      out.reserve(size + 1 + size / 8);
    }
    out.resize(size + 1);
    size_t got = 0;
    for (;;) {
      if (got == out.size()) out.resize(std::max<size_t>(out.size() * 2, 1 << 16));
      const ssize_t n = ::read(fd, out.data() + got, out.size() - got);
      if (n < 0) {
        if (errno == EINTR) continue;
        const int err = errno;
        ::close(fd);
        return IoError("read", path, err);
      }
      if (n == 0) break;
      got += static_cast<size_t>(n);
    }
    ::close(fd);
    out.resize(got);
    return Status::Ok();
  }

  Status Put(std::string_view key, std::string_view data) override {
    return PutImpl(key, data, /*exclusive=*/false);
  }
  Status PutIfAbsent(std::string_view key, std::string_view data) override {
    return PutImpl(key, data, /*exclusive=*/true);
  }

  Status PutFile(std::string_view key, const fs::path& local_file) override {
    const fs::path dest = Path(key);
    IOTAD_TRY(MakeParents(dest));
    IOTAD_TRY(FsyncPath(local_file, false));
    IOTAD_FAULT_POINT("store.put_file.before_rename");
    if (::rename(local_file.c_str(), dest.c_str()) != 0) return IoError("rename into", dest, errno);
    return FsyncPath(dest.parent_path(), true);
  }

  Status Move(std::string_view from_key, std::string_view to_key) override {
    const fs::path from = Path(from_key), to = Path(to_key);
    IOTAD_TRY(MakeParents(to));
    if (::rename(from.c_str(), to.c_str()) != 0) return IoError("move", from, errno);
    IOTAD_TRY(FsyncPath(to.parent_path(), true));
    if (from.parent_path() != to.parent_path()) return FsyncPath(from.parent_path(), true);
    return Status::Ok();
  }

  Status Delete(std::string_view key) override {
    const fs::path path = Path(key);
    if (::unlink(path.c_str()) != 0 && errno != ENOENT) return IoError("delete", path, errno);
    // Empty partition folders are pruned so readers never see an empty hour.
    std::error_code ec;
    fs::path dir = path.parent_path();
    while (dir != root_ && dir.string().size() > root_.string().size() && fs::is_empty(dir, ec) && !ec) {
      fs::remove(dir, ec);
      dir = dir.parent_path();
    }
    return Status::Ok();
  }

  std::string ReadPath(std::string_view key) const override { return Path(key).string(); }

  Result<fs::path> ScratchDir() override {
    const fs::path dir = root_ / std::string(kScratch);
    std::error_code ec;
    fs::create_directories(dir, ec);
    if (ec) return IoError("create", dir, ec.value());
    return dir;
  }

  Result<std::unique_ptr<WriterLock>> LockForWriting() override {
    const fs::path dir = root_ / "_iotad";
    std::error_code ec;
    fs::create_directories(dir, ec);
    const fs::path path = dir / "writer.lock";
    const int fd = ::open(path.c_str(), O_RDWR | O_CREAT | O_CLOEXEC, 0644);
    if (fd < 0) return IoError("open", path, errno);
    if (::flock(fd, LOCK_EX | LOCK_NB) != 0) {
      ::close(fd);
      return Error(Errc::kConflict,
                   "another iotad process is writing the lake {} (lock {} is held)", Describe(),
                   path.string());
    }
    return std::unique_ptr<WriterLock>(new LocalWriterLock(fd));
  }

 private:
  fs::path Path(std::string_view key) const { return root_ / std::string(key); }

  static Status MakeParents(const fs::path& path) {
    std::error_code ec;
    fs::create_directories(path.parent_path(), ec);
    if (ec) return IoError("create folder", path.parent_path(), ec.value());
    return Status::Ok();
  }

  Status PutImpl(std::string_view key, std::string_view data, bool exclusive) {
    static std::atomic<uint64_t> counter{0};
    const fs::path dest = Path(key);
    IOTAD_TRY(MakeParents(dest));
    const fs::path tmp = dest.parent_path() /
                         fmt::format(".iotad-tmp-{}-{}", ::getpid(), counter.fetch_add(1));
    const int fd = ::open(tmp.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
    if (fd < 0) return IoError("create", tmp, errno);
    Status st = WriteAll(fd, data, tmp);
    if (st.ok() && ::fsync(fd) != 0) st = IoError("fsync", tmp, errno);
    ::close(fd);
    if (!st.ok()) {
      ::unlink(tmp.c_str());
      return st;
    }
    IOTAD_FAULT_POINT("store.put.before_rename");
    if (exclusive) {
      // link() fails if the destination exists: an atomic create-if-absent.
      if (::link(tmp.c_str(), dest.c_str()) != 0) {
        const int err = errno;
        ::unlink(tmp.c_str());
        if (err == EEXIST) return Error(Errc::kConflict, "object '{}' already exists", key);
        return IoError("publish", dest, err);
      }
      ::unlink(tmp.c_str());
    } else if (::rename(tmp.c_str(), dest.c_str()) != 0) {
      const int err = errno;
      ::unlink(tmp.c_str());
      return IoError("rename into", dest, err);
    }
    return FsyncPath(dest.parent_path(), true);
  }

  fs::path root_;
};

}  // namespace

Result<std::unique_ptr<ObjectStore>> OpenLocalStore(const fs::path& root) {
  std::error_code ec;
  if (!fs::is_directory(root, ec)) {
    return Error(Errc::kNotFound, "folder '{}' does not exist", root.string());
  }
  fs::path normal = fs::absolute(root, ec).lexically_normal();
  if (normal.filename().empty() && normal.has_parent_path()) normal = normal.parent_path();
  return std::unique_ptr<ObjectStore>(new LocalStore(std::move(normal)));
}

}  // namespace iotad::store
