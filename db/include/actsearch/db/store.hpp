// The results store: one SQLite file per project of searches. One writer (the search process, or MPI
// rank 0), any number of readers. db knows nothing of grammar, engine or search: it stores text, hashes
// and numbers. Schema, view and example queries: db/SCHEMA.md.
//
// A Store is one connection: use it from one thread at a time (SQLite serialises calls, but an open
// Transaction belongs to the connection).
#pragma once

#include <cstdint>
#include <memory>
#include <optional>
#include <stdexcept>
#include <string>
#include <vector>

namespace actsearch::db {

namespace sqlite { class Database; }

struct DbError : std::runtime_error { using std::runtime_error::runtime_error; };
// The file cannot be used as given (permissions: the file, its folder, or -wal/-shm files another user
// left): bad input, one line naming the file and the fix. The CLI exits with status 2 on it.
struct BadDatabase : DbError { using DbError::DbError; };

struct RunInfo {
    std::int64_t id = 0;
    std::string created, finished;   // ISO-8601 UTC; finished empty while running
    std::string status;              // running / finished / interrupted / failed
    std::string strategy, space, task;
    std::int64_t seed = 0;
    std::string config_json;
    std::string version;
    // Filled by list_runs():
    std::int64_t evaluations = 0;
    std::optional<double> best_score;
};

struct CandidateRecord {
    std::int64_t id = 0;
    std::string expr;                 // canonical infix
    std::uint64_t structural_hash = 0;
    std::uint64_t fingerprint = 0;
    bool valid = true;
    std::string invalid_reason;
    std::optional<std::int64_t> representative;   // id of the equivalent candidate that was trained
    std::optional<double> cost;                    // inference cost relative to relu(x) = 1 (schema 2)
    std::optional<std::int64_t> hardened_from;     // the candidate this one is a hardened twin of
};

// One primitive's cost from `actsearch calibrate` (relative to relu(x) = 1 measured in the same run).
struct CostRow {
    std::string direction;   // "forward" or "training"
    std::string primitive;   // OpInfo::name, or "(pass)" for one pass over the tensor
    double cost = 0;
    std::string created;     // filled when read
};

struct EvaluationRecord {
    std::int64_t id = 0;
    std::int64_t candidate = 0;
    std::int64_t run = 0;
    std::string task;
    std::string fidelity;     // Fidelity::key()
    std::int64_t seed = 0;
    std::string status;       // ok / diverged / invalid / timeout / error / over_budget (never trained:
                              // over a search's --max-cost; left out of leaderboards and run counts)
    double val_acc = 0, val_loss = 0, train_loss = 0, seconds = 0;
    std::string message;
    std::string created;
    std::string engine;       // the engine that trained it (engine::identity()); empty: not recorded
};

// How many trained (ok or diverged) evaluations behind a ranking each engine produced; engine "" counts
// the rows that do not record it.
struct EngineCount {
    std::string engine;
    std::int64_t evaluations = 0;
};

// One row per (representative-or-self candidate, task, fidelity): scores at different fidelities (steps,
// width...) are not comparable, so they are never averaged together.
struct LeaderboardRow {
    std::int64_t candidate = 0;
    std::string expr;
    std::string task;
    std::string fidelity;
    double mean = 0, stddev = 0;      // of val_acc over ok evaluations; sample stddev (n - 1), 0 for one;
                                      // mean is NaN when there is no ok evaluation (min_seeds = 0)
    std::int64_t seeds = 0;           // distinct seeds among the ok evaluations counted in the mean
    std::int64_t n_ok = 0, n_diverged = 0, n_invalid = 0, n_other = 0;
    std::int64_t best_run = 0;        // run of the best ok evaluation; 0 when none
    std::int64_t equivalents = 0;     // other candidates sharing this one's results
};

struct LeaderboardQuery {
    std::optional<std::string> task;
    std::optional<std::int64_t> run;           // only evaluations made by this run
    std::optional<std::string> fidelity;       // Fidelity::key()
    std::optional<std::int64_t> candidate;     // only this candidate's group (it or its representative)
    std::optional<std::vector<std::int64_t>> members;   // only these candidates' groups (a rung's members)
    int top = 20;                              // <= 0: all rows
    int min_seeds = 1;                         // 0 also lists candidates with no ok evaluation
};

class Store {
public:
    // Opens or creates; sets WAL, busy timeout, foreign keys; migrates an older schema forward.
    // Throws DbError (one line) on a file that is not a database, is corrupt, or has a newer schema.
    // read_only: for reports; never creates or modifies the file (a missing or empty file is a DbError)
    // and reads consistent snapshots while another process writes. It leaves no -wal/-shm file that
    // another user could not write, and reads a database in a folder it cannot write (db/SCHEMA.md).
    // Throws BadDatabase when the file, its folder or another user's -wal/-shm file stops the opening.
    explicit Store(const std::string& path, bool read_only = false);
    ~Store();
    Store(const Store&) = delete;
    Store& operator=(const Store&) = delete;

