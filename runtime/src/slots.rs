//! The slots: what each worker process is doing, in memory shared with the supervisor
//! (feature `concurrency`).
//!
//! A worker writes only its own slot, and not its `PID` word; the supervisor writes `PID`,
//! reads every slot, and resets one only while no worker owns it (before forking its worker,
//! after reaping it). A slot is four words and the request id:
//!
//! | word | holds |
//! |---|---|
//! | `PID` | the process id of its worker; `0` while it has none (written by the supervisor) |
//! | `DEADLINE` | `0`: between invocations; the deadline in ms since the epoch while one runs ([`NO_DEADLINE`] when the header was missing) |
//! | `STARTED` | how many invocations the worker has started |
//! | `ID_LEN` | the length of the request id in the `ID_WORDS` words after it (`0` when it did not fit) |
//!
//! The worker writes the id before the deadline and clears the deadline first when the
//! invocation is answered (release and acquire), so a supervisor that reads a deadline reads
//! the id of the same invocation.

use core::sync::atomic::{AtomicU64, AtomicUsize, Ordering};

use crate::sys;

/// The most bytes of a request id a slot holds (Lambda's are 36: a UUID).
pub const MAX_ID: usize = 128;
const ID_WORDS: usize = MAX_ID / 8;
const PID: usize = 0;
const DEADLINE: usize = 1;
const STARTED: usize = 2;
const ID_LEN: usize = 3;
const ID: usize = 4;
const WORDS: usize = ID + ID_WORDS;

/// The deadline of an invocation whose `Lambda-Runtime-Deadline-Ms` was missing: never
/// overrun.
pub const NO_DEADLINE: u64 = u64::MAX;

/// The slots of all workers, for the supervisor; a worker reaches its own through
/// [`begin`] and [`end`].
#[derive(Clone, Copy)]
pub struct Slots(&'static [AtomicU64]);

/// The table of the process and the index of the worker's own slot (`usize::MAX` in the
/// supervisor, and in a process that has no workers).
static TABLE: sys::Once<Slots> = sys::Once::new();
static MINE: AtomicUsize = AtomicUsize::new(usize::MAX);

impl Slots {
    /// Maps the table of `n` slots, shared with the workers forked afterwards.
    pub fn map(n: usize) -> Result<Slots, sys::Errno> {
        let words = n.checked_mul(WORDS).ok_or(libc::ENOMEM)?;
        let slots = Slots(sys::map_shared_words(words)?);
        let _ = TABLE.set(slots);
        Ok(slots)
    }

    fn slot(&self, index: usize) -> &'static [AtomicU64] {
        self.0.get(index * WORDS..(index + 1) * WORDS).unwrap_or_default()
    }

    /// The deadline of the invocation worker `index` runs, if one runs.
    pub fn deadline(&self, index: usize) -> Option<u64> {
        let deadline = self.slot(index).get(DEADLINE)?.load(Ordering::Acquire);
        (deadline != 0).then_some(deadline)
    }

    /// How many invocations worker `index` has started.
    pub fn started(&self, index: usize) -> u64 {
        self.slot(index).get(STARTED).map_or(0, |w| w.load(Ordering::Relaxed))
    }

    /// The request id of the invocation worker `index` runs or ran last, into `buf`.
    pub fn request_id<'b>(&self, index: usize, buf: &'b mut [u8; MAX_ID]) -> &'b [u8] {
        let slot = self.slot(index);
        let len = slot.get(ID_LEN).map_or(0, |w| w.load(Ordering::Relaxed)) as usize;
        let words = slot.get(ID..).unwrap_or_default();
        for (chunk, word) in buf.chunks_exact_mut(8).zip(words) {
            chunk.copy_from_slice(&word.load(Ordering::Relaxed).to_le_bytes());
        }
        buf.get(..len).unwrap_or_default()
    }

    /// The process id of worker `index`; `0` when it has none.
    pub fn pid(&self, index: usize) -> sys::Pid {
        self.slot(index).get(PID).map_or(0, |w| w.load(Ordering::Relaxed) as sys::Pid)
    }

    /// Records the process id of worker `index` (`0`: it has none).
    pub fn set_pid(&self, index: usize, pid: sys::Pid) {
        if let Some(word) = self.slot(index).get(PID) {
            word.store(pid as u64, Ordering::Relaxed);
        }
    }

    /// The worker whose process id is `pid`, among the first `n`.
    pub fn find(&self, n: usize, pid: sys::Pid) -> Option<usize> {
        (0..n).find(|&i| self.pid(i) == pid)
    }

    /// Empties slot `index` for a new worker, which the caller forks next.
    pub fn reset(&self, index: usize) {
        for word in self.slot(index) {
            word.store(0, Ordering::Relaxed);
        }
    }

    /// Makes slot `index` the calling process's own: what a worker does first.
    pub fn adopt(index: usize) {
        MINE.store(index, Ordering::Relaxed);
    }
}

