//! The batch decoder and every rating's `check()` on any body a client on the network sends:
//! never a panic; a batch it takes answers each rating it holds.
#![no_main]

use hailong_core::batch::decode_batch;
use libfuzzer_sys::fuzz_target;

fuzz_target!(|body: &[u8]| {
    if let Ok(batch) = decode_batch(body) {
        assert!(batch.misuse.len() as u64 <= batch.misuse_sent);
    }
});
