//! What needs the whole Zipkin file, done on the builder's spans once every span is read:
//! parts merged (by a second reading, see [`read`]), untimed spans placed, the server halves
//! of shared ids given ids of their own, and the notes that say so.

use super::read::{self, FastMap, Reader, Said};
use super::shared;
use super::tally::Tally;
use crate::formats::json::NamedIds;
use crate::formats::untimed::{self, Node, Placed};
use crate::formats::{FormatError, split};
use crate::model::{AttrValue, Range32, SpanFlags, SpanId, StrId, TraceBuilder};

/// Reads Zipkin v2 JSON. Errors name the JSON path (and line and column when the JSON itself is wrong).
pub fn parse(bytes: &[u8]) -> Result<TraceBuilder, FormatError> {
    let mut reader = read::read(bytes, None)?;
    // Parts to merge and shared halves both repeat an id; most files repeat none, and need no
    // map of every id to tell.
    let repeat = ids_repeat(&reader);
    if let Some(plan) = if repeat { reader.merge_plan() } else { None } {
        drop(reader);
        split::reading_again(bytes);
        reader = read::read(bytes, Some(plan))?;
    }
    settle(reader, repeat)
}

/// Whether two spans of the file have the same id in the same trace.
fn ids_repeat(r: &Reader) -> bool {
    let mut keys: Vec<(u64, SpanId)> = r.b.spans().iter().map(|s| (s.trace_id.low64(), s.id)).collect();
    keys.sort_unstable();
    keys.windows(2).any(|w| w[0] == w[1])
}

/// Places, pairs (when ids `repeat`) and finishes every span read, and adds the notes.
fn settle(mut r: Reader, repeat: bool) -> Result<TraceBuilder, FormatError> {
    let placed = place_in_time(&mut r)?;
    let halves = if repeat { pair_shared(&r) } else { Halves::default() };
    let merged = r.take_merged();
    let mut pairs = Tally::default();
    let mut derived: Vec<u32> = halves.derived.keys().copied().collect();
    derived.sort_unstable();
    for i in derived {
        pairs.add(r.b.spans()[i as usize].id);
    }
    let (mut without_duration, mut unknown_kind, mut tags_not_text) =
        (Tally::default(), Tally::default(), Tally::default());
    let mut named = NamedIds::default();
    for i in 0..r.b.spans().len() {
        let (start, untimed) = match placed.as_ref().map(|p| p[i]) {
            None => (r.b.spans()[i].start, false),
            Some(Placed::Timed(start)) => (start, false),
            Some(Placed::UnderParent(start) | Placed::AtTraceStart(start)) => (start, true),
            Some(Placed::Nowhere) => continue,
        };
        let (said, mut span) = (r.said[i], r.b.spans()[i]);
        let past_2262 = || {
            FormatError::at_path(
                format!("{}.duration", r.locs[&(i as u32)]),
                "timestamp + duration is past the year 2262",
            )
        };
        let end = match span.end {
            _ if said.has(Said::OVERFLOW) => return Err(past_2262()),
            Some(end) if said.has(Said::TIMED) => end,
            Some(duration) => start.checked_add(duration).ok_or_else(past_2262)?,
            None if untimed => start,
            None => {
                without_duration.add(span.id);
                start
            }
        };
        let derived = halves.derived.get(&(i as u32)).copied();
        let own = service(&r, i);
        let parent_id = match derived {
            Some(_) => Some(span.id),
            None => span.parent_id.map(|p| match halves.by_client.get(&(span.trace_id.low64(), p)) {
                Some(h) if !(own.is_some() && own == h.client_service && own != h.server_service) => h.id,
                _ => p,
            }),
        };
        r.see_texts(i, &mut named);
        if said.has(Said::UNKNOWN_KIND) {
            unknown_kind.add(span.id);
        }
        if said.has(Said::TAGS_NOT_TEXT) {
            tags_not_text.add(span.id);
        }
        // A server half Zipkin would backfill as shared is marked shared too.
        if derived.is_some() && !said.has(Said::SHARED_SET) {
            span.attrs = with_shared_mark(&mut r, span.attrs, said.has(Said::DEBUG));
        }
        (span.id, span.parent_id, span.start, span.end) = (derived.unwrap_or(span.id), parent_id, start, Some(end));
        if untimed {
            span.flags.insert(SpanFlags::UNTIMED);
        }
        r.b.spans_mut()[i] = span;
    }
    if let Some(placed) = placed.filter(|p| p.contains(&Placed::Nowhere)) {
        let mut at = placed.iter();
        r.b.retain_spans(|_| at.next() != Some(&Placed::Nowhere));
    }
    let b = &mut r.b;
    pairs.note(
        b,
        "server span(s) share their client's span id; each is shown as a child of its client, with a derived id",
    );
    merged.note(b, "span part(s) reported separately under one id were merged, as Zipkin does");
    without_duration.note(b, "span(s) have no duration; shown as instants at their timestamp, as Zipkin's UI does");
    unknown_kind.note(
        b,
        "span(s) have a kind Zipkin does not define (it has CLIENT, SERVER, PRODUCER, CONSUMER); shown without one",
    );
    tags_not_text.note(b, "span(s) have tag values that are numbers or booleans, not strings; kept as their text");
    named.note(b);
    Ok(r.b)
}

