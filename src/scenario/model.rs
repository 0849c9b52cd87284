//! The scenario file format: serde types exactly as written in YAML.
//!
//! These types only describe syntax. [`super::load`] turns them into a
//! validated [`super::plan::Plan`] (node names resolved, durations parsed,
//! one action per step), reporting every problem with its line and column.
//! Node names, durations, steps and nodes are [`Located`] so that validation
//! can point at them.

use std::{borrow::Cow, fmt};

use indexmap::IndexMap;
use schemars::{JsonSchema, Schema, SchemaGenerator};
use serde::{Deserialize, Deserializer, Serialize, Serializer};
use serde_saphyr::{Location, Spanned};

use crate::protocol::{peers::Refusal, HandshakeFailure, HandshakeState};

/// A value with the place it was written, so validation can point at it.
/// Parsed like serde-saphyr's `Spanned`; its JSON Schema is the value's.
#[derive(Debug, Clone, PartialEq)]
pub struct Located<T> {
    /// The value.
    pub value: T,
    /// Where it was written.
    pub referenced: Location,
}

impl<'de, T: Deserialize<'de>> Deserialize<'de> for Located<T> {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        let spanned = Spanned::<T>::deserialize(deserializer)?;
        Ok(Located {
            value: spanned.value,
            referenced: spanned.referenced,
        })
    }
}

impl<T> Located<T> {
    /// A value written by a program rather than read from a file: it has no
    /// location (generated scenarios are written out and loaded again).
    pub fn new(value: T) -> Self {
        Located {
            value,
            referenced: Location::UNKNOWN,
        }
    }
}

impl<T: Serialize> Serialize for Located<T> {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        self.value.serialize(serializer)
    }
}

impl<T: JsonSchema> JsonSchema for Located<T> {
    fn inline_schema() -> bool {
        T::inline_schema()
    }

    fn schema_name() -> Cow<'static, str> {
        T::schema_name()
    }

    fn json_schema(generator: &mut SchemaGenerator) -> Schema {
        T::json_schema(generator)
    }
}

/// Whether `value` is its type's default (fields left out when written).
fn is_default<T: Default + PartialEq>(value: &T) -> bool {
    *value == T::default()
}

/// A node name as written, with its location.
pub type NodeRef = Located<String>;
/// A duration as written (`250ms`, `5s`, `2m`, `-40s`), with its location.
pub type DurationText = Located<String>;

/// One scenario file.
#[derive(Debug, Deserialize, Serialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct ScenarioFile {
    /// Short kebab-case name; the snapshot is named after it.
    pub name: Located<String>,
    /// One sentence: what the scenario proves.
    pub about: Located<String>,
    /// Seed of every random choice (default 0).
    #[serde(default)]
    pub seed: u64,
    /// Network defaults.
    #[serde(default, skip_serializing_if = "is_default")]
    pub network: NetworkSpec,
    /// The nodes, by name, in the order they are created.
    pub nodes: Located<IndexMap<String, Located<NodeSpec>>>,
    /// What happens, in time order.
    pub steps: Vec<Located<StepSpec>>,
    /// Events that must not occur at any time.
    #[serde(default)]
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub never: Vec<Located<NeverSpec>>,
    /// When the run ends (default: 5 s after the last step, and late enough for
    /// every send to have its outcome).
    #[serde(default)]
    #[serde(skip_serializing_if = "Option::is_none")]
    pub end: Option<DurationText>,
}

/// Network-wide settings.
#[derive(Debug, Default, Deserialize, Serialize, JsonSchema, PartialEq)]
#[serde(deny_unknown_fields)]
pub struct NetworkSpec {
    /// Message latency range, `min..max` (default `1ms..20ms`).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub latency: Option<DurationText>,
    /// Probability, drawn for each message sent on a link, that the link
    /// drops everything in flight on it (default 0); the next message sent
    /// repairs it.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub loss: Option<Located<f64>>,
}

