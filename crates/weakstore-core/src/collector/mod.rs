//! The collector: a concurrent, parallel, non-moving mark-sweep tracer.
//!
//! - [`phase`]: the cycle, as an enum of its phases in order. Start here.
//! - `cycle`: the driver that walks one cycle through those phases.
//! - `barrier`: the mutators' insertion, deletion and root barriers, and
//!   the buffer that hands what they shade to the marker.
//! - `mark`: root scanning and parallel marking with work sharing.
//! - `sweep`: freeing, generation bumps and finalization queueing.
//! - `scheduler`: the coordinator thread, requests and the budget.
//! - [`priority`]: collector threads yield the CPU to the program's.

pub(crate) mod barrier;
pub(crate) mod cycle;
pub(crate) mod mark;
pub mod phase;
pub mod priority;
pub(crate) mod scheduler;
pub(crate) mod sweep;
