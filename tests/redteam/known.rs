//! Categories 4, 9 and 11: `::add-mask::` escaping, known-secret encodings, CR-only lines, UTF-16LE, half a token at the end, multi-line masks.