/// What kind of peer a node is: honest, or an adversary with one fault.
#[derive(Debug, Default, Deserialize, Serialize, JsonSchema, Clone, Copy, PartialEq, Eq)]
#[serde(rename_all = "kebab-case")]
pub enum NodeKind {
    /// Follows the protocol.
    #[default]
    Honest,
    /// Signs handshakes with a corrupted signature.
    ForgedSignature,
    /// Presents another node's captured handshake (see `replays`).
    Replay,
    /// Signs handshakes with a timestamp far in the past.
    StaleTimestamp,
    /// Never sends or answers a handshake.
    SilentHandshake,
    /// Never sends a handshake, and closes every handshake stream unanswered.
    DropHandshake,
    /// Never handshakes and sends direct messages anyway.
    SkipHandshake,
    /// Handshakes honestly, then sends only undecodable direct requests.
    MalformedRequests,
    /// Presents protocol version `simnet/99.0`, incompatible with everyone.
    WrongVersion,
    /// Sends direct messages larger than its own (and its peers') size limit.
    Oversized,
    /// Answers handshakes but never starts one, and relays every broadcast at
    /// once, unvalidated, to and from every peer.
    UncheckedRelay,
    /// Handshakes honestly, then presents a different instance key once verified.
    ChangeKey,
}

/// How a node's application answers direct requests.
#[derive(Debug, Default, Deserialize, Serialize, JsonSchema, Clone, PartialEq, Eq)]
#[serde(rename_all = "kebab-case")]
pub enum ResponderSpec {
    /// `Success` with the request's payload.
    #[default]
    Echo,
    /// `Protocol` with the request's payload.
    Protocol,
    /// Never answers.
    Silent,
    /// `Error` with this code and message.
    Error {
        /// Error code.
        code: u16,
        /// Message.
        message: String,
    },
}

/// Connection limits; unset fields keep the defaults.
#[derive(Debug, Default, Deserialize, Serialize, JsonSchema, Clone, Copy, PartialEq, Eq)]
#[serde(deny_unknown_fields)]
pub struct LimitsSpec {
    /// Established inbound connections.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub inbound: Option<u32>,
    /// Established outbound connections.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub outbound: Option<u32>,
    /// Connections with one peer.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub per_peer: Option<u32>,
    /// Connections overall.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub total: Option<u32>,
    /// Peers with a handshake still pending before new inbound peers are
    /// refused (default 16).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub pending_handshakes: Option<u32>,
}

/// A per-peer request rate: `requests` per `per`.
#[derive(Debug, Deserialize, Serialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct RateLimitSpec {
    /// Requests accepted from one peer per window.
    pub requests: u32,
    /// The window, e.g. `10s`.
    pub per: DurationText,
}

/// Whose handshake a `replay` node captured.
#[derive(Debug, Deserialize, Serialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct ReplaySpec {
    /// The node whose credentials are replayed.
    pub from: NodeRef,
    /// The node they were made for.
    pub to: NodeRef,
}

/// One node's settings.
#[derive(Debug, Default, Deserialize, Serialize, JsonSchema)]
#[serde(deny_unknown_fields, default)]
pub struct NodeSpec {
    /// Honest or adversarial.
    #[serde(skip_serializing_if = "is_default")]
    pub kind: NodeKind,
    /// For `kind: replay`: the captured handshake.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub replays: Option<ReplaySpec>,
    /// How direct requests are answered (default `echo`).
    #[serde(skip_serializing_if = "is_default")]
    pub responder: ResponderSpec,
    /// Protocol version presented (default `simnet/1.0`).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub version: Option<String>,
    /// Handshake timeout (default 30s).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub handshake_timeout: Option<DurationText>,
    /// Deadline of a send's retries (default 60s).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub send_deadline: Option<DurationText>,
    /// Time one direct request may take, both as sender and as receiver
    /// waiting for its application (default 30s).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub request_timeout: Option<DurationText>,
    /// Connection limits.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub limits: Option<LimitsSpec>,
    /// Only these nodes' instance keys may verify.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub allow: Option<Vec<NodeRef>>,
    /// Ban-worthy handshake failures before an automatic ban (default 3).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub ban_after: Option<u32>,
    /// Length of an automatic ban (default 300s).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub ban_for: Option<DurationText>,
    /// Largest direct-message frame this node accepts, in bytes (default 16 MiB).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub max_message_size: Option<u32>,
    /// Direct requests accepted from one peer per window (default 100 per
    /// 10s); more are answered 429.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub rate_limit: Option<RateLimitSpec>,
    /// Events queued for a stalled application before the node stops
    /// reading the network (default 4096).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub event_buffer: Option<u32>,
    /// Requests from one peer held unanswered by the application before more
    /// are answered 429 (default 64).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub max_in_flight: Option<u32>,
}

