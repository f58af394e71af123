//! The create handshake between the parent and the container's init.

pub mod channel;
pub mod msg;

pub use channel::{pair, Channel};
pub use msg::Msg;
