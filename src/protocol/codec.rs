//! Length-prefixed framing of [`super::wire`] types for libp2p `request_response`.
//!
//! A frame is a 4-byte big-endian length and a body. The length is checked
//! against the codec's limit before any buffer is allocated, and the body is
//! read with `take`, so a peer that claims a large frame and sends little costs
//! only what it actually sent. Decode failures surface as `io::ErrorKind::InvalidData`
//! wrapping a [`FrameError`], which the node counts as a malformed message.

use std::{io, marker::PhantomData, sync::Arc};

use futures::{AsyncRead, AsyncReadExt, AsyncWrite, AsyncWriteExt};
use libp2p::{PeerId, StreamProtocol};
use thiserror::Error;
use tokio::sync::mpsc;

use super::{
    admission::{Admission, MAX_UNVERIFIED_FRAME},
    wire::{DecodeError, Encoded, Wire},
};

/// Why a frame was refused.
#[derive(Debug, Error)]
pub enum FrameError {
    /// The declared (or, when sending, actual) body length exceeds the limit.
    #[error("frame of {len} bytes exceeds the limit of {max}")]
    TooLarge {
        /// Declared length.
        len: u64,
        /// Configured limit.
        max: u64,
    },
    /// The body was not a valid message.
    #[error("malformed message: {0}")]
    Malformed(#[from] DecodeError),
    /// A peer that is not verified declared a frame longer than it may send
    /// before the handshake; the body was not read.
    #[error("frame of {len} bytes from a peer not verified exceeds the limit of {max} before the handshake; body not read")]
    BeforeHandshake {
        /// Declared length.
        len: u64,
        /// The limit for peers that are not verified.
        max: u64,
    },
}

/// A direct request that could not be read, as the codec reports it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Rejection {
    /// The peer it came from, when the codec knows it.
    pub peer: Option<PeerId>,
    /// Why it was refused.
    pub error: String,
    /// Whether it was refused because its sender is not verified.
    pub before_handshake: bool,
}

impl FrameError {
    /// Finds a frame error inside an I/O error produced by this codec.
    pub fn find(err: &io::Error) -> Option<&FrameError> {
        err.get_ref()?.downcast_ref::<FrameError>()
    }
}

fn invalid(err: FrameError) -> io::Error {
    io::Error::new(io::ErrorKind::InvalidData, err)
}

/// Body bytes a frame may reserve before any of them has arrived.
const FIRST_CHUNK: usize = 64 * 1024;

/// Reads one frame of at most `max` body bytes.
pub async fn read_frame<T>(io: &mut T, max: u32) -> io::Result<Vec<u8>>
where
    T: AsyncRead + Unpin + Send,
{
    read_frame_capped(io, max, None).await
}

/// Reads one frame of at most `max` body bytes; with `unverified` set, a
/// frame longer than that is refused as [`FrameError::BeforeHandshake`]
/// after the length prefix, before any body byte is read.
async fn read_frame_capped<T>(io: &mut T, max: u32, unverified: Option<u32>) -> io::Result<Vec<u8>>
where
    T: AsyncRead + Unpin + Send,
{
    let mut len = [0u8; 4];
    io.read_exact(&mut len).await?;
    let len = u32::from_be_bytes(len);
    if len > max {
        return Err(invalid(FrameError::TooLarge {
            len: len.into(),
            max: max.into(),
        }));
    }
    if let Some(cap) = unverified.filter(|cap| len > *cap) {
        return Err(invalid(FrameError::BeforeHandshake {
            len: len.into(),
            max: cap.into(),
        }));
    }
    // Memory follows the bytes that actually arrive: at most `FIRST_CHUNK`
    // before any body byte, then at most twice what has been received, so a
    // peer cannot make the node commit a large buffer with a 4-byte header.
    let len = len as usize;
    let mut body = Vec::with_capacity(len.min(FIRST_CHUNK));
    while body.len() < len {
        let start = body.len();
        let chunk = (len - start).min(start.max(FIRST_CHUNK));
        body.resize(start + chunk, 0);
        io.read_exact(&mut body[start..]).await?;
    }
    Ok(body)
}

/// Writes one frame, refusing bodies over `max` bytes.
pub async fn write_frame<T>(io: &mut T, body: &[u8], max: u32) -> io::Result<()>
where
    T: AsyncWrite + Unpin + Send,
{
    let len = frame_len(body.len(), max)?;
    io.write_all(&len.to_be_bytes()).await?;
    io.write_all(body).await?;
    io.flush().await
}

