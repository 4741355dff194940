//! What to fetch: a back-end, its base URL, an organization (Sentry) and a trace id — or a
//! pasted URL of the back-end's UI, from which the host, organization and ids are worked out.

use url::Url;

use super::{Backend, FetchError};

/// Where and which trace, as the user gave them.
#[derive(Clone, PartialEq, Eq, Debug)]
pub struct Target {
    /// The back-end.
    pub backend: Backend,
    /// Its base URL (`http://localhost:16686`, `https://sentry.example.com`). Optional when
    /// `trace` is a URL (its origin is used) and for Sentry (`https://sentry.io`).
    pub base: Option<String>,
    /// Sentry's organization slug; optional when `trace` is a Sentry URL that names it.
    pub org: Option<String>,
    /// A trace id (hex; Sentry also takes the dashed UUID form) or a URL that holds one (a
    /// Sentry trace or event page, a Jaeger or Zipkin trace page).
    pub trace: String,
}

/// Which item the user named.
#[derive(Clone, PartialEq, Eq, Debug)]
pub(crate) enum Id {
    /// A trace, by its lowercase hex id.
    Trace(String),
    /// A Sentry event (32 hex) whose trace is wanted.
    Event(String),
}

/// A [`Target`] checked and worked out.
#[derive(Clone, PartialEq, Eq, Debug)]
pub(crate) struct Resolved {
    pub base: Url,
    pub org: Option<String>,
    pub id: Id,
    /// Time-range parameters (`statsPeriod`, `start`, `end`, `timestamp`) from a pasted Sentry
    /// URL, passed on to the trace endpoint.
    pub query: Vec<(String, String)>,
}

const SENTRY_SAAS: &str = "https://sentry.io";
const SENTRY_TIME_PARAMS: [&str; 4] = ["statsPeriod", "start", "end", "timestamp"];

impl Target {
    /// Checks the target and works out base URL, organization and id.
    pub(crate) fn resolve(&self) -> Result<Resolved, FetchError> {
        let text = self.trace.trim();
        let name = self.backend.name();
        if text.is_empty() {
            return Err(FetchError::input(format!("give the id of the {name} trace to fetch, or its URL")));
        }
        let pasted =
            if text.starts_with("http://") || text.starts_with("https://") { Some(parse_url(text)?) } else { None };
        let base = match (&self.base, &pasted) {
            (Some(base), _) if !base.trim().is_empty() => parse_url(base.trim())?,
            (_, Some(url)) => origin_of(url)?,
            _ if self.backend == Backend::Sentry => parse_url(SENTRY_SAAS)?,
            _ => return Err(missing_base(self.backend)),
        };
        let given_org = self.org.as_deref().map(str::trim).filter(|o| !o.is_empty()).map(str::to_owned);
        let (id, org, query) = match (&pasted, self.backend) {
            (Some(url), Backend::Sentry) => {
                let page = sentry_page(url)?;
                (page.id, given_org.or(page.org), page.query)
            }
            (Some(url), backend) => {
                let id = url
                    .path_segments()
                    .into_iter()
                    .flatten()
                    .rev()
                    .find(|segment| trace_id(backend, segment).is_ok())
                    .ok_or_else(|| FetchError::input(format!("the URL {url} holds no {name} trace id")))?;
                (Id::Trace(trace_id(backend, id)?), given_org, Vec::new())
            }
            (None, backend) => (Id::Trace(trace_id(backend, text)?), given_org, Vec::new()),
        };
        if self.backend == Backend::Sentry && org.is_none() {
            return Err(FetchError::input(
                "Sentry needs the organization slug (it is in your Sentry URLs: https://ORG.sentry.io/ or /organizations/ORG/)",
            ));
        }
        Ok(Resolved { base, org, id, query })
    }

    /// Where the request goes: `scheme://host:port` of the base URL, or of the pasted URL when
    /// no base URL is given.
    pub fn origin(&self) -> Result<String, FetchError> {
        self.resolve().map(|resolved| super::http::origin(&resolved.base))
    }
}

/// The error for a back-end whose base URL was not given.
pub(super) fn missing_base(backend: Backend) -> FetchError {
    FetchError::input(format!("give {}'s base URL (for example {})", backend.name(), example_base(backend)))
}

fn example_base(backend: Backend) -> &'static str {
    match backend {
        Backend::Sentry => SENTRY_SAAS,
        Backend::Jaeger => "http://localhost:16686",
        Backend::Tempo => "http://localhost:3200",
        Backend::Zipkin => "http://localhost:9411",
    }
}

