//! Reading Sentry documents: one item, or an array of them, each top-level item read
//! ([`super::item`]) then mapped ([`super::import`]) before the next is read. A big array is
//! split at its elements ([`split`]) and read on every thread of rayon's pool, each run of
//! items into an importer of its own; the importers are merged in file order into what one
//! reading would have made.
//!
//! Errors: a document that does not read (bad JSON, a wrong type) is read again to say where
//! (line, column, JSON path); an item that reads but cannot be mapped (a transaction without
//! its root span) is named by its path, once the whole document has read, as before.

use std::fmt;

use serde::de::{DeserializeSeed, Deserializer, SeqAccess, Visitor};

use super::import::{Import, Loc, Then};
use super::item::ItemSeed;
use crate::formats::{FormatError, json, split};

/// Arrays of at least this many items are read on every thread of rayon's pool.
const PARALLEL_ITEMS: usize = 1 << 10;

/// Reads one document (or one line of JSON lines, `line` its number): an array of items or a
/// single item.
pub(super) fn document(import: &mut Import, bytes: &[u8], line: Option<usize>) -> Result<(), FormatError> {
    let array = bytes.iter().find(|b| !b.is_ascii_whitespace()) == Some(&b'[');
    let mut de = serde_json::Deserializer::from_slice(bytes);
    if (Doc { im: import, array, line }).deserialize(&mut de).and_then(|()| de.end()).is_err() {
        let retry = Doc { im: &mut Import::new(), array, line };
        return Err(json::located_error(bytes, retry, line.map_or(0, |line| line - 1)));
    }
    import.failed.take().map_or(Ok(()), Err)
}

/// Reads an envelope item's payload (at `line`), a transaction or an error event.
pub(super) fn payload(import: &mut Import, bytes: &[u8], line: usize, then: Then) -> Result<(), FormatError> {
    let root = Loc::Root(Some(line));
    let mut de = serde_json::Deserializer::from_slice(bytes);
    if (TopSeed { im: import, loc: &root, then }).deserialize(&mut de).and_then(|()| de.end()).is_err() {
        let retry = TopSeed { im: &mut Import::new(), loc: &root, then };
        return Err(json::located_error(bytes, retry, line - 1));
    }
    import.failed.take().map_or(Ok(()), Err)
}

/// A big array of items read on every thread; `None` when it is not one, or has an error
/// (it is then read whole, which says where).
pub(super) fn in_parallel(bytes: &[u8]) -> Option<Import> {
    if rayon::current_num_threads() < 2 {
        return None;
    }
    let items = split::array_elements(bytes).filter(|items| items.len() >= PARALLEL_ITEMS)?;
    split::read_in_parallel(bytes, &items, Import::new, read_item, Import::append)
}

/// Reads the item `bytes`, the `i`th of the file's array, into `import`; whether it could.
fn read_item(import: &mut Import, i: usize, bytes: &[u8]) -> bool {
    let root = Loc::Root(None);
    let mut de = serde_json::Deserializer::from_slice(bytes);
    let seed = TopSeed { im: &mut *import, loc: &Loc::Index(&root, i), then: Then::Top };
    seed.deserialize(&mut de).and_then(|()| de.end()).is_ok() && import.failed.is_none()
}

/// A whole document: an array of items, or one.
struct Doc<'r> {
    im: &'r mut Import,
    array: bool,
    line: Option<usize>,
}

impl<'de> DeserializeSeed<'de> for Doc<'_> {
    type Value = ();

    fn deserialize<D: Deserializer<'de>>(self, de: D) -> Result<(), D::Error> {
        let root = Loc::Root(self.line);
        match self.array {
            true => de.deserialize_seq(Items { im: self.im, root: &root }),
            false => TopSeed { im: self.im, loc: &root, then: Then::Top }.deserialize(de),
        }
    }
}

/// A document's array of items.
struct Items<'r, 'p> {
    im: &'r mut Import,
    root: &'p Loc<'p>,
}

impl<'de> Visitor<'de> for Items<'_, '_> {
    type Value = ();

    fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
        f.write_str("a sequence")
    }

    fn visit_seq<A: SeqAccess<'de>>(self, mut seq: A) -> Result<(), A::Error> {
        let mut i = 0;
        while seq
            .next_element_seed(TopSeed { im: &mut *self.im, loc: &Loc::Index(self.root, i), then: Then::Top })?
            .is_some()
        {
            i += 1;
        }
        Ok(())
    }
}

/// A top-level item: read, then mapped.
struct TopSeed<'r, 'p> {
    im: &'r mut Import,
    loc: &'p Loc<'p>,
    then: Then,
}

impl<'de> DeserializeSeed<'de> for TopSeed<'_, '_> {
    type Value = ();

    fn deserialize<D: Deserializer<'de>>(self, de: D) -> Result<(), D::Error> {
        self.im.begin_item();
        let rec = ItemSeed(&mut self.im.r).deserialize(de)?;
        self.im.end_item(rec, self.loc, self.then);
        Ok(())
    }
}
