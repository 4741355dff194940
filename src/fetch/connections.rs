//! Saved connections and where tokens come from.
//!
//! A [`Connection`] (name, back-end, base URL, organization) is plain settings; it never holds
//! a token. The GUI and `tracedeck fetch --connection NAME` share one file of them
//! ([`Connections::default_path`]: `TRACEDECK_CONNECTIONS`, else `connections.json` in the
//! user's config folder, `~/.config/tracedeck/` on Linux). Tokens come from the environment
//! (`TRACEDECK_TOKEN_<NAME>`, or `SENTRY_AUTH_TOKEN` for Sentry) or from the OS keychain (the
//! `keyring` crate: macOS Keychain, Windows Credential Manager, the Secret Service on Linux).
//! Where no keychain service runs (headless machines, CI) lookups say so and the environment
//! is the only source. tracedeck never writes a token to a file itself.

use std::path::{Path, PathBuf};

use serde::{Deserialize, Serialize};

use super::{Backend, Target, Token};

/// The keychain service name tracedeck's entries are filed under.
const KEYCHAIN_SERVICE: &str = "tracedeck";

/// A saved back-end: everything needed to fetch except the token.
#[derive(Clone, PartialEq, Eq, Debug, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Connection {
    /// What the user calls it ("prod sentry"); also names its token's environment variable
    /// and keychain entry.
    pub name: String,
    /// The back-end.
    pub backend: Backend,
    /// Base URL.
    pub base: String,
    /// Sentry organization slug.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub org: Option<String>,
}

impl Connection {
    /// A target for `trace` (id or URL) on this connection.
    pub fn target(&self, trace: &str) -> Target {
        Target { backend: self.backend, base: Some(self.base.clone()), org: self.org.clone(), trace: trace.to_owned() }
    }

    /// Checks what a user typed: a name, an http(s) base URL, and for Sentry an organization.
    pub fn check(&self) -> Result<(), String> {
        if self.name.trim().is_empty() {
            return Err("give the connection a name".to_owned());
        }
        // A back-end's own token (for fetches without a connection) is kept under its name; a
        // connection of that name would share it, and send it to this connection's host.
        if let Some(taken) = Backend::ALL.iter().find(|b| token_variable(b.name()) == self.token_variable()) {
            return Err(format!(
                "the name {:?} is where tracedeck keeps the token for {} without a connection; pick another",
                self.name,
                taken.name()
            ));
        }
        super::target::parse_url(self.base.trim()).map_err(|e| e.message)?;
        if self.backend == Backend::Sentry && self.org.as_deref().is_none_or(|o| o.trim().is_empty()) {
            return Err("a Sentry connection needs the organization slug".to_owned());
        }
        Ok(())
    }

    /// The environment variable holding this connection's token: `TRACEDECK_TOKEN_` and the
    /// name in upper case, other characters than letters and digits as `_`.
    pub fn token_variable(&self) -> String {
        token_variable(&self.name)
    }
}

fn token_variable(name: &str) -> String {
    let name: String =
        name.chars().map(|c| if c.is_ascii_alphanumeric() { c.to_ascii_uppercase() } else { '_' }).collect();
    format!("TRACEDECK_TOKEN_{name}")
}

/// The saved connections: the contents of the connections file,
/// `{"connections": [{"name": "prod", "backend": "sentry", "base": "https://sentry.io", "org": "acme"}]}`.
#[derive(Clone, PartialEq, Eq, Debug, Default, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct Connections {
    /// In the user's order.
    #[serde(rename = "connections")]
    pub list: Vec<Connection>,
}

impl Connections {
    /// Where the connections file is: `TRACEDECK_CONNECTIONS` when set, else
    /// `tracedeck/connections.json` in the user's config folder. `None` when neither is known.
    pub fn default_path() -> Option<PathBuf> {
        match std::env::var_os("TRACEDECK_CONNECTIONS") {
            Some(path) if !path.is_empty() => Some(PathBuf::from(path)),
            _ => dirs::config_dir().map(|dir| dir.join("tracedeck").join("connections.json")),
        }
    }

