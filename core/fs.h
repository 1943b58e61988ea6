// Durable file operations: every file r1kit writes goes through these, so a crash (even SIGKILL)
// leaves either the old or the new content, never a torn file. Also an exclusive directory lock.
#pragma once

#include <cstddef>
#include <filesystem>
#include <optional>
#include <span>
#include <string>
#include <string_view>

namespace r1::core {

namespace stdfs = std::filesystem;

// Reads a whole file. Throws r1::Error naming the path when it cannot be opened or read.
std::string read_file(const stdfs::path& path);

// Writes `bytes` to `path` atomically: a temp file beside it, fsync, rename over `path`, fsync of
// the parent directory. Creates missing parent directories. Throws r1::Error on failure; the old
// content of `path`, if any, is untouched then.
void write_file_atomic(const stdfs::path& path, std::string_view bytes);

// Streaming form of write_file_atomic for large files. Nothing is visible at `path` until commit();
// destroying an uncommitted AtomicFile removes the temp file.
class AtomicFile {
 public:
  explicit AtomicFile(stdfs::path path);
  ~AtomicFile();
  AtomicFile(const AtomicFile&) = delete;
  AtomicFile& operator=(const AtomicFile&) = delete;

  void write(std::span<const std::byte> bytes);
  void write(std::string_view bytes);
  // Bytes written so far.
  std::size_t size() const { return size_; }
  // fsync, rename over the final path, fsync the directory. Call once.
  void commit();

 private:
  stdfs::path path_;
  stdfs::path tmp_path_;
  int fd_ = -1;
  std::size_t size_ = 0;
};

// fsyncs a directory so that renames and creations inside it are durable.
void fsync_dir(const stdfs::path& dir);

// Renames `from` to `to` (a file or a directory) and fsyncs the parent of `to`.
void rename_durable(const stdfs::path& from, const stdfs::path& to);

// An exclusive advisory lock (flock) on a file, released when the object dies or the process
// exits in any way, SIGKILL included. The file holds the owner's pid and start time for messages.
class DirLock {
 public:
  // Takes the lock at `lock_path` or throws r1::Error naming the path and the pid holding it.
  explicit DirLock(const stdfs::path& lock_path, std::string_view purpose);
  ~DirLock();
  DirLock(const DirLock&) = delete;
  DirLock& operator=(const DirLock&) = delete;

 private:
  int fd_ = -1;
};

}  // namespace r1::core