/// `{ from, to }`.
#[derive(Debug, Deserialize, Serialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct LinkSpec {
    /// Acting node.
    pub from: NodeRef,
    /// Other node.
    pub to: NodeRef,
}

/// `{ node, peer }`.
#[derive(Debug, Deserialize, Serialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct PeerSpec {
    /// Acting node.
    pub node: NodeRef,
    /// The peer it acts on.
    pub peer: NodeRef,
}

/// The response kind a send expects.
#[derive(Debug, Deserialize, Serialize, JsonSchema, Clone, Copy, PartialEq, Eq)]
#[serde(rename_all = "kebab-case")]
pub enum SendExpect {
    /// Refused locally before sending (for example: peer not verified).
    Refused,
    /// Answered `Success`.
    Success,
    /// Answered `Protocol`.
    Protocol,
    /// Answered `Error`.
    Error,
    /// No answer by the send's deadline.
    Failed,
}

/// A direct message.
#[derive(Debug, Deserialize, Serialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct SendSpec {
    /// Sender.
    pub from: NodeRef,
    /// Receiver.
    pub to: NodeRef,
    /// Application protocol name (default `scenario`).
    #[serde(default)]
    #[serde(skip_serializing_if = "Option::is_none")]
    pub protocol: Option<String>,
    /// Payload as text (default empty).
    #[serde(default)]
    #[serde(skip_serializing_if = "Option::is_none")]
    pub payload: Option<String>,
    /// Payload of this many zero bytes instead of `payload`.
    #[serde(default)]
    #[serde(skip_serializing_if = "Option::is_none")]
    pub payload_size: Option<usize>,
    /// Optional metadata as text.
    #[serde(default)]
    #[serde(skip_serializing_if = "Option::is_none")]
    pub metadata: Option<String>,
    /// What the send must end with (checked at the end of the run).
    #[serde(default)]
    #[serde(skip_serializing_if = "Option::is_none")]
    pub expect: Option<SendExpect>,
    /// For `expect: error`: the code.
    #[serde(default)]
    #[serde(skip_serializing_if = "Option::is_none")]
    pub code: Option<u16>,
    /// Send this many copies at once (a flood); each is checked against `expect`.
    #[serde(default)]
    #[serde(skip_serializing_if = "Option::is_none")]
    pub repeat: Option<u32>,
    /// With `expect`: the outcome must arrive within this time of the send
    /// (a deadline that is kept, not just an outcome that comes eventually).
    #[serde(default)]
    #[serde(skip_serializing_if = "Option::is_none")]
    pub within: Option<DurationText>,
}

/// `{ node, topic }`.
#[derive(Debug, Deserialize, Serialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct SubscribeSpec {
    /// Subscribing nodes.
    pub nodes: Vec<NodeRef>,
    /// Topic.
    pub topic: String,
}

/// A broadcast.
#[derive(Debug, Deserialize, Serialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct BroadcastSpec {
    /// Publishing node.
    pub from: NodeRef,
    /// Topic.
    pub topic: String,
    /// Payload as text.
    pub data: String,
    /// Publish this many copies at once (a gossip flood).
    #[serde(default)]
    #[serde(skip_serializing_if = "Option::is_none")]
    pub repeat: Option<u32>,
}