    static constexpr int kSchemaVersion = 4;

    // Runs.
    std::int64_t create_run(const RunInfo& info);              // status "running"
    void set_run_status(std::int64_t run, const std::string& status);   // sets finished when not running
    std::optional<RunInfo> run(std::int64_t id);
    std::vector<RunInfo> list_runs();
    // Latest run with the same strategy/space/task/config, for "same command again resumes".
    std::optional<std::int64_t> find_run(const std::string& strategy, const std::string& space,
                                         const std::string& task, const std::string& config_json);

    // Candidates, keyed by canonical expression (insert-or-get: an existing row is returned unchanged,
    // except that a NULL cost or hardened_from is filled from c when c has one).
    std::int64_t upsert_candidate(const CandidateRecord& c);
    std::optional<CandidateRecord> candidate(std::int64_t id);
    std::optional<CandidateRecord> candidate_by_expr(const std::string& expr);
    // The first valid candidate with this fingerprint that has a representative of NULL, if any.
    std::optional<CandidateRecord> candidate_by_fingerprint(std::uint64_t fp);

    // The other candidates sharing this one's results: its representative and the representative's
    // other equivalents (or, for a representative, its equivalents), by id.
    std::vector<CandidateRecord> equivalents_of(std::int64_t candidate);

    // Evaluations. Unique on (candidate, task, fidelity, seed): a second insert is ignored (returns
    // false), except over a stored status 'error' or 'over_budget' (a decision of one search, not a
    // result), which it replaces. run <= 0 is stored as NULL (an evaluation outside any run). NaN scores read back as NaN.
    bool insert_evaluation(const EvaluationRecord& e);
    // Those of the candidate's whole equivalence group, ordered by task, fidelity, seed.
    std::vector<EvaluationRecord> evaluations_of(std::int64_t candidate);
    // The evaluations a run stored itself, in the order it stored them (by id).
    std::vector<EvaluationRecord> evaluations_of_run(std::int64_t run);
    // The candidate's own evaluation, or else its representative's (an equivalent's results are its
    // representative's).
    std::optional<EvaluationRecord> find_evaluation(std::int64_t candidate, const std::string& task,
                                                    const std::string& fidelity, std::int64_t seed);

    std::vector<LeaderboardRow> leaderboard(const LeaderboardQuery& q);

    // Cost calibration per CPU model: save replaces that CPU's rows; load returns them ordered by
    // direction and primitive (empty when the CPU was never calibrated).
    void save_calibration(const std::string& cpu, const std::vector<CostRow>& rows);
    std::vector<CostRow> calibration(const std::string& cpu);

    // Opaque strategy state (controller weights, population) per run, replaced on each save.
    void save_state(std::int64_t run, const std::string& key, const std::string& blob);
    std::optional<std::string> load_state(std::int64_t run, const std::string& key);

    // PRAGMA integrity_check == "ok".
    bool integrity_ok();

    const std::string& path() const noexcept;

private:
    friend class Transaction;
    struct Impl;
    std::unique_ptr<Impl> impl_;
};

// Groups writes (inside a transaction each insert does not sync) and makes them all-or-nothing:
// BEGIN IMMEDIATE on construction, COMMIT on commit(), ROLLBACK on destruction unless committed, so an
// exception in between leaves the database as it was. IMMEDIATE takes the write lock at once (waiting up
// to the busy timeout): a deferred transaction that reads and then writes can fail with
// SQLITE_BUSY_SNAPSHOT, without waiting, when another writer committed in between. Transactions do not
// nest: opening a second one on the same connection throws DbError.
class Transaction {
public:
    explicit Transaction(Store& store);
    explicit Transaction(sqlite::Database& db);   // db's own use (schema migrations)
    ~Transaction();
    Transaction(const Transaction&) = delete;
    Transaction& operator=(const Transaction&) = delete;
    void commit();

private:
    sqlite::Database& db_;
    bool done_ = false;
};

}  // namespace actsearch::db
