//! The echo bootstrap: answers every invocation with its event, byte for byte, without
//! copying it.

#![no_std]
#![no_main]

use lambda_libc::{Invocation, Outcome, Writer};

fn echo<'a>(invocation: &Invocation<'a>, _response: Writer<'a>) -> Outcome<'a> {
    Ok(invocation.event)
}

lambda_libc::main!(echo);
