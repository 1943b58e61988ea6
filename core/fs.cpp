#include "core/fs.h"

#include <fcntl.h>
#include <sys/file.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <ctime>
#include <fstream>
#include <sstream>

#include "core/error.h"

namespace r1::core {
namespace {

std::string errno_text() { return std::strerror(errno); }

void write_all(int fd, const char* data, std::size_t size, const stdfs::path& path) {
  while (size > 0) {
    const ssize_t n = ::write(fd, data, size);
    if (n < 0) {
      if (errno == EINTR) continue;
      throw Error(str_cat(path.string(), ": write failed: ", errno_text()));
    }
    data += n;
    size -= static_cast<std::size_t>(n);
  }
}

// The temp name carries the pid so two writers never share a temp file; it starts with '.' so
// directory scans that look for finished artifacts skip it.
stdfs::path temp_path_for(const stdfs::path& path) {
  return path.parent_path() / str_cat(".", path.filename().string(), ".tmp.", ::getpid());
}

}  // namespace

std::string read_file(const stdfs::path& path) {
  std::ifstream in(path, std::ios::binary);
  if (!in) throw Error(str_cat(path.string(), ": cannot open: ", errno_text()));
  std::ostringstream out;
  out << in.rdbuf();
  if (in.bad()) throw Error(str_cat(path.string(), ": read failed"));
  return std::move(out).str();
}

void fsync_dir(const stdfs::path& dir) {
  const int fd = ::open(dir.empty() ? "." : dir.c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC);
  if (fd < 0) throw Error(str_cat(dir.string(), ": cannot open directory: ", errno_text()));
  const int rc = ::fsync(fd);
  ::close(fd);
  if (rc != 0) throw Error(str_cat(dir.string(), ": fsync failed: ", errno_text()));
}

void rename_durable(const stdfs::path& from, const stdfs::path& to) {
  if (::rename(from.c_str(), to.c_str()) != 0) {
    throw Error(str_cat("cannot rename ", from.string(), " to ", to.string(), ": ", errno_text()));
  }
  fsync_dir(to.parent_path());
}

AtomicFile::AtomicFile(stdfs::path path) : path_(std::move(path)), tmp_path_(temp_path_for(path_)) {
  if (!path_.parent_path().empty()) stdfs::create_directories(path_.parent_path());
  fd_ = ::open(tmp_path_.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
  if (fd_ < 0) throw Error(str_cat(tmp_path_.string(), ": cannot create: ", errno_text()));
}

AtomicFile::~AtomicFile() {
  if (fd_ >= 0) {
    ::close(fd_);
    ::unlink(tmp_path_.c_str());
  }
}

void AtomicFile::write(std::span<const std::byte> bytes) {
  R1_CHECK(fd_ >= 0, "write after commit to ", path_.string());
  write_all(fd_, reinterpret_cast<const char*>(bytes.data()), bytes.size(), tmp_path_);
  size_ += bytes.size();
}

void AtomicFile::write(std::string_view bytes) {
  write(std::as_bytes(std::span<const char>(bytes.data(), bytes.size())));
}

void AtomicFile::commit() {
  R1_CHECK(fd_ >= 0, "commit called twice for ", path_.string());
  if (::fsync(fd_) != 0) throw Error(str_cat(tmp_path_.string(), ": fsync failed: ", errno_text()));
  ::close(fd_);
  fd_ = -1;
  if (::rename(tmp_path_.c_str(), path_.c_str()) != 0) {
    const std::string why = errno_text();
    ::unlink(tmp_path_.c_str());
    throw Error(str_cat("cannot rename ", tmp_path_.string(), " to ", path_.string(), ": ", why));
  }
  fsync_dir(path_.parent_path());
}

void write_file_atomic(const stdfs::path& path, std::string_view bytes) {
  AtomicFile file(path);
  file.write(bytes);
  file.commit();
}

DirLock::DirLock(const stdfs::path& lock_path, std::string_view purpose) {
  if (!lock_path.parent_path().empty()) stdfs::create_directories(lock_path.parent_path());
  fd_ = ::open(lock_path.c_str(), O_RDWR | O_CREAT | O_CLOEXEC, 0644);
  if (fd_ < 0) throw Error(str_cat(lock_path.string(), ": cannot open lock file: ", errno_text()));
  if (::flock(fd_, LOCK_EX | LOCK_NB) != 0) {
    const int err = errno;
    std::string owner;
    char buf[256] = {};
    const ssize_t n = ::pread(fd_, buf, sizeof(buf) - 1, 0);
    if (n > 0) owner = std::string(buf, static_cast<std::size_t>(n));
    while (!owner.empty() && (owner.back() == '\n' || owner.back() == ' ')) owner.pop_back();
    ::close(fd_);
    fd_ = -1;
    if (err == EWOULDBLOCK) {
      throw Error(str_cat(lock_path.parent_path().string(), ": locked by another process (",
                          owner.empty() ? std::string("owner unknown") : owner, ") holding ",
                          lock_path.string(), "; wait for it to finish or choose another directory"));
    }
    throw Error(str_cat(lock_path.string(), ": cannot lock: ", std::strerror(err)));
  }
  const std::string owner = str_cat("pid ", ::getpid(), ", ", purpose, ", since ",
                                    static_cast<long long>(std::time(nullptr)), "\n");
  if (::ftruncate(fd_, 0) == 0) {
    write_all(fd_, owner.data(), owner.size(), lock_path);
  }
}

DirLock::~DirLock() {
  if (fd_ >= 0) ::close(fd_);  // closing releases the flock
}

}  // namespace r1::core