    /// Reads the connections file; a file that does not exist yet holds none. An error names
    /// the file and the place in it.
    pub fn load(path: &Path) -> Result<Connections, String> {
        let bytes = match std::fs::read(path) {
            Ok(bytes) => bytes,
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(Connections::default()),
            Err(e) => return Err(format!("{}: cannot read the connections file: {e}", path.display())),
        };
        crate::formats::json::from_slice::<Connections>(&bytes).map_err(|e| {
            let hint = if e.message.contains("`token`") {
                "; tokens are not kept in this file: set TRACEDECK_TOKEN_<NAME> or save the token in the OS keychain"
            } else {
                ""
            };
            format!("{}: {}: {}{hint}", path.display(), e.place, e.message)
        })
    }

    /// Writes the connections file (creating its folder), replacing it in one step
    /// ([`crate::files::replace`]) so a crash never leaves half a file. It holds no tokens.
    pub fn save(&self, path: &Path) -> Result<(), String> {
        let fail = |e: std::io::Error| format!("{}: cannot save the connections: {e}", path.display());
        if let Some(dir) = path.parent().filter(|d| !d.as_os_str().is_empty()) {
            std::fs::create_dir_all(dir).map_err(fail)?;
        }
        crate::files::replace(path, |out| {
            serde_json::to_writer_pretty(&mut *out, self)?;
            out.write_all(b"\n")
        })
        .map_err(fail)
    }

    /// Removes the connection called `name` (case-insensitive); the one removed.
    pub fn remove(&mut self, name: &str) -> Option<Connection> {
        let index = self.list.iter().position(|c| c.name.eq_ignore_ascii_case(name))?;
        Some(self.list.remove(index))
    }

    /// The connection called `name` (case-insensitive).
    pub fn get(&self, name: &str) -> Option<&Connection> {
        self.list.iter().find(|c| c.name.eq_ignore_ascii_case(name))
    }

    /// Adds or replaces the connection of the same name. Returns the name of a token in the
    /// keychain that no longer belongs to anything and must be deleted: the replaced
    /// connection's, when its base URL's origin changed (its token was for the old host) and
    /// no new token is stored (`new_token`), or when the name is spelled differently now.
    pub fn upsert(&mut self, connection: Connection, new_token: bool) -> Option<String> {
        let origin = |c: &Connection| super::target::parse_url(c.base.trim()).ok().map(|u| super::http::origin(&u));
        match self.list.iter_mut().find(|c| c.name.eq_ignore_ascii_case(&connection.name)) {
            Some(slot) => {
                let renamed = slot.name != connection.name;
                let moved = origin(slot) != origin(&connection);
                let stale = (renamed || (moved && !new_token)).then(|| slot.name.clone());
                *slot = connection;
                stale
            }
            None => {
                self.list.push(connection);
                None
            }
        }
    }
}

/// Where a token was found, or why none was.
#[derive(Clone, PartialEq, Eq, Debug)]
pub enum TokenSource {
    /// In this environment variable.
    Env(String),
    /// In the OS keychain.
    Keychain,
    /// Nowhere; the text says where tracedeck looked and, when the keychain could not be
    /// used, why.
    None(String),
}

/// Looks for the token of a connection named `name` (or of `backend` when unnamed): the
/// environment first (`TRACEDECK_TOKEN_<NAME>`, then `SENTRY_AUTH_TOKEN` for Sentry), then the
/// keychain. `env` reads a variable (pass `|k| std::env::var(k).ok()`), so tests need not touch
/// the process environment.
pub fn find_token(
    backend: Backend,
    name: Option<&str>,
    env: impl Fn(&str) -> Option<String>,
) -> (Option<Token>, TokenSource) {
    let mut variables = vec![token_variable(name.unwrap_or(backend.name()))];
    if backend == Backend::Sentry {
        variables.push("SENTRY_AUTH_TOKEN".to_owned());
    }
    for variable in &variables {
        if let Some(token) = env(variable).as_deref().and_then(Token::new) {
            return (Some(token), TokenSource::Env(variable.clone()));
        }
    }
    let looked = format!("no token in {}", variables.join(" or "));
    match keychain_entry(name.unwrap_or(backend.name())).and_then(|entry| entry.get_password()) {
        Ok(secret) => match Token::new(&secret) {
            Some(token) => (Some(token), TokenSource::Keychain),
            None => (None, TokenSource::None(format!("{looked}; the keychain entry is empty"))),
        },
        Err(keyring::Error::NoEntry) => (None, TokenSource::None(format!("{looked} nor in the keychain"))),
        Err(e) => (None, TokenSource::None(format!("{looked}; the OS keychain is not available ({e})"))),
    }
}

