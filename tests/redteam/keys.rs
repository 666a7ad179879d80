//! Category 3: private keys whose lines carry prefixes, keys cut off, long PGP blocks, stray BEGIN lines.
