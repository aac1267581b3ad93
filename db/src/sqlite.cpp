#include "sqlite.hpp"

#include <sqlite3.h>

#include <bit>
#include <utility>

#include <fmt/core.h>

namespace actsearch::db::sqlite {

namespace {

// The first line of a statement, shortened, to say which statement failed to compile.
std::string excerpt(std::string_view sql) {
    while (!sql.empty() && (sql.front() == ' ' || sql.front() == '\n')) sql.remove_prefix(1);
    sql = sql.substr(0, sql.find('\n'));
    constexpr std::size_t kMax = 60;
    return sql.size() > kMax ? std::string(sql.substr(0, kMax)) + "..." : std::string(sql);
}

// An SQLite URI for a file name: "file:" and the path with '%', '?' and '#' escaped; an absolute path
// gets an empty authority ("file:///a/b").
std::string file_uri(const std::string& path, std::string_view query) {
    std::string uri = path.starts_with('/') ? "file://" : "file:";
    for (const char c : path) {
        switch (c) {
            case '%': uri += "%25"; break;
            case '?': uri += "%3f"; break;
            case '#': uri += "%23"; break;
            default: uri += c;
        }
    }
    uri += '?';
    uri += query;
    return uri;
}

}  // namespace

Database::Database(const std::string& path, OpenMode mode, int busy_timeout_ms) : path_(path), mode_(mode) {
    int rc = SQLITE_OK;
    switch (mode) {
        case OpenMode::ReadWriteCreate:
            rc = sqlite3_open_v2(path.c_str(), &db_, SQLITE_OPEN_READWRITE | SQLITE_OPEN_CREATE, nullptr);
            break;
        case OpenMode::ReadOnly: rc = sqlite3_open_v2(path.c_str(), &db_, SQLITE_OPEN_READONLY, nullptr); break;
        case OpenMode::Immutable:
            rc = sqlite3_open_v2(file_uri(path, "immutable=1").c_str(), &db_, SQLITE_OPEN_READONLY | SQLITE_OPEN_URI,
                                 nullptr);
            break;
    }
    if (rc != SQLITE_OK) {
        // sqlite3_open_v2 allocates a handle even on failure, to carry the message.
        std::string message = db_ ? sqlite3_errmsg(db_) : sqlite3_errstr(rc);
        sqlite3_close(db_);
        db_ = nullptr;
        throw SqliteError(fmt::format("{}: cannot open database: {}", path, message), rc, message);
    }
    sqlite3_extended_result_codes(db_, 1);
    sqlite3_busy_timeout(db_, busy_timeout_ms);
}

Database::~Database() {
    // Every Statement must be finalized first; Store declares them after its Database.
    sqlite3_close(db_);
}

void Database::fail(std::string_view what) const {
    const std::string message = sqlite3_errmsg(db_);
    const int code = sqlite3_extended_errcode(db_);
    if (what.empty()) throw SqliteError(fmt::format("{}: {}", path_, message), code, message);
    throw SqliteError(fmt::format("{}: {}: {}", path_, what, message), code, message);
}

void Database::exec(const char* sql) {
    if (sqlite3_exec(db_, sql, nullptr, nullptr, nullptr) != SQLITE_OK) fail("");
}

std::int64_t Database::query_int(const char* sql) {
    Statement s(*this, sql);
    Row row = s.query();
    return row.next() ? row.get<std::int64_t>(0) : 0;
}

Statement::Statement(Database& db, std::string_view sql) : db_(&db) {
    // PERSISTENT: these statements live as long as the store and are reused many times.
    if (sqlite3_prepare_v3(db.handle(), sql.data(), static_cast<int>(sql.size()), SQLITE_PREPARE_PERSISTENT,
                           &stmt_, nullptr) != SQLITE_OK) {
        db.fail(fmt::format("cannot prepare '{}'", excerpt(sql)));
    }
}

Statement::~Statement() { sqlite3_finalize(stmt_); }

Statement::Statement(Statement&& other) noexcept
    : db_(other.db_), stmt_(std::exchange(other.stmt_, nullptr)) {}

void Statement::reset() noexcept {
    sqlite3_reset(stmt_);
    sqlite3_clear_bindings(stmt_);
}

bool Statement::step() {
    switch (sqlite3_step(stmt_)) {
        case SQLITE_ROW: return true;
        case SQLITE_DONE: return false;
        default: db_->fail("");
    }
}

int Statement::changes() const noexcept { return sqlite3_changes(db_->handle()); }

void Statement::bind(int index, std::nullopt_t) {
    if (sqlite3_bind_null(stmt_, index) != SQLITE_OK) db_->fail("cannot bind parameter");
}

void Statement::bind(int index, std::int64_t v) {
    if (sqlite3_bind_int64(stmt_, index, v) != SQLITE_OK) db_->fail("cannot bind parameter");
}

void Statement::bind(int index, std::uint64_t v) { bind(index, std::bit_cast<std::int64_t>(v)); }

void Statement::bind(int index, double v) {
    if (sqlite3_bind_double(stmt_, index, v) != SQLITE_OK) db_->fail("cannot bind parameter");
}

void Statement::bind(int index, std::string_view v) {
    if (sqlite3_bind_text64(stmt_, index, v.data(), v.size(), SQLITE_TRANSIENT, SQLITE_UTF8) != SQLITE_OK)
        db_->fail("cannot bind parameter");
}

void Statement::bind(int index, Blob v) {
    if (sqlite3_bind_blob64(stmt_, index, v.bytes.data(), v.bytes.size(), SQLITE_TRANSIENT) != SQLITE_OK)
        db_->fail("cannot bind parameter");
}

bool Statement::is_null(int column) const { return sqlite3_column_type(stmt_, column) == SQLITE_NULL; }

std::int64_t Statement::column_int64(int column) const { return sqlite3_column_int64(stmt_, column); }

double Statement::column_double(int column) const { return sqlite3_column_double(stmt_, column); }

std::string Statement::column_text(int column) const {
    const auto* text = reinterpret_cast<const char*>(sqlite3_column_text(stmt_, column));
    // Read the size after the text: sqlite3_column_text may convert the value first.
    const int size = sqlite3_column_bytes(stmt_, column);
    return text ? std::string(text, static_cast<std::size_t>(size)) : std::string();
}

std::string Statement::column_blob(int column) const {
    const auto* bytes = static_cast<const char*>(sqlite3_column_blob(stmt_, column));
    const int size = sqlite3_column_bytes(stmt_, column);
    return bytes ? std::string(bytes, static_cast<std::size_t>(size)) : std::string();
}

}  // namespace actsearch::db::sqlite
