// The lock that keeps a second alertd off a database already in use. Two processes on one
// SQLite file would both send every notification and interleave their alert logs; so the
// daemon takes an exclusive flock(2) on `<database>.lock` (beside the database, holding the
// owner's pid) before opening the database, and holds it until it exits. The kernel releases
// a flock when its holder dies, even by kill -9, so a crash never leaves a stale lock; the
// file itself is left in place (removing it would let a third process lock a new inode while
// the second still holds the old one).
//
// Thread-safety: a DatabaseLock is immutable; take it once, from the thread that starts the
// daemon.
#pragma once

#include <memory>
#include <string>

#include "core/result.h"

namespace alertd::storage {

class DatabaseLock {
 public:
  ~DatabaseLock();  // releases the lock
  DatabaseLock(const DatabaseLock&) = delete;
  DatabaseLock& operator=(const DatabaseLock&) = delete;

  const std::string& path() const { return path_; }  // the lock file

 private:
  friend Result<std::unique_ptr<DatabaseLock>> LockDatabase(const std::string& db_path);
  DatabaseLock(int fd, std::string path) : fd_(fd), path_(std::move(path)) {}
  int fd_;
  std::string path_;
};

// Takes the lock of the database at `db_path` without waiting and writes this process's pid
// into the lock file. Fails with Conflict "<db_path> is in use by another alertd (pid N)"
// when another process holds it (the pid as that process wrote it), and with Internal when
// the lock file cannot be created.
Result<std::unique_ptr<DatabaseLock>> LockDatabase(const std::string& db_path);

}  // namespace alertd::storage
