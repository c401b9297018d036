#include "storage/db_lock.h"

#include <fcntl.h>
#include <sys/file.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <string_view>

namespace alertd::storage {

DatabaseLock::~DatabaseLock() { ::close(fd_); }

Result<std::unique_ptr<DatabaseLock>> LockDatabase(const std::string& db_path) {
  const std::string path = db_path + ".lock";
  const int fd = ::open(path.c_str(), O_RDWR | O_CREAT | O_CLOEXEC, 0644);
  if (fd < 0) {
    return Status::Internal("cannot create the lock file " + path + ": " + std::strerror(errno));
  }
  int rc;
  do {
    rc = ::flock(fd, LOCK_EX | LOCK_NB);
  } while (rc != 0 && errno == EINTR);
  if (rc != 0) {
    const int err = errno;
    if (err != EWOULDBLOCK) {
      ::close(fd);
      return Status::Internal("cannot lock " + path + ": " + std::strerror(err));
    }
    char buf[32] = {};
    const ssize_t n = ::pread(fd, buf, sizeof buf - 1, 0);
    ::close(fd);
    std::string_view pid(buf, n > 0 ? static_cast<size_t>(n) : 0);
    while (!pid.empty() && (pid.back() == '\n' || pid.back() == ' ')) pid.remove_suffix(1);
    if (pid.empty()) pid = "unknown";
    return Status::Conflict(db_path + " is in use by another alertd (pid " + std::string(pid) +
                            ")");
  }
  const std::string pid = std::to_string(::getpid()) + "\n";
  if (::ftruncate(fd, 0) != 0 ||
      ::pwrite(fd, pid.data(), pid.size(), 0) != static_cast<ssize_t>(pid.size())) {
    const int err = errno;
    ::close(fd);
    return Status::Internal("cannot write the lock file " + path + ": " + std::strerror(err));
  }
  return std::unique_ptr<DatabaseLock>(new DatabaseLock(fd, path));
}

}  // namespace alertd::storage
