//! `tracedeck fetch`: fetch one trace from a back-end, then save it or summarize it; and what
//! `fetch` and `search` share: the token, the network settings, progress notes, the verdict line
//! and the careful save.
//!
//! With `-o FILE` the answer is saved byte for byte as the back-end sent it (for Sentry, with
//! the trace id added; see [`crate::fetch::Fetched::body`]): nothing the back-end said is lost
//! and every tracedeck command reads it back. An existing file is never replaced without
//! `--force`. Without `-o`, one line per trace says what came back, judged like `check` does.

use std::io::{self, Write};
use std::path::{Path, PathBuf};
use std::sync::Mutex;
use std::time::Duration;

use super::{FetchArgs, NetworkArgs, Status};
use crate::analysis::{Profile, Verdict, analyze};
use crate::fetch::{
    self, Backend, Connection, Connections, Progress, Request, Target, Token, TokenSource, find_token, token_name_for,
};
use crate::model::{Trace, format_duration};

/// Runs `fetch`; messages to `out` and `err`.
pub fn fetch(args: &FetchArgs, out: &mut dyn Write, err: &mut dyn Write) -> Status {
    match run(args, out, err) {
        Ok(()) => Status::Met,
        Err(message) => {
            let _ = writeln!(err, "tracedeck: {message}");
            Status::BadInput
        }
    }
}

fn run(args: &FetchArgs, out: &mut dyn Write, err: &mut dyn Write) -> Result<(), String> {
    refuse_to_replace(args.remote.output.as_deref(), args.remote.force)?;
    let endpoint = args.remote.network.endpoint(args.org.as_deref())?;
    let target = Target {
        backend: endpoint.backend,
        base: endpoint.base.clone(),
        org: endpoint.org.clone(),
        trace: args.trace.clone(),
    };
    let destination = target.origin().map_err(|e| e.message)?;
    let request = Request { target, token: endpoint.token(&destination, err) };
    let notes = Notes::default();
    let fetched = runtime()?
        .block_on(fetch::fetch(&request, &args.remote.network.config(), &|progress| notes.keep(&progress)))
        .map_err(|e| e.message)?;
    notes.write(err);
    match &args.remote.output {
        Some(path) => save(path, &fetched.body, args.remote.force)
            .map_err(|e| format!("{}: cannot write: {e}", path.display()))?,
        None => {
            for trace in &fetched.traces {
                verdict_line(out, &fetched.source, trace, &args.remote.profile).map_err(|e| e.to_string())?;
            }
        }
    }
    Ok(())
}

/// Where `fetch` and `search` go: the back-end, base URL and organization, and the saved
/// connection they come from.
pub(super) struct Endpoint {
    pub backend: Backend,
    pub base: Option<String>,
    pub org: Option<String>,
    /// The saved connection named by `--connection`, when it is for this back-end.
    pub connection: Option<Connection>,
}

impl Endpoint {
    /// The token for a request to `destination` (see [`token_name_for`]: a token only goes to
    /// the host it was saved for), saying on `err` when one is withheld, or when Sentry (which
    /// always wants one) gets none; Jaeger, Tempo and Zipkin often need none, and a 401 says so.
    pub(super) fn token(&self, destination: &str, err: &mut dyn Write) -> Option<Token> {
        let name = token_name_for(self.backend, self.connection.as_ref(), self.base.as_deref(), destination);
        let (token, source, withheld) = match name {
            Ok(name) => {
                let (token, source) = find_token(self.backend, name.as_deref(), |k| std::env::var(k).ok());
                (token, source, false)
            }
            Err(why) => (None, TokenSource::None(why), true),
        };
        if let TokenSource::None(why) = &source
            && (withheld || self.backend == Backend::Sentry || self.connection.is_some())
        {
            let _ = writeln!(err, "tracedeck: fetching without a token ({why})");
        }
        token
    }
}

impl NetworkArgs {
    /// The back-end, base URL and organization (`org`, from the command line), with a saved
    /// connection (`--connection NAME`) filling in what is not given.
    pub(super) fn endpoint(&self, org: Option<&str>) -> Result<Endpoint, String> {
        self.endpoint_in(org, super::connections::file)
    }

