//! Wire types and their binary encoding.
//!
//! Every message travels as one frame: a 4-byte big-endian body length, then the
//! body. A body starts with a one-byte tag naming its type, followed by its
//! fields in declaration order:
//!
//! | field kind | encoding |
//! |---|---|
//! | `u16`, `u64` | big-endian |
//! | bytes, string | `u32` big-endian length, then the bytes (strings are UTF-8) |
//! | `Option<T>` | `0` for `None`, `1` then `T` for `Some` |
//!
//! Decoding is pure and bounded: it reads only from the given slice, checks every
//! length against what remains *before* taking it, and rejects trailing bytes.
//! Frame lengths are checked against a configured maximum before anything is
//! allocated (see [`super::codec`]).
//!
//! One file on purpose: every type's encoder sits beside its decoder and both
//! use the helpers here, so the layout above is written down in one place;
//! the tests at the end, about a third of the file, check the pairs together.

use bytes::Bytes;
use thiserror::Error;

/// Size of an ed25519 public key on the wire.
pub const PUBLIC_KEY_LEN: usize = 32;
/// Size of an ed25519 signature on the wire.
pub const SIGNATURE_LEN: usize = 64;
/// Longest protocol-version string accepted in a handshake.
pub const MAX_VERSION_LEN: usize = 64;
/// Longest `protocol` name accepted in an instance message.
pub const MAX_PROTOCOL_NAME_LEN: usize = 256;
/// Longest error or rejection message accepted.
pub const MAX_ERROR_MESSAGE_LEN: usize = 1024;

const TAG_HANDSHAKE_REQUEST: u8 = 0x01;
const TAG_HANDSHAKE_ACCEPTED: u8 = 0x02;
const TAG_HANDSHAKE_REJECTED: u8 = 0x03;
const TAG_INSTANCE_REQUEST: u8 = 0x10;
const TAG_RESPONSE_SUCCESS: u8 = 0x11;
const TAG_RESPONSE_PROTOCOL: u8 = 0x12;
const TAG_RESPONSE_ERROR: u8 = 0x13;

/// The signed credentials one side of a handshake presents.
///
/// The signature covers [`super::handshake::signing_payload`]: a domain tag, the
/// signer's and the receiver's peer ids, `timestamp_ms` and `protocol_version`,
/// so it is valid for exactly one (signer, receiver) pair for a short time.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct HandshakeRequest {
    /// The signer's instance public key (ed25519, 32 bytes).
    pub public_key: [u8; PUBLIC_KEY_LEN],
    /// ed25519 signature over the signing payload (64 bytes).
    pub signature: [u8; SIGNATURE_LEN],
    /// The signer's protocol version, for example `simnet/1.0`.
    pub protocol_version: String,
    /// Signer's wall-clock time in milliseconds since the Unix epoch (freshness).
    pub timestamp_ms: u64,
}

/// The answer to a [`HandshakeRequest`].
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum HandshakeResponse {
    /// The request was valid; these are the responder's own credentials.
    Accepted(HandshakeRequest),
    /// The request was refused; the connection is closed after this response.
    Rejected {
        /// Error code, see [`super::codes`].
        code: u16,
        /// Human-readable reason.
        message: String,
    },
}

/// A direct message from one verified peer to another.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct InstanceMessageRequest {
    /// Application protocol the payload belongs to.
    pub protocol: String,
    /// Opaque application payload; a received one shares the frame's buffer.
    pub payload: Bytes,
    /// Optional opaque metadata.
    pub metadata: Option<Bytes>,
}

/// The answer to an [`InstanceMessageRequest`].
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum InstanceMessageResponse {
    /// The request was handled.
    Success {
        /// Optional result data.
        data: Option<Bytes>,
    },
    /// The request was handled and answered with protocol-specific data.
    Protocol {
        /// Protocol-specific data.
        data: Bytes,
    },
    /// The request was refused or failed; see [`super::codes`].
    Error {
        /// Error code.
        code: u16,
        /// Human-readable reason.
        message: String,
    },
}

