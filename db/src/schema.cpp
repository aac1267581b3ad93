#include "schema.hpp"

#include <vector>

#include <fmt/core.h>

#include "actsearch/db/store.hpp"

namespace actsearch::db::schema {

std::string leaderboard_aggregate(std::string_view evaluation_filter) {
    // Equivalent candidates share their representative's results: every evaluation is attributed to
    // COALESCE(representative, id). The variance is the sample one (n - 1), from the sum of squares in
    // one pass (SQLite has no stddev); values are accuracies in [0, 1], so the cancellation error is
    // ~1e-16 relative, far below what is printed. It is 0 for a single seed.
    return fmt::format(R"(
SELECT COALESCE(c.representative, c.id) AS candidate, e.task AS task, e.fidelity AS fidelity,
       AVG(CASE WHEN e.status = 'ok' THEN e.val_acc END) AS mean,
       CASE WHEN SUM(e.status = 'ok') > 1
            THEN MAX(0.0, (TOTAL(CASE WHEN e.status = 'ok' THEN e.val_acc * e.val_acc END)
                           - SUM(e.status = 'ok') * AVG(CASE WHEN e.status = 'ok' THEN e.val_acc END)
                                                  * AVG(CASE WHEN e.status = 'ok' THEN e.val_acc END))
                          / (SUM(e.status = 'ok') - 1))
            ELSE 0.0 END AS variance,
       COUNT(DISTINCT CASE WHEN e.status = 'ok' THEN e.seed END) AS seeds,
       SUM(e.status = 'ok') AS n_ok,
       SUM(e.status = 'diverged') AS n_diverged,
       SUM(e.status = 'invalid') AS n_invalid,
       SUM(e.status NOT IN ('ok', 'diverged', 'invalid')) AS n_other
FROM evaluations AS e JOIN candidates AS c ON c.id = e.candidate
WHERE e.status != 'over_budget' AND ({})
GROUP BY 1, 2, 3)",
                       evaluation_filter);
}

std::string leaderboard_decorate(std::string_view groups, std::string_view evaluation_filter) {
    // Per output row only (after any LIMIT): the expression, the run of the best ok evaluation, and how
    // many candidates share the row. Both subqueries use indexes.
    return fmt::format(R"(
SELECT g.candidate, k.expr, g.task, g.fidelity, g.mean, g.variance, g.seeds, g.n_ok, g.n_diverged, g.n_invalid,
       g.n_other,
       (SELECT e.run FROM evaluations AS e JOIN candidates AS c ON c.id = e.candidate
        WHERE e.candidate IN (SELECT id FROM candidates WHERE id = g.candidate OR representative = g.candidate)
          AND e.task = g.task AND e.fidelity = g.fidelity AND e.status = 'ok' AND {1}
        ORDER BY e.val_acc DESC, e.id LIMIT 1) AS best_run,
       (SELECT COUNT(*) FROM candidates AS q WHERE q.representative = g.candidate) AS equivalents
FROM ({0}) AS g JOIN candidates AS k ON k.id = g.candidate)",
                       groups, evaluation_filter);
}

std::string leaderboard_select(std::string_view evaluation_filter) {
    return leaderboard_decorate(leaderboard_aggregate(evaluation_filter), evaluation_filter);
}

