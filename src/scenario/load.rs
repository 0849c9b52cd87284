//! Parses a scenario file and validates it into a [`Plan`]. Every error names
//! the file, line and column, says what was expected, and suggests the
//! closest valid word where there is one.

use std::{collections::HashSet, fmt, path::Path, time::Duration};

use serde_saphyr::Location;

use super::{
    model::{
        DeliveryExpect, DurationText, ExpectSpec, Located, NeverSpec, NodeKind, NodeRef, NodeSpec,
        ResponderSpec, ScenarioFile, StepSpec,
    },
    plan::{Action, Check, Never, Plan, PlannedNode, SendPlan, Step},
    time::{parse_duration, parse_latency, parse_offset_ms},
};
use crate::protocol::{
    peers::{BanPolicy, Limits, MIN_PER_PEER},
    InstanceMessageResponse, Misbehaviour, NodeConfig, Responder,
};

/// Most copies of one repeated send or broadcast.
pub const MAX_REPEAT: u32 = 10_000;
/// Largest `payload_size` of a send: 64 MiB, four times the default frame limit.
pub const MAX_PAYLOAD: usize = 64 * 1024 * 1024;

/// Default message latency of a scenario's network.
pub const DEFAULT_LATENCY: (Duration, Duration) =
    (Duration::from_millis(1), Duration::from_millis(20));

/// A scenario file that cannot be run, and where.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub struct LoadError {
    /// File name as given.
    pub file: String,
    /// 1-based line (0 when unknown).
    pub line: u64,
    /// 1-based column (0 when unknown).
    pub column: u64,
    /// What is wrong and what was expected.
    pub message: String,
    /// A suggestion, when one exists.
    pub help: Option<String>,
}

impl fmt::Display for LoadError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        if self.line == 0 {
            // Nothing was read (an unreadable file): no place to point at.
            write!(f, "{}: {}", self.file, self.message)?;
        } else {
            write!(
                f,
                "{}:{}:{}: {}",
                self.file, self.line, self.column, self.message
            )?;
        }
        if let Some(help) = &self.help {
            write!(f, "\n  help: {help}")?;
        }
        Ok(())
    }
}

/// Reads and validates the scenario at `path`.
pub fn load_file(path: &Path) -> Result<Plan, LoadError> {
    let file = path.display().to_string();
    let text = std::fs::read(path).map_err(|e| LoadError {
        file: file.clone(),
        line: 0,
        column: 0,
        message: format!("cannot read the file: {e}"),
        help: None,
    })?;
    let text = String::from_utf8(text).map_err(|e| {
        let offset = e.utf8_error().valid_up_to();
        let valid = String::from_utf8_lossy(&e.as_bytes()[..offset]);
        let line = valid.matches('\n').count() as u64 + 1;
        let column = valid.rsplit('\n').next().map_or(0, |l| l.chars().count()) as u64 + 1;
        LoadError {
            file: file.clone(),
            line,
            column,
            message: format!("the file is not UTF-8 text (invalid byte at offset {offset})"),
            help: None,
        }
    })?;
    load_str(&text, &file)
}

/// The JSON Schema of scenario files, for editors (`simnet schema`).
pub fn json_schema() -> String {
    let schema = schemars::schema_for!(ScenarioFile);
    let mut text = serde_json::to_string_pretty(&schema).unwrap_or_default();
    text.push('\n');
    text
}

/// Parses and validates scenario text; `file` names it in errors.
pub fn load_str(text: &str, file: &str) -> Result<Plan, LoadError> {
    let blank = text
        .lines()
        .all(|line| line.trim().is_empty() || line.trim_start().starts_with('#'));
    if blank {
        return Err(LoadError {
            file: file.to_owned(),
            line: 1,
            column: 1,
            message: "the file is empty; a scenario needs `name`, `about`, `nodes` and `steps`"
                .into(),
            help: None,
        });
    }
    let raw: ScenarioFile =
        serde_saphyr::from_str(text).map_err(|e| syntax_error(file, text, &e))?;
    Validator {
        file,
        nodes: Vec::new(),
    }
    .plan(raw)
}

