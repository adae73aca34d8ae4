// File descriptors owned by a scope, and the read and wait loops the addon shares.
// Everything here is async-signal-safe (signal-safety(7): close, read, waitpid), so a
// forked child may use it between fork and exec; a child that ends in exec or _exit
// runs no destructors, so it closes what it must not keep with reset().
#pragma once
#include <errno.h>
#include <sys/types.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cstddef>

namespace pidone {

// One open fd, closed when its owner goes out of scope (or on reset()); release()
// hands it over to whoever closes it from then on.
class Fd {
 public:
  Fd() = default;
  explicit Fd(int fd) : fd_(fd) {}
  ~Fd() { reset(); }
  Fd(Fd&& other) noexcept : fd_(other.release()) {}
  Fd& operator=(Fd&& other) noexcept {
    if (this != &other) {
      reset();
      fd_ = other.release();
    }
    return *this;
  }
  Fd(const Fd&) = delete;
  Fd& operator=(const Fd&) = delete;

  int get() const { return fd_; }
  bool is_open() const { return fd_ >= 0; }
  int release() {
    int fd = fd_;
    fd_ = -1;
    return fd;
  }
  // close(2): an EINTR from it still closes the fd on Linux, so it is never retried.
  void reset() {
    if (fd_ >= 0) close(fd_);
    fd_ = -1;
  }

 private:
  int fd_ = -1;
};

// Both ends of a pipe(2), each closed with its owner.
struct Pipe {
  Fd read;
  Fd write;

  // pipe2(2) with `flags`; 0, or the errno (the pipe is left closed).
  int open(int flags) {
    int fds[2];
    if (pipe2(fds, flags) != 0) return errno;
    read = Fd(fds[0]);
    write = Fd(fds[1]);
    return 0;
  }
  void reset() {
    read.reset();
    write.reset();
  }
};

// read(2) until `size` bytes arrived, EOF or an error, resuming after EINTR: the number
// of bytes read (less than `size` at EOF), or -1 with errno set.
inline ssize_t read_full(int fd, void* buffer, size_t size) {
  size_t done = 0;
  while (done < size) {
    ssize_t n = read(fd, static_cast<char*>(buffer) + done, size - done);
    if (n < 0 && errno == EINTR) continue;
    if (n < 0) return -1;
    if (n == 0) break;
    done += static_cast<size_t>(n);
  }
  return static_cast<ssize_t>(done);
}

// Collect a child that reported it could not exec (and has _exit'ed or is about to),
// so that its status is not mistaken for the command's own exit by the next reap.
inline void reap_failed_child(pid_t pid) {
  int status;
  while (waitpid(pid, &status, 0) < 0 && errno == EINTR) {
  }
}

}  // namespace pidone
