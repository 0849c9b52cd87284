//! What the fuzzer feeds and what must hold for every input. A target
//! returns `Ok(true)` when the input was accepted, `Ok(false)` when it was
//! rejected with an error, and `Err` when a property broke; a panic is caught
//! by the runner and is always a finding.

use std::time::Duration;

use futures::{executor::block_on, io::Cursor};

use crate::{
    protocol::{
        codec::read_message,
        handshake::{self, Policy},
        wire::Wire,
        HandshakeRequest, HandshakeResponse, InstanceMessageRequest, InstanceMessageResponse,
        NodeKeys, PROTOCOL_VERSION,
    },
    scenario::load_str,
};

/// One thing to fuzz.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord)]
pub enum Target {
    /// The four message decoders on raw bodies; what decodes must re-encode
    /// to the same bytes.
    Wire,
    /// The frame reader (length prefix, size limit) with every decoder.
    Frame,
    /// The handshake verifier on mutated credentials: only the untouched
    /// credentials may verify.
    Handshake,
    /// The scenario loader on mutated scenario files.
    Scenario,
}

impl Target {
    /// Every target.
    pub const ALL: [Target; 4] = [
        Target::Wire,
        Target::Frame,
        Target::Handshake,
        Target::Scenario,
    ];

    /// Its name on the command line.
    pub fn name(self) -> &'static str {
        match self {
            Target::Wire => "wire",
            Target::Frame => "frame",
            Target::Handshake => "handshake",
            Target::Scenario => "scenario",
        }
    }

    /// The target called `name`.
    pub fn from_name(name: &str) -> Option<Target> {
        Self::ALL.into_iter().find(|t| t.name() == name)
    }
}

/// Largest frame body the frame target accepts.
const FRAME_LIMIT: u32 = 64 * 1024;
/// The time the fuzzed handshakes are checked at.
const NOW_MS: u64 = 1_767_225_600_000;

/// Valid inputs to mutate, per target.
pub fn seeds(target: Target) -> Vec<Vec<u8>> {
    match target {
        Target::Wire => valid_bodies(),
        Target::Frame => valid_bodies()
            .into_iter()
            .map(|body| {
                let mut frame = (body.len() as u32).to_be_bytes().to_vec();
                frame.extend_from_slice(&body);
                frame
            })
            .collect(),
        Target::Handshake => vec![Fixture::new().credentials.to_bytes()],
        Target::Scenario => SCENARIOS.iter().map(|s| s.as_bytes().to_vec()).collect(),
    }
}

const SCENARIOS: [&str; 3] = [
    include_str!("../../scenarios/handshake-basic.yaml"),
    include_str!("../../scenarios/request-flood.yaml"),
    include_str!("../../scenarios/partition-heals.yaml"),
];

fn valid_bodies() -> Vec<Vec<u8>> {
    let creds = Fixture::new().credentials;
    vec![
        creds.to_bytes(),
        HandshakeResponse::Accepted(creds).to_bytes(),
        HandshakeResponse::Rejected {
            code: 400,
            message: "bad handshake".into(),
        }
        .to_bytes(),
        InstanceMessageRequest {
            protocol: "scenario".into(),
            payload: b"hello".to_vec().into(),
            metadata: Some(b"meta".to_vec().into()),
        }
        .to_bytes(),
        InstanceMessageResponse::Success { data: None }.to_bytes(),
        InstanceMessageResponse::Protocol {
            data: vec![1, 2, 3].into(),
        }
        .to_bytes(),
        InstanceMessageResponse::Error {
            code: 429,
            message: "too many requests".into(),
        }
        .to_bytes(),
    ]
}

/// Two identities and the valid credentials one presents to the other.
struct Fixture {
    signer: NodeKeys,
    receiver: NodeKeys,
    credentials: HandshakeRequest,
}

impl Fixture {
    fn new() -> Self {
        let signer = NodeKeys::from_seed(b"fuzz signer");
        let receiver = NodeKeys::from_seed(b"fuzz receiver");
        let credentials = handshake::sign(
            &signer.instance,
            &signer.peer_id(),
            &receiver.peer_id(),
            NOW_MS,
            PROTOCOL_VERSION,
        );
        Self {
            signer,
            receiver,
            credentials,
        }
    }
}

/// Checks one input against `target`.
pub fn check(target: Target, input: &[u8]) -> Result<bool, String> {
    match target {
        Target::Wire => check_wire(input),
        Target::Frame => check_frame(input),
        Target::Handshake => check_handshake(input),
        Target::Scenario => Ok(load_str(&String::from_utf8_lossy(input), "fuzz.yaml").is_ok()),
    }
}

fn round_trips<M: Wire + std::fmt::Debug>(input: &[u8]) -> Result<bool, String> {
    match M::decode(input) {
        Err(_) => Ok(false),
        Ok(message) if message.to_bytes() == input => Ok(true),
        Ok(message) => Err(format!(
            "{message:?} decoded from {} bytes re-encodes differently",
            input.len()
        )),
    }
}

fn check_wire(input: &[u8]) -> Result<bool, String> {
    let results = [
        round_trips::<HandshakeRequest>(input)?,
        round_trips::<HandshakeResponse>(input)?,
        round_trips::<InstanceMessageRequest>(input)?,
        round_trips::<InstanceMessageResponse>(input)?,
    ];
    Ok(results.contains(&true))
}

fn check_frame(input: &[u8]) -> Result<bool, String> {
    fn read<M: Wire>(input: &[u8]) -> bool {
        block_on(read_message::<M, _>(&mut Cursor::new(input), FRAME_LIMIT)).is_ok()
    }
    let accepted = read::<HandshakeRequest>(input)
        | read::<HandshakeResponse>(input)
        | read::<InstanceMessageRequest>(input)
        | read::<InstanceMessageResponse>(input);
    if accepted && input.len() < 4 {
        return Err("a frame shorter than its length prefix was accepted".into());
    }
    Ok(accepted)
}

fn check_handshake(input: &[u8]) -> Result<bool, String> {
    let fixture = Fixture::new();
    let Ok(credentials) = HandshakeRequest::decode(input) else {
        return Ok(false);
    };
    let policy = Policy {
        local_version: PROTOCOL_VERSION.into(),
        freshness: Duration::from_secs(30),
        allow_list: None,
    };
    let verdict = handshake::verify(
        &credentials,
        &fixture.signer.peer_id(),
        &fixture.receiver.peer_id(),
        NOW_MS,
        &policy,
    );
    match verdict {
        Ok(_) if credentials != fixture.credentials => {
            Err(format!("altered credentials verified: {credentials:?}"))
        }
        Ok(_) => Ok(true),
        Err(_) => Ok(false),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_seed_is_accepted_by_its_target() {
        for target in Target::ALL {
            for seed in seeds(target) {
                assert_eq!(check(target, &seed), Ok(true), "{target:?}");
            }
        }
    }
}