impl InstanceMessageRequest {
    /// The first field longer than the decoder accepts, as
    /// `(field, length, limit)`: such a request could never be decoded by
    /// any peer, so a sender refuses it instead of sending (and retrying) it.
    pub fn field_over_limit(&self) -> Option<(&'static str, usize, usize)> {
        (self.protocol.len() > MAX_PROTOCOL_NAME_LEN).then_some((
            "protocol name",
            self.protocol.len(),
            MAX_PROTOCOL_NAME_LEN,
        ))
    }
}

impl InstanceMessageResponse {
    /// The first field longer than the decoder accepts, as
    /// `(field, length, limit)`: no peer could decode such a response.
    pub fn field_over_limit(&self) -> Option<(&'static str, usize, usize)> {
        match self {
            Self::Error { message, .. } if message.len() > MAX_ERROR_MESSAGE_LEN => {
                Some(("error message", message.len(), MAX_ERROR_MESSAGE_LEN))
            }
            _ => None,
        }
    }

    /// Short name of the response kind, as used in traces and scenarios.
    pub fn kind(&self) -> &'static str {
        match self {
            Self::Success { .. } => "success",
            Self::Protocol { .. } => "protocol",
            Self::Error { .. } => "error",
        }
    }
}

/// Why a body could not be decoded.
#[derive(Debug, Error, Clone, PartialEq, Eq)]
pub enum DecodeError {
    /// The body ended before a field was complete.
    #[error("truncated: {field} needs {needed} more bytes, {remaining} remain")]
    Truncated {
        /// The field being read.
        field: &'static str,
        /// Bytes the field needs.
        needed: usize,
        /// Bytes left in the body.
        remaining: usize,
    },
    /// The first byte does not name a message type expected here.
    #[error("unknown message tag 0x{0:02x}")]
    UnknownTag(u8),
    /// An `Option` flag byte was neither 0 nor 1.
    #[error("invalid option flag {0} in {1}")]
    BadOptionFlag(u8, &'static str),
    /// A string field was not UTF-8.
    #[error("{0} is not valid UTF-8")]
    InvalidUtf8(&'static str),
    /// A length-bounded field is longer than its limit.
    #[error("{field} is {len} bytes, the limit is {max}")]
    FieldTooLong {
        /// The field.
        field: &'static str,
        /// Its declared length.
        len: usize,
        /// The limit.
        max: usize,
    },
    /// A fixed-size field has the wrong length.
    #[error("{field} must be {expected} bytes, got {actual}")]
    WrongLength {
        /// The field.
        field: &'static str,
        /// Required length.
        expected: usize,
        /// Declared length.
        actual: usize,
    },
    /// Bytes remained after the last field.
    #[error("{0} trailing bytes after the message")]
    TrailingBytes(usize),
}

/// Byte fields at least this long are written from where they are instead
/// of being copied into the encoding buffer.
const BORROW_AT: usize = 16 * 1024;

/// An encoded body as a few segments: small fields gathered into owned
/// buffers, large byte fields borrowed from the message, so that writing a
/// frame copies no payload.
#[derive(Debug, Default)]
pub struct Encoded<'a> {
    segments: Vec<Segment<'a>>,
    len: usize,
    /// Count the bytes without keeping them (see [`Wire::encoded_len`]).
    measure_only: bool,
}

#[derive(Debug)]
enum Segment<'a> {
    Owned(Vec<u8>),
    Borrowed(&'a [u8]),
}

impl<'a> Encoded<'a> {
    fn owned(&mut self) -> &mut Vec<u8> {
        if !matches!(self.segments.last(), Some(Segment::Owned(_))) {
            self.segments.push(Segment::Owned(Vec::new()));
        }
        match self.segments.last_mut() {
            Some(Segment::Owned(buffer)) => buffer,
            _ => unreachable!("an owned segment was just pushed"),
        }
    }

    fn push(&mut self, byte: u8) {
        self.extend(&[byte]);
    }

    fn extend(&mut self, bytes: &[u8]) {
        if !self.measure_only {
            self.owned().extend_from_slice(bytes);
        }
        self.len += bytes.len();
    }

    fn borrow(&mut self, bytes: &'a [u8]) {
        if self.measure_only {
            self.len += bytes.len();
        } else if bytes.len() >= BORROW_AT {
            self.segments.push(Segment::Borrowed(bytes));
            self.len += bytes.len();
        } else {
            self.extend(bytes);
        }
    }