/// A ban.
#[derive(Debug, Deserialize, Serialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct BanSpec {
    /// Banning node.
    pub node: NodeRef,
    /// Banned peer.
    pub peer: NodeRef,
    /// How long (default: until unbanned).
    #[serde(default, rename = "for")]
    #[serde(skip_serializing_if = "Option::is_none")]
    pub duration: Option<DurationText>,
}

/// A wall-clock offset for one node.
#[derive(Debug, Deserialize, Serialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct ClockSpec {
    /// The node.
    pub node: NodeRef,
    /// Offset, e.g. `40s` or `-40s`.
    pub offset: DurationText,
}

/// Per-link latency.
#[derive(Debug, Deserialize, Serialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct LatencySpec {
    /// The two nodes.
    pub between: Vec<NodeRef>,
    /// `min..max`.
    pub range: DurationText,
}

/// Per-link loss.
#[derive(Debug, Deserialize, Serialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct LossSpec {
    /// The two nodes.
    pub between: Vec<NodeRef>,
    /// Probability, drawn for each message sent on the link, that the link
    /// drops everything in flight on it; the next message sent repairs it.
    pub rate: f64,
}

/// Handshake states as written in expectations.
#[derive(Debug, Deserialize, Serialize, JsonSchema, Clone, Copy, PartialEq, Eq)]
#[serde(rename_all = "snake_case")]
pub enum StateSpec {
    /// Connected, nothing exchanged.
    Connected,
    /// Our request is in flight.
    OutboundPending,
    /// Answering the remote's request.
    InboundPending,
    /// Verified.
    Verified,
    /// Failed.
    Failed,
}

impl From<HandshakeState> for StateSpec {
    fn from(state: HandshakeState) -> Self {
        match state {
            HandshakeState::Connected => StateSpec::Connected,
            HandshakeState::OutboundPending => StateSpec::OutboundPending,
            HandshakeState::InboundPending => StateSpec::InboundPending,
            HandshakeState::Verified => StateSpec::Verified,
            HandshakeState::Failed => StateSpec::Failed,
        }
    }
}

/// Why a handshake failed, as written in expectations: one word per
/// [`HandshakeFailure`] variant, without its details.
#[derive(Debug, Deserialize, Serialize, JsonSchema, Clone, Copy, PartialEq, Eq)]
#[serde(rename_all = "snake_case")]
pub enum FailureReason {
    /// The protocol versions are incompatible.
    VersionMismatch,
    /// The public key could not be decoded.
    InvalidPublicKey,
    /// The signature does not verify.
    InvalidSignature,
    /// The signed timestamp is too old or too far ahead.
    Stale,
    /// The instance key is not on the allow-list.
    NotAllowed,
    /// The instance key changed within a session.
    KeyMismatch,
    /// No answer within the handshake timeout.
    Timeout,
    /// The remote refused our handshake.
    Rejected,
    /// A handshake message could not be decoded.
    Malformed,
    /// The remote does not speak the handshake protocol.
    UnsupportedProtocol,
    /// The connection closed before the handshake finished.
    ConnectionClosed,
    /// The node banned the peer, which ended the session.
    Banned,
    /// A silent inbound handshake gave its slot to a newer peer.
    Displaced,
    /// Our handshake request's stream failed on every retry.
    StreamFailed,
}

impl From<&HandshakeFailure> for FailureReason {
    fn from(failure: &HandshakeFailure) -> Self {
        match failure {
            HandshakeFailure::VersionMismatch { .. } => FailureReason::VersionMismatch,
            HandshakeFailure::InvalidPublicKey => FailureReason::InvalidPublicKey,
            HandshakeFailure::InvalidSignature => FailureReason::InvalidSignature,
            HandshakeFailure::Stale { .. } | HandshakeFailure::Expired => FailureReason::Stale,
            HandshakeFailure::NotAllowed => FailureReason::NotAllowed,
            HandshakeFailure::KeyMismatch => FailureReason::KeyMismatch,
            HandshakeFailure::Timeout => FailureReason::Timeout,
            HandshakeFailure::Rejected { .. } => FailureReason::Rejected,
            HandshakeFailure::Malformed(_) => FailureReason::Malformed,
            HandshakeFailure::UnsupportedProtocol => FailureReason::UnsupportedProtocol,
            HandshakeFailure::ConnectionClosed => FailureReason::ConnectionClosed,
            HandshakeFailure::Banned => FailureReason::Banned,
            HandshakeFailure::Displaced => FailureReason::Displaced,
            HandshakeFailure::StreamFailed { .. } => FailureReason::StreamFailed,
        }
    }
}