/// Span `i`'s local service, if the file gave one.
fn service(r: &Reader, i: usize) -> Option<StrId> {
    r.said[i].has(Said::SERVICE).then(|| r.b.spans()[i].service)
}

/// The attributes `attrs` with the shared mark added where the reader puts it (before the debug
/// mark, the last attribute, if `debug`), copied to the end of the builder's list.
fn with_shared_mark(r: &mut Reader, attrs: Range32, debug: bool) -> Range32 {
    let mark = r.b.attr_mark();
    let body = attrs.len - u32::from(debug);
    for j in attrs.start..attrs.start + body {
        let attr = r.b.attrs()[j as usize];
        r.b.push_attr(attr.key, attr.value);
    }
    r.b.push_attr(r.keys.shared, AttrValue::Bool(true));
    if debug {
        let attr = r.b.attrs()[(attrs.start + body) as usize];
        r.b.push_attr(attr.key, attr.value);
    }
    r.b.attrs_since(mark)
}

/// Where each span goes in time ([`untimed::place`]), with a note for each kind of leniency;
/// `None` when every span has a timestamp. An error only when no span of the file has one:
/// then nothing can be placed.
fn place_in_time(r: &mut Reader) -> Result<Option<Vec<Placed>>, FormatError> {
    if r.said.iter().all(|s| s.has(Said::TIMED)) {
        return Ok(None);
    }
    let nodes: Vec<Node> =
        r.b.spans()
            .iter()
            .zip(&r.said)
            .map(|(s, said)| Node {
                trace: s.trace_id.low64(),
                id: s.id,
                parent: s.parent_id,
                start: said.has(Said::TIMED).then_some(s.start),
            })
            .collect();
    let placed = untimed::place(&nodes);
    drop(nodes);
    if placed.iter().all(|p| *p == Placed::Nowhere) {
        let (id, trace) = r.written(0);
        return Err(FormatError::at_path(
            "$",
            format!(
                "no span has a timestamp (span {id} of trace {trace} has none, nor has any other), so nothing can be placed in time"
            ),
        ));
    }
    let names = |kind: fn(&Placed) -> bool| -> Vec<String> {
        placed.iter().enumerate().filter(|(_, p)| kind(p)).map(|(i, _)| r.written(i).0).collect()
    };
    let under = names(|p| matches!(p, Placed::UnderParent(_)));
    let at_start = names(|p| matches!(p, Placed::AtTraceStart(_)));
    let nowhere = names(|p| *p == Placed::Nowhere);
    const JUDGED: &str = "marked untimed; verdicts judge by the timed spans";
    let b = &mut r.b;
    if !under.is_empty() {
        b.note(format!(
            "{} span(s) have no timestamp ({}); each is placed at the start of its nearest timed parent, {JUDGED}",
            under.len(),
            untimed::list(&under)
        ));
    }
    if !at_start.is_empty() {
        b.note(format!(
            "{} span(s) have no timestamp and no timed parent ({}); placed at the start of their trace, {JUDGED}",
            at_start.len(),
            untimed::list(&at_start)
        ));
    }
    if !nowhere.is_empty() {
        b.note(format!(
            "{} span(s) are in traces where no span has a timestamp ({}); they cannot be placed in time and are not shown",
            nowhere.len(),
            untimed::list(&nowhere)
        ));
    }
    Ok(Some(placed))
}

/// The shared ids of the file: (trace, client id) → the server half's derived id and the
/// services of both halves; and the derived id of each server half, by span index.
#[derive(Default)]
struct Halves {
    by_client: FastMap<(u64, SpanId), Half>,
    derived: FastMap<u32, SpanId>,
}

struct Half {
    id: SpanId,
    server_service: Option<StrId>,
    client_service: Option<StrId>,
}

/// Finds server halves that share their client's id and gives each a derived id.
fn pair_shared(r: &Reader) -> Halves {
    const NONE: u32 = u32::MAX;
    let spans = r.b.spans();
    let mut halves = Halves { by_client: FastMap::default(), derived: FastMap::default() };
    // Every id in use, with its twin: its first non-shared span, a CLIENT one if there is one.
    let mut twin: FastMap<(u64, SpanId), u32> = FastMap::default();
    for (i, s) in spans.iter().enumerate() {
        let slot = twin.entry((s.trace_id.low64(), s.id)).or_insert(NONE);
        if r.said[i].is_shared() {
            continue;
        }
        if *slot == NONE || (!r.said[*slot as usize].has(Said::CLIENT) && r.said[i].has(Said::CLIENT)) {
            *slot = i as u32;
        }
    }
    for (i, s) in spans.iter().enumerate() {
        let key = (s.trace_id.low64(), s.id);
        let Some(&t) = twin.get(&key).filter(|&&t| t != NONE && t != i as u32) else { continue };
        let backfilled = r.said[t as usize].has(Said::CLIENT) && r.said[i].has(Said::SERVER);
        if !r.said[i].is_shared() && !backfilled {
            continue;
        }
        let mut id = s.id;
        for candidate in shared::half_ids(s.id) {
            id = candidate;
            if !twin.contains_key(&(key.0, candidate)) {
                break;
            }
        }
        twin.entry((key.0, id)).or_insert(NONE);
        halves.derived.insert(i as u32, id);
        halves.by_client.entry(key).or_insert(Half {
            id,
            server_service: service(r, i),
            client_service: service(r, t as usize),
        });
    }
    halves
}
