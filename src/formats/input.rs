//! A file's bytes, read whole, held so that the parts a reader has parsed can be given back to
//! the system while it reads the rest: the peak memory of an import is then about the size of
//! what it builds, not that plus the whole file.
//!
//! [`Input::read`] reads a big file into an anonymous memory map of its own (a small one into
//! an ordinary vector). [`parse_input`](super::parse_input) parses it as
//! [`parse`](super::parse) does, and while it does, [`split::read_in_parallel`] gives back
//! the whole pages of each part it has read (on Linux, `madvise(MADV_DONTNEED)`: the pages
//! leave the process and would read as zeros). Nothing reads a part again once it is read,
//! with two exceptions: when a later part fails, the readers read the whole input again, to
//! place the error; and a Zipkin file whose spans come in several records is read twice (see
//! [`split::reading_again`]). The input is then [spoiled](Input::spoiled), and the caller
//! reads the file again and calls `parse`.
//!
//! [`split::read_in_parallel`]: super::split::read_in_parallel
//! [`split::reading_again`]: super::split::reading_again

use std::cell::Cell;
use std::io::{self, Read};
use std::ops::Range;
use std::sync::atomic::{AtomicBool, Ordering};

/// Inputs of at least this many bytes are mapped and may be given back in parts; smaller ones
/// are read into a vector (too small to read in parallel, see each reader's threshold).
const MAPPED_BYTES: usize = 1 << 22;

/// Parts are given back in whole runs of this many bytes: a multiple of every page size
/// systems use (4 KiB, 16 KiB, 64 KiB), so both ends of what is given back fall on a page.
const ALIGN: usize = 1 << 16;

/// A reader gives back what it has read once it has read at least this much since it last
/// did (one system call per this many bytes).
pub(crate) const STEP: usize = 1 << 20;

/// The bytes of one file or answer, read whole. See the [module](self) documentation.
pub struct Input {
    storage: Storage,
    /// Whether some part was given back.
    given: AtomicBool,
    /// Whether a part was given back and then the input read again (see [`Input::spoiled`]).
    spoiled: AtomicBool,
}

enum Storage {
    Heap(Vec<u8>),
    /// A private anonymous mapping and how many of its bytes hold the input.
    Mapped(memmap2::MmapMut, usize),
}

impl Input {
    /// Reads everything `source` gives. `size_hint` is the expected size (a file's length
    /// when it was opened; the file may have grown or shrunk since). `after_each_read` is
    /// called with the bytes read so far after each read of at most 4 MiB; an error it
    /// returns (a cancellation) stops the reading.
    pub fn read(
        source: &mut impl Read,
        size_hint: usize,
        mut after_each_read: impl FnMut(usize) -> io::Result<()>,
    ) -> io::Result<Input> {
        let mut storage = if size_hint >= MAPPED_BYTES {
            // One page more than the hint, so that reaching the end is seen without a copy.
            Storage::Mapped(memmap2::MmapMut::map_anon(size_hint.saturating_add(ALIGN))?, 0)
        } else {
            Storage::Heap(Vec::with_capacity(size_hint))
        };
        loop {
            let read = match &mut storage {
                Storage::Heap(bytes) => {
                    let before = bytes.len();
                    source.by_ref().take(MAPPED_BYTES as u64).read_to_end(bytes)?;
                    bytes.len() - before
                }
                Storage::Mapped(map, len) if *len == map.len() => {
                    // The file grew: map twice the room and go on.
                    let mut larger = memmap2::MmapMut::map_anon(map.len() * 2)?;
                    larger[..*len].copy_from_slice(&map[..*len]);
                    *map = larger;
                    continue;
                }
                Storage::Mapped(map, len) => {
                    let room = (*len + MAPPED_BYTES).min(map.len());
                    match source.read(&mut map[*len..room]) {
                        Ok(n) => {
                            *len += n;
                            n
                        }
                        Err(e) if e.kind() == io::ErrorKind::Interrupted => continue,
                        Err(e) => return Err(e),
                    }
                }
            };
            if read == 0 {
                return Ok(Input { storage, given: AtomicBool::new(false), spoiled: AtomicBool::new(false) });
            }
            after_each_read(match &storage {
                Storage::Heap(bytes) => bytes.len(),
                Storage::Mapped(_, len) => *len,
            })?;
        }
    }

