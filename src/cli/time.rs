//! Times in `check`'s JSON: every duration or offset as `{ms, ns}`, shared by the per-trace
//! report and the summary.

use serde::Serialize;

use crate::model::Nanos;

/// A duration or offset, serialized as both milliseconds and nanoseconds.
#[derive(Clone, Copy, Debug)]
pub(crate) struct Time(pub(crate) Nanos);

impl Serialize for Time {
    fn serialize<S: serde::Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        use serde::ser::SerializeStruct;
        let mut s = serializer.serialize_struct("Time", 2)?;
        s.serialize_field("ms", &(self.0 as f64 / 1e6))?;
        s.serialize_field("ns", &self.0)?;
        s.end()
    }
}
