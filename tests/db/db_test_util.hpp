// Helpers shared by the db tests: a scratch directory and realistic records.
#pragma once

#include <cstdint>
#include <filesystem>
#include <string>

#include <gtest/gtest.h>
#include <sqlite3.h>

#include "actsearch/db/store.hpp"
#include "helpers.hpp"

namespace actsearch::db::test {

// The scratch directory of every test (tests/common): the db tests name it test::ScratchDir.
using actsearch::test::ScratchDir;

// Runs `sql` on the file at `path` through SQLite itself, as another program (or an older version)
// would write it: the schema tests build databases of older versions this way.
inline void exec_sql(const std::string& path, const std::string& sql) {
    sqlite3* raw = nullptr;
    ASSERT_EQ(sqlite3_open(path.c_str(), &raw), SQLITE_OK);
    char* error = nullptr;
    EXPECT_EQ(sqlite3_exec(raw, sql.c_str(), nullptr, nullptr, &error), SQLITE_OK) << (error ? error : "");
    sqlite3_free(error);
    sqlite3_close(raw);
}

inline RunInfo make_run(const std::string& strategy = "random", const std::string& task = "fmnist-mlp") {
    RunInfo r;
    r.strategy = strategy;
    r.space = "paper-core1";
    r.task = task;
    r.seed = 7;
    r.config_json = R"({"budget": 100, "seeds": [1, 2, 3]})";
    r.version = "0.1.0";
    return r;
}

inline CandidateRecord make_candidate(const std::string& expr, std::uint64_t fingerprint,
                                      std::optional<std::int64_t> representative = std::nullopt) {
    CandidateRecord c;
    c.expr = expr;
    c.structural_hash = fingerprint ^ 0x9e3779b97f4a7c15ull;
    c.fingerprint = fingerprint;
    c.representative = representative;
    return c;
}

inline EvaluationRecord make_evaluation(std::int64_t candidate, std::int64_t run, std::int64_t seed,
                                        double val_acc, const std::string& status = "ok",
                                        const std::string& task = "fmnist-mlp",
                                        const std::string& fidelity = "steps=400 width=128 depth=3 lr=0.05 batch=128") {
    EvaluationRecord e;
    e.candidate = candidate;
    e.run = run;
    e.task = task;
    e.fidelity = fidelity;
    e.seed = seed;
    e.status = status;
    e.val_acc = val_acc;
    e.val_loss = 1.0 - val_acc;
    e.train_loss = 1.1 - val_acc;
    e.seconds = 2.5;
    if (status != "ok") e.message = status + " at step 12";
    return e;
}

}  // namespace actsearch::db::test
