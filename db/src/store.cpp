#include "actsearch/db/store.hpp"

#include <unistd.h>

#include <sqlite3.h>

#include <cmath>
#include <limits>

#include <fmt/core.h>
#include <fmt/format.h>

#include "file_access.hpp"
#include "schema.hpp"
#include "sqlite.hpp"

namespace actsearch::db {

using sqlite::Blob;
using sqlite::Row;
using sqlite::Statement;

namespace {

#define ACTSEARCH_NOW "strftime('%Y-%m-%dT%H:%M:%SZ', 'now')"

constexpr double kNaN = std::numeric_limits<double>::quiet_NaN();

constexpr const char* kRunColumns =
    "r.id, r.created, COALESCE(r.finished, ''), r.status, r.strategy, r.space, r.task, r.seed, r.config, r.version";
constexpr const char* kCandidateColumns =
    "c.id, c.expr, c.structural_hash, c.fingerprint, c.valid, c.invalid_reason, c.representative, c.cost, "
    "c.hardened_from";
constexpr const char* kEvaluationColumns =
    "e.id, e.candidate, COALESCE(e.run, 0), e.task, e.fidelity, e.seed, e.status, e.val_acc, e.val_loss, "
    "e.train_loss, e.seconds, e.message, e.created, ";   // + the engine column: evaluation_columns()

// A version-2 or -3 file read as it is has no evaluations.engine: it reads as NULL (not recorded).
bool has_engine_column(sqlite::Database& db) {
    return db.query_int("SELECT COUNT(*) FROM pragma_table_info('evaluations') WHERE name = 'engine'") > 0;
}

std::string evaluation_columns(bool engine_column) {
    return std::string(kEvaluationColumns) + (engine_column ? "COALESCE(e.engine, '')" : "''");
}

RunInfo read_run(const Row& row) {
    RunInfo r;
    r.id = row.get<std::int64_t>(0);
    r.created = row.get<std::string>(1);
    r.finished = row.get<std::string>(2);
    r.status = row.get<std::string>(3);
    r.strategy = row.get<std::string>(4);
    r.space = row.get<std::string>(5);
    r.task = row.get<std::string>(6);
    r.seed = row.get<std::int64_t>(7);
    r.config_json = row.get<std::string>(8);
    r.version = row.get<std::string>(9);
    return r;
}

CandidateRecord read_candidate(const Row& row) {
    CandidateRecord c;
    c.id = row.get<std::int64_t>(0);
    c.expr = row.get<std::string>(1);
    c.structural_hash = row.get<std::uint64_t>(2);
    c.fingerprint = row.get<std::uint64_t>(3);
    c.valid = row.get<bool>(4);
    c.invalid_reason = row.get<std::string>(5);
    c.representative = row.get<std::optional<std::int64_t>>(6);
    c.cost = row.get<std::optional<double>>(7);
    c.hardened_from = row.get<std::optional<std::int64_t>>(8);
    return c;
}

EvaluationRecord read_evaluation(const Row& row) {
    EvaluationRecord e;
    e.id = row.get<std::int64_t>(0);
    e.candidate = row.get<std::int64_t>(1);
    e.run = row.get<std::int64_t>(2);
    e.task = row.get<std::string>(3);
    e.fidelity = row.get<std::string>(4);
    e.seed = row.get<std::int64_t>(5);
    e.status = row.get<std::string>(6);
    // SQLite stores NaN as NULL; give it back as NaN.
    e.val_acc = row.get<std::optional<double>>(7).value_or(kNaN);
    e.val_loss = row.get<std::optional<double>>(8).value_or(kNaN);
    e.train_loss = row.get<std::optional<double>>(9).value_or(kNaN);
    e.seconds = row.get<double>(10);
    e.message = row.get<std::string>(11);
    e.created = row.get<std::string>(12);
    e.engine = row.get<std::string>(13);
    return e;
}

std::optional<std::int64_t> positive_or_null(std::int64_t id) {
    return id > 0 ? std::optional<std::int64_t>(id) : std::nullopt;
}

// The leaderboard with optional filters ?1 task, ?2 run, ?3 fidelity, ?4 candidate (its group), then
// ?5 min seeds and ?6 limit (negative: none), and ?7 a JSON array of candidates (their groups).
// Ranked by mean, then seeds, then id for a stable order.
std::string leaderboard_query() {
    constexpr std::string_view filter =
        "(?1 IS NULL OR e.task = ?1) AND (?2 IS NULL OR e.run = ?2) AND (?3 IS NULL OR e.fidelity = ?3) "
        "AND (?4 IS NULL OR COALESCE(c.representative, c.id) = "
        "(SELECT COALESCE(representative, id) FROM candidates WHERE id = ?4)) "
        "AND (?7 IS NULL OR COALESCE(c.representative, c.id) IN "
        "(SELECT COALESCE(m.representative, m.id) FROM candidates AS m WHERE m.id IN (SELECT value FROM json_each(?7))))";
    constexpr std::string_view order = "ORDER BY mean IS NULL, mean DESC, seeds DESC, candidate, task, fidelity";
    const std::string ranked = fmt::format("SELECT * FROM ({}) WHERE seeds >= ?5 {} LIMIT ?6",
                                           schema::leaderboard_aggregate(filter), order);
    return fmt::format("SELECT * FROM ({}) {}", schema::leaderboard_decorate(ranked, filter), order);
}

// Readers: how, for the file's owner, another user or a read-only folder; writers: first check, or
// clear away, -wal/-shm files another user left (file_access.hpp).
// A reader that meets a database of an older schema migrates it first when it may write the file (its
// own databases, e.g. results of an earlier version); otherwise schema::open refuses it with a line
// saying how to migrate.
void migrate_older_for_reader(const std::string& path) {
    if (::access(path.c_str(), W_OK) != 0) return;
    try {
        {
            sqlite::Database probe(path, sqlite::OpenMode::ReadOnly);
            if (!schema::older_than(probe, schema::migrations())) return;
        }
        file_access::prepare_writer(path);
        sqlite::Database writer(path, sqlite::OpenMode::ReadWriteCreate);
        schema::open(writer, schema::migrations());
    } catch (const std::exception&) {
        // Not migratable here (locked, foreign, ...): the read-only open reports what is wrong.
    }
}

sqlite::OpenMode open_mode(const std::string& path, bool read_only) {
    if (read_only) {
        migrate_older_for_reader(path);
        return file_access::reader_mode(path);
    }
    file_access::prepare_writer(path);
    return sqlite::OpenMode::ReadWriteCreate;
}

// A connection checked, migrated and configured for the store.
struct StoreDatabase : sqlite::Database {
    StoreDatabase(const std::string& path, bool read_only)
        : Database(path, open_mode(path, read_only)) {
        // Refuses foreign files before anything is written to them.
        schema::open(*this, schema::migrations(), schema::kReadableFrom);
        if (!read_only) {
            // WAL: readers (leaderboard, show) never block the search's writes nor see half a batch.
            // synchronous=NORMAL in WAL mode syncs at checkpoints only: a crash of the process loses
            // nothing committed; only a power loss or OS crash can lose the last transactions.
            exec("PRAGMA journal_mode = WAL; PRAGMA synchronous = NORMAL");
        }
        exec("PRAGMA foreign_keys = ON");
    }
};

}  // namespace

struct Store::Impl {
    StoreDatabase db;
    const bool engine_column = has_engine_column(db);
    const std::string evaluation_columns = actsearch::db::evaluation_columns(engine_column);
    // Declared after db: statements are finalized before the connection closes.
    Statement insert_run, update_run_status, select_run, select_runs, select_run_by_setup;
    Statement insert_candidate, select_candidate, select_candidate_by_expr, select_candidate_by_fingerprint,
        select_equivalents;
    Statement insert_evaluation, select_evaluations_of, select_evaluation;
    Statement select_leaderboard;
    Statement select_evaluations_of_run;
    Statement upsert_state, select_state;
    Statement delete_calibration, insert_calibration, select_calibration;

