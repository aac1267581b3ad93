// A thin RAII layer over the SQLite C API, after SQLiteCpp (Database, Statement; the transaction is
// db::Transaction in store.hpp) but only what the store needs. Every failure becomes a one-line
// DbError naming the database file.
#pragma once

#include <concepts>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <type_traits>
#include <utility>

#include "actsearch/db/store.hpp"   // DbError

struct sqlite3;
struct sqlite3_stmt;

namespace actsearch::db::sqlite {

// A DbError that also carries SQLite's own (extended) result code and message, for callers that want to
// rephrase it.
struct SqliteError : DbError {
    SqliteError(const std::string& full_message, int result_code, std::string message)
        : DbError(full_message), code(result_code), sqlite_message(std::move(message)) {}
    int code;
    std::string sqlite_message;
};

// Immutable: read-only, and the file is taken to be unchanging (SQLite's `immutable=1`): no locks, no
// -wal/-shm files created or read. Only for a file no connection has open (db/file_access.hpp).
enum class OpenMode { ReadWriteCreate, ReadOnly, Immutable };

class Database {
public:
    // Opens (or creates) the file; sets a busy timeout so that a reader and a writer in different
    // processes wait for each other's short locks instead of failing with SQLITE_BUSY.
    Database(const std::string& path, OpenMode mode, int busy_timeout_ms = 10'000);
    ~Database();
    Database(const Database&) = delete;
    Database& operator=(const Database&) = delete;

    // Runs one or more statements that take no parameters and whose rows are not needed (DDL, PRAGMA
    // assignments, BEGIN/COMMIT).
    void exec(const char* sql);
    // The first column of the first row of a parameterless query (PRAGMA user_version, COUNT(*)).
    std::int64_t query_int(const char* sql);

    bool read_only() const noexcept { return mode_ != OpenMode::ReadWriteCreate; }
    OpenMode mode() const noexcept { return mode_; }
    const std::string& path() const noexcept { return path_; }
    sqlite3* handle() const noexcept { return db_; }

    // Throws SqliteError "<path>: <what>: <sqlite message>" for the connection's last error.
    [[noreturn]] void fail(std::string_view what) const;

private:
    sqlite3* db_ = nullptr;
    std::string path_;
    OpenMode mode_;
};

class Row;

// Bytes stored as a BLOB rather than TEXT (no encoding assumed).
struct Blob {
    std::string_view bytes;
};

template <typename T> inline constexpr bool is_optional = false;
template <typename T> inline constexpr bool is_optional<std::optional<T>> = true;

// A prepared statement, compiled once and reused: bind parameters ?1..?N, step, reset.
class Statement {
public:
    Statement(Database& db, std::string_view sql);
    ~Statement();
    Statement(Statement&& other) noexcept;
    Statement& operator=(Statement&&) = delete;
    Statement(const Statement&) = delete;
    Statement& operator=(const Statement&) = delete;

    // Resets the statement and binds args to ?1, ?2, ...; the returned Row resets it again when it goes
    // out of scope, so a reused SELECT never holds a read snapshot open (in WAL mode that would pin old
    // pages and hide rows committed since).
    template <typename... Args>
    [[nodiscard]] Row query(const Args&... args);
    // Binds, steps to completion, resets. Returns sqlite3_changes() (0 for an ignored INSERT OR IGNORE).
    template <typename... Args>
    int execute(const Args&... args);

    // Low level; prefer query/execute.
    void reset() noexcept;
    bool step();   // true: a row is ready; false: done
    void bind(int index, std::nullopt_t);
    void bind(int index, std::int64_t v);
    void bind(int index, std::uint64_t v);   // 64-bit hashes: stored bit-cast to a signed INTEGER
    void bind(int index, double v);
    void bind(int index, std::string_view v);
    void bind(int index, const std::string& v) { bind(index, std::string_view(v)); }
    void bind(int index, const char* v) { bind(index, std::string_view(v)); }
    void bind(int index, Blob v);
    void bind(int index, bool v) { bind(index, std::int64_t{v ? 1 : 0}); }
    template <std::integral T>
        requires(!std::same_as<T, bool> && !std::same_as<T, std::int64_t> && !std::same_as<T, std::uint64_t>)
    void bind(int index, T v) { bind(index, static_cast<std::int64_t>(v)); }
    template <typename T>
    void bind(int index, const std::optional<T>& v) {
        if (v) bind(index, *v); else bind(index, std::nullopt);
    }

    int changes() const noexcept;   // rows changed by the last execution
    bool is_null(int column) const;
    std::int64_t column_int64(int column) const;
    double column_double(int column) const;
    std::string column_text(int column) const;
    std::string column_blob(int column) const;

private:
    Database* db_;
    sqlite3_stmt* stmt_ = nullptr;
};

// A statement being stepped; resets it on destruction.
class Row {
public:
    explicit Row(Statement& s) noexcept : stmt_(&s) {}
    ~Row() { if (stmt_) stmt_->reset(); }
    Row(Row&& other) noexcept : stmt_(other.stmt_) { other.stmt_ = nullptr; }
    Row(const Row&) = delete;
    Row& operator=(const Row&) = delete;
    Row& operator=(Row&&) = delete;

    bool next() { return stmt_->step(); }
    std::string blob(int column) const { return stmt_->column_blob(column); }

    // Typed column access: int64, uint64 (bit-cast back), int, bool, double, std::string, and
    // std::optional of those (nullopt for SQL NULL). A non-optional read of NULL gives 0 / "".
    template <typename T>
    T get(int column) const {
        if constexpr (is_optional<T>) {
            if (stmt_->is_null(column)) return std::nullopt;
            return get<typename T::value_type>(column);
        } else if constexpr (std::same_as<T, std::string>) {
            return stmt_->column_text(column);
        } else if constexpr (std::same_as<T, double>) {
            return stmt_->column_double(column);
        } else if constexpr (std::same_as<T, bool>) {
            return stmt_->column_int64(column) != 0;
        } else if constexpr (std::same_as<T, std::uint64_t>) {
            return static_cast<std::uint64_t>(stmt_->column_int64(column));
        } else {
            static_assert(std::integral<T>, "unsupported column type");
            return static_cast<T>(stmt_->column_int64(column));
        }
    }

private:
    Statement* stmt_;
};

template <typename... Args>
Row Statement::query(const Args&... args) {
    reset();
    int index = 0;
    (bind(++index, args), ...);
    return Row(*this);
}

template <typename... Args>
int Statement::execute(const Args&... args) {
    Row row = query(args...);
    while (row.next()) {
    }
    return changes();
}

}  // namespace actsearch::db::sqlite