fn syntax_error(file: &str, text: &str, error: &serde_saphyr::Error) -> LoadError {
    let (line, column) = error.location().map_or((0, 0), |l| (l.line(), l.column()));
    let mut message = first_line(&error.to_string());
    if let Some(kind) = message.strip_prefix("invalid ") {
        // "invalid u32" → "expected a whole number, found `-1`".
        let wanted = match kind {
            "u8" | "u16" | "u32" | "u64" | "usize" => "a whole number",
            "i8" | "i16" | "i32" | "i64" => "an integer",
            "floating point" | "f32" | "f64" => "a number",
            "bool" | "boolean" => "true or false",
            other => other,
        };
        message = match token_at(text, line, column) {
            Some(token) => format!("expected {wanted}, found `{token}`"),
            None => format!("expected {wanted}"),
        };
    }
    let help = suggestion_for_unknown(&message);
    LoadError {
        file: file.to_owned(),
        line,
        column,
        message,
        help,
    }
}

/// serde-saphyr's message without its own location prefix and snippet.
fn first_line(text: &str) -> String {
    let line = text.lines().next().unwrap_or(text).trim();
    // "error: line 3 column 5: unknown field ..." → "unknown field ..."
    let mut rest = line.strip_prefix("error:").unwrap_or(line).trim();
    if let Some(after) = rest.strip_prefix("line ") {
        if let Some(pos) = after.find(": ") {
            rest = &after[pos + 2..];
        }
    }
    rest.to_owned()
}

/// The scalar starting at 1-based `line`/`column` of `text`.
fn token_at(text: &str, line: u64, column: u64) -> Option<String> {
    let line = text
        .lines()
        .nth(usize::try_from(line).ok()?.checked_sub(1)?)?;
    let start = usize::try_from(column).ok()?.checked_sub(1)?;
    let rest: String = line.chars().skip(start).collect();
    let token: String = rest
        .chars()
        .take_while(|c| !matches!(c, ',' | '}' | ']' | '#'))
        .collect();
    let token = token.trim();
    (!token.is_empty()).then(|| token.chars().take(40).collect())
}

/// For "unknown field `x`, expected one of a, b" (or a variant), the closest
/// expected word.
fn suggestion_for_unknown(message: &str) -> Option<String> {
    let unknown = message.split('`').nth(1)?;
    let (_, expected) = message.split_once("expected one of ")?;
    let candidates = expected.split(',').map(|w| w.trim().trim_matches('`'));
    let best = closest(unknown, candidates)?;
    Some(format!("did you mean `{best}`?"))
}

/// The candidate within edit distance 2 (or a third of the word) of `word`.
pub fn closest<'a>(word: &str, candidates: impl IntoIterator<Item = &'a str>) -> Option<&'a str> {
    let limit = (word.chars().count() / 3).max(2);
    candidates
        .into_iter()
        .map(|c| (edit_distance(word, c), c))
        .filter(|(d, _)| *d <= limit)
        .min_by_key(|(d, _)| *d)
        .map(|(_, c)| c)
}

fn edit_distance(a: &str, b: &str) -> usize {
    let b: Vec<char> = b.chars().collect();
    let mut row: Vec<usize> = (0..=b.len()).collect();
    for (i, ca) in a.chars().enumerate() {
        let mut previous = row[0];
        row[0] = i + 1;
        for (j, cb) in b.iter().enumerate() {
            let substitute = previous + usize::from(ca != *cb);
            previous = row[j + 1];
            row[j + 1] = substitute.min(row[j] + 1).min(previous + 1);
        }
    }
    row[b.len()]
}

struct Validator<'a> {
    file: &'a str,
    nodes: Vec<String>,
}

