// How a database file is opened when it, its folder or its -wal/-shm files belong to another user or
// cannot be written: the policy of db/SCHEMA.md ("Databases shared between users, read-only folders").
#pragma once

#include <string>

#include "sqlite.hpp"

namespace actsearch::db::file_access {

// How a reader opens `path` (which exists): ReadOnly where SQLite's own read-only WAL support works
// without leaving files another user cannot write, Immutable where any -wal/-shm file it created would
// belong to the wrong user or could not be created at all. Throws BadDatabase (one line, naming the
// file and the fix) when the file cannot be read consistently.
sqlite::OpenMode reader_mode(const std::string& path);

// Before a writer opens `path`: throws BadDatabase (one line, naming the file and the fix) when the
// file, its folder or an existing -wal/-shm file cannot be written; removes -wal/-shm files of another
// user when that is safe (the -wal holds no transaction and no process has them open).
void prepare_writer(const std::string& path);

}  // namespace actsearch::db::file_access