/// The rule by which a node refused a connection, as written in expectations.
#[derive(Debug, Deserialize, Serialize, JsonSchema, Clone, Copy, PartialEq, Eq)]
#[serde(rename_all = "snake_case")]
pub enum RefusalRule {
    /// The peer is banned.
    Banned,
    /// Too many inbound connections.
    InboundLimit,
    /// Too many outbound connections.
    OutboundLimit,
    /// Too many connections with one peer.
    PerPeerLimit,
    /// Too many connections overall.
    TotalLimit,
    /// Too many peers with a handshake still pending.
    PendingHandshakeLimit,
    /// Too many inbound connections still in the transport upgrade.
    PendingConnectionLimit,
}

impl From<&Refusal> for RefusalRule {
    fn from(refusal: &Refusal) -> Self {
        match refusal {
            Refusal::Banned { .. } => RefusalRule::Banned,
            Refusal::InboundLimit { .. } => RefusalRule::InboundLimit,
            Refusal::OutboundLimit { .. } => RefusalRule::OutboundLimit,
            Refusal::PerPeerLimit { .. } => RefusalRule::PerPeerLimit,
            Refusal::TotalLimit { .. } => RefusalRule::TotalLimit,
            Refusal::PendingHandshakeLimit { .. } => RefusalRule::PendingHandshakeLimit,
            Refusal::PendingConnectionLimit { .. } => RefusalRule::PendingConnectionLimit,
        }
    }
}

/// Writes a unit variant the way scenario files spell it (its serde name).
fn write_word<T: Serialize>(value: &T, f: &mut fmt::Formatter<'_>) -> fmt::Result {
    match serde_json::to_value(value) {
        Ok(serde_json::Value::String(word)) => f.write_str(&word),
        _ => Err(fmt::Error),
    }
}

impl fmt::Display for StateSpec {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write_word(self, f)
    }
}

impl fmt::Display for FailureReason {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write_word(self, f)
    }
}

impl fmt::Display for RefusalRule {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write_word(self, f)
    }
}

impl fmt::Display for SendExpect {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write_word(self, f)
    }
}

/// The handshake of `node` with `peer` (its latest state).
#[derive(Debug, Deserialize, Serialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct HandshakeExpect {
    /// Observing node.
    pub node: NodeRef,
    /// Peer.
    pub peer: NodeRef,
    /// Expected latest state.
    pub state: StateSpec,
    /// For `failed`: the failure reason (`invalid_signature`, `timeout`, …).
    #[serde(default)]
    #[serde(skip_serializing_if = "Option::is_none")]
    pub reason: Option<FailureReason>,
    /// For `verified`: the node whose instance key the peer proved, as the
    /// node reported it (the peer itself, unless it presents another's).
    #[serde(default)]
    #[serde(skip_serializing_if = "Option::is_none")]
    pub key: Option<NodeRef>,
}

/// Broadcast delivery.
#[derive(Debug, Deserialize, Serialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct DeliveryExpect {
    /// Topic.
    pub topic: String,
    /// Nodes whose application must (or must not) have received it.
    pub to: Vec<NodeRef>,
    /// Only messages with this payload.
    #[serde(default)]
    #[serde(skip_serializing_if = "Option::is_none")]
    pub data: Option<String>,
}

/// Requests that reached `node`'s application, or were rejected by it.
#[derive(Debug, Deserialize, Serialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct RequestsExpect {
    /// Receiving node.
    pub node: NodeRef,
    /// Sender.
    pub from: NodeRef,
    /// How many so far.
    pub count: usize,
}

