//! Error codes carried in `Rejected` handshake responses and `Error` instance
//! responses. HTTP-like so that they read naturally in reports.

/// The handshake request was malformed, badly signed, stale or from a key that
/// is not allowed. The connection is closed after the response.
pub const BAD_HANDSHAKE: u16 = 400;
/// A direct message arrived from a peer that has not completed the handshake.
/// The message never reaches the application.
pub const HANDSHAKE_REQUIRED: u16 = 403;
/// The peer is banned. Sent when a banned peer's request races the disconnect
/// (it was read before the connection closed), and as the handshake rejection
/// of a banned peer.
pub const BANNED: u16 = 423;
/// The handshake named a protocol version this node cannot speak.
pub const VERSION_MISMATCH: u16 = 426;
/// The peer exceeded its request rate or in-flight request bound.
pub const RATE_LIMITED: u16 = 429;
/// The application could not answer (for example it was shut down).
pub const INTERNAL: u16 = 500;
