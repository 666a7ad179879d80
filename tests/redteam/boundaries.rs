//! Category 1: a word character right before a token (ANSI colour sequences, JSON and Python-repr escapes).