    /// Total length in bytes.
    pub fn len(&self) -> usize {
        self.len
    }

    /// Whether nothing was encoded.
    pub fn is_empty(&self) -> bool {
        self.len == 0
    }

    /// The segments in order.
    pub fn segments(&self) -> impl Iterator<Item = &[u8]> {
        self.segments.iter().map(|segment| match segment {
            Segment::Owned(buffer) => buffer.as_slice(),
            Segment::Borrowed(bytes) => bytes,
        })
    }
}

/// Encoding of one wire type; decoding never panics on any input.
pub trait Wire: Sized {
    /// Appends the encoded body to `out`.
    fn encode<'a>(&'a self, out: &mut Encoded<'a>);
    /// Decodes a complete body.
    fn decode(body: &[u8]) -> Result<Self, DecodeError>;

    /// Decodes a complete body read into `frame`; large byte fields may
    /// share its buffer instead of being copied out of it.
    fn decode_shared(frame: &Bytes) -> Result<Self, DecodeError> {
        Self::decode(frame)
    }

    /// The encoded body, its large fields borrowed.
    fn encoded(&self) -> Encoded<'_> {
        let mut out = Encoded::default();
        self.encode(&mut out);
        out
    }

    /// The encoded body's length, from the encoder itself but without
    /// gathering any bytes: what a sender checks against the frame limit.
    fn encoded_len(&self) -> usize {
        let mut out = Encoded {
            measure_only: true,
            ..Encoded::default()
        };
        self.encode(&mut out);
        out.len()
    }

    /// Encodes into one new buffer.
    fn to_bytes(&self) -> Vec<u8> {
        let encoded = self.encoded();
        let mut out = Vec::with_capacity(encoded.len());
        for segment in encoded.segments() {
            out.extend(segment);
        }
        out
    }
}

struct Reader<'a> {
    rest: &'a [u8],
    /// The buffer `rest` lies in, when byte fields may share it.
    shared: Option<&'a Bytes>,
}

impl<'a> Reader<'a> {
    fn new(body: &'a [u8]) -> Self {
        Self {
            rest: body,
            shared: None,
        }
    }

    fn sharing(frame: &'a Bytes) -> Self {
        Self {
            rest: frame,
            shared: Some(frame),
        }
    }

    /// A length-prefixed byte field as `Bytes`: a slice of the shared
    /// frame, or a copy when there is none.
    fn payload(&mut self, field: &'static str) -> Result<Bytes, DecodeError> {
        let raw = self.bytes(field, usize::MAX)?;
        Ok(match self.shared {
            Some(frame) => frame.slice_ref(raw),
            None => Bytes::copy_from_slice(raw),
        })
    }

