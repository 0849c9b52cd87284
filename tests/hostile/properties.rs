//! Properties of every decoder and of the handshake verifier over arbitrary
//! bytes, truncations, bit flips of valid messages and extreme length fields.

use std::time::Duration;

use futures::{executor::block_on, io::Cursor};
use proptest::{collection::vec, option, prelude::*, sample::Index};
use simnet::protocol::{
    codec::{read_message, FrameError},
    handshake::{self, HandshakeFailure, Policy},
    wire::{Wire, MAX_VERSION_LEN},
    HandshakeRequest, HandshakeResponse, InstanceMessageRequest, InstanceMessageResponse, NodeKeys,
    PROTOCOL_VERSION,
};

const NOW_MS: u64 = 1_767_225_600_000;

fn credentials() -> impl Strategy<Value = HandshakeRequest> {
    (
        any::<[u8; 32]>(),
        vec(any::<u8>(), 64),
        "[ -~]{0,64}",
        any::<u64>(),
    )
        .prop_map(
            |(public_key, signature, protocol_version, timestamp_ms)| HandshakeRequest {
                public_key,
                signature: signature.try_into().expect("64 bytes"),
                protocol_version,
                timestamp_ms,
            },
        )
}

fn handshake_response() -> impl Strategy<Value = HandshakeResponse> {
    prop_oneof![
        credentials().prop_map(HandshakeResponse::Accepted),
        (any::<u16>(), "[ -~]{0,200}")
            .prop_map(|(code, message)| HandshakeResponse::Rejected { code, message }),
    ]
}

fn instance_request() -> impl Strategy<Value = InstanceMessageRequest> {
    (
        "[ -~]{0,100}",
        vec(any::<u8>(), 0..2048),
        option::of(vec(any::<u8>(), 0..256)),
    )
        .prop_map(|(protocol, payload, metadata)| InstanceMessageRequest {
            protocol,
            payload: payload.into(),
            metadata: metadata.map(Into::into),
        })
}

fn instance_response() -> impl Strategy<Value = InstanceMessageResponse> {
    prop_oneof![
        option::of(vec(any::<u8>(), 0..512)).prop_map(|data| InstanceMessageResponse::Success {
            data: data.map(Into::into),
        }),
        vec(any::<u8>(), 0..512)
            .prop_map(|data| InstanceMessageResponse::Protocol { data: data.into() }),
        (any::<u16>(), "[ -~]{0,200}")
            .prop_map(|(code, message)| InstanceMessageResponse::Error { code, message }),
    ]
}

/// Every decoder on `bytes`: no panic, and what decodes re-encodes to `bytes`.
fn decode_all(bytes: &[u8]) -> Result<(), TestCaseError> {
    fn one<M: Wire + PartialEq + std::fmt::Debug>(bytes: &[u8]) -> Result<(), TestCaseError> {
        if let Ok(message) = M::decode(bytes) {
            prop_assert_eq!(message.to_bytes(), bytes, "{:?}", message);
        }
        Ok(())
    }
    one::<HandshakeRequest>(bytes)?;
    one::<HandshakeResponse>(bytes)?;
    one::<InstanceMessageRequest>(bytes)?;
    one::<InstanceMessageResponse>(bytes)
}

