// Clang's thread-safety analysis (-Wthread-safety), as abseil's
// absl/base/thread_annotations.h spells it: annotations that say which mutex guards which
// state and which lock a function needs, checked at compile time by Clang and ignored by other
// compilers; and a Mutex (std::mutex annotated as a capability) with its scoped lock, since
// the analysis only sees annotated types.
//
//   class Cache {
//     Mutex mu_;
//     std::map<K, V> map_ GUARDED_BY(mu_);
//     void EvictLocked() REQUIRES(mu_);
//   };
//   void Cache::Put(K k, V v) { MutexLock l(mu_); map_[k] = v; EvictLocked(); }
//
// Mutex and MutexLock are thread-safe as std::mutex and std::unique_lock are.
#pragma once

#include <condition_variable>
#include <mutex>

#if defined(__clang__)
#define ALERTD_THREAD_ANNOTATION(x) __attribute__((x))
#else
#define ALERTD_THREAD_ANNOTATION(x)
#endif

// The type is a lock (a "capability").
#define CAPABILITY(x) ALERTD_THREAD_ANNOTATION(capability(x))
// An RAII type that acquires a capability in its constructor and releases it in its destructor.
#define SCOPED_CAPABILITY ALERTD_THREAD_ANNOTATION(scoped_lockable)
// The member may only be read or written with the given mutex held.
#define GUARDED_BY(x) ALERTD_THREAD_ANNOTATION(guarded_by(x))
// What the pointer points to may only be read or written with the given mutex held.
#define PT_GUARDED_BY(x) ALERTD_THREAD_ANNOTATION(pt_guarded_by(x))
// This mutex is taken after (before) the given ones; documents and checks the lock order.
#define ACQUIRED_AFTER(...) ALERTD_THREAD_ANNOTATION(acquired_after(__VA_ARGS__))
#define ACQUIRED_BEFORE(...) ALERTD_THREAD_ANNOTATION(acquired_before(__VA_ARGS__))
// The caller must hold (exclusively / shared) the given mutexes.
#define REQUIRES(...) ALERTD_THREAD_ANNOTATION(requires_capability(__VA_ARGS__))
#define REQUIRES_SHARED(...) ALERTD_THREAD_ANNOTATION(requires_shared_capability(__VA_ARGS__))
// The function takes / releases the given mutexes (or `this` for a Mutex's own methods).
#define ACQUIRE(...) ALERTD_THREAD_ANNOTATION(acquire_capability(__VA_ARGS__))
#define RELEASE(...) ALERTD_THREAD_ANNOTATION(release_capability(__VA_ARGS__))
#define TRY_ACQUIRE(...) ALERTD_THREAD_ANNOTATION(try_acquire_capability(__VA_ARGS__))
// The caller must not hold the given mutexes (the function takes them itself).
#define EXCLUDES(...) ALERTD_THREAD_ANNOTATION(locks_excluded(__VA_ARGS__))
// Asserts at run time that the mutex is held; the analysis then assumes it.
#define ASSERT_CAPABILITY(x) ALERTD_THREAD_ANNOTATION(assert_capability(x))
// The function returns a reference to the given mutex.
#define RETURN_CAPABILITY(x) ALERTD_THREAD_ANNOTATION(lock_returned(x))
// Turns the analysis off for one function; say why next to each use.
#define NO_THREAD_SAFETY_ANALYSIS ALERTD_THREAD_ANNOTATION(no_thread_safety_analysis)

namespace alertd {

// A std::mutex the analysis knows as a capability. Also a BasicLockable, so
// std::condition_variable_any waits on it (CondVar below).
class CAPABILITY("mutex") Mutex {
 public:
  Mutex() = default;
  Mutex(const Mutex&) = delete;
  Mutex& operator=(const Mutex&) = delete;

  void lock() ACQUIRE() { mu_.lock(); }
  void unlock() RELEASE() { mu_.unlock(); }
  bool try_lock() TRY_ACQUIRE(true) { return mu_.try_lock(); }
  // Tells the analysis the caller holds this mutex (e.g. inside a condition-variable
  // predicate, which runs with the lock held). No run-time check.
  void AssertHeld() const ASSERT_CAPABILITY(this) {}

 private:
  std::mutex mu_;
};

// Holds a Mutex for its scope; Unlock() and Lock() let go of it and take it back in between
// (for calls that must not run under the lock).
class SCOPED_CAPABILITY MutexLock {
 public:
  // The bodies below are what the annotations describe; the analysis does not follow
  // held_, so it is told not to look inside them.
  explicit MutexLock(Mutex& mu) ACQUIRE(mu) NO_THREAD_SAFETY_ANALYSIS : mu_(mu) { mu_.lock(); }
  ~MutexLock() RELEASE() NO_THREAD_SAFETY_ANALYSIS {
    if (held_) mu_.unlock();
  }
  MutexLock(const MutexLock&) = delete;
  MutexLock& operator=(const MutexLock&) = delete;

  void Unlock() RELEASE() NO_THREAD_SAFETY_ANALYSIS {
    mu_.unlock();
    held_ = false;
  }
  void Lock() ACQUIRE() NO_THREAD_SAFETY_ANALYSIS {
    mu_.lock();
    held_ = true;
  }

 private:
  Mutex& mu_;
  bool held_ = true;
};

// A condition variable for Mutex. Wait* must be called with `mu` held; they return with it
// held.
class CondVar {
 public:
  void Wait(Mutex& mu) REQUIRES(mu) { cv_.wait(mu); }
  template <typename Pred>
  void Wait(Mutex& mu, Pred pred) REQUIRES(mu) {
    cv_.wait(mu, pred);
  }
  // Returns pred() (false: the time ran out first).
  template <typename Rep, typename Period, typename Pred>
  bool WaitFor(Mutex& mu, std::chrono::duration<Rep, Period> d, Pred pred) REQUIRES(mu) {
    return cv_.wait_for(mu, d, pred);
  }
  void NotifyOne() { cv_.notify_one(); }
  void NotifyAll() { cv_.notify_all(); }

 private:
  std::condition_variable_any cv_;
};

}  // namespace alertd