    Impl(const std::string& path, bool read_only)
        : db(path, read_only),
          insert_run(db, "INSERT INTO runs (created, finished, status, strategy, space, task, seed, config, version) "
                         "VALUES (COALESCE(NULLIF(?1, ''), " ACTSEARCH_NOW "), NULL, 'running', ?2, ?3, ?4, ?5, ?6, ?7) "
                         "RETURNING id"),
          update_run_status(db, "UPDATE runs SET status = ?2, "
                                "finished = CASE WHEN ?2 = 'running' THEN NULL ELSE " ACTSEARCH_NOW " END "
                                "WHERE id = ?1"),
          select_run(db, fmt::format("SELECT {} FROM runs AS r WHERE r.id = ?1", kRunColumns)),
          select_runs(db, fmt::format(R"(
WITH counts AS (SELECT run, COUNT(*) AS n FROM evaluations WHERE status != 'over_budget' GROUP BY run),
     means AS (SELECT e.run, AVG(e.val_acc) AS mean
               FROM evaluations AS e JOIN candidates AS c ON c.id = e.candidate
               WHERE e.status = 'ok'
               GROUP BY e.run, COALESCE(c.representative, c.id), e.task, e.fidelity),
     best AS (SELECT run, MAX(mean) AS best FROM means GROUP BY run)
SELECT {}, COALESCE(counts.n, 0), best.best
FROM runs AS r LEFT JOIN counts ON counts.run = r.id LEFT JOIN best ON best.run = r.id
ORDER BY r.id)",
                                      kRunColumns)),
          select_run_by_setup(db, "SELECT id FROM runs WHERE strategy = ?1 AND space = ?2 AND task = ?3 "
                                  "AND config = ?4 ORDER BY id DESC LIMIT 1"),
          insert_candidate(db, "INSERT INTO candidates (expr, structural_hash, fingerprint, valid, invalid_reason, "
                               "representative, cost, hardened_from) VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8) "
                               "ON CONFLICT (expr) DO UPDATE SET "
                               "cost = COALESCE(candidates.cost, excluded.cost), "
                               "hardened_from = COALESCE(candidates.hardened_from, excluded.hardened_from) "
                               "WHERE (candidates.cost IS NULL AND excluded.cost IS NOT NULL) "
                               "OR (candidates.hardened_from IS NULL AND excluded.hardened_from IS NOT NULL)"),
          select_candidate(db, fmt::format("SELECT {} FROM candidates AS c WHERE c.id = ?1", kCandidateColumns)),
          select_candidate_by_expr(db,
                                   fmt::format("SELECT {} FROM candidates AS c WHERE c.expr = ?1", kCandidateColumns)),
          select_candidate_by_fingerprint(
              db, fmt::format("SELECT {} FROM candidates AS c WHERE c.fingerprint = ?1 AND c.valid = 1 "
                              "AND c.representative IS NULL ORDER BY c.id LIMIT 1",
                              kCandidateColumns)),
          select_equivalents(db, fmt::format(R"(
WITH key AS (SELECT COALESCE(representative, id) AS id FROM candidates WHERE id = ?1)
SELECT {} FROM candidates AS c, key
WHERE (c.id = key.id OR c.representative = key.id) AND c.id != ?1
ORDER BY c.id)",
                                             kCandidateColumns)),
          // Not INSERT OR IGNORE: that would also silently drop rows failing a CHECK or NOT NULL
          // constraint. Only the duplicate key (a resumed run redoing an evaluation) is ignored.
          // A read-only file of version 2 or 3 has no engine column; this statement is never run there.
          insert_evaluation(db, fmt::format(
                                    "INSERT INTO evaluations (candidate, run, task, fidelity, seed, status, "
                                    "val_acc, val_loss, train_loss, seconds, message, created{0}) "
                                    "VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11, "
                                    "COALESCE(NULLIF(?12, ''), " ACTSEARCH_NOW "){1}) "
                                    // An evaluation is a pure function of the key: a second one is the same
                                    // and is dropped, unless the stored one failed for reasons outside the
                                    // candidate.
                                    "ON CONFLICT (candidate, task, fidelity, seed) DO UPDATE SET "
                                    "run = excluded.run, status = excluded.status, val_acc = excluded.val_acc, "
                                    "val_loss = excluded.val_loss, train_loss = excluded.train_loss, "
                                    "seconds = excluded.seconds, message = excluded.message, "
                                    "created = excluded.created{2} "
                                    "WHERE evaluations.status IN ('error', 'over_budget')",
                                    engine_column ? ", engine" : "", engine_column ? ", NULLIF(?13, '')" : "",
                                    engine_column ? ", engine = excluded.engine" : "")),
          select_evaluations_of(db, fmt::format(R"(
WITH key AS (SELECT COALESCE(representative, id) AS id FROM candidates WHERE id = ?1),
     members AS (SELECT id FROM key UNION SELECT c.id FROM candidates AS c, key WHERE c.representative = key.id)
SELECT {} FROM evaluations AS e
WHERE e.candidate IN (SELECT id FROM members)
ORDER BY e.task, e.fidelity, e.seed, e.id)",
                                                evaluation_columns)),
          select_evaluation(db, fmt::format(
                                    "SELECT {} FROM evaluations AS e "
                                    "WHERE e.candidate IN (?1, (SELECT representative FROM candidates WHERE id = ?1)) "
                                    "AND e.task = ?2 AND e.fidelity = ?3 AND e.seed = ?4 "
                                    "ORDER BY e.candidate = ?1 DESC LIMIT 1",
                                    evaluation_columns)),
          select_leaderboard(db, leaderboard_query()),
          select_evaluations_of_run(db, fmt::format("SELECT {} FROM evaluations AS e WHERE e.run = ?1 ORDER BY e.id",
                                                    evaluation_columns)),
          upsert_state(db, "INSERT INTO strategy_state (run, key, blob, updated) VALUES (?1, ?2, ?3, " ACTSEARCH_NOW ") "
                           "ON CONFLICT (run, key) DO UPDATE SET blob = excluded.blob, updated = excluded.updated"),
          select_state(db, "SELECT blob FROM strategy_state WHERE run = ?1 AND key = ?2"),
          delete_calibration(db, "DELETE FROM cost_calibration WHERE cpu = ?1"),
          insert_calibration(db, "INSERT INTO cost_calibration (cpu, direction, primitive, cost, created) "
                                 "VALUES (?1, ?2, ?3, ?4, " ACTSEARCH_NOW ")"),
          select_calibration(db, "SELECT direction, primitive, cost, created FROM cost_calibration "
                                 "WHERE cpu = ?1 ORDER BY direction, primitive") {}
};

