//! tracedeck: a debugger for integration traces.
//!
//! Layers, each depending only on those before it: [`model`] (the normalized trace, no I/O),
//! [`formats`] (bytes to model), [`analysis`] (model to verdicts), then the network parts and
//! the GUI. The `tracedeck` binary is a thin command line over this library.

pub mod analysis;
pub mod cli;
pub mod corpus;
pub mod fetch;
pub mod files;
pub mod formats;
pub mod model;
pub mod receiver;
pub mod replay;
pub mod serve;
pub mod synth;
#[cfg(feature = "gui")]
pub mod ui;
