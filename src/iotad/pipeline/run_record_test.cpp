#include "iotad/pipeline/run_record.h"

#include <unistd.h>

#include <filesystem>
#include <random>

#include <gtest/gtest.h>
#include <simdjson.h>

#include "iotad/lake/schema.h"

namespace iotad::pipeline {
namespace {
namespace fs = std::filesystem;

// The runs view reads run records with the columns of lake::kRunColumns: a key spelled
// differently would read as NULL. The record's keys are those columns, in that order.
TEST(RunRecordTest, KeysAreTheRunsTableColumns) {
  std::random_device rd;
  const fs::path root = fs::temp_directory_path() / fmt::format("iotad-run-record-test-{}-{:08x}", ::getpid(), rd());
  ASSERT_TRUE(lake::Lake::Init(root).ok());
  auto lake = lake::Lake::Open(root);
  ASSERT_TRUE(lake.ok()) << lake.status().message();
  RunRecord r;
  r.run_id = "20240105T131500Z-3f2a";
  r.command = "run";
  r.stages.push_back({"silver", 1.5, R"({"rows":3})"});
  ASSERT_TRUE(WriteRunRecord(**lake, r).ok());
  auto text = (*lake)->store().Get("runs/20240105T131500Z-3f2a.json");
  ASSERT_TRUE(text.ok());
  simdjson::dom::parser parser;
  simdjson::dom::object obj;
  ASSERT_EQ(parser.parse(*text).get(obj), simdjson::SUCCESS);
  std::vector<std::string> keys, columns;
  for (auto field : obj) keys.emplace_back(field.key);
  for (const auto& c : lake::kRunColumns) columns.emplace_back(c.name);
  EXPECT_EQ(keys, columns);
  std::error_code ec;
  fs::remove_all(root, ec);
}

}  // namespace
}  // namespace iotad::pipeline