pub(super) fn parse_url(text: &str) -> Result<Url, FetchError> {
    let url = Url::parse(text).map_err(|e| {
        let hint = if text.contains("://") { "" } else { " (start it with http:// or https://)" };
        FetchError::input(format!("{text:?} is not a URL: {e}{hint}"))
    })?;
    if !url.username().is_empty() || url.password().is_some() {
        // Not repeated: the text holds a password.
        let host = url.host_str().unwrap_or("its host");
        return Err(FetchError::input(format!(
            "the URL of {host} holds a user name or password: put credentials in a token, not the URL"
        )));
    }
    match url.scheme() {
        "http" | "https" if url.host_str().is_some() => Ok(url),
        _ => Err(FetchError::input(format!("{text:?} is not an http:// or https:// URL with a host"))),
    }
}

fn origin_of(url: &Url) -> Result<Url, FetchError> {
    parse_url(&url.origin().ascii_serialization())
}

/// A trace id as `backend` wants it in its URL: lowercase hex; 32 digits for Sentry (dashes of
/// the UUID form removed), 16 or 32 for Zipkin, 1 to 32 for Jaeger and Tempo.
pub(super) fn trace_id(backend: Backend, text: &str) -> Result<String, FetchError> {
    let text = text.trim();
    let hex: String =
        if backend == Backend::Sentry { text.chars().filter(|&c| c != '-').collect() } else { text.to_owned() };
    let expected = match backend {
        Backend::Sentry => "32 hex digits",
        Backend::Zipkin => "16 or 32 hex digits",
        Backend::Jaeger | Backend::Tempo => "1 to 32 hex digits",
    };
    let length_ok = match backend {
        Backend::Sentry => hex.len() == 32,
        Backend::Zipkin => hex.len() == 16 || hex.len() == 32,
        Backend::Jaeger | Backend::Tempo => (1..=32).contains(&hex.len()),
    };
    if length_ok && hex.chars().all(|c| c.is_ascii_hexdigit()) {
        Ok(hex.to_ascii_lowercase())
    } else {
        Err(FetchError::input(format!("{text:?} is not a {} trace id: expected {expected}", backend.name())))
    }
}

/// What a Sentry page URL names.
struct SentryPage {
    org: Option<String>,
    id: Id,
    query: Vec<(String, String)>,
}

/// Reads a Sentry trace or event page: `https://ORG.sentry.io/performance/trace/ID/`,
/// `https://ORG.sentry.io/explore/traces/trace/ID/`,
/// `https://HOST/organizations/ORG/performance/trace/ID/`,
/// `https://HOST/organizations/ORG/issues/123/events/EVENT/`.
fn sentry_page(url: &Url) -> Result<SentryPage, FetchError> {
    let segments: Vec<&str> = url.path_segments().into_iter().flatten().filter(|s| !s.is_empty()).collect();
    let after = |name: &str| segments.windows(2).find(|w| w[0] == name).map(|w| w[1]);
    let org = after("organizations").map(str::to_owned).or_else(|| subdomain_org(url));
    let id = if let Some(id) = after("trace") {
        Id::Trace(trace_id(Backend::Sentry, id)?)
    } else if let Some(id) = after("events") {
        Id::Event(trace_id(Backend::Sentry, id).map_err(|_| {
            FetchError::input(format!("{id:?} in {url} is not a Sentry event id: expected 32 hex digits"))
        })?)
    } else {
        return Err(FetchError::input(format!(
            "the URL {url} is not a Sentry trace or event page (expected …/trace/TRACE_ID/ or …/events/EVENT_ID/)"
        )));
    };
    let query = url
        .query_pairs()
        .filter(|(k, _)| SENTRY_TIME_PARAMS.contains(&k.as_ref()))
        .map(|(k, v)| (k.into_owned(), v.into_owned()))
        .collect();
    Ok(SentryPage { org, id, query })
}

/// `acme` from `acme.sentry.io` (not the regional API hosts `us.sentry.io`, `de.sentry.io`).
fn subdomain_org(url: &Url) -> Option<String> {
    let host = url.host_str()?;
    let org = host.strip_suffix(".sentry.io")?;
    (!org.contains('.') && !["us", "de", "www"].contains(&org)).then(|| org.to_owned())
}

#[cfg(test)]
mod tests {
    use super::*;

    const ID: &str = "4bf92f3577b34da6a3ce929d0e0e4736";