Store::Store(const std::string& path, bool read_only) : impl_(std::make_unique<Impl>(path, read_only)) {}

Store::~Store() = default;

const std::string& Store::path() const noexcept { return impl_->db.path(); }

std::int64_t Store::create_run(const RunInfo& info) {
    Row row = impl_->insert_run.query(info.created, info.strategy, info.space, info.task, info.seed,
                                      info.config_json, info.version);
    if (!row.next()) impl_->db.fail("cannot create run");
    return row.get<std::int64_t>(0);
}

void Store::set_run_status(std::int64_t run, const std::string& status) {
    if (impl_->update_run_status.execute(run, status) == 0) {
        throw DbError(fmt::format("{}: no run {}", path(), run));
    }
}

std::optional<RunInfo> Store::run(std::int64_t id) {
    Row row = impl_->select_run.query(id);
    if (!row.next()) return std::nullopt;
    return read_run(row);
}

std::vector<RunInfo> Store::list_runs() {
    std::vector<RunInfo> runs;
    Row row = impl_->select_runs.query();
    while (row.next()) {
        RunInfo r = read_run(row);
        r.evaluations = row.get<std::int64_t>(10);
        r.best_score = row.get<std::optional<double>>(11);
        runs.push_back(std::move(r));
    }
    return runs;
}

