#pragma once
// A small free list of buffers handed back by a consumer for a producer to refill.
#include <cstddef>
#include <mutex>
#include <utility>
#include <vector>

namespace iotad {

/// Buffers handed back after use, cleared, for reuse: touching fresh memory is slow, refilling a
/// warm buffer (its capacity kept) is not. At most `max_free` are kept; further ones are freed.
/// `T` is cleared with its `Clear()` (or `clear()`) method, which must keep its capacity.
/// Thread-safe: one thread may Put while another Takes.
template <typename T>
class BufferPool {
 public:
  /// Two free buffers cover the usual steady state (one being refilled, one being written).
  explicit BufferPool(size_t max_free = 2) : max_free_(max_free) {}
  BufferPool(const BufferPool&) = delete;
  BufferPool& operator=(const BufferPool&) = delete;

  /// Clears `buffer` (outside the lock) and keeps it if fewer than max_free are free.
  void Put(T&& buffer) {
    if constexpr (requires { buffer.Clear(); }) {
      buffer.Clear();
    } else {
      buffer.clear();
    }
    std::lock_guard<std::mutex> lock(mu_);
    if (free_.size() < max_free_) free_.push_back(std::move(buffer));
  }

  /// Moves a free buffer into `out`; false (and `out` untouched) when none is free.
  bool Take(T& out) {
    std::lock_guard<std::mutex> lock(mu_);
    if (free_.empty()) return false;
    out = std::move(free_.back());
    free_.pop_back();
    return true;
  }

  size_t free_count() const {
    std::lock_guard<std::mutex> lock(mu_);
    return free_.size();
  }

 private:
  mutable std::mutex mu_;
  std::vector<T> free_;
  const size_t max_free_;
};

}  // namespace iotad
