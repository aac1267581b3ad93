// Helpers shared by the db tests: a scratch directory and realistic records.
#pragma once

#include <stdlib.h>

#include <cstdint>
#include <filesystem>
#include <string>
#include <system_error>

#include <gtest/gtest.h>

#include "actsearch/db/store.hpp"

namespace actsearch::db::test {

// A fresh directory per test, removed with everything in it (-wal and -shm files included).
class ScratchDir {
public:
    ScratchDir() {
        std::string pattern = (std::filesystem::temp_directory_path() / "actsearch-db-XXXXXX").string();
        if (!::mkdtemp(pattern.data())) throw std::runtime_error("mkdtemp failed");
        path_ = pattern;
    }
    ~ScratchDir() {
        std::error_code ignored;
        std::filesystem::remove_all(path_, ignored);
    }
    ScratchDir(const ScratchDir&) = delete;
    ScratchDir& operator=(const ScratchDir&) = delete;

    std::string file(const std::string& name) const { return (path_ / name).string(); }

private:
    std::filesystem::path path_;
};

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