/// The calling worker's slot, if it is a worker.
fn mine() -> Option<&'static [AtomicU64]> {
    let index = MINE.load(Ordering::Relaxed);
    if index == usize::MAX {
        return None;
    }
    Some(TABLE.get()?.slot(index))
}

/// Records that the worker started the invocation `request_id` with `deadline_ms` (its
/// header's digits; empty or malformed: no deadline). Nothing in a process without workers.
pub fn begin(request_id: &[u8], deadline_ms: &[u8]) {
    let Some(slot) = mine() else { return };
    let fits = request_id.len() <= MAX_ID;
    let id = if fits { request_id } else { b"" };
    for (word, chunk) in slot.get(ID..).unwrap_or_default().iter().zip(id.chunks(8)) {
        let mut bytes = [0u8; 8];
        bytes.get_mut(..chunk.len()).unwrap_or_default().copy_from_slice(chunk);
        word.store(u64::from_le_bytes(bytes), Ordering::Relaxed);
    }
    let deadline = match crate::ascii::parse_decimal(deadline_ms) {
        Some(0) | None => NO_DEADLINE,
        Some(ms) => ms,
    };
    if let [_pid, deadline_word, started, id_len, ..] = slot {
        id_len.store(id.len() as u64, Ordering::Relaxed);
        started.fetch_add(1, Ordering::Relaxed);
        deadline_word.store(deadline, Ordering::Release);
    }
}

/// Records that the worker's invocation was answered.
pub fn end() {
    if let Some(word) = mine().and_then(|slot| slot.get(DEADLINE)) {
        word.store(0, Ordering::Release);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_worker_records_its_invocation_in_its_own_slot() {
        let slots = Slots::map(3).unwrap();
        Slots::adopt(1);
        begin(b"8476a536-e9f4-11e8-9739-2dfe598c3fcd", b"1700000000123");
        assert_eq!(slots.deadline(1), Some(1_700_000_000_123));
        assert_eq!(slots.started(1), 1);
        let mut buf = [0u8; MAX_ID];
        assert_eq!(slots.request_id(1, &mut buf), b"8476a536-e9f4-11e8-9739-2dfe598c3fcd");
        assert_eq!((slots.deadline(0), slots.deadline(2)), (None, None), "other slots untouched");
        end();
        assert_eq!(slots.deadline(1), None);
        begin(&[b'x'; MAX_ID + 1], b"");
        assert_eq!(slots.deadline(1), Some(NO_DEADLINE), "no deadline header");
        assert_eq!(slots.request_id(1, &mut buf), b"", "an id too long is not kept");
        assert_eq!(slots.started(1), 2);
        slots.set_pid(1, 42);
        assert_eq!((slots.pid(1), slots.find(3, 42), slots.find(3, 7)), (42, Some(1), None));
        slots.reset(1);
        assert_eq!((slots.deadline(1), slots.started(1)), (None, 0));
    }
}
