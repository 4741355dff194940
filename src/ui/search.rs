//! Search over a trace: op, name, service, transaction, status, attribute values (the span's
//! and its resource's) and ids.
//! Matching runs once per query change (strings are tested once each, not once per span),
//! never per frame.

use crate::model::{AttrValue, SpanIdx, Trace};

/// The search box's state for one trace.
#[derive(Default)]
pub struct Search {
    /// What the user typed.
    pub query: String,
    searched: Option<String>,
    matches: Vec<bool>,
    hits: Vec<SpanIdx>,
    current: Option<usize>,
}

impl Search {
    /// Recomputes the matches if the query changed since the last call.
    pub fn refresh(&mut self, trace: &Trace) {
        if self.searched.as_deref() == Some(self.query.as_str()) {
            return;
        }
        self.searched = Some(self.query.clone());
        self.current = None;
        self.hits.clear();
        self.matches.clear();
        let needle = self.query.trim().to_lowercase();
        if needle.is_empty() {
            return;
        }
        let strings: Vec<bool> = trace.strings().iter().map(|(_, s)| s.to_lowercase().contains(&needle)).collect();
        let hit = |id: crate::model::StrId| strings.get(id.index() as usize).copied().unwrap_or(false);
        let hex_query = needle.len() >= 4 && needle.chars().all(|c| c.is_ascii_hexdigit());
        let any_value =
            |attrs: &[crate::model::Attr]| attrs.iter().any(|a| matches!(a.value, AttrValue::Str(v) if hit(v)));
        self.matches = (0..trace.len() as SpanIdx)
            .map(|idx| {
                let span = trace.span(idx);
                [span.name, span.op, span.service, span.transaction, span.status_message].into_iter().any(hit)
                    || any_value(trace.attrs(idx))
                    || any_value(trace.resource(idx))
                    || (hex_query && span.id.to_string().contains(&needle))
            })
            .collect();
        self.hits = (0..trace.len() as SpanIdx).filter(|&i| self.matches[i as usize]).collect();
    }

    /// Per-span match flags (empty when there is no query).
    pub fn matches(&self) -> &[bool] {
        &self.matches
    }

    /// How many spans match.
    pub fn hit_count(&self) -> usize {
        self.hits.len()
    }

    /// Which hit is current, from 1, for "3 of 12".
    pub fn position(&self) -> Option<usize> {
        self.current.map(|c| c + 1)
    }

    /// Steps to the next (or previous) match, wrapping around.
    pub fn step(&mut self, forward: bool) -> Option<SpanIdx> {
        if self.hits.is_empty() {
            return None;
        }
        let n = self.hits.len();
        let next = match (self.current, forward) {
            (None, true) => 0,
            (None, false) => n - 1,
            (Some(c), true) => (c + 1) % n,
            (Some(c), false) => (c + n - 1) % n,
        };
        self.current = Some(next);
        Some(self.hits[next])
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::model::{RawSpan, SpanId, TraceBuilder, TraceId};

    fn trace() -> Trace {
        let mut b = TraceBuilder::new();
        for (id, name, url) in
            [(1, "POST /slack/action", ""), (2, "views.open", "https://slack.com/api/views.open"), (3, "db", "")]
        {
            let mut raw = RawSpan::new(
                TraceId(1),
                SpanId::new(id).unwrap(),
                (id > 1).then(|| SpanId::new(1).unwrap()),
                id as i64,
                Some(10),
            );
            raw.name = b.intern(name);
            let mark = b.attr_mark();
            if !url.is_empty() {
                b.push_attr_str("url", url);
            }
            raw.attrs = b.attrs_since(mark);
            if id == 3 {
                let mark = b.attr_mark();
                b.push_attr_str("host.name", "db-host-7");
                raw.resource = b.attrs_since(mark);
            }
            b.push_span(raw);
        }
        b.build().unwrap().remove(0)
    }

    #[test]
    fn finds_names_and_attribute_values_case_insensitively() {
        let t = trace();
        let mut s = Search { query: "SLACK".into(), ..Search::default() };
        s.refresh(&t);
        assert_eq!(s.hit_count(), 2);
        s.query = "api/views".into();
        s.refresh(&t);
        assert_eq!(s.hit_count(), 1);
        assert_eq!(t.str(t.span(s.step(true).unwrap()).name), "views.open");
        s.query = "HOST-7".into();
        s.refresh(&t);
        assert_eq!(s.hit_count(), 1, "resource attribute values match too");
        assert_eq!(t.str(t.span(s.step(true).unwrap()).name), "db");
    }

    #[test]
    fn steps_wrap_both_ways_and_ids_match() {
        let t = trace();
        let mut s = Search { query: "0000000000000003".into(), ..Search::default() };
        s.refresh(&t);
        assert_eq!(s.hit_count(), 1);
        s.query = "s".into();
        s.refresh(&t);
        let n = s.hit_count();
        assert!(n >= 2);
        let first = s.step(true);
        for _ in 0..n - 1 {
            s.step(true);
        }
        assert_eq!(s.step(true), first, "wraps forward");
        assert_eq!(s.position(), Some(1));
        s.step(false);
        assert_eq!(s.position(), Some(n));
    }

    #[test]
    fn an_empty_query_matches_nothing() {
        let t = trace();
        let mut s = Search::default();
        s.refresh(&t);
        assert_eq!(s.hit_count(), 0);
        assert!(s.matches().is_empty());
    }
}
