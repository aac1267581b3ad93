#include "file_access.hpp"

#include <fcntl.h>
#include <pwd.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <filesystem>
#include <optional>
#include <vector>

#include <fmt/core.h>

#include "actsearch/db/store.hpp"

namespace actsearch::db::file_access {

namespace {

std::string folder_of(const std::string& path) {
    const std::filesystem::path parent = std::filesystem::path(path).parent_path();
    return parent.empty() ? std::string(".") : parent.string();
}

std::optional<struct stat> stat_of(const std::string& file) {
    struct stat st {};
    if (::stat(file.c_str(), &st) != 0) return std::nullopt;
    return st;
}

bool can_write(const std::string& file) { return ::access(file.c_str(), W_OK) == 0; }

// Creating -wal and -shm needs write and search permission on the folder (root too, on a read-only
// file system: access() reports EROFS).
bool can_create_in(const std::string& folder) { return ::access(folder.c_str(), W_OK | X_OK) == 0; }

std::string user_name(uid_t uid) {
    struct passwd entry {};
    struct passwd* found = nullptr;
    char buffer[1024];
    if (::getpwuid_r(uid, &entry, buffer, sizeof buffer, &found) == 0 && found) return found->pw_name;
    return fmt::format("uid {}", uid);
}

// Every SQLite connection that has the wal-index open holds a shared lock on its "dead man switch" byte
// (os_unix.c: UNIX_SHM_DMS, byte 128 of the -shm file) until it closes. F_GETLK for a write lock there
// reports any such lock of another process. Unknown (cannot open the file): in use, to be safe.
// (Closing the descriptor drops this process's own POSIX locks on the file; the caller runs before this
// process opens the database.)
bool shm_in_use(const std::string& shm) {
    const int fd = ::open(shm.c_str(), O_RDONLY | O_CLOEXEC | O_NOFOLLOW);
    if (fd < 0) return true;
    struct flock lock {};
    lock.l_type = F_WRLCK;
    lock.l_whence = SEEK_SET;
    lock.l_start = 128;
    lock.l_len = 1;
    const bool in_use = ::fcntl(fd, F_GETLK, &lock) != 0 || lock.l_type != F_UNLCK;
    ::close(fd);
    return in_use;
}

}  // namespace

sqlite::OpenMode reader_mode(const std::string& path) {
    const std::optional<struct stat> db = stat_of(path);
    if (!db) return sqlite::OpenMode::ReadOnly;   // SQLite reports the missing file
    const std::string wal = path + "-wal";
    const std::string shm = path + "-shm";
    const bool can_create = can_create_in(folder_of(path));

    if (const std::optional<struct stat> w = stat_of(wal)) {
        // A writer is at work, or one stopped without removing its files. SQLite reads through the
        // existing wal-index (read-only when this user cannot write it) and creates nothing.
        if (stat_of(shm) || can_create) return sqlite::OpenMode::ReadOnly;
        // No wal-index and none can be created: an empty -wal holds nothing, the main file is complete.
        if (w->st_size == 0) return sqlite::OpenMode::Immutable;
        throw BadDatabase(fmt::format(
            "'{}' holds transactions not yet in '{}', and '{}' cannot be created to read them: ask {} to run "
            "`sqlite3 '{}' 'PRAGMA wal_checkpoint(TRUNCATE)'`, or copy the three files to a folder you can write",
            wal, path, shm, user_name(w->st_uid), path));
    }
    // An interrupted first migration left a rollback journal: SQLite must see it.
    if (stat_of(path + "-journal")) return sqlite::OpenMode::ReadOnly;
    // No connection has the file open: everything committed is in the main file. A read-only connection
    // would create -wal and -shm and leave them behind (it cannot checkpoint, so it never removes them).
    // That is harmless where they belong to the file's owner (root's are given to the owner by SQLite),
    // but another user's would stop the owner's next write, and in a folder nobody can write they cannot
    // be created at all: there the main file is read as it is, immutable (db/SCHEMA.md).
    const uid_t me = ::geteuid();
    if (can_create && (me == 0 || me == db->st_uid)) return sqlite::OpenMode::ReadOnly;
    return sqlite::OpenMode::Immutable;
}

void prepare_writer(const std::string& path) {
    const std::string folder = folder_of(path);
    const std::string wal = path + "-wal";
    const std::string shm = path + "-shm";
    const std::optional<struct stat> db = stat_of(path);
    if (db && !can_write(path)) {
        throw BadDatabase(fmt::format("'{}' is not writable by you (owner {}, mode {:04o}): ask its owner for write "
                                      "permission, or write to another --db",
                                      path, user_name(db->st_uid), db->st_mode & 07777));
    }

    std::vector<std::string> foreign;   // existing -wal/-shm files this user cannot write
    for (const std::string& file : {wal, shm})
        if (stat_of(file) && !can_write(file)) foreign.push_back(file);

    if (foreign.empty()) {
        // WAL mode keeps -wal and -shm next to the database; a new database is created there too.
        const bool can_create = can_create_in(folder);
        const int error = errno;
        if (!can_create && !(db && stat_of(wal) && stat_of(shm))) {
            throw BadDatabase(fmt::format("cannot write '{}': cannot create files in folder '{}' ({}): make the folder "
                                          "writable, or write to another --db",
                                          path, folder, std::strerror(error)));
        }
        return;
    }

    const std::optional<struct stat> first = stat_of(foreign.front());
    const std::string owner = first ? user_name(first->st_uid) : std::string("another user");
    const std::optional<struct stat> w = stat_of(wal);
    if (w && w->st_size > 0) {
        throw BadDatabase(fmt::format(
            "'{}' belongs to {}, is not writable by you and holds transactions not yet in '{}': ask {} to run "
            "`sqlite3 '{}' 'PRAGMA wal_checkpoint(TRUNCATE)'` (or give the database's group write permission on the "
            "-wal and -shm files)",
            wal, owner, path, owner, path));
    }
    if (stat_of(shm) && shm_in_use(shm)) {
        throw BadDatabase(fmt::format("'{}' belongs to {}, is not writable by you and is open in another process: "
                                      "retry when that process (e.g. {}'s actsearch or sqlite3 reading '{}') has ended",
                                      shm, owner, owner, path));
    }
    // An empty -wal and a wal-index nobody has open: what a read-only opener of another user leaves. They
    // hold nothing; removing them is what SQLite itself does when the last connection closes.
    for (const std::string& file : {wal, shm}) {
        if (::unlink(file.c_str()) != 0 && errno != ENOENT) {
            const int error = errno;
            throw BadDatabase(fmt::format("'{}' belongs to {} and is not writable by you, and removing it failed ({}): "
                                          "as {} or root, remove '{}' and '{}' (they are empty and unused), then retry",
                                          file, owner, std::strerror(error), owner, wal, shm));
        }
    }
}

}  // namespace actsearch::db::file_access