namespace {

// Version 1. Hashes are 64-bit unsigned values stored bit-cast to INTEGER (signed 64-bit). Times are
// ISO-8601 UTC text. NaN scores (a diverged loss) are stored as NULL, which is what SQLite makes of NaN.
std::string schema_v1() {
    return R"(
CREATE TABLE runs (
    id        INTEGER PRIMARY KEY,
    created   TEXT NOT NULL,
    finished  TEXT,
    status    TEXT NOT NULL CHECK (status IN ('running', 'finished', 'interrupted', 'failed')),
    strategy  TEXT NOT NULL,
    space     TEXT NOT NULL,
    task      TEXT NOT NULL,
    seed      INTEGER NOT NULL,
    config    TEXT NOT NULL,
    version   TEXT NOT NULL
);
CREATE INDEX runs_by_setup ON runs (strategy, space, task);

CREATE TABLE candidates (
    id              INTEGER PRIMARY KEY,
    expr            TEXT NOT NULL UNIQUE,
    structural_hash INTEGER NOT NULL,
    fingerprint     INTEGER NOT NULL,
    representative  INTEGER REFERENCES candidates (id),
    valid           INTEGER NOT NULL CHECK (valid IN (0, 1)),
    invalid_reason  TEXT NOT NULL DEFAULT ''
);
CREATE INDEX candidates_by_fingerprint ON candidates (fingerprint);
CREATE INDEX candidates_by_representative ON candidates (representative);

CREATE TABLE evaluations (
    id          INTEGER PRIMARY KEY,
    candidate   INTEGER NOT NULL REFERENCES candidates (id),
    run         INTEGER REFERENCES runs (id),
    task        TEXT NOT NULL,
    fidelity    TEXT NOT NULL,
    seed        INTEGER NOT NULL,
    status      TEXT NOT NULL CHECK (status IN ('ok', 'diverged', 'invalid', 'timeout', 'error')),
    val_acc     REAL,
    val_loss    REAL,
    train_loss  REAL,
    seconds     REAL NOT NULL,
    message     TEXT NOT NULL DEFAULT '',
    created     TEXT NOT NULL,
    UNIQUE (candidate, task, fidelity, seed)
);
CREATE INDEX evaluations_by_run ON evaluations (run);

CREATE TABLE strategy_state (
    run      INTEGER NOT NULL REFERENCES runs (id),
    key      TEXT NOT NULL,
    blob     BLOB NOT NULL,
    updated  TEXT NOT NULL,
    PRIMARY KEY (run, key)
) WITHOUT ROWID;

CREATE VIEW leaderboard AS)" +
           leaderboard_select("1") + ";\n";
}

struct Header {
    std::int64_t application_id = 0;
    std::int64_t user_version = 0;
    std::int64_t objects = 0;   // tables, indexes, views
};

Header read_header(sqlite::Database& db) {
    try {
        Header h;
        h.application_id = db.query_int("PRAGMA application_id");
        h.user_version = db.query_int("PRAGMA user_version");
        h.objects = db.query_int("SELECT COUNT(*) FROM sqlite_schema");
        return h;
    } catch (const sqlite::SqliteError& e) {
        // Random bytes: "file is not a database"; a damaged header: "database disk image is malformed".
        throw DbError(fmt::format("'{}' is not a readable actsearch database ({})", db.path(), e.sqlite_message));
    }
}

// Throws unless the file is ours or empty; returns the version it is at (0 when empty).
int check_ownership(const sqlite::Database& db, const Header& h, int target_version) {
    if (h.application_id == 0 && h.user_version == 0 && h.objects == 0) return 0;
    if (h.application_id != kApplicationId) {
        throw DbError(fmt::format("'{}' is an SQLite database but not an actsearch one (application_id {})",
                                  db.path(), h.application_id));
    }
    if (h.user_version > target_version) {
        throw DbError(fmt::format("'{}' has schema version {}, newer than this actsearch supports ({}): "
                                  "use a newer actsearch",
                                  db.path(), h.user_version, target_version));
    }
    return static_cast<int>(h.user_version);
}

}  // namespace

// Version 2: the cost model and hardening. A candidate's inference cost relative to relu(x) (NULL when
// not computed, e.g. rows written by version 1), the candidate a hardened twin was derived from, and the
// per-primitive costs measured by `actsearch calibrate`, per CPU model.
std::string schema_v2() {
    return R"(
ALTER TABLE candidates ADD COLUMN cost REAL;
ALTER TABLE candidates ADD COLUMN hardened_from INTEGER REFERENCES candidates (id);
CREATE INDEX candidates_by_origin ON candidates (hardened_from);

CREATE TABLE cost_calibration (
    cpu        TEXT NOT NULL,
    direction  TEXT NOT NULL CHECK (direction IN ('forward', 'training')),
    primitive  TEXT NOT NULL,
    cost       REAL NOT NULL,
    created    TEXT NOT NULL,
    PRIMARY KEY (cpu, direction, primitive)
) WITHOUT ROWID;
)";
}