    fn take(&mut self, n: usize, field: &'static str) -> Result<&'a [u8], DecodeError> {
        if n > self.rest.len() {
            return Err(DecodeError::Truncated {
                field,
                needed: n,
                remaining: self.rest.len(),
            });
        }
        let (head, tail) = self.rest.split_at(n);
        self.rest = tail;
        Ok(head)
    }

    fn u8(&mut self, field: &'static str) -> Result<u8, DecodeError> {
        Ok(self.take(1, field)?[0])
    }

    fn u16(&mut self, field: &'static str) -> Result<u16, DecodeError> {
        let b = self.take(2, field)?;
        Ok(u16::from_be_bytes([b[0], b[1]]))
    }

    fn u64(&mut self, field: &'static str) -> Result<u64, DecodeError> {
        let mut buf = [0u8; 8];
        buf.copy_from_slice(self.take(8, field)?);
        Ok(u64::from_be_bytes(buf))
    }

    fn len(&mut self, field: &'static str, max: usize) -> Result<usize, DecodeError> {
        let mut buf = [0u8; 4];
        buf.copy_from_slice(self.take(4, field)?);
        let len = u32::from_be_bytes(buf) as usize;
        if len > max {
            return Err(DecodeError::FieldTooLong { field, len, max });
        }
        Ok(len)
    }

    fn bytes(&mut self, field: &'static str, max: usize) -> Result<&'a [u8], DecodeError> {
        let len = self.len(field, max)?;
        self.take(len, field)
    }

    fn fixed<const N: usize>(&mut self, field: &'static str) -> Result<[u8; N], DecodeError> {
        let len = self.len(field, usize::MAX)?;
        if len != N {
            return Err(DecodeError::WrongLength {
                field,
                expected: N,
                actual: len,
            });
        }
        let mut out = [0u8; N];
        out.copy_from_slice(self.take(N, field)?);
        Ok(out)
    }

    fn string(&mut self, field: &'static str, max: usize) -> Result<String, DecodeError> {
        let raw = self.bytes(field, max)?;
        std::str::from_utf8(raw)
            .map(str::to_owned)
            .map_err(|_| DecodeError::InvalidUtf8(field))
    }

    fn option_flag(&mut self, field: &'static str) -> Result<bool, DecodeError> {
        match self.u8(field)? {
            0 => Ok(false),
            1 => Ok(true),
            other => Err(DecodeError::BadOptionFlag(other, field)),
        }
    }

    fn finish(self) -> Result<(), DecodeError> {
        if self.rest.is_empty() {
            Ok(())
        } else {
            Err(DecodeError::TrailingBytes(self.rest.len()))
        }
    }
}

fn put_bytes<'a>(out: &mut Encoded<'a>, bytes: &'a [u8]) {
    // Lengths above u32::MAX cannot be produced by callers: every sender checks
    // the configured maximum message size (at most u32::MAX) first.
    let len = u32::try_from(bytes.len()).unwrap_or(u32::MAX);
    out.extend(&len.to_be_bytes());
    out.borrow(bytes);
}

fn put_option<'a>(out: &mut Encoded<'a>, value: Option<&'a [u8]>) {
    match value {
        None => out.push(0),
        Some(bytes) => {
            out.push(1);
            put_bytes(out, bytes);
        }
    }
}

fn encode_credentials<'a>(creds: &'a HandshakeRequest, out: &mut Encoded<'a>) {
    put_bytes(out, &creds.public_key);
    put_bytes(out, &creds.signature);
    put_bytes(out, creds.protocol_version.as_bytes());
    out.extend(&creds.timestamp_ms.to_be_bytes());
}

fn decode_credentials(r: &mut Reader<'_>) -> Result<HandshakeRequest, DecodeError> {
    Ok(HandshakeRequest {
        public_key: r.fixed::<PUBLIC_KEY_LEN>("public_key")?,
        signature: r.fixed::<SIGNATURE_LEN>("signature")?,
        protocol_version: r.string("protocol_version", MAX_VERSION_LEN)?,
        timestamp_ms: r.u64("timestamp_ms")?,
    })
}

impl Wire for HandshakeRequest {
    fn encode<'a>(&'a self, out: &mut Encoded<'a>) {
        out.push(TAG_HANDSHAKE_REQUEST);
        encode_credentials(self, out);
    }

    fn decode(body: &[u8]) -> Result<Self, DecodeError> {
        let mut r = Reader::new(body);
        match r.u8("tag")? {
            TAG_HANDSHAKE_REQUEST => {}
            other => return Err(DecodeError::UnknownTag(other)),
        }
        let creds = decode_credentials(&mut r)?;
        r.finish()?;
        Ok(creds)
    }
}

impl Wire for HandshakeResponse {
    fn encode<'a>(&'a self, out: &mut Encoded<'a>) {
        match self {
            Self::Accepted(creds) => {
                out.push(TAG_HANDSHAKE_ACCEPTED);
                encode_credentials(creds, out);
            }
            Self::Rejected { code, message } => {
                out.push(TAG_HANDSHAKE_REJECTED);
                out.extend(&code.to_be_bytes());
                put_bytes(out, message.as_bytes());
            }
        }
    }

    fn decode(body: &[u8]) -> Result<Self, DecodeError> {
        let mut r = Reader::new(body);
        let msg = match r.u8("tag")? {
            TAG_HANDSHAKE_ACCEPTED => Self::Accepted(decode_credentials(&mut r)?),
            TAG_HANDSHAKE_REJECTED => Self::Rejected {
                code: r.u16("code")?,
                message: r.string("message", MAX_ERROR_MESSAGE_LEN)?,
            },
            other => return Err(DecodeError::UnknownTag(other)),
        };
        r.finish()?;
        Ok(msg)
    }
}