/// Writes one frame from an encoded message's segments, so that large
/// fields go from the message to the stream without an intermediate copy.
pub async fn write_encoded<T>(io: &mut T, body: &Encoded<'_>, max: u32) -> io::Result<()>
where
    T: AsyncWrite + Unpin + Send,
{
    let len = frame_len(body.len(), max)?;
    io.write_all(&len.to_be_bytes()).await?;
    for segment in body.segments() {
        io.write_all(segment).await?;
    }
    io.flush().await
}

fn frame_len(body_len: usize, max: u32) -> io::Result<u32> {
    u32::try_from(body_len)
        .ok()
        .filter(|len| *len <= max)
        .ok_or_else(|| {
            invalid(FrameError::TooLarge {
                len: body_len as u64,
                max: max.into(),
            })
        })
}

/// Reads one frame of at most `max` body bytes and decodes it as `M`.
pub async fn read_message<M: Wire, T>(io: &mut T, max: u32) -> io::Result<M>
where
    T: AsyncRead + Unpin + Send,
{
    read_message_capped(io, max, None).await
}

async fn read_message_capped<M: Wire, T>(
    io: &mut T,
    max: u32,
    unverified: Option<u32>,
) -> io::Result<M>
where
    T: AsyncRead + Unpin + Send,
{
    let body = read_frame_capped(io, max, unverified).await?;
    M::decode_shared(&bytes::Bytes::from(body)).map_err(|e| invalid(FrameError::Malformed(e)))
}

/// A `request_response` codec for one request type and one response type.
///
/// Requests are shared (`Arc`) so that a send which is retried after a lost
/// connection does not copy its payload.
///
/// libp2p's request-response drops a request whose decoding fails without
/// telling the application, so the codec reports each such failure itself on
/// `rejections` (bounded; when full, further reports are dropped, never waited
/// for).
///
/// With an [`Admission`], requests from a peer that is not verified are
/// limited to [`MAX_UNVERIFIED_FRAME`]; each connection's clone learns its
/// peer as described in [`super::admission`].
pub struct Codec<Req, Resp> {
    max_frame: u32,
    peer: Option<PeerId>,
    admission: Option<Admission>,
    rejections: Option<mpsc::Sender<Rejection>>,
    corrupt_requests: bool,
    unbounded_writes: bool,
    _types: PhantomData<fn() -> (Req, Resp)>,
}

impl<Req, Resp> Codec<Req, Resp> {
    /// A codec that refuses frames larger than `max_frame` bytes in both directions.
    pub fn new(max_frame: u32) -> Self {
        Self {
            max_frame,
            peer: None,
            admission: None,
            rejections: None,
            corrupt_requests: false,
            unbounded_writes: false,
            _types: PhantomData,
        }
    }

    /// Writes frames of any size, ignoring the limit (reads keep it): for
    /// adversarial test peers only.
    pub fn unbounded_writes(mut self, unbounded: bool) -> Self {
        self.unbounded_writes = unbounded;
        self
    }

    /// Writes every request with its first byte (the message tag) replaced by
    /// `0xff`: for adversarial test peers only.
    pub fn corrupting_requests(mut self, corrupt: bool) -> Self {
        self.corrupt_requests = corrupt;
        self
    }

    /// Also reports every inbound request that fails to decode on `rejections`.
    pub fn reporting_to(mut self, rejections: mpsc::Sender<Rejection>) -> Self {
        self.rejections = Some(rejections);
        self
    }

    /// Limits requests from peers that `admission` does not list as verified
    /// to [`MAX_UNVERIFIED_FRAME`].
    pub fn admitting(mut self, admission: Admission) -> Self {
        self.admission = Some(admission);
        self
    }

    /// The frame limit for the next request, if its sender is not verified.
    fn unverified_cap(&self) -> Option<u32> {
        let admission = self.admission.as_ref()?;
        // A codec that never learnt its peer treats it as not verified.
        match &self.peer {
            Some(peer) if admission.is_verified(peer) => None,
            _ => Some(MAX_UNVERIFIED_FRAME.min(self.max_frame)),
        }
    }
}

impl<Req, Resp> Clone for Codec<Req, Resp> {
    fn clone(&self) -> Self {
        Self {
            max_frame: self.max_frame,
            // The behaviour's own codec is cloned once per connection while
            // the connection's peer is bound; clones of that keep it.
            peer: self
                .peer
                .or_else(|| self.admission.as_ref().and_then(Admission::bound)),
            admission: self.admission.clone(),
            rejections: self.rejections.clone(),
            corrupt_requests: self.corrupt_requests,
            unbounded_writes: self.unbounded_writes,
            _types: PhantomData,
        }
    }
}

impl<Req, Resp> libp2p::request_response::Codec for Codec<Req, Resp>
where
    Req: Wire + Send + Sync + 'static,
    Resp: Wire + Send + 'static,
{
    type Protocol = StreamProtocol;
    type Request = Arc<Req>;
    type Response = Resp;

    async fn read_request<T>(&mut self, _: &StreamProtocol, io: &mut T) -> io::Result<Arc<Req>>
    where
        T: AsyncRead + Unpin + Send,
    {
        let cap = self.unverified_cap();
        let result = read_message_capped::<Req, T>(io, self.max_frame, cap).await;
        if let (Err(error), Some(rejections)) = (&result, &self.rejections) {
            if let Some(frame) = FrameError::find(error) {
                let _ = rejections.try_send(Rejection {
                    peer: self.peer,
                    error: frame.to_string(),
                    before_handshake: matches!(frame, FrameError::BeforeHandshake { .. }),
                });
            }
        }
        result.map(Arc::new)
    }

    async fn read_response<T>(&mut self, _: &StreamProtocol, io: &mut T) -> io::Result<Resp>
    where
        T: AsyncRead + Unpin + Send,
    {
        read_message(io, self.max_frame).await
    }

    async fn write_request<T>(
        &mut self,
        _: &StreamProtocol,
        io: &mut T,
        req: Arc<Req>,
    ) -> io::Result<()>
    where
        T: AsyncWrite + Unpin + Send,
    {
        let limit = if self.unbounded_writes {
            u32::MAX
        } else {
            self.max_frame
        };
        if self.corrupt_requests {
            let mut body = req.to_bytes();
            if let Some(tag) = body.first_mut() {
                *tag = 0xff;
            }
            write_frame(io, &body, limit).await?;
        } else {
            write_encoded(io, &req.encoded(), limit).await?;
        }
        io.close().await
    }

    async fn write_response<T>(
        &mut self,
        _: &StreamProtocol,
        io: &mut T,
        resp: Resp,
    ) -> io::Result<()>
    where
        T: AsyncWrite + Unpin + Send,
    {
        write_encoded(io, &resp.encoded(), self.max_frame).await?;
        io.close().await
    }
}

#[cfg(test)]
mod tests {
    use futures::{executor::block_on, io::Cursor};

    use super::*;
    use crate::protocol::wire::InstanceMessageRequest;

    fn frame(len: u32, body: &[u8]) -> Cursor<Vec<u8>> {
        let mut bytes = len.to_be_bytes().to_vec();
        bytes.extend_from_slice(body);
        Cursor::new(bytes)
    }

    #[test]
    fn oversized_length_is_refused_before_reading() {
        let err = block_on(read_frame(&mut frame(u32::MAX, b""), 1024)).unwrap_err();
        assert!(matches!(
            FrameError::find(&err),
            Some(FrameError::TooLarge {
                len: 4_294_967_295,
                max: 1024
            })
        ));
    }

    #[test]
    fn a_large_frame_before_the_handshake_is_refused_unread() {
        let mut input = frame(100_000, &[0; 100_000]);
        let err = block_on(read_frame_capped(&mut input, 1 << 20, Some(4096))).unwrap_err();
        assert!(matches!(
            FrameError::find(&err),
            Some(FrameError::BeforeHandshake {
                len: 100_000,
                max: 4096
            })
        ));
        assert_eq!(input.position(), 4, "only the length prefix was read");
        let small = block_on(read_frame_capped(
            &mut frame(3, b"abc"),
            1 << 20,
            Some(4096),
        ));
        assert_eq!(small.unwrap(), b"abc");
    }

    #[test]
    fn short_body_is_unexpected_eof() {
        let err = block_on(read_frame(&mut frame(100, b"only ten b"), 1024)).unwrap_err();
        assert_eq!(err.kind(), io::ErrorKind::UnexpectedEof);
    }

    #[test]
    fn truncated_length_prefix_is_eof() {
        let err = block_on(read_frame(&mut Cursor::new(vec![0, 0]), 1024)).unwrap_err();
        assert_eq!(err.kind(), io::ErrorKind::UnexpectedEof);
    }

    #[test]
    fn garbage_body_is_malformed() {
        let err = block_on(read_message::<InstanceMessageRequest, _>(
            &mut frame(3, b"\xff\x00\x01"),
            64,
        ))
        .unwrap_err();
        assert!(matches!(
            FrameError::find(&err),
            Some(FrameError::Malformed(DecodeError::UnknownTag(0xff)))
        ));
    }

    #[test]
    fn write_refuses_oversized_bodies_and_round_trips_others() {
        let mut out = Cursor::new(Vec::new());
        let err = block_on(write_frame(&mut out, &[0; 65], 64)).unwrap_err();
        assert!(matches!(
            FrameError::find(&err),
            Some(FrameError::TooLarge { len: 65, .. })
        ));
        assert!(out.get_ref().is_empty());

        let req = InstanceMessageRequest {
            protocol: "echo".into(),
            payload: vec![1, 2, 3].into(),
            metadata: None,
        };
        block_on(write_frame(&mut out, &req.to_bytes(), 64)).unwrap();
        out.set_position(0);
        let back: InstanceMessageRequest = block_on(read_message(&mut out, 64)).unwrap();
        assert_eq!(back, req);
    }
}