// Version 3: a search with --max-cost stores the candidates it skips as evaluations with status
// 'over_budget' (never trained). SQLite cannot change a CHECK constraint in place, so the evaluations
// table is rebuilt (rows and ids kept) and the leaderboard view, which leaves those rows out, recreated.
std::string schema_v3() {
    return R"(
CREATE TABLE evaluations_v3 (
    id          INTEGER PRIMARY KEY,
    candidate   INTEGER NOT NULL REFERENCES candidates (id),
    run         INTEGER REFERENCES runs (id),
    task        TEXT NOT NULL,
    fidelity    TEXT NOT NULL,
    seed        INTEGER NOT NULL,
    status      TEXT NOT NULL CHECK (status IN ('ok', 'diverged', 'invalid', 'timeout', 'error', 'over_budget')),
    val_acc     REAL,
    val_loss    REAL,
    train_loss  REAL,
    seconds     REAL NOT NULL,
    message     TEXT NOT NULL DEFAULT '',
    created     TEXT NOT NULL,
    UNIQUE (candidate, task, fidelity, seed)
);
INSERT INTO evaluations_v3 (id, candidate, run, task, fidelity, seed, status, val_acc, val_loss, train_loss,
                            seconds, message, created)
    SELECT id, candidate, run, task, fidelity, seed, status, val_acc, val_loss, train_loss, seconds, message, created
    FROM evaluations;
DROP VIEW leaderboard;
DROP TABLE evaluations;
ALTER TABLE evaluations_v3 RENAME TO evaluations;
CREATE INDEX evaluations_by_run ON evaluations (run);
CREATE VIEW leaderboard AS)" +
           leaderboard_select("1") + ";\n";
}

// Version 4: the engine that trained each evaluation (engine::identity(): its bit-changing revision and
// oneDNN's version). Engine changes that keep a recipe change the bits of its scores under the same
// fidelity key; the column lets a ranking say when it mixes engines. NULL: not recorded (rows written
// before version 4, and rows never trained).
std::string schema_v4() {
    return "ALTER TABLE evaluations ADD COLUMN engine TEXT;\n";
}

std::span<const Migration> migrations() {
    static const std::vector<Migration> all = {{1, schema_v1()}, {2, schema_v2()}, {3, schema_v3()}, {4, schema_v4()}};
    return all;
}

bool older_than(sqlite::Database& db, std::span<const Migration> steps) {
    const Header h = read_header(db);
    const int target = steps.empty() ? 0 : steps.back().to_version;
    return h.application_id == kApplicationId && h.user_version > 0 && int(h.user_version) < target;
}

void open(sqlite::Database& db, std::span<const Migration> steps, int readable_from) {
    const int target = steps.empty() ? 0 : steps.back().to_version;
    const int version = check_ownership(db, read_header(db), target);
    if (version == target) return;
    if (db.read_only()) {
        if (readable_from > 0 && version >= readable_from) return;   // a reader can use it as it is
        if (version == 0) throw DbError(fmt::format("'{}' is empty: not an actsearch database", db.path()));
        throw DbError(fmt::format("'{}' has schema version {}; open it once read-write (e.g. with `actsearch "
                                  "search`) to migrate it to version {}",
                                  db.path(), version, target));
    }
    Transaction tx(db);
    // Re-read under the write lock: another process may have migrated the file meanwhile.
    const int current = check_ownership(db, read_header(db), target);
    for (const Migration& step : steps) {
        if (step.to_version <= current) continue;
        try {
            db.exec(step.sql.c_str());
        } catch (const sqlite::SqliteError& e) {
            throw DbError(fmt::format("migrating '{}' to schema version {} failed: {}", db.path(),
                                      step.to_version, e.sqlite_message));
        }
    }
    // PRAGMAs take no bound parameters; these are integers of ours.
    db.exec(fmt::format("PRAGMA application_id = {}; PRAGMA user_version = {}", kApplicationId, target).c_str());
    tx.commit();
}

}  // namespace actsearch::db::schema
