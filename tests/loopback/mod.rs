//! The protocol over real TCP on 127.0.0.1: one module per protocol feature.
//! Every wait is bounded by `util::EVENT_WAIT`.

mod broadcast;
mod handshake;
mod messages;
mod peer_manager;
