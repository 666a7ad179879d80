//! A rule's `follow` gate: a short regex that must match right after a keyword hit for the
//! rule's window to be searched at all.
//!
//! Why: the generic rules are keyed on words that are everywhere in logs and code (`token`,
//! `secret`, `pass` in `passed`), and each hit used to cost every such rule a full regex
//! search over a window of a few hundred bytes. What makes those rules selective is what
//! comes right after the word: an assignment operator, a quote and a comma, a `(`. A small
//! anchored DFA decides that in a few bytes and rejects most hits before any window opens.
//!
//! The gate is a necessary condition the rule's author states (`follow` in the rule file);
//! the rule's examples prove it holds for them (`shush rules check`, `cargo test --test
//! rules`), since the engine applies it when it finds them. Where the input ends before the
//! gate has decided (the end of a chunk, or of what a stream has delivered so far), the hit
//! passes: the confirming regex decides.

use super::analysis::RegexError;
use regex_automata::dfa::{Automaton, dense};
use regex_automata::util::syntax;
use regex_automata::{Anchored, Input};

/// Largest DFA a gate may compile to: gates are meant to be a few dozen bytes of pattern.
const SIZE_LIMIT: usize = 1 << 20;

/// A compiled `follow` gate.
#[derive(Debug, Clone)]
pub struct FollowGate {
    dfa: dense::DFA<Vec<u32>>,
}

impl FollowGate {
    /// Compiles `pattern` (byte-oriented, ASCII classes, anchored where it is applied).
    /// An error names the problem, never the pattern.
    pub fn new(pattern: &str) -> Result<Self, RegexError> {
        let dfa = dense::Builder::new()
            .configure(
                dense::DFA::config()
                    .start_kind(regex_automata::dfa::StartKind::Anchored)
                    .dfa_size_limit(Some(SIZE_LIMIT))
                    .determinize_size_limit(Some(SIZE_LIMIT)),
            )
            .syntax(syntax::Config::new().unicode(false).utf8(false))
            .thompson(regex_automata::nfa::thompson::Config::new().utf8(false))
            .build(pattern)
            .map_err(|e| RegexError::from_build(&e))?;
        let gate = FollowGate { dfa };
        if gate.start(b"", 0).is_none() {
            return Err(RegexError::NotAnchored);
        }
        Ok(gate)
    }

    fn start(&self, hay: &[u8], at: usize) -> Option<regex_automata::util::primitives::StateID> {
        let input = Input::new(hay).range(at..).anchored(Anchored::Yes);
        self.dfa.start_state_forward(&input).ok()
    }

    /// Whether a match of the gate may start at `hay[at]`: it matches there, or `hay` ends
    /// before it could tell.
    pub fn allows(&self, hay: &[u8], at: usize) -> bool {
        if at > hay.len() {
            return true;
        }
        let Some(mut state) = self.start(hay, at) else {
            return true;
        };
        if self.dfa.is_match_state(state) {
            return true;
        }
        for &b in &hay[at..] {
            state = self.dfa.next_state(state, b);
            if self.dfa.is_special_state(state) {
                if self.dfa.is_match_state(state) || self.dfa.is_quit_state(state) {
                    return true;
                }
                if self.dfa.is_dead_state(state) {
                    return false;
                }
            }
        }
        // Out of input, undecided: what follows is unknown (a chunk or a stream goes on).
        true
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn decides_at_the_position_given() {
        let g = FollowGate::new(r#"[\w.-]{0,20}["']?[ \t]{0,8}[=:]"#).unwrap();
        let hay = b"x token_value = 1; tokenizer ran; tokens";
        assert!(g.allows(hay, 7)); // after `token` in `token_value =`
        let tokenizer = hay.windows(9).position(|w| w == b"tokenizer").unwrap();
        assert!(!g.allows(hay, tokenizer + 5)); // `izer ran`: a blank, then no operator
        // `s` then the end of the input: undecided, so allowed.
        assert!(g.allows(hay, hay.len() - 1));
        assert!(g.allows(hay, hay.len()));
    }

    #[test]
    fn bounded_repetitions_are_bounds() {
        let g = FollowGate::new(r"[a-z]{0,3}=").unwrap();
        assert!(g.allows(b"abc=", 0));
        assert!(!g.allows(b"abcd=", 0));
    }

    #[test]
    fn bad_patterns_are_errors() {
        assert!(FollowGate::new("(").is_err());
        assert!(FollowGate::new(&format!("[a-z]{{{}}}", 60_000)).is_err());
    }

    #[test]
    fn gate_errors_never_echo_the_pattern() {
        const TOKEN: &str = "fake_TOKEN_abc123XYZ";
        let e = FollowGate::new(&format!("[=:]({TOKEN}")).unwrap_err();
        assert!(matches!(e, RegexError::Syntax { column: 5, .. }), "{e:?}");
        let e = FollowGate::new(&format!("{TOKEN}[a-z]{{60000}}")).unwrap_err();
        assert!(matches!(e, RegexError::TooLarge { .. }), "{e:?}");
        assert!(e.to_string().starts_with("regex is too large"), "{e}");
        for e in [
            FollowGate::new(&format!("({TOKEN}")).unwrap_err(),
            FollowGate::new(&format!("{TOKEN}[a-z]{{60000}}")).unwrap_err(),
        ] {
            assert!(!e.to_string().contains(TOKEN), "{e}");
        }
    }
}