std::optional<std::int64_t> Store::find_run(const std::string& strategy, const std::string& space,
                                            const std::string& task, const std::string& config_json) {
    Row row = impl_->select_run_by_setup.query(strategy, space, task, config_json);
    if (!row.next()) return std::nullopt;
    return row.get<std::int64_t>(0);
}

std::int64_t Store::upsert_candidate(const CandidateRecord& c) {
    impl_->insert_candidate.execute(c.expr, c.structural_hash, c.fingerprint, c.valid, c.invalid_reason,
                                    c.representative, c.cost, c.hardened_from);
    Row row = impl_->select_candidate_by_expr.query(c.expr);
    if (!row.next()) throw DbError(fmt::format("{}: candidate '{}' vanished after insert", path(), c.expr));
    return row.get<std::int64_t>(0);
}

void Store::save_calibration(const std::string& cpu, const std::vector<CostRow>& rows) {
    Transaction batch(*this);
    impl_->delete_calibration.execute(cpu);
    for (const CostRow& r : rows) impl_->insert_calibration.execute(cpu, r.direction, r.primitive, r.cost);
    batch.commit();
}

std::vector<CostRow> Store::calibration(const std::string& cpu) {
    std::vector<CostRow> out;
    Row row = impl_->select_calibration.query(cpu);
    while (row.next())
        out.push_back({row.get<std::string>(0), row.get<std::string>(1), row.get<double>(2), row.get<std::string>(3)});
    return out;
}

std::optional<CandidateRecord> Store::candidate(std::int64_t id) {
    Row row = impl_->select_candidate.query(id);
    if (!row.next()) return std::nullopt;
    return read_candidate(row);
}

std::optional<CandidateRecord> Store::candidate_by_expr(const std::string& expr) {
    Row row = impl_->select_candidate_by_expr.query(expr);
    if (!row.next()) return std::nullopt;
    return read_candidate(row);
}

std::optional<CandidateRecord> Store::candidate_by_fingerprint(std::uint64_t fp) {
    Row row = impl_->select_candidate_by_fingerprint.query(fp);
    if (!row.next()) return std::nullopt;
    return read_candidate(row);
}

std::vector<CandidateRecord> Store::equivalents_of(std::int64_t candidate) {
    std::vector<CandidateRecord> out;
    Row row = impl_->select_equivalents.query(candidate);
    while (row.next()) out.push_back(read_candidate(row));
    return out;
}

