//! Protocol version validation.
//!
//! A version string is `<name>/<major>.<minor>`, for example `simnet/1.0`. Two
//! versions are compatible when their names and major numbers are equal: a minor
//! bump adds only what older peers can ignore. Anything unparsable is
//! incompatible with everything, including itself.

use std::fmt;

/// A parsed protocol version.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ProtocolVersion {
    /// Protocol family, for example `simnet`.
    pub name: String,
    /// Incompatible changes bump this.
    pub major: u32,
    /// Compatible additions bump this.
    pub minor: u32,
}

impl ProtocolVersion {
    /// Parses `<name>/<major>.<minor>`; `None` when the string has another shape.
    pub fn parse(s: &str) -> Option<Self> {
        let (name, number) = s.split_once('/')?;
        let (major, minor) = number.split_once('.')?;
        if name.is_empty() || !name.bytes().all(|b| b.is_ascii_alphanumeric() || b == b'-') {
            return None;
        }
        Some(Self {
            name: name.to_owned(),
            major: major.parse().ok()?,
            minor: minor.parse().ok()?,
        })
    }

    /// Whether a peer speaking `other` can talk to us.
    pub fn compatible_with(&self, other: &ProtocolVersion) -> bool {
        self.name == other.name && self.major == other.major
    }
}

impl fmt::Display for ProtocolVersion {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}/{}.{}", self.name, self.major, self.minor)
    }
}

/// Whether two version strings are compatible (see the module doc).
pub fn compatible(ours: &str, theirs: &str) -> bool {
    match (ProtocolVersion::parse(ours), ProtocolVersion::parse(theirs)) {
        (Some(a), Some(b)) => a.compatible_with(&b),
        _ => false,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn same_major_is_compatible() {
        assert!(compatible("simnet/1.0", "simnet/1.7"));
    }

    #[test]
    fn other_major_or_name_is_not() {
        assert!(!compatible("simnet/1.0", "simnet/2.0"));
        assert!(!compatible("simnet/1.0", "other/1.0"));
    }

    #[test]
    fn malformed_versions_are_never_compatible() {
        for bad in [
            "",
            "simnet",
            "simnet/1",
            "simnet/x.1",
            "/1.0",
            "sim net/1.0",
            "simnet/1.0.0",
        ] {
            assert!(!compatible(bad, bad), "{bad:?}");
            assert!(!compatible("simnet/1.0", bad), "{bad:?}");
        }
    }

    #[test]
    fn display_round_trips() {
        let v = ProtocolVersion::parse("simnet/3.14").unwrap();
        assert_eq!(v.to_string(), "simnet/3.14");
    }
}
