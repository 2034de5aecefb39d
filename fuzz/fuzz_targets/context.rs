//! Any bytes as the header lines of a `200` response: the context fields and their accessors.
//! The checks are `lambda_libc_fuzz::check_context` (fuzz/src/lib.rs).
#![no_main]

libfuzzer_sys::fuzz_target!(|data: &[u8]| lambda_libc_fuzz::check_context(data));
