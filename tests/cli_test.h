// The common opening of the tests that run the `lowbit` program (test_cli.cpp, test_deploy_cli.cpp,
// test_deploy_multibit_cli.cpp): gtest and gmock, nlohmann::json, the program runner
// (tests/cli_run.h) and the tiny training fixtures (tests/train_fixtures.h), and in
// lowbit::cli_test the names those tests use unqualified (`using namespace cli_test;`).
#pragma once

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <filesystem>
#include <nlohmann/json.hpp>

#include "tests/cli_run.h"
#include "tests/train_fixtures.h"

namespace lowbit::cli_test {

namespace fs = std::filesystem;
using nlohmann::json;
using ::testing::HasSubstr;
using test::CliRun;
using test::last_json_line;
using test::lowbit_cli;
using test::shell_quoted;
using train_test::fresh_dir;
using train_test::tiny_dataset;

}  // namespace lowbit::cli_test
