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
    // Opens FILE.db read-only (a missing file: UsageError; not a database: DbError) and picks the
    // (task, fidelity) the table holds most scores of, so that promoted or other-task rows in the same
    // file never mix in.
    explicit TableTask(const std::string& path);
    ~TableTask();
    // The mean stored score of the candidate (or of a functionally equivalent one) at that task and
    // fidelity over the table's seeds, a diverged seed counting 0 (as a search's reward does); Diverged
    // when it only diverged there; Error "not in table" when
    // it was never evaluated there. Thread-safe.
    engine::EvalResult score(const std::string& expr);
    // "table:<task> <fidelity>": what the evaluations of a search on this table are stored under.
    std::string fidelity_key() const;

private:
    std::unique_ptr<db::Store> store_;
    std::string task_, fidelity_;
    std::mutex mutex_;
};

}  // namespace actsearch::cli
