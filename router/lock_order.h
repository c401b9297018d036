// The order in which the router's locks are taken, written once. A thread holding one of
// them may only take those listed after it; each class annotates its own state with
// core/thread_annotations.h (GUARDED_BY, REQUIRES, EXCLUDES), which Clang's -Wthread-safety
// checks at compile time, and the order between two locks of one class with ACQUIRED_BEFORE.
//
//   1. MaintenanceToken::mu       (router.cc) maintenance and ack-expiry tasks run under it
//   2. Router::ingest_mu_         Insert and ApplyConfig (one generation at a time)
//   3. EscalationToken::mu        (escalation.cc) escalation timer tasks and commit callbacks
//   4. Escalations::mu_           the Host (the Router) is called under it: Escalatable and
//                                 NotifyStep take the locks below
//   5. Router::mu_                the current generation; nothing is taken under it
//   6. Dispatcher::mu_            groups and their timers; released before a flush enters the
//                                 pipeline (FlushLocked), so no pipeline lock is taken under it
//   7. Acknowledgements::write_mu_, then Acknowledgements::mu_
//      Silences::write_mu_, then Silences::mu_
//      NotificationLog::mu_, Inhibitor's lock    taken by the pipeline's stages; none of them
//                                 takes another router lock
//   8. the stores' own locks      (core/router_state.h; storage/state_db.h: the writer's
//                                 queue only, never held while an operation runs)
//   (Scheduler and executor queues are leaves: Schedule, Cancel and Post may be called under
//   any of the above.)
//
// Waiting for a store (AwaitStore, and every Load) waits for its writer thread, whose commit
// callbacks take locks 3 and after (an escalation step is sent once committed). So a
// thread may wait for a commit only while holding nothing but locks 1, 2 and the write_mu_ of
// 7 (which the callbacks never take): acks and silences commit their changes holding write_mu_
// alone, and readers of their state (every flush) never wait behind a disk write.
#pragma once