    fn target(backend: Backend, base: Option<&str>, org: Option<&str>, trace: &str) -> Target {
        Target { backend, base: base.map(str::to_owned), org: org.map(str::to_owned), trace: trace.to_owned() }
    }

    fn resolve(backend: Backend, base: Option<&str>, org: Option<&str>, trace: &str) -> Result<Resolved, String> {
        target(backend, base, org, trace).resolve().map_err(|e| e.message)
    }

    #[test]
    fn sentry_urls_name_host_org_and_ids() {
        let r =
            resolve(Backend::Sentry, None, None, &format!("https://acme.sentry.io/performance/trace/{ID}/")).unwrap();
        assert_eq!(
            (r.base.as_str(), r.org.as_deref(), r.id),
            ("https://acme.sentry.io/", Some("acme"), Id::Trace(ID.into()))
        );

        let r = resolve(
            Backend::Sentry,
            None,
            None,
            &format!("https://acme.sentry.io/explore/traces/trace/{ID}/?statsPeriod=24h&project=1"),
        )
        .unwrap();
        assert_eq!(r.id, Id::Trace(ID.into()));
        assert_eq!(r.query, vec![("statsPeriod".to_owned(), "24h".to_owned())]);

        let event = "9f2e1d0c8b7a46e5a4b3c2d1e0f9a8b7";
        let r = resolve(
            Backend::Sentry,
            None,
            None,
            &format!("https://sentry.example.com/organizations/acme/issues/123/events/{event}/"),
        )
        .unwrap();
        assert_eq!(r.base.as_str(), "https://sentry.example.com/");
        assert_eq!((r.org.as_deref(), r.id), (Some("acme"), Id::Event(event.into())));

        let dashed = "4bf92f35-77b3-4da6-a3ce-929d0e0e4736";
        let r = resolve(Backend::Sentry, Some("https://sentry.example.com"), Some("acme"), dashed).unwrap();
        assert_eq!(r.id, Id::Trace(ID.into()));
        let r = resolve(Backend::Sentry, None, Some("acme"), ID).unwrap();
        assert_eq!(r.base.as_str(), "https://sentry.io/");
    }

    #[test]
    fn other_backends_take_ids_and_ui_urls() {
        let r = resolve(Backend::Jaeger, None, None, "http://jaeger:16686/trace/ABCDEF0123").unwrap();
        assert_eq!((r.base.as_str(), r.id), ("http://jaeger:16686/", Id::Trace("abcdef0123".into())));
        let r = resolve(Backend::Zipkin, Some("http://z:9411"), None, "http://z:9411/zipkin/traces/48485a3953bb6124")
            .unwrap();
        assert_eq!(r.id, Id::Trace("48485a3953bb6124".into()));
        let r = resolve(Backend::Tempo, Some("http://tempo:3200/"), None, ID).unwrap();
        assert_eq!((r.base.as_str(), r.org), ("http://tempo:3200/", None));
    }

    #[test]
    fn bad_targets_say_what_is_wrong() {
        let cases = [
            (resolve(Backend::Jaeger, None, None, ID), "base URL (for example http://localhost:16686)"),
            (resolve(Backend::Sentry, None, None, ID), "organization slug"),
            (resolve(Backend::Sentry, None, Some("a"), "abc"), "expected 32 hex digits"),
            (resolve(Backend::Zipkin, Some("http://z"), None, "abcdef"), "16 or 32 hex digits"),
            (resolve(Backend::Jaeger, Some("localhost:16686"), None, ID), "not an http:// or https:// URL"),
            (resolve(Backend::Jaeger, Some("jaeger"), None, ID), "start it with http://"),
            (resolve(Backend::Tempo, Some("http://t"), None, "  "), "give the id"),
            (
                resolve(Backend::Sentry, None, None, "https://acme.sentry.io/issues/"),
                "not a Sentry trace or event page",
            ),
            (resolve(Backend::Jaeger, None, None, "http://j/search"), "holds no Jaeger trace id"),
            (
                resolve(Backend::Jaeger, Some("http://admin:hunter2@j:16686"), None, ID),
                "the URL of j holds a user name or password: put credentials in a token, not the URL",
            ),
            (resolve(Backend::Jaeger, None, None, "http://admin@j/trace/abc"), "put credentials in a token"),
        ];
        for (result, expected) in cases {
            let message = result.unwrap_err();
            assert!(message.contains(expected), "{message:?} should contain {expected:?}");
            assert!(!message.contains("hunter2"), "{message:?}");
        }
    }
}