/// Which saved token a request to `destination` (a URL; its origin counts) may carry, so that a
/// token only goes to the host it was saved for. With a saved `connection`, its token (see
/// [`find_token`]) goes only to the origin of the connection's own base URL. Without one, the
/// back-end's token goes only to `base`, the base URL the user gave, or, for Sentry without one,
/// to sentry.io: never to a host taken from a pasted link. `Ok` holds the name to look the token
/// up by; `Err` says, for a note, why no saved token goes.
pub fn token_name_for(
    backend: Backend,
    connection: Option<&Connection>,
    base: Option<&str>,
    destination: &str,
) -> Result<Option<String>, String> {
    let origin_of = |url: &str| super::target::parse_url(url.trim()).ok().map(|url| super::http::origin(&url));
    let Some(destination) = origin_of(destination) else {
        return Err("the request's URL cannot be read".to_owned());
    };
    match (connection, base.filter(|b| !b.trim().is_empty())) {
        (Some(c), _) if origin_of(&c.base).as_ref() == Some(&destination) => Ok(Some(c.name.clone())),
        (Some(c), _) => Err(format!(
            "the token of connection {:?} is only sent to its base URL {}, not to {destination}",
            c.name,
            c.base.trim()
        )),
        (None, Some(base)) if origin_of(base).as_ref() == Some(&destination) => Ok(None),
        (None, None) if backend == Backend::Sentry && is_sentry_saas(&destination) => Ok(None),
        (None, _) => {
            let given =
                if backend == Backend::Sentry { "sentry.io or the base URL you give" } else { "the base URL you give" };
            Err(format!("{} tokens are only sent to {given}, not to {destination}", backend.name()))
        }
    }
}

/// Whether `origin` is Sentry's own service: `https://sentry.io` or one of its subdomains
/// (`https://acme.sentry.io`, the regional `https://us.sentry.io`).
fn is_sentry_saas(origin: &str) -> bool {
    origin.strip_prefix("https://").is_some_and(|host| host == "sentry.io" || host.ends_with(".sentry.io"))
}

/// Saves a token in the OS keychain under the connection's name. Fails with a sentence when no
/// keychain service is available.
pub fn save_token_in_keychain(name: &str, token: &Token) -> Result<(), String> {
    keychain_entry(name)
        .and_then(|entry| entry.set_password(token.expose()))
        .map_err(|e| format!("the token could not be saved in the OS keychain ({e})"))
}

/// Deletes the token saved in the OS keychain under the connection's name; whether there was
/// one. Fails with a sentence when the keychain cannot be used.
pub fn delete_token_in_keychain(name: &str) -> Result<bool, String> {
    match keychain_entry(name).and_then(|entry| entry.delete_credential()) {
        Ok(()) => Ok(true),
        Err(keyring::Error::NoEntry) => Ok(false),
        Err(e) => Err(format!("its token could not be deleted from the OS keychain ({e})")),
    }
}

fn keychain_entry(name: &str) -> keyring::Result<keyring::Entry> {
    keyring::Entry::new(KEYCHAIN_SERVICE, name)
}