    /// [`Self::endpoint`] with the connections file at `file()`.
    fn endpoint_in(
        &self,
        org: Option<&str>,
        file: impl FnOnce() -> Result<PathBuf, String>,
    ) -> Result<Endpoint, String> {
        let (from, url, connection) = (self.from, self.url.as_deref(), self.connection.as_deref());
        let saved = match connection {
            Some(name) => {
                let path = file()?;
                match Connections::load(&path)?.get(name) {
                    Some(saved) => Some(saved.clone()),
                    None if from.is_some() => None,
                    None => {
                        return Err(format!(
                            "there is no connection called {name:?} in {}; give --from",
                            path.display()
                        ));
                    }
                }
            }
            None => None,
        };
        let backend = from.or(saved.as_ref().map(|c| c.backend)).ok_or("give the back-end with --from")?;
        let connection = saved.filter(|c| c.backend == backend);
        let base = url.map(str::to_owned).or_else(|| connection.as_ref().map(|c| c.base.clone()));
        let org = org.map(str::to_owned).or_else(|| connection.as_ref().and_then(|c| c.org.clone()));
        Ok(Endpoint { backend, base, org, connection })
    }

    /// The fetch settings these arguments ask for.
    pub(super) fn config(&self) -> fetch::Config {
        fetch::Config {
            timeout: Duration::from_nanos(self.timeout.unsigned_abs()),
            retries: self.retries,
            ..fetch::Config::default()
        }
    }
}

/// A runtime for the command's requests.
pub(super) fn runtime() -> Result<tokio::runtime::Runtime, String> {
    tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .map_err(|e| format!("cannot start the network runtime: {e}"))
}

/// Refuses, before any request, to replace an existing `path` without `force`.
pub(super) fn refuse_to_replace(path: Option<&Path>, force: bool) -> Result<(), String> {
    match path {
        Some(path) if path.exists() && !force => Err(format!("{} exists; pass --force to replace it", path.display())),
        _ => Ok(()),
    }
}

/// Progress worth telling on a command line (retries, Sentry's steps), kept until it can be
/// written: the progress callback cannot reach the command's output.
#[derive(Default)]
pub(super) struct Notes(Mutex<Vec<String>>);

impl Notes {
    /// Keeps `progress` if it is worth telling.
    pub(super) fn keep(&self, progress: &Progress) {
        if matches!(progress, Progress::Retrying { .. } | Progress::Step { .. }) {
            self.0.lock().unwrap_or_else(|e| e.into_inner()).push(progress.to_string());
        }
    }

    /// Writes the notes kept so far, and forgets them.
    pub(super) fn write(&self, err: &mut dyn Write) {
        for note in std::mem::take(&mut *self.0.lock().unwrap_or_else(|e| e.into_inner())) {
            let _ = writeln!(err, "tracedeck: {note}");
        }
    }
}

/// Judges `trace` and writes `{source}: {n} spans over {duration}; {headline}`.
pub(super) fn verdict_line(out: &mut dyn Write, source: &str, trace: &Trace, profile: &Profile) -> io::Result<Verdict> {
    let verdict = analyze(trace, profile);
    writeln!(
        out,
        "{source}: {} spans over {}; {}",
        trace.len(),
        format_duration(trace.duration()),
        verdict.headline()
    )?;
    Ok(verdict)
}

/// Writes `bytes` to a new file, or, only when `force`, in place of an existing one
/// ([`crate::files::replace`]: a failure leaves the old file whole).
pub(super) fn save(path: &Path, bytes: &[u8], force: bool) -> io::Result<()> {
    if force {
        return crate::files::replace(path, |out| out.write_all(bytes));
    }
    let mut file = std::fs::OpenOptions::new().write(true).create_new(true).open(path)?;
    file.write_all(bytes)?;
    file.sync_all()
}

#[cfg(test)]
mod tests {
    use clap::Parser;

    use super::*;
    use crate::cli::{Cli, Command};
    use crate::fetch::test_keychain;

    #[test]
    fn a_connections_keychain_token_is_found_by_its_saved_name_however_it_is_typed() {
        test_keychain::install();
        let dir = std::env::temp_dir().join(format!("tracedeck-cli-fetch-token-{}", std::process::id()));
        let path = dir.join("connections.json");
        let connection = Connection {
            name: "Keyed Jaeger".into(),
            backend: Backend::Jaeger,
            base: "http://jaeger.example:16686".into(),
            org: None,
        };
        Connections { list: vec![connection.clone()] }.save(&path).unwrap();
        fetch::save_token_in_keychain(&connection.name, &Token::new("tok-keyed").unwrap()).unwrap();

        let typed = ["tracedeck", "fetch", "--connection", "KEYED jaeger", "abc"];
        let Some(Command::Fetch(args)) = Cli::try_parse_from(typed).unwrap().command else { panic!("expected fetch") };
        let endpoint = args.remote.network.endpoint_in(None, || Ok(path.clone())).unwrap();
        let mut err = Vec::new();
        let token = endpoint.token("http://jaeger.example:16686", &mut err);
        assert_eq!(token.as_ref().map(Token::expose), Some("tok-keyed"), "{}", String::from_utf8_lossy(&err));
        std::fs::remove_dir_all(&dir).unwrap();
    }
}
