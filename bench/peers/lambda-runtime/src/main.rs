//! The echo function on `lambda_runtime`: answers every invocation with its event.
//!
//! The event is taken as a `serde_json` `RawValue`, so the peer does no more JSON work than
//! the runtime itself needs (it still validates the event while finding its end); a typical
//! function deserialising into `serde_json::Value` would be slower. `#[tokio::main]` is
//! lambda_runtime's documented default (the multi-threaded scheduler).

use lambda_runtime::{Error, LambdaEvent, service_fn};
use serde_json::value::RawValue;

async fn echo(event: LambdaEvent<Box<RawValue>>) -> Result<Box<RawValue>, Error> {
    Ok(event.payload)
}

#[tokio::main]
async fn main() -> Result<(), Error> {
    lambda_runtime::run(service_fn(echo)).await
}
