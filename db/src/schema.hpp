// The database schema and its forward migrations. PRAGMA user_version is the schema version and
// PRAGMA application_id marks the file as ours, so a foreign SQLite file is refused rather than written.
#pragma once

#include <cstdint>
#include <span>
#include <string>
#include <string_view>

#include "sqlite.hpp"

namespace actsearch::db::schema {

// "ACTS" in ASCII; `sqlite3 F 'PRAGMA application_id'` prints 1094931539.
inline constexpr std::int32_t kApplicationId = 0x41435453;

// Turns a database at version to_version - 1 into one at to_version. Migrations run in order inside one
// transaction, so a failing step leaves the file as it was.
struct Migration {
    int to_version;
    std::string sql;
};

// The oldest version a read-only connection reads as it is: version 3 only widened a CHECK constraint
// (and rebuilt the view), and version 4's one new column (evaluations.engine) is read as NULL where it
// is missing (the store asks whether it exists), so every query works on a version-2 file.
inline constexpr int kReadableFrom = 2;

// The real migrations, versions 1..Store::kSchemaVersion.
std::span<const Migration> migrations();

// Checks the file is an actsearch database (or empty), then brings it to the last migration's version.
// A read-only database must already be at that version, or at readable_from or later when given (> 0).
// Throws DbError with one line on a foreign file, a file that is not SQLite, a newer schema, or a
// failing migration.
void open(sqlite::Database& db, std::span<const Migration> migrations, int readable_from = 0);

// True when db is an actsearch database at an older schema version than the migrations reach (a
// reader then cannot use it until it is migrated).
bool older_than(sqlite::Database& db, std::span<const Migration> migrations);

// The leaderboard over the evaluations that satisfy `evaluation_filter`, an SQL condition on `e`
// (evaluations) and `c` (their candidates). The `leaderboard` view is leaderboard_select("1"); the store
// runs leaderboard_decorate over a filtered, ranked and limited leaderboard_aggregate, with the same
// filter and bound parameters, so that per-row subqueries run for the shown rows only.
std::string leaderboard_aggregate(std::string_view evaluation_filter);
std::string leaderboard_decorate(std::string_view groups, std::string_view evaluation_filter);
std::string leaderboard_select(std::string_view evaluation_filter);

}  // namespace actsearch::db::schema