    /// The bytes read.
    pub fn bytes(&self) -> &[u8] {
        match &self.storage {
            Storage::Heap(bytes) => bytes,
            Storage::Mapped(map, len) => &map[..*len],
        }
    }

    /// Whether a reader read the input again after parts of it were given back (to place an
    /// error in a part read in parallel): what it made of it is not to be trusted, and the
    /// file is to be read again.
    pub fn spoiled(&self) -> bool {
        self.spoiled.load(Ordering::Relaxed)
    }

    /// Gives back the whole runs of [`ALIGN`] bytes inside `range` (of [`Input::bytes`]).
    ///
    /// # Safety
    /// Nothing may read those bytes again, and no slice of them may live, except through
    /// [`Input::bytes`] called afterwards (which then reads zeros: the input is spoiled, see
    /// [`Giver::reading_again`]).
    unsafe fn give_back(&self, range: Range<usize>) {
        let Storage::Mapped(map, len) = &self.storage else { return };
        let (start, end) = (range.start.next_multiple_of(ALIGN), range.end.min(*len) / ALIGN * ALIGN);
        if start >= end {
            return;
        }
        self.given.store(true, Ordering::Relaxed);
        #[cfg(target_os = "linux")]
        // SAFETY: the range is inside the map (it ends at or before `len`), and the caller
        // promises nothing reads it again while a slice of it lives.
        // Giving back is only a saving of memory: if the system refuses, the pages stay.
        let _ = unsafe { map.unchecked_advise_range(memmap2::UncheckedAdvice::DontNeed, start, end - start) };
        #[cfg(not(target_os = "linux"))]
        let _ = (map, start, end);
    }
}

thread_local! {
    /// The input [`parse_input`](super::parse_input) is parsing on this thread, if any.
    static PARSING: Cell<*const Input> = const { Cell::new(std::ptr::null()) };
}

/// Runs `parse` with `input` as the input being parsed on this thread, so that
/// [`Giver::for_bytes`] finds it.
pub(crate) fn parsing<T>(input: &Input, parse: impl FnOnce() -> T) -> T {
    /// Puts back what was being parsed before (a reader waiting for its threads may take up
    /// another file's import on its own thread), even when `parse` unwinds.
    struct Restore(*const Input);
    impl Drop for Restore {
        fn drop(&mut self) {
            PARSING.with(|p| p.set(self.0));
        }
    }
    let _restore = Restore(PARSING.with(|p| p.replace(input)));
    parse()
}

/// What gives back the parts of one input a reader reads in parallel.
#[derive(Clone, Copy)]
pub(crate) struct Giver<'a> {
    input: &'a Input,
    /// Where the reader's bytes start in the input (after a byte-order mark, say).
    offset: usize,
}