impl Validator<'_> {
    fn error_at(&self, location: &Location, message: impl Into<String>) -> LoadError {
        LoadError {
            file: self.file.to_owned(),
            line: location.line(),
            column: location.column(),
            message: message.into(),
            help: None,
        }
    }

    fn node(&self, name: &NodeRef) -> Result<String, LoadError> {
        if self.nodes.contains(&name.value) {
            return Ok(name.value.clone());
        }
        let mut error = self.error_at(
            &name.referenced,
            format!(
                "unknown node `{}`; the nodes are {}",
                name.value,
                self.nodes
                    .iter()
                    .map(|n| format!("`{n}`"))
                    .collect::<Vec<_>>()
                    .join(", ")
            ),
        );
        error.help = closest(&name.value, self.nodes.iter().map(String::as_str))
            .map(|n| format!("did you mean `{n}`?"));
        Err(error)
    }

    fn pair(
        &self,
        names: &[NodeRef],
        at: &Location,
        what: &str,
    ) -> Result<(String, String), LoadError> {
        match names {
            [a, b] => {
                let (a, b) = (self.node(a)?, self.node(b)?);
                if a == b {
                    return Err(self.error_at(
                        at,
                        format!("{what} needs two different nodes, got `{a}` twice"),
                    ));
                }
                Ok((a, b))
            }
            _ => Err(self.error_at(
                at,
                format!(
                    "{what} takes exactly two node names, like [alice, bob]; got {}",
                    names.len()
                ),
            )),
        }
    }

    fn duration(&self, text: &DurationText) -> Result<Duration, LoadError> {
        parse_duration(&text.value).map_err(|e| self.error_at(&text.referenced, e))
    }

    fn plan(mut self, raw: ScenarioFile) -> Result<Plan, LoadError> {
        if raw.name.value.trim().is_empty() {
            return Err(self.error_at(&raw.name.referenced, "`name` must not be empty"));
        }
        if raw.about.value.trim().is_empty() {
            return Err(self.error_at(
                &raw.about.referenced,
                "`about` must say in a sentence what the scenario proves",
            ));
        }
        if raw.nodes.value.is_empty() {
            return Err(self.error_at(&raw.nodes.referenced, "`nodes` must list at least one node"));
        }
        self.nodes = raw.nodes.value.keys().cloned().collect();
        for (name, spec) in &raw.nodes.value {
            if name.is_empty()
                || !name
                    .chars()
                    .all(|c| c.is_ascii_alphanumeric() || c == '-' || c == '_')
            {
                return Err(self.error_at(
                    &spec.referenced,
                    format!("node name `{name}` may use only letters, digits, `-` and `_`"),
                ));
            }
        }
        let latency = match &raw.network.latency {
            Some(text) => {
                parse_latency(&text.value).map_err(|e| self.error_at(&text.referenced, e))?
            }
            None => DEFAULT_LATENCY,
        };
        let loss = raw.network.loss.as_ref().map_or(0.0, |l| l.value);
        if let Some(bad) = raw
            .network
            .loss
            .as_ref()
            .filter(|_| !(0.0..=1.0).contains(&loss))
        {
            return Err(self.error_at(
                &bad.referenced,
                format!("`network.loss` must be between 0 and 1, got {loss}"),
            ));
        }
        let nodes = raw
            .nodes
            .value
            .iter()
            .map(|(name, spec)| self.node_plan(name, &spec.value, &spec.referenced))
            .collect::<Result<Vec<_>, _>>()?;
        let mut steps = Vec::new();
        for step in &raw.steps {
            let planned = self.step(step)?;
            let copies = match step.value.broadcast.as_ref().and_then(|b| b.repeat) {
                None => 1,
                Some(n @ 1..=MAX_REPEAT) => n,
                Some(n) => {
                    return Err(self.error_at(
                        &step.referenced,
                        format!("`repeat` must be between 1 and {MAX_REPEAT}, got {n}"),
                    ))
                }
            };
            for _ in 1..copies {
                steps.push(planned.clone());
            }
            steps.push(planned);
        }
        // Stable: steps at the same time keep their order in the file.
        steps.sort_by_key(|s| s.at);
        let never = raw
            .never
            .iter()
            .map(|n| self.never(n))
            .collect::<Result<Vec<_>, _>>()?;
        let end = raw.end.as_ref().map(|e| self.duration(e)).transpose()?;
        if let (Some(end), Some(last)) = (end, steps.last()) {
            if end < last.at {
                let text = raw
                    .end
                    .as_ref()
                    .map_or(raw.name.referenced, |e| e.referenced);
                return Err(self.error_at(
                    &text,
                    format!("`end` ({end:?}) is before the last step ({:?})", last.at),
                ));
            }
        }
        Ok(Plan {
            name: raw.name.value,
            about: raw.about.value,
            seed: raw.seed,
            latency,
            loss,
            nodes,
            steps,
            never,
            end,
        })
    }

    fn node_plan(
        &self,
        name: &str,
        spec: &NodeSpec,
        at: &Location,
    ) -> Result<PlannedNode, LoadError> {
        let mut config = NodeConfig {
            responder: match &spec.responder {
                ResponderSpec::Echo => Responder::Echo,
                ResponderSpec::Protocol => Responder::Protocol,
                ResponderSpec::Silent => Responder::Silent,
                ResponderSpec::Error { code, message } => {
                    Responder::Fixed(InstanceMessageResponse::Error {
                        code: *code,
                        message: message.clone(),
                    })
                }
            },
            ..NodeConfig::default()
        };
        if let Some(version) = &spec.version {
            config.protocol_version = version.clone();
        }
        if spec.kind == NodeKind::WrongVersion {
            config.protocol_version = "simnet/99.0".into();
        }
        if let Some(t) = &spec.handshake_timeout {
            config.handshake_timeout = self.duration(t)?;
        }
        if let Some(max) = spec.max_message_size {
            config.max_message_size = max;
        }
        if let Some(rate) = &spec.rate_limit {
            config.requests.rate = rate.requests;
            config.requests.window = self.duration(&rate.per)?;
            if config.requests.window.is_zero() {
                return Err(self.error_at(
                    &rate.per.referenced,
                    "`rate_limit.per` must be longer than zero",
                ));
            }
        }
        if let Some(max) = spec.max_in_flight {
            config.requests.max_in_flight = max;
        }
        if let Some(t) = &spec.send_deadline {
            config.send_deadline = self.duration(t)?;
        }
        if let Some(limits) = spec.limits {
            if limits.per_peer.is_some_and(|n| n < MIN_PER_PEER) {
                return Err(self.error_at(
                    at,
                    format!("`limits.per_peer` of node `{name}` must be at least {MIN_PER_PEER}: a simultaneous dial briefly needs one connection in each direction"),
                ));
            }
            let d = Limits::default();
            config.limits = Limits {
                max_inbound: limits.inbound.unwrap_or(d.max_inbound),
                max_outbound: limits.outbound.unwrap_or(d.max_outbound),
                max_per_peer: limits.per_peer.unwrap_or(d.max_per_peer),
                max_total: limits.total.unwrap_or(d.max_total),
                max_pending_handshakes: limits
                    .pending_handshakes
                    .unwrap_or(d.max_pending_handshakes),
            };
        }
        let d = BanPolicy::default();
        config.bans = BanPolicy {
            threshold: spec.ban_after.unwrap_or(d.threshold),
            duration: match &spec.ban_for {
                Some(t) => self.duration(t)?,
                None => d.duration,
            },
        };
        config.misbehaviour = match spec.kind {
            NodeKind::Honest | NodeKind::Replay => Misbehaviour::None,
            NodeKind::ForgedSignature => Misbehaviour::ForgeSignature,
            NodeKind::StaleTimestamp => Misbehaviour::StaleTimestamp(Duration::from_secs(120)),
            NodeKind::SilentHandshake => Misbehaviour::SilentHandshake,
            NodeKind::SkipHandshake => Misbehaviour::SkipHandshake,
            NodeKind::MalformedRequests => Misbehaviour::MalformedRequests,
            NodeKind::Oversized => Misbehaviour::IgnoreSizeLimit,
            NodeKind::WrongVersion => Misbehaviour::None,
        };
        let replays = match (&spec.replays, spec.kind) {
            (Some(r), NodeKind::Replay) => Some((self.node(&r.from)?, self.node(&r.to)?)),
            (None, NodeKind::Replay) => {
                return Err(self.error_at(
                    at,
                    format!("node `{name}` has `kind: replay` but no `replays: {{ from, to }}`"),
                ))
            }
            (Some(r), _) => {
                return Err(self.error_at(
                    &r.from.referenced,
                    format!("`replays` needs `kind: replay` on node `{name}`"),
                ))
            }
            (None, _) => None,
        };
        let allow = spec
            .allow
            .as_ref()
            .map(|names| {
                names
                    .iter()
                    .map(|n| self.node(n))
                    .collect::<Result<Vec<_>, _>>()
            })
            .transpose()?;
        Ok(PlannedNode {
            name: name.to_owned(),
            config,
            kind: spec.kind,
            replays,
            allow,
        })
    }

    fn step(&self, spanned: &Located<StepSpec>) -> Result<Step, LoadError> {
        let spec = &spanned.value;
        let at_location = spec.at.referenced;
        let at = self.duration(&spec.at)?;
        let mut actions: Vec<(&str, Action)> = Vec::new();
        if let Some(d) = &spec.dial {
            let (a, b) = self.pair(&[d.from.clone(), d.to.clone()], &d.from.referenced, "dial")?;
            actions.push(("dial", Action::Dial(a, b)));
        }
        if let Some(p) = &spec.disconnect {
            actions.push((
                "disconnect",
                Action::Disconnect(self.node(&p.node)?, self.node(&p.peer)?),
            ));
        }
        if let Some(s) = &spec.send {
            let payload = match (s.payload_size, &s.payload) {
                (Some(_), Some(_)) => {
                    return Err(self.error_at(
                        &s.from.referenced,
                        "give `payload` or `payload_size`, not both",
                    ))
                }
                (Some(size), None) if size <= MAX_PAYLOAD => vec![0u8; size],
                (Some(size), None) => {
                    return Err(self.error_at(
                        &s.from.referenced,
                        format!(
                        "`payload_size` must be at most {MAX_PAYLOAD} bytes (64 MiB), got {size}"
                    ),
                    ))
                }
                (None, Some(text)) => text.as_bytes().to_vec(),
                (None, None) => Vec::new(),
            };
            let copies = s.repeat.unwrap_or(1) as usize;
            if payload.len().saturating_mul(copies) > MAX_PAYLOAD {
                return Err(self.error_at(
                    &s.from.referenced,
                    format!(
                        "this send would queue {} bytes ({} copies of {} bytes); at most {MAX_PAYLOAD} (64 MiB) per step",
                        payload.len().saturating_mul(copies),
                        copies,
                        payload.len()
                    ),
                ));
            }
            actions.push((
                "send",
                Action::Send(SendPlan {
                    from: self.node(&s.from)?,
                    to: self.node(&s.to)?,
                    protocol: s.protocol.clone().unwrap_or_else(|| "scenario".into()),
                    payload,
                    metadata: s.metadata.as_ref().map(|m| m.as_bytes().to_vec()),
                    expect: s.expect,
                    code: s.code,
                    repeat: match s.repeat {
                        None => 1,
                        Some(n @ 1..=MAX_REPEAT) => n,
                        Some(n) => {
                            return Err(self.error_at(
                                &s.from.referenced,
                                format!("`repeat` must be between 1 and {MAX_REPEAT}, got {n}"),
                            ))
                        }
                    },
                }),
            ));
        }
        if let Some(s) = &spec.subscribe {
            let nodes = s
                .nodes
                .iter()
                .map(|n| self.node(n))
                .collect::<Result<Vec<_>, _>>()?;
            actions.push(("subscribe", Action::Subscribe(nodes, s.topic.clone())));
        }
        if let Some(b) = &spec.broadcast {
            actions.push((
                "broadcast",
                Action::Broadcast(
                    self.node(&b.from)?,
                    b.topic.clone(),
                    b.data.as_bytes().to_vec(),
                ),
            ));
        }
        if let Some(b) = &spec.ban {
            let duration = b.duration.as_ref().map(|d| self.duration(d)).transpose()?;
            actions.push((
                "ban",
                Action::Ban(self.node(&b.node)?, self.node(&b.peer)?, duration),
            ));
        }
        if let Some(p) = &spec.unban {
            actions.push((
                "unban",
                Action::Unban(self.node(&p.node)?, self.node(&p.peer)?),
            ));
        }
        for (word, names, make) in [
            (
                "partition",
                &spec.partition,
                Action::Partition as fn(String, String) -> Action,
            ),
            ("repair", &spec.repair, Action::Repair),
            ("hold", &spec.hold, Action::Hold),
            ("release", &spec.release, Action::Release),
        ] {
            if let Some(names) = names {
                let (a, b) = self.pair(names, &at_location, word)?;
                actions.push((word, make(a, b)));
            }
        }
        if let Some(n) = &spec.crash {
            actions.push(("crash", Action::Crash(self.node(n)?)));
        }
        if let Some(n) = &spec.restart {
            actions.push(("restart", Action::Restart(self.node(n)?)));
        }
        if let Some(c) = &spec.clock {
            let offset = parse_offset_ms(&c.offset.value)
                .map_err(|e| self.error_at(&c.offset.referenced, e))?;
            actions.push(("clock", Action::Clock(self.node(&c.node)?, offset)));
        }
        if let Some(l) = &spec.latency {
            let (a, b) = self.pair(&l.between, &at_location, "latency")?;
            let (min, max) =
                parse_latency(&l.range.value).map_err(|e| self.error_at(&l.range.referenced, e))?;
            actions.push(("latency", Action::Latency(a, b, min, max)));
        }
        if let Some(l) = &spec.loss {
            let (a, b) = self.pair(&l.between, &at_location, "loss")?;
            if !(0.0..=1.0).contains(&l.rate) {
                return Err(self.error_at(
                    &at_location,
                    format!("loss `rate` must be between 0 and 1, got {}", l.rate),
                ));
            }
            actions.push(("loss", Action::Loss(a, b, l.rate)));
        }
        if let Some(e) = &spec.expect {
            actions.push(("expect", Action::Expect(self.checks(e, &at_location)?)));
        }
        match actions.len() {
            1 => {
                let (_, action) = actions.remove(0);
                Ok(Step {
                    at,
                    line: at_location.line(),
                    action,
                })
            }
            0 => Err(self.error_at(
                &spanned.referenced,
                "a step needs one action besides `at`: dial, disconnect, send, subscribe, broadcast, ban, unban, partition, repair, hold, release, crash, restart, clock, latency, loss or expect",
            )),
            _ => Err(self.error_at(
                &spanned.referenced,
                format!(
                    "a step takes exactly one action, this one has {}; split it into one step per action",
                    actions.iter().map(|(w, _)| format!("`{w}`")).collect::<Vec<_>>().join(" and ")
                ),
            )),
        }
    }

    fn delivery(
        &self,
        d: &DeliveryExpect,
        out: &mut Vec<Check>,
        negate: bool,
    ) -> Result<(), LoadError> {
        for node in &d.to {
            let node = self.node(node)?;
            let data = d.data.as_ref().map(|s| s.as_bytes().to_vec());
            out.push(if negate {
                Check::NotDelivered(d.topic.clone(), node, data)
            } else {
                Check::Delivered(d.topic.clone(), node, data)
            });
        }
        Ok(())
    }

    fn checks(&self, e: &ExpectSpec, at: &Location) -> Result<Vec<Check>, LoadError> {
        let mut out = Vec::new();
        for p in &e.verified {
            let (a, b) = self.pair(p, at, "verified")?;
            out.push(Check::Verified(a, b));
        }
        for p in &e.not_verified {
            let (a, b) = self.pair(p, at, "not_verified")?;
            out.push(Check::NotVerified(a, b));
        }
        for h in &e.handshake {
            out.push(Check::Handshake(
                self.node(&h.node)?,
                self.node(&h.peer)?,
                h.state,
                h.reason.clone(),
            ));
        }
        for d in &e.delivered {
            self.delivery(d, &mut out, false)?;
        }
        for d in &e.not_delivered {
            self.delivery(d, &mut out, true)?;
        }
        for r in &e.requests {
            out.push(Check::Requests(
                self.node(&r.node)?,
                self.node(&r.from)?,
                r.count,
            ));
        }
        for r in &e.rejected {
            out.push(Check::Rejected(
                self.node(&r.node)?,
                self.node(&r.from)?,
                r.code,
                r.count.unwrap_or(1),
            ));
        }
        for p in &e.banned {
            let (a, b) = self.pair(p, at, "banned")?;
            out.push(Check::Banned(a, b));
        }
        for p in &e.not_banned {
            let (a, b) = self.pair(p, at, "not_banned")?;
            out.push(Check::NotBanned(a, b));
        }
        const RULES: [&str; 6] = [
            "banned",
            "inbound_limit",
            "outbound_limit",
            "per_peer_limit",
            "total_limit",
            "pending_handshake_limit",
        ];
        for r in &e.refused {
            if !RULES.contains(&r.rule.as_str()) {
                let mut error = self.error_at(
                    &r.node.referenced,
                    format!(
                        "unknown refusal rule `{}`; expected one of {}",
                        r.rule,
                        RULES.join(", ")
                    ),
                );
                error.help = closest(&r.rule, RULES).map(|s| format!("did you mean `{s}`?"));
                return Err(error);
            }
            out.push(Check::Refused(
                self.node(&r.node)?,
                self.node(&r.peer)?,
                r.rule.clone(),
            ));
        }
        for c in &e.connections {
            let peer = c.peer.as_ref().map(|p| self.node(p)).transpose()?;
            out.push(Check::Connections(self.node(&c.node)?, peer, c.count));
        }
        for r in &e.retried {
            out.push(Check::Retried(self.node(&r.node)?, r.at_least));
        }
        for b in &e.buffered {
            out.push(Check::Buffered(self.node(&b.node)?, b.at_most));
        }
        for m in &e.malformed {
            out.push(Check::Malformed(self.node(&m.node)?, m.at_least));
        }
        if out.is_empty() {
            return Err(self.error_at(at, "`expect` lists no checks"));
        }
        Ok(out)
    }

    fn never(&self, spanned: &Located<NeverSpec>) -> Result<Never, LoadError> {
        let spec = &spanned.value;
        let mut found = Vec::new();
        if let Some(h) = &spec.handshake {
            found.push(Never::Handshake(
                self.node(&h.node)?,
                self.node(&h.peer)?,
                h.state,
            ));
        }
        if let Some(m) = &spec.request {
            found.push(Never::Request(self.node(&m.node)?, self.node(&m.from)?));
        }
        if let Some(m) = &spec.broadcast {
            found.push(Never::Broadcast(self.node(&m.node)?, self.node(&m.from)?));
        }
        let unique: HashSet<_> = found.iter().map(std::mem::discriminant).collect();
        match (found.len(), unique.len()) {
            (1, _) => Ok(found.remove(0)),
            _ => Err(self.error_at(
                &spanned.referenced,
                "each `never` entry names exactly one of `handshake`, `request` or `broadcast`",
            )),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn edit_distance_and_closest() {
        assert_eq!(edit_distance("dail", "dial"), 2);
        assert_eq!(edit_distance("", "abc"), 3);
        assert_eq!(closest("dail", ["dial", "send", "crash"]), Some("dial"));
        assert_eq!(closest("zzzzzz", ["dial", "send"]), None);
    }

    #[test]
    fn unknown_field_gets_a_suggestion() {
        let message = "unknown field `dail`, expected one of at, dial, send";
        assert_eq!(
            suggestion_for_unknown(message),
            Some("did you mean `dial`?".into())
        );
    }
}
