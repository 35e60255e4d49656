//! The four techniques, one file each. Each is a small state machine over the world:
//! read one to see its protocol, message by message.

pub mod long_polling;
pub mod short_polling;
pub mod sse;
pub mod websocket;

pub use long_polling::LongPolling;
pub use short_polling::ShortPolling;
pub use sse::Sse;
pub use websocket::WebSocket;
