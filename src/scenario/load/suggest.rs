//! The word a typo meant: "did you mean `dial`?" for `dail`.

/// The candidate closest to `word` by Damerau–Levenshtein distance (a swap of
/// two letters counts once), within 2 edits or a third of the word.
pub fn closest<'a>(word: &str, candidates: impl IntoIterator<Item = &'a str>) -> Option<&'a str> {
    let limit = (word.chars().count() / 3).max(2);
    candidates
        .into_iter()
        .map(|c| (strsim::damerau_levenshtein(word, c), c))
        .filter(|(d, _)| *d <= limit)
        .min_by_key(|(d, _)| *d)
        .map(|(_, c)| c)
}

/// `did you mean `x`?` for the closest candidate, if any is close.
pub fn did_you_mean<'a>(
    word: &str,
    candidates: impl IntoIterator<Item = &'a str>,
) -> Option<String> {
    closest(word, candidates).map(|c| format!("did you mean `{c}`?"))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_swapped_pair_of_letters_is_one_edit() {
        assert_eq!(strsim::damerau_levenshtein("dail", "dial"), 1);
        assert_eq!(closest("dail", ["dial", "send", "crash"]), Some("dial"));
        assert_eq!(closest("zzzzzz", ["dial", "send"]), None);
        assert_eq!(
            did_you_mean("timout", ["timeout", "stale"]),
            Some("did you mean `timeout`?".into())
        );
    }
}
