//! The streaming tar reader on any bytes: headers, long names, PAX records, sparse
//! extensions, truncation. Never panics; memory stays bounded (extensions are capped).
#![no_main]

use libfuzzer_sys::fuzz_target;
use shush::archive::tar::{Stream, TarReader};
use std::io::Read;

fuzz_target!(|data: &[u8]| {
    let mut r = TarReader::new(Stream(data));
    let mut entries = 0usize;
    while let Ok(Some(e)) = r.next_entry() {
        let _ = e.name();
        let mut sink = [0u8; 4096];
        let mut data_reader = r.data();
        while let Ok(n) = data_reader.read(&mut sink) {
            if n == 0 {
                break;
            }
        }
        entries += 1;
        assert!(entries <= data.len() / 512 + 1);
    }
});