/// Requests answered with an error code before reaching the application.
#[derive(Debug, Deserialize, Serialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct RejectedExpect {
    /// Receiving node.
    pub node: NodeRef,
    /// Sender.
    pub from: NodeRef,
    /// The code sent back (403: handshake required).
    pub code: u16,
    /// At least this many (default 1).
    #[serde(default)]
    #[serde(skip_serializing_if = "Option::is_none")]
    pub count: Option<usize>,
}

/// A refused connection.
#[derive(Debug, Deserialize, Serialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct RefusedExpect {
    /// Refusing node.
    pub node: NodeRef,
    /// Refused peer.
    pub peer: NodeRef,
    /// The rule that refused it.
    pub rule: RefusalRule,
    /// Also: no more than this many such refusals so far (a redial that
    /// backs off is refused a few times, not once a second).
    #[serde(default)]
    #[serde(skip_serializing_if = "Option::is_none")]
    pub at_most: Option<usize>,
}

/// Established connections of `node` (with `peer`, if given).
#[derive(Debug, Deserialize, Serialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct ConnectionsExpect {
    /// The node.
    pub node: NodeRef,
    /// Only connections with this peer.
    #[serde(default)]
    #[serde(skip_serializing_if = "Option::is_none")]
    pub peer: Option<NodeRef>,
    /// Expected count.
    pub count: u32,
}

/// Checks at one moment; every listed check must hold.
#[derive(Debug, Default, Deserialize, Serialize, JsonSchema)]
#[serde(deny_unknown_fields, default)]
pub struct ExpectSpec {
    /// Pairs verified on both sides.
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub verified: Vec<Vec<NodeRef>>,
    /// Pairs verified on neither side.
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub not_verified: Vec<Vec<NodeRef>>,
    /// Latest handshake states.
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub handshake: Vec<HandshakeExpect>,
    /// Broadcasts that reached these nodes.
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub delivered: Vec<DeliveryExpect>,
    /// Broadcasts that did not reach these nodes.
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub not_delivered: Vec<DeliveryExpect>,
    /// Requests delivered to applications.
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub requests: Vec<RequestsExpect>,
    /// Requests rejected with a code.
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub rejected: Vec<RejectedExpect>,
    /// `[node, peer]`: node has an active ban on peer.
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub banned: Vec<Vec<NodeRef>>,
    /// `[node, peer]`: node has no active ban on peer.
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub not_banned: Vec<Vec<NodeRef>>,
    /// Refused connections.
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub refused: Vec<RefusedExpect>,
    /// Connection counts.
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub connections: Vec<ConnectionsExpect>,
    /// Sends of a node that lost their connection and were retried.
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub retried: Vec<RetriedExpect>,
    /// Malformed or oversized messages a node dropped and counted.
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub malformed: Vec<MalformedExpect>,
    /// Bounds on what a node held in memory at its peak.
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub buffered: Vec<BufferedExpect>,
    /// Pairs whose two sides agree: both have verified the other, or neither
    /// has (a liveness oracle: no session is left half-open).
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub agree: Vec<Vec<NodeRef>>,
    /// Broadcasts that reached every listed subscriber still connected to
    /// the publisher through verified links between honest listed nodes.
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub reached: Vec<ReachedExpect>,
}

/// A broadcast of `from` on `topic` (with `data`) reached each node of `to`
/// that the publisher reaches through links verified on both sides from the
/// broadcast's publication to the check without a break, among honest nodes
/// of `to` (a node with an allow-list only if it holds such a link to the
/// publisher: it accepts gossip only from authors it verified itself).
#[derive(Debug, Deserialize, Serialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct ReachedExpect {
    /// The publisher.
    pub from: NodeRef,
    /// Topic.
    pub topic: String,
    /// Only messages with this payload.
    #[serde(default)]
    #[serde(skip_serializing_if = "Option::is_none")]
    pub data: Option<String>,
    /// The subscribers.
    pub to: Vec<NodeRef>,
}

