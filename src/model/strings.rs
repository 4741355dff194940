//! Interned strings: every op, name, service, attribute key and string value is stored once
//! per trace and referred to by a 4-byte [`StrId`].

use lasso::{Key, Rodeo, RodeoResolver, Spur};

/// A string interned in a trace's [`Strings`]. [`StrId::EMPTY`] is the empty string.
#[derive(Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Debug, Default)]
pub struct StrId(u32);

impl StrId {
    /// The empty string, interned first in every table.
    pub const EMPTY: StrId = StrId(0);

    /// Whether this is the empty string.
    pub fn is_empty(self) -> bool {
        self == StrId::EMPTY
    }

    /// The string's number in its table (stable for the table's life), e.g. to pick a colour.
    pub fn index(self) -> u32 {
        self.0
    }

    fn spur(self) -> Spur {
        Spur::try_from_usize(self.0 as usize).expect("StrId comes from a table of at most u32::MAX - 1 strings")
    }
}

/// The growing string table an importer fills.
pub(crate) struct Interner {
    rodeo: Rodeo<Spur, foldhash::fast::RandomState>,
}

impl Interner {
    pub(crate) fn new() -> Self {
        let mut rodeo: Rodeo<Spur, _> = Rodeo::with_hasher(foldhash::fast::RandomState::default());
        let empty = rodeo.get_or_intern_static("");
        debug_assert_eq!(empty.into_usize(), 0);
        Interner { rodeo }
    }

    pub(crate) fn intern(&mut self, text: &str) -> StrId {
        StrId(self.rodeo.get_or_intern(text).into_usize() as u32)
    }

    pub(crate) fn get(&self, text: &str) -> Option<StrId> {
        self.rodeo.get(text).map(|k| StrId(k.into_usize() as u32))
    }

    pub(crate) fn resolve(&self, id: StrId) -> &str {
        self.rodeo.resolve(&id.spur())
    }

    /// Every string, in id order (the empty string first).
    pub(crate) fn iter(&self) -> impl Iterator<Item = &str> {
        self.rodeo.strings()
    }

    pub(crate) fn freeze(self) -> Strings {
        Strings { resolver: self.rodeo.into_resolver() }
    }
}

/// A trace's frozen string table.
pub struct Strings {
    resolver: RodeoResolver<Spur>,
}

impl Strings {
    /// The text of an interned string.
    pub fn get(&self, id: StrId) -> &str {
        self.resolver.resolve(&id.spur())
    }

    /// How many distinct strings the table holds.
    pub fn len(&self) -> usize {
        self.resolver.len()
    }

    /// Whether the table holds only the empty string.
    pub fn is_empty(&self) -> bool {
        self.len() <= 1
    }

    /// Every string with its id, in id order.
    pub fn iter(&self) -> impl Iterator<Item = (StrId, &str)> {
        self.resolver.iter().map(|(k, s)| (StrId(k.into_usize() as u32), s))
    }
}

impl std::fmt::Debug for Strings {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "Strings({} interned)", self.len())
    }
}