bool Store::insert_evaluation(const EvaluationRecord& e) {
    // Only a read-only connection reads a file without the engine column as it is; it never writes.
    if (!impl_->engine_column)
        throw DbError(fmt::format("'{}': cannot store an evaluation in a database opened read-only", path()));
    return impl_->insert_evaluation.execute(e.candidate, positive_or_null(e.run), e.task, e.fidelity, e.seed,
                                            e.status, e.val_acc, e.val_loss, e.train_loss, e.seconds, e.message,
                                            e.created, e.engine) > 0;
}

std::vector<EvaluationRecord> Store::evaluations_of(std::int64_t candidate) {
    std::vector<EvaluationRecord> out;
    Row row = impl_->select_evaluations_of.query(candidate);
    while (row.next()) out.push_back(read_evaluation(row));
    return out;
}

std::vector<EvaluationRecord> Store::evaluations_of_run(std::int64_t run) {
    std::vector<EvaluationRecord> out;
    Row row = impl_->select_evaluations_of_run.query(run);
    while (row.next()) out.push_back(read_evaluation(row));
    return out;
}

std::optional<EvaluationRecord> Store::find_evaluation(std::int64_t candidate, const std::string& task,
                                                       const std::string& fidelity, std::int64_t seed) {
    Row row = impl_->select_evaluation.query(candidate, task, fidelity, seed);
    if (!row.next()) return std::nullopt;
    return read_evaluation(row);
}

Transaction::Transaction(Store& store) : Transaction(store.impl_->db) {}

Transaction::Transaction(sqlite::Database& db) : db_(db) {
    if (!sqlite3_get_autocommit(db_.handle()))
        throw DbError(fmt::format("{}: a transaction is already open on this connection", db_.path()));
    db_.exec("BEGIN IMMEDIATE");
}

Transaction::~Transaction() {
    // Errors are ignored: SQLite may already have rolled back on its own (e.g. after SQLITE_FULL), and
    // there is nothing better to do in a destructor.
    if (!done_ && !sqlite3_get_autocommit(db_.handle()))
        sqlite3_exec(db_.handle(), "ROLLBACK", nullptr, nullptr, nullptr);
}

void Transaction::commit() {
    if (done_) throw DbError(fmt::format("{}: transaction committed twice", db_.path()));
    db_.exec("COMMIT");
    done_ = true;
}

std::vector<LeaderboardRow> Store::leaderboard(const LeaderboardQuery& q) {
    std::vector<LeaderboardRow> out;
    std::optional<std::string> members;   // a JSON array for json_each
    if (q.members) members = fmt::format("[{}]", fmt::join(*q.members, ","));
    Row row = impl_->select_leaderboard.query(q.task, q.run, q.fidelity, q.candidate,
                                              std::int64_t{q.min_seeds}, std::int64_t{q.top > 0 ? q.top : -1}, members);
    while (row.next()) {
        LeaderboardRow r;
        r.candidate = row.get<std::int64_t>(0);
        r.expr = row.get<std::string>(1);
        r.task = row.get<std::string>(2);
        r.fidelity = row.get<std::string>(3);
        r.mean = row.get<std::optional<double>>(4).value_or(kNaN);
        r.stddev = std::sqrt(row.get<double>(5));
        r.seeds = row.get<std::int64_t>(6);
        r.n_ok = row.get<std::int64_t>(7);
        r.n_diverged = row.get<std::int64_t>(8);
        r.n_invalid = row.get<std::int64_t>(9);
        r.n_other = row.get<std::int64_t>(10);
        r.best_run = row.get<std::optional<std::int64_t>>(11).value_or(0);
        r.equivalents = row.get<std::int64_t>(12);
        out.push_back(std::move(r));
    }
    return out;
}

void Store::save_state(std::int64_t run, const std::string& key, const std::string& blob) {
    impl_->upsert_state.execute(run, key, Blob{blob});
}

std::optional<std::string> Store::load_state(std::int64_t run, const std::string& key) {
    Row row = impl_->select_state.query(run, key);
    if (!row.next()) return std::nullopt;
    return row.blob(0);
}

bool Store::integrity_ok() {
    try {
        Statement check(impl_->db, "PRAGMA integrity_check");
        Row row = check.query();
        // One row "ok" when sound; otherwise up to 100 rows describing the problems.
        return row.next() && row.get<std::string>(0) == "ok" && !row.next();
    } catch (const sqlite::SqliteError& e) {
        const int primary = e.code & 0xff;
        if (primary == SQLITE_CORRUPT || primary == SQLITE_NOTADB) return false;
        throw;
    }
}

#undef ACTSEARCH_NOW

}  // namespace actsearch::db