/// Runs `task` on `runtime` with a token: `typed`, else the saved one `name` allows (see
/// [`token_name_for`]: `Ok(Some(connection))`, `Ok(None)` for the back-end's, `Err` for none)
/// from the environment or the OS keychain. The keychain is asked on a thread of its own: it may
/// be slow, and its client may run an async runtime of its own, which cannot start inside
/// tokio's.
pub fn spawn_with_token<F, Fut>(
    runtime: &tokio::runtime::Handle,
    typed: Option<Token>,
    backend: Backend,
    name: Result<Option<String>, String>,
    task: F,
) where
    F: FnOnce(Option<Token>) -> Fut + Send + 'static,
    Fut: std::future::Future<Output = ()> + Send + 'static,
{
    let runtime = runtime.clone();
    std::thread::spawn(move || {
        let token = typed.or_else(|| find_token(backend, name.ok()?.as_deref(), |k| std::env::var(k).ok()).0);
        runtime.spawn(task(token));
    });
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn connections_serialize_without_tokens_and_find_by_name() {
        let mut connections = Connections::default();
        let sentry = |name: &str, base: &str| Connection {
            name: name.into(),
            backend: Backend::Sentry,
            base: base.into(),
            org: Some("acme".into()),
        };
        assert_eq!(connections.upsert(sentry("prod sentry", "https://sentry.example.com"), true), None);
        // The same host keeps its token; a new host, or a new spelling, makes it stale.
        assert_eq!(connections.upsert(sentry("prod sentry", "https://sentry.example.com/"), false), None);
        let moved = connections.upsert(sentry("prod sentry", "https://other.example.com"), false);
        assert_eq!(moved.as_deref(), Some("prod sentry"));
        assert_eq!(connections.upsert(sentry("prod sentry", "https://sentry.example.com"), true), None);
        let renamed = connections.upsert(Connection { org: None, ..sentry("Prod Sentry", "x") }, true);
        assert_eq!(renamed.as_deref(), Some("prod sentry"));
        assert_eq!(connections.list.len(), 1, "same name replaces");
        let json = serde_json::to_string(&connections).unwrap();
        assert_eq!(json, r#"{"connections":[{"name":"Prod Sentry","backend":"sentry","base":"x"}]}"#);
        let back: Connections = serde_json::from_str(&json).unwrap();
        assert_eq!(back, connections);
        assert_eq!(back.get("prod SENTRY").unwrap().token_variable(), "TRACEDECK_TOKEN_PROD_SENTRY");
    }

    #[test]
    fn connections_never_keep_credentials_in_their_url() {
        let connection = Connection {
            name: "prod".into(),
            backend: Backend::Zipkin,
            base: "https://ops:s3cret@zipkin.example".into(),
            org: None,
        };
        let error = connection.check().unwrap_err();
        assert!(error.contains("put credentials in a token, not the URL") && !error.contains("s3cret"), "{error}");
    }

    #[test]
    fn a_connection_may_not_take_a_back_ends_own_token_name() {
        let named = |name: &str| Connection {
            name: name.into(),
            backend: Backend::Jaeger,
            base: "https://jaeger.internal".into(),
            org: None,
        };
        for name in ["Jaeger", "zipkin", "SENTRY"] {
            let error = named(name).check().unwrap_err();
            assert!(error.contains("keeps the token for") && error.contains("pick another"), "{error}");
        }
        assert_eq!(named("jaeger-internal").check(), Ok(()));
    }

    #[test]
    fn the_file_saves_and_loads_and_bad_files_say_where() {
        let dir = std::env::temp_dir().join(format!("tracedeck-connections-{}", std::process::id()));
        let path = dir.join("nested").join("connections.json");
        assert_eq!(Connections::load(&path).unwrap(), Connections::default(), "no file yet: none saved");
        let mut connections = Connections::default();
        let local = Connection {
            name: "local jaeger".into(),
            backend: Backend::Jaeger,
            base: "http://localhost:16686".into(),
            org: None,
        };
        connections.upsert(local, false);
        connections.save(&path).unwrap();
        assert_eq!(Connections::load(&path).unwrap(), connections);
        assert_eq!(connections.clone().remove("LOCAL JAEGER").unwrap().name, "local jaeger");

        std::fs::write(&path, "{\"connections\": [{\"name\": \"x\", \"backend\": \"datadog\", \"base\": \"b\"}]}")
            .unwrap();
        let error = Connections::load(&path).unwrap_err();
        assert!(error.contains("connections.json") && error.contains("connections[0].backend"), "{error}");
        std::fs::write(
            &path,
            r#"{"connections": [{"name": "x", "backend": "jaeger", "base": "b", "token": "secret"}]}"#,
        )
        .unwrap();
        let error = Connections::load(&path).unwrap_err();
        assert!(error.contains("tokens are not kept in this file"), "{error}");
        assert!(!error.contains("secret"), "the token is not repeated: {error}");
        std::fs::remove_dir_all(&dir).unwrap();
    }

    #[test]
    fn tokens_come_from_the_environment_first() {
        let env = |key: &str| match key {
            "TRACEDECK_TOKEN_LOCAL_JAEGER" => Some("tok-jaeger".to_owned()),
            "SENTRY_AUTH_TOKEN" => Some("sntrys_x".to_owned()),
            _ => None,
        };
        let (token, source) = find_token(Backend::Jaeger, Some("local-jaeger"), env);
        assert_eq!(
            (token.unwrap().expose(), source),
            ("tok-jaeger", TokenSource::Env("TRACEDECK_TOKEN_LOCAL_JAEGER".into()))
        );
        let (token, source) = find_token(Backend::Sentry, None, env);
        assert_eq!((token.unwrap().expose(), source), ("sntrys_x", TokenSource::Env("SENTRY_AUTH_TOKEN".into())));
    }

    #[test]
    fn tokens_only_go_to_the_hosts_they_were_saved_for() {
        let prod = Connection {
            name: "Prod".into(),
            backend: Backend::Jaeger,
            base: "http://jaeger.example:16686/prefix/".into(),
            org: None,
        };
        let jaeger = |connection, base, destination| token_name_for(Backend::Jaeger, connection, base, destination);
        assert_eq!(jaeger(Some(&prod), None, "http://jaeger.example:16686/api/traces/ab"), Ok(Some("Prod".into())));
        let moved = jaeger(Some(&prod), Some("http://other:16686"), "http://other:16686").unwrap_err();
        assert!(moved.contains("connection \"Prod\" is only sent to its base URL"), "{moved}");
        assert!(jaeger(Some(&prod), None, "https://jaeger.example:16686").is_err(), "another scheme");

        assert_eq!(jaeger(None, Some("http://j:16686/"), "http://j:16686/api/traces/ab"), Ok(None));
        let pasted = jaeger(None, None, "http://j:16686/trace/ab").unwrap_err();
        assert_eq!(pasted, "Jaeger tokens are only sent to the base URL you give, not to http://j:16686");

        let sentry = |base, destination| token_name_for(Backend::Sentry, None, base, destination);
        assert_eq!(sentry(None, "https://sentry.io/"), Ok(None));
        assert_eq!(sentry(None, "https://acme.sentry.io/"), Ok(None));
        assert_eq!(sentry(Some("https://sentry.example.com"), "https://sentry.example.com/"), Ok(None));
        for elsewhere in ["https://evil.example/", "http://sentry.io/", "https://sentry.io.evil.example/"] {
            let refused = sentry(None, elsewhere).unwrap_err();
            assert!(
                refused.starts_with("Sentry tokens are only sent to sentry.io or the base URL you give"),
                "{refused}"
            );
        }
    }

    #[test]
    fn without_a_token_the_answer_says_where_it_looked() {
        // On a machine with a keychain this may find nothing or fail; either way it must not
        // panic and must name the variables it read.
        let (token, source) = find_token(Backend::Zipkin, Some("tracedeck test none"), |_| None);
        if token.is_none() {
            let TokenSource::None(why) = source else { panic!("expected no source, got {source:?}") };
            assert!(why.contains("TRACEDECK_TOKEN_TRACEDECK_TEST_NONE"), "{why}");
        }
    }
}
