#pragma once
// The lake's run records (`runs/<run_id>.json`, one JSON line each, written once when a command
// ends) as the pipeline page and /metrics read them: listed on every call (a failed run writes its
// record without a commit, so the snapshot cannot tell), each file read once per process.
#include <memory>
#include <string>
#include <vector>

#include "iotad/core/result.h"
#include "iotad/store/object_store.h"

namespace iotad::serve {

/// The texts of every run record, oldest first (by their `started_at`, then key).
Result<std::vector<std::shared_ptr<const std::string>>> RunRecordTexts(const store::ObjectStore& store);

}  // namespace iotad::serve
