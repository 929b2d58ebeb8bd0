//! Database-level tests that need the engine's insides (the write lock, the queue) or its
//! fixtures.

mod cache_only;
mod compression;
mod group_commit;
mod l0_move;
mod lazy_seek;