impl Wire for InstanceMessageRequest {
    fn encode<'a>(&'a self, out: &mut Encoded<'a>) {
        out.push(TAG_INSTANCE_REQUEST);
        put_bytes(out, self.protocol.as_bytes());
        put_bytes(out, &self.payload);
        put_option(out, self.metadata.as_deref());
    }

    fn decode(body: &[u8]) -> Result<Self, DecodeError> {
        Self::decode_from(Reader::new(body))
    }

    fn decode_shared(frame: &Bytes) -> Result<Self, DecodeError> {
        Self::decode_from(Reader::sharing(frame))
    }
}

impl InstanceMessageRequest {
    fn decode_from(mut r: Reader<'_>) -> Result<Self, DecodeError> {
        match r.u8("tag")? {
            TAG_INSTANCE_REQUEST => {}
            other => return Err(DecodeError::UnknownTag(other)),
        }
        let protocol = r.string("protocol", MAX_PROTOCOL_NAME_LEN)?;
        let payload = r.payload("payload")?;
        let metadata = if r.option_flag("metadata")? {
            Some(r.payload("metadata")?)
        } else {
            None
        };
        r.finish()?;
        Ok(Self {
            protocol,
            payload,
            metadata,
        })
    }
}

impl Wire for InstanceMessageResponse {
    fn encode<'a>(&'a self, out: &mut Encoded<'a>) {
        match self {
            Self::Success { data } => {
                out.push(TAG_RESPONSE_SUCCESS);
                put_option(out, data.as_deref());
            }
            Self::Protocol { data } => {
                out.push(TAG_RESPONSE_PROTOCOL);
                put_bytes(out, data);
            }
            Self::Error { code, message } => {
                out.push(TAG_RESPONSE_ERROR);
                out.extend(&code.to_be_bytes());
                put_bytes(out, message.as_bytes());
            }
        }
    }

    fn decode(body: &[u8]) -> Result<Self, DecodeError> {
        Self::decode_from(Reader::new(body))
    }

    fn decode_shared(frame: &Bytes) -> Result<Self, DecodeError> {
        Self::decode_from(Reader::sharing(frame))
    }
}

