//! Any bytes as a chunked body: the same outcome for every split of the input.
//! The checks are `lambda_libc_fuzz::check_chunked` (fuzz/src/lib.rs).
#![no_main]

libfuzzer_sys::fuzz_target!(|data: &[u8]| lambda_libc_fuzz::check_chunked(data));