/// A valid message: round-trips; every strict prefix is rejected; every bit
/// flip decodes to nothing or to exactly the flipped bytes.
fn check_valid<M: Wire + PartialEq + std::fmt::Debug>(
    message: &M,
    cut: &Index,
    flip: &Index,
) -> Result<(), TestCaseError> {
    let bytes = message.to_bytes();
    prop_assert_eq!(&M::decode(&bytes).expect("valid message decodes"), message);
    let short = cut.index(bytes.len());
    prop_assert!(
        M::decode(&bytes[..short]).is_err(),
        "prefix of {short} bytes"
    );
    let mut flipped = bytes.clone();
    let bit = flip.index(bytes.len() * 8);
    flipped[bit / 8] ^= 1 << (bit % 8);
    decode_all(&flipped)
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(256))]

    #[test]
    fn decoders_never_panic_on_arbitrary_bytes(bytes in vec(any::<u8>(), 0..1024)) {
        decode_all(&bytes)?;
    }

    #[test]
    fn handshake_requests_round_trip_and_reject_damage(
        m in credentials(), cut in any::<Index>(), flip in any::<Index>()
    ) {
        prop_assume!(m.protocol_version.len() <= MAX_VERSION_LEN);
        check_valid(&m, &cut, &flip)?;
    }

    #[test]
    fn handshake_responses_round_trip_and_reject_damage(
        m in handshake_response(), cut in any::<Index>(), flip in any::<Index>()
    ) {
        check_valid(&m, &cut, &flip)?;
    }

    #[test]
    fn instance_requests_round_trip_and_reject_damage(
        m in instance_request(), cut in any::<Index>(), flip in any::<Index>()
    ) {
        check_valid(&m, &cut, &flip)?;
    }

    #[test]
    fn instance_responses_round_trip_and_reject_damage(
        m in instance_response(), cut in any::<Index>(), flip in any::<Index>()
    ) {
        check_valid(&m, &cut, &flip)?;
    }

    /// A length field set to any value up to u32::MAX (the widest the format
    /// has) is never trusted past the bytes present: pointing past the end
    /// fails, and whatever still decodes re-encodes to exactly those bytes.
    #[test]
    fn a_forged_payload_length_is_never_trusted(m in instance_request(), len in any::<u32>()) {
        let mut bytes = m.to_bytes();
        let at = 1 + 4 + m.protocol.len();
        bytes[at..at + 4].copy_from_slice(&len.to_be_bytes());
        if len as usize > bytes.len() - at - 4 {
            prop_assert!(InstanceMessageRequest::decode(&bytes).is_err());
        }
        decode_all(&bytes)?;
    }

    /// The frame reader refuses any declared length over its limit before
    /// reading the body, whatever the 8 bytes that follow (a u64 up to
    /// u64::MAX where a length is expected).
    #[test]
    fn frame_lengths_over_the_limit_are_refused_before_reading(
        len in any::<u32>(), tail in any::<u64>(), limit in 0u32..65_536
    ) {
        let mut frame = len.to_be_bytes().to_vec();
        frame.extend_from_slice(&tail.to_be_bytes());
        let result = block_on(read_message::<InstanceMessageRequest, _>(
            &mut Cursor::new(frame),
            limit,
        ));
        let error = result.expect_err("an 8-byte body is never a whole frame here");
        if len > limit {
            let too_large = matches!(FrameError::find(&error), Some(FrameError::TooLarge { .. }));
            prop_assert!(too_large, "{}", error);
        }
    }

    /// Only the credentials exactly as signed verify: any single bit flip of
    /// their encoding is rejected (or fails to decode).
    #[test]
    fn any_bit_flip_of_signed_credentials_is_rejected(flip in any::<Index>()) {
        let (signer, receiver) = keys();
        let creds = handshake::sign(
            &signer.instance, &signer.peer_id(), &receiver.peer_id(), NOW_MS, PROTOCOL_VERSION,
        );
        let mut bytes = creds.to_bytes();
        let bit = flip.index(bytes.len() * 8);
        bytes[bit / 8] ^= 1 << (bit % 8);
        if let Ok(altered) = HandshakeRequest::decode(&bytes) {
            let verdict = handshake::verify(
                &altered, &signer.peer_id(), &receiver.peer_id(), NOW_MS, &policy(),
            );
            prop_assert!(verdict.is_err(), "bit {} flipped and still verified", bit);
        }
    }

    /// Any timestamp (0 to u64::MAX) and any version string: the verifier
    /// answers without panicking, and accepts exactly the fresh, compatible ones.
    #[test]
    fn the_verifier_handles_any_timestamp_and_version(
        timestamp in prop_oneof![any::<u64>(), (NOW_MS - 60_000)..(NOW_MS + 60_000)],
        version in prop_oneof!["[ -~]{0,64}".boxed(), Just(PROTOCOL_VERSION.to_owned()).boxed()],
    ) {
        let (signer, receiver) = keys();
        let creds = handshake::sign(
            &signer.instance, &signer.peer_id(), &receiver.peer_id(), timestamp, &version,
        );
        let verdict = handshake::verify(
            &creds, &signer.peer_id(), &receiver.peer_id(), NOW_MS, &policy(),
        );
        let fresh = timestamp.abs_diff(NOW_MS) <= 30_000;
        let compatible = simnet::protocol::version::compatible(PROTOCOL_VERSION, &version);
        match verdict {
            Ok(_) => prop_assert!(fresh && compatible),
            Err(HandshakeFailure::Stale { .. }) => prop_assert!(!fresh && compatible),
            Err(HandshakeFailure::VersionMismatch { .. }) => prop_assert!(!compatible),
            Err(other) => prop_assert!(false, "unexpected failure {other}"),
        }
    }
}

fn keys() -> (NodeKeys, NodeKeys) {
    (
        NodeKeys::from_seed(b"property signer"),
        NodeKeys::from_seed(b"property receiver"),
    )
}

fn policy() -> Policy {
    Policy {
        local_version: PROTOCOL_VERSION.into(),
        freshness: Duration::from_secs(30),
        allow_list: None,
    }
}