/// The most items `node` held at once so far (queued events, unanswered
/// requests, pending sends, rate-window entries, held handshake channels).
#[derive(Debug, Deserialize, Serialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct BufferedExpect {
    /// The node.
    pub node: NodeRef,
    /// At most this many.
    pub at_most: u64,
}

/// Messages `node` dropped as malformed or oversized (libp2p does not always
/// say who sent them, so they are counted per receiver).
#[derive(Debug, Deserialize, Serialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct MalformedExpect {
    /// Receiving node.
    pub node: NodeRef,
    /// At least this many.
    pub at_least: u64,
}

/// Sends of `node` interrupted (connection lost or unanswered) and retried.
#[derive(Debug, Deserialize, Serialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct RetriedExpect {
    /// Sending node.
    pub node: NodeRef,
    /// At least this many interruptions.
    pub at_least: usize,
}

/// One step: a time and exactly one action.
#[derive(Debug, Deserialize, Serialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct StepSpec {
    /// Virtual time of the step since the start.
    pub at: DurationText,
    /// `from` dials `to`.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub dial: Option<LinkSpec>,
    /// `node` closes its connections with `peer`.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub disconnect: Option<PeerSpec>,
    /// A direct message.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub send: Option<SendSpec>,
    /// Topic subscription.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub subscribe: Option<SubscribeSpec>,
    /// A broadcast.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub broadcast: Option<BroadcastSpec>,
    /// A ban.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub ban: Option<BanSpec>,
    /// Lift a ban.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub unban: Option<PeerSpec>,
    /// Drop all traffic between two nodes.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub partition: Option<Vec<NodeRef>>,
    /// End a partition.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub repair: Option<Vec<NodeRef>>,
    /// Queue all traffic between two nodes.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub hold: Option<Vec<NodeRef>>,
    /// Deliver held traffic.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub release: Option<Vec<NodeRef>>,
    /// Stop a node, losing its state.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub crash: Option<NodeRef>,
    /// Start a crashed node again.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub restart: Option<NodeRef>,
    /// Shift a node's wall clock.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub clock: Option<ClockSpec>,
    /// A node's application stops taking events (a slow application).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub stall: Option<NodeRef>,
    /// A stalled application takes its events again.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub resume: Option<NodeRef>,
    /// Set a link's latency.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub latency: Option<LatencySpec>,
    /// Set a link's loss.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub loss: Option<LossSpec>,
    /// Checks at this time.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub expect: Option<ExpectSpec>,
}

/// An event pattern that must never appear in the trace.
#[derive(Debug, Deserialize, Serialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct NeverSpec {
    /// A handshake of `node` with `peer` reaching `state`.
    #[serde(default)]
    #[serde(skip_serializing_if = "Option::is_none")]
    pub handshake: Option<HandshakeNever>,
    /// A request from `from` reaching `node`'s application.
    #[serde(default)]
    #[serde(skip_serializing_if = "Option::is_none")]
    pub request: Option<MessageNever>,
    /// A broadcast forwarded by `from` reaching `node`'s application.
    #[serde(default)]
    #[serde(skip_serializing_if = "Option::is_none")]
    pub broadcast: Option<MessageNever>,
}

/// `{ node, peer, state }`.
#[derive(Debug, Deserialize, Serialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct HandshakeNever {
    /// Observing node.
    pub node: NodeRef,
    /// Peer.
    pub peer: NodeRef,
    /// The forbidden state.
    pub state: StateSpec,
    /// For `failed`: only a failure for this reason is forbidden.
    #[serde(default)]
    #[serde(skip_serializing_if = "Option::is_none")]
    pub reason: Option<FailureReason>,
}

/// `{ node, from }`.
#[derive(Debug, Deserialize, Serialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct MessageNever {
    /// Receiving node.
    pub node: NodeRef,
    /// Sender or forwarder.
    pub from: NodeRef,
}
