// Holds a StateDb's writer thread inside one operation until Release(), so what is queued
// meanwhile lands in one later batch (and waits, as behind a slow fsync).
#pragma once

#include <future>

#include "storage/state_db.h"

namespace alertd::testing {

class WriterGate {
 public:
  explicit WriterGate(storage::StateDb* db) {
    std::promise<void> started;
    auto started_f = started.get_future();
    auto release = release_.get_future().share();
    db->Write([&started, release](storage::StateDb::Conn&) {
      started.set_value();
      release.wait();
      return Status::Ok();
    });
    started_f.wait();
  }
  ~WriterGate() { Release(); }
  void Release() {
    if (!released_) release_.set_value();
    released_ = true;
  }

 private:
  std::promise<void> release_;
  bool released_ = false;
};

}  // namespace alertd::testing
