//! Rules as data: the gitleaks-compatible format ([`spec`]), loading and `[extend]`
//! ([`load`]), static regex analysis ([`analysis`]) and compiled rule sets ([`compile`]).

pub mod analysis;
pub mod check;
pub mod compile;
pub mod expr;
pub mod follow;
mod guard;
pub mod load;
pub mod public_prefix;
pub mod select;
pub mod spec;

pub use analysis::RegexError;
pub use compile::{
    AllowCandidate, Allowlist, Confidence, LazyRegex, RegexTarget, Rule, RuleSet, Strategy,
};
pub use expr::ExprError;
pub use load::LoadedConfig;
pub use select::RuleSelection;
