//! Any bytes as the start of a response: `head_len`, then `parse_head` against the httparse oracle.
//! The checks are `lambda_libc_fuzz::check_head` (fuzz/src/lib.rs).
#![no_main]

libfuzzer_sys::fuzz_target!(|data: &[u8]| lambda_libc_fuzz::check_head(data));