impl InstanceMessageResponse {
    fn decode_from(mut r: Reader<'_>) -> Result<Self, DecodeError> {
        let msg = match r.u8("tag")? {
            TAG_RESPONSE_SUCCESS => Self::Success {
                data: if r.option_flag("data")? {
                    Some(r.payload("data")?)
                } else {
                    None
                },
            },
            TAG_RESPONSE_PROTOCOL => Self::Protocol {
                data: r.payload("data")?,
            },
            TAG_RESPONSE_ERROR => Self::Error {
                code: r.u16("code")?,
                message: r.string("message", MAX_ERROR_MESSAGE_LEN)?,
            },
            other => return Err(DecodeError::UnknownTag(other)),
        };
        r.finish()?;
        Ok(msg)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A length-prefixed field, written by hand.
    fn put_raw(body: &mut Vec<u8>, bytes: &[u8]) {
        body.extend_from_slice(&(bytes.len() as u32).to_be_bytes());
        body.extend_from_slice(bytes);
    }

    #[test]
    fn large_fields_are_borrowed_and_the_bytes_are_the_same() {
        let request = InstanceMessageRequest {
            protocol: "p".into(),
            payload: vec![7; BORROW_AT].into(),
            metadata: Some(vec![1, 2, 3].into()),
        };
        let encoded = request.encoded();
        assert_eq!(encoded.segments().count(), 3, "header, payload, metadata");
        assert_eq!(encoded.len(), request.to_bytes().len());
        assert_eq!(
            InstanceMessageRequest::decode(&request.to_bytes()),
            Ok(request)
        );
    }

    #[test]
    fn a_received_payload_shares_the_frame_instead_of_copying_it() {
        let request = InstanceMessageRequest {
            protocol: "p".into(),
            payload: vec![7; 1000].into(),
            metadata: Some(vec![1, 2, 3].into()),
        };
        let frame = Bytes::from(request.to_bytes());
        let inside = |b: &Bytes| {
            let range = frame.as_ptr_range();
            range.contains(&b.as_ptr()) && b.as_ptr_range().end <= range.end
        };
        let decoded = InstanceMessageRequest::decode_shared(&frame).expect("valid");
        assert_eq!(decoded, request);
        assert!(inside(&decoded.payload));
        assert!(inside(decoded.metadata.as_ref().expect("metadata")));
        let response = Bytes::from(
            InstanceMessageResponse::Success {
                data: Some(vec![9; 100].into()),
            }
            .to_bytes(),
        );
        match InstanceMessageResponse::decode_shared(&response) {
            Ok(InstanceMessageResponse::Success { data: Some(data) }) => {
                assert!(response.as_ptr_range().contains(&data.as_ptr()));
            }
            other => panic!("{other:?}"),
        }
        // Without a shared frame the decoder copies, as before.
        let copied = InstanceMessageRequest::decode(&frame).expect("valid");
        assert!(!inside(&copied.payload));
    }
    #[test]
    fn the_measured_length_is_the_encoded_length() {
        let requests = [
            InstanceMessageRequest {
                protocol: "echo".into(),
                payload: vec![1; 5].into(),
                metadata: None,
            },
            InstanceMessageRequest {
                protocol: "p".into(),
                payload: vec![7; BORROW_AT + 1].into(),
                metadata: Some(vec![2; BORROW_AT].into()),
            },
        ];
        for request in requests {
            assert_eq!(request.encoded_len(), request.to_bytes().len());
        }
        let accepted = HandshakeResponse::Accepted(creds());
        assert_eq!(accepted.encoded_len(), accepted.to_bytes().len());
    }

    fn creds() -> HandshakeRequest {
        HandshakeRequest {
            public_key: [7; PUBLIC_KEY_LEN],
            signature: [9; SIGNATURE_LEN],
            protocol_version: "simnet/1.0".into(),
            timestamp_ms: 1_700_000_000_123,
        }
    }

    fn samples() -> Vec<Vec<u8>> {
        vec![
            creds().to_bytes(),
            HandshakeResponse::Accepted(creds()).to_bytes(),
            HandshakeResponse::Rejected {
                code: 400,
                message: "bad signature".into(),
            }
            .to_bytes(),
            InstanceMessageRequest {
                protocol: "echo".into(),
                payload: b"hello".to_vec().into(),
                metadata: Some(vec![1, 2].into()),
            }
            .to_bytes(),
            InstanceMessageResponse::Success { data: None }.to_bytes(),
            InstanceMessageResponse::Protocol {
                data: vec![5; 10].into(),
            }
            .to_bytes(),
            InstanceMessageResponse::Error {
                code: 403,
                message: "handshake required".into(),
            }
            .to_bytes(),
        ]
    }

    fn decode_any(body: &[u8]) -> Result<(), DecodeError> {
        HandshakeRequest::decode(body)
            .map(drop)
            .or_else(|_| HandshakeResponse::decode(body).map(drop))
            .or_else(|_| InstanceMessageRequest::decode(body).map(drop))
            .or_else(|_| InstanceMessageResponse::decode(body).map(drop))
    }

    #[test]
    fn every_type_round_trips() {
        let c = creds();
        assert_eq!(HandshakeRequest::decode(&c.to_bytes()), Ok(c.clone()));
        for resp in [
            HandshakeResponse::Accepted(c),
            HandshakeResponse::Rejected {
                code: 426,
                message: "version".into(),
            },
        ] {
            assert_eq!(HandshakeResponse::decode(&resp.to_bytes()), Ok(resp));
        }
        for req in [
            InstanceMessageRequest {
                protocol: "p".into(),
                payload: vec![].into(),
                metadata: None,
            },
            InstanceMessageRequest {
                protocol: "p".into(),
                payload: vec![0; 1000].into(),
                metadata: Some(vec![].into()),
            },
        ] {
            assert_eq!(InstanceMessageRequest::decode(&req.to_bytes()), Ok(req));
        }
        for resp in [
            InstanceMessageResponse::Success { data: None },
            InstanceMessageResponse::Success {
                data: Some(vec![1].into()),
            },
            InstanceMessageResponse::Protocol {
                data: vec![2, 3].into(),
            },
            InstanceMessageResponse::Error {
                code: 500,
                message: "x".into(),
            },
        ] {
            assert_eq!(InstanceMessageResponse::decode(&resp.to_bytes()), Ok(resp));
        }
    }

    #[test]
    fn every_truncation_is_rejected() {
        for body in samples() {
            for cut in 0..body.len() {
                assert!(
                    decode_any(&body[..cut]).is_err(),
                    "prefix of {cut} bytes of {body:?} decoded"
                );
            }
        }
    }

    #[test]
    fn trailing_bytes_are_rejected() {
        let mut body = creds().to_bytes();
        body.push(0);
        assert_eq!(
            HandshakeRequest::decode(&body),
            Err(DecodeError::TrailingBytes(1))
        );
    }

    #[test]
    fn huge_declared_lengths_fail_without_allocating() {
        // tag, then a protocol length of u32::MAX with nothing behind it.
        let mut body = vec![TAG_INSTANCE_REQUEST];
        body.extend_from_slice(&u32::MAX.to_be_bytes());
        assert!(matches!(
            InstanceMessageRequest::decode(&body),
            Err(DecodeError::FieldTooLong {
                field: "protocol",
                ..
            })
        ));
        let mut body = vec![TAG_INSTANCE_REQUEST];
        put_raw(&mut body, b"p");
        body.extend_from_slice(&u32::MAX.to_be_bytes());
        assert!(matches!(
            InstanceMessageRequest::decode(&body),
            Err(DecodeError::Truncated {
                field: "payload",
                ..
            })
        ));
    }

    #[test]
    fn wrong_key_length_is_named() {
        let mut body = vec![TAG_HANDSHAKE_REQUEST];
        put_raw(&mut body, &[1; 31]);
        assert_eq!(
            HandshakeRequest::decode(&body),
            Err(DecodeError::WrongLength {
                field: "public_key",
                expected: 32,
                actual: 31
            })
        );
    }

    #[test]
    fn garbage_never_panics() {
        // A small deterministic generator: every body of pseudo-random bytes
        // either decodes to something that re-encodes identically, or errors.
        let mut state = 0x9e37_79b9_7f4a_7c15u64;
        for len in 0..300usize {
            let body: Vec<u8> = (0..len)
                .map(|_| {
                    state ^= state << 13;
                    state ^= state >> 7;
                    state ^= state << 17;
                    (state >> 24) as u8
                })
                .collect();
            if let Ok(req) = InstanceMessageRequest::decode(&body) {
                assert_eq!(req.to_bytes(), body);
            }
            let _ = decode_any(&body);
        }
    }

    #[test]
    fn bad_utf8_and_flags_are_named() {
        let mut body = vec![TAG_INSTANCE_REQUEST];
        put_raw(&mut body, &[0xff, 0xfe]);
        assert_eq!(
            InstanceMessageRequest::decode(&body),
            Err(DecodeError::InvalidUtf8("protocol"))
        );
        let mut body = vec![TAG_RESPONSE_SUCCESS, 7];
        body.push(0);
        assert_eq!(
            InstanceMessageResponse::decode(&body),
            Err(DecodeError::BadOptionFlag(7, "data"))
        );
    }

    #[test]
    fn a_request_is_not_a_response() {
        let body = creds().to_bytes();
        assert_eq!(
            HandshakeResponse::decode(&body),
            Err(DecodeError::UnknownTag(TAG_HANDSHAKE_REQUEST))
        );
    }

    #[test]
    fn a_request_the_decoder_would_refuse_is_named_before_sending() {
        let request = |protocol: String| InstanceMessageRequest {
            protocol,
            payload: Vec::new().into(),
            metadata: None,
        };
        assert_eq!(request("p".repeat(256)).field_over_limit(), None);
        assert_eq!(
            request("p".repeat(257)).field_over_limit(),
            Some(("protocol name", 257, MAX_PROTOCOL_NAME_LEN))
        );
        let encoded = request("p".repeat(257)).to_bytes();
        assert!(
            InstanceMessageRequest::decode(&encoded).is_err(),
            "the decoder's limit"
        );
    }
}