impl<'a> Giver<'a> {
    /// The giver for `bytes` when they are (a slice of) the input being parsed on this
    /// thread, and that input can give back.
    pub(crate) fn for_bytes(bytes: &'a [u8]) -> Option<Giver<'a>> {
        let input = PARSING.with(Cell::get);
        // SAFETY: the pointer is set only while `parsing` borrows the input, on this thread,
        // and `bytes`, borrowed for 'a, lies inside it (checked below), so the input outlives 'a.
        let input = unsafe { input.as_ref() }?;
        let whole = input.bytes().as_ptr_range();
        let inside = whole.start <= bytes.as_ptr() && bytes.as_ptr_range().end <= whole.end;
        let mapped = matches!(input.storage, Storage::Mapped(..));
        (inside && mapped).then(|| Giver { input, offset: bytes.as_ptr() as usize - whole.start as usize })
    }

    /// Gives back the pages inside `range` of the reader's bytes.
    ///
    /// # Safety
    /// As [`Input::give_back`]: the reader never reads those bytes again, and no slice of
    /// them lives, unless it then calls [`Giver::reading_again`].
    pub(crate) unsafe fn give_back(&self, range: Range<usize>) {
        // SAFETY: passed on from the caller.
        unsafe { self.input.give_back(range.start + self.offset..range.end + self.offset) }
    }

    /// Marks the input spoiled if anything was given back: the reader is going to read the
    /// whole input again (to place an error, or for a second pass).
    pub(crate) fn reading_again(&self) {
        if self.input.given.load(Ordering::Relaxed) {
            self.input.spoiled.store(true, Ordering::Relaxed);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn read_all(bytes: &[u8], hint: usize) -> Input {
        Input::read(&mut &bytes[..], hint, |_| Ok(())).unwrap()
    }

    #[test]
    fn reads_every_byte_whatever_the_size_said() {
        let bytes: Vec<u8> = (0..(MAPPED_BYTES * 2 + 12_345)).map(|i| (i % 251) as u8).collect();
        for hint in [0, 100, MAPPED_BYTES, bytes.len() - 1, bytes.len(), bytes.len() + 1, bytes.len() * 3] {
            assert_eq!(read_all(&bytes, hint).bytes(), bytes, "size hint {hint}");
        }
        assert_eq!(read_all(b"", MAPPED_BYTES).bytes(), b"");
    }

    #[test]
    fn reads_a_big_input_in_steps_and_an_error_after_a_read_stops_the_reading() {
        let bytes = vec![b' '; MAPPED_BYTES * 3];
        let mut steps = Vec::new();
        Input::read(&mut &bytes[..], bytes.len(), |done| {
            steps.push(done);
            Ok(())
        })
        .unwrap();
        assert_eq!(
            steps,
            [MAPPED_BYTES, 2 * MAPPED_BYTES, 3 * MAPPED_BYTES],
            "progress can be shown, and a cancel seen"
        );
        let mut calls = 0;
        let read = Input::read(&mut &bytes[..], bytes.len(), |_| {
            calls += 1;
            Err(io::Error::new(io::ErrorKind::Interrupted, "cancelled"))
        });
        assert_eq!(read.err().map(|e| e.to_string()).as_deref(), Some("cancelled"));
        assert_eq!(calls, 1);
    }

    #[test]
    fn only_whole_pages_inside_a_part_are_given_back() {
        let bytes = vec![b'x'; MAPPED_BYTES + 5 * ALIGN];
        let input = read_all(&bytes, bytes.len());
        parsing(&input, || {
            let giver = Giver::for_bytes(&input.bytes()[3..]).unwrap();
            // SAFETY: nothing below reads the given back bytes but to check they are zeros.
            unsafe { giver.give_back(ALIGN - 4..3 * ALIGN + 10) };
        });
        let back = input.bytes();
        assert!(back[..ALIGN].iter().all(|&b| b == b'x'), "the page the part starts in is kept");
        if cfg!(target_os = "linux") {
            assert!(back[ALIGN..3 * ALIGN].iter().all(|&b| b == 0), "the pages inside are given back");
        }
        assert!(back[3 * ALIGN..].iter().all(|&b| b == b'x'), "the page the part ends in is kept");
        assert!(!input.spoiled());
        parsing(&input, || Giver::for_bytes(input.bytes()).unwrap().reading_again());
        assert!(input.spoiled(), "reading again after giving back spoils it");
    }

    #[test]
    fn no_giver_for_bytes_outside_the_input_or_outside_a_parse() {
        let bytes = vec![b'x'; MAPPED_BYTES];
        let input = read_all(&bytes, bytes.len());
        assert!(Giver::for_bytes(input.bytes()).is_none(), "not being parsed");
        parsing(&input, || {
            assert!(Giver::for_bytes(&bytes).is_none(), "another buffer");
            assert!(Giver::for_bytes(input.bytes()).is_some());
        });
        let small = read_all(b"[1]", 3);
        parsing(&small, || assert!(Giver::for_bytes(small.bytes()).is_none(), "a small input is kept whole"));
        assert!(Giver::for_bytes(input.bytes()).is_none(), "the parse is over");
    }
}
