// The tabular task `table:FILE.db`: a candidate's score is looked up in an earlier (exhaustive) run's
// database instead of trained, as NAS benchmarks do, so strategies can be compared over many
// repetitions in seconds.
#pragma once

#include <memory>
#include <mutex>
#include <string>

#include "actsearch/engine/evaluate.hpp"

namespace actsearch::db { class Store; }

namespace actsearch::cli {

bool is_table_task(const std::string& task);
std::string table_path(const std::string& task);   // "table:x.db" -> "x.db"

class TableTask {
public:
    explicit TableTask(const std::string& path);   // UsageError when the file is missing or not a database
    ~TableTask();
    // Mean of the stored ok scores of the candidate (or of a functionally equivalent one), over the
    // table's seeds; EvalStatus::Error "not in table" when it was never evaluated there. Thread-safe.
    engine::EvalResult score(const std::string& expr);

private:
    std::unique_ptr<db::Store> store_;
    std::mutex mutex_;
};

}  // namespace actsearch::cli
