//! `tracedeck connections`: the saved connections file, listed, added to and removed from.
//! Tokens never go in the file: `add --token-from-stdin` puts one in the OS keychain.

use std::io::{BufRead, Write};
use std::path::{Path, PathBuf};

use super::{ConnectionsAction, ConnectionsArgs, Status};
use crate::fetch::{
    Connection, Connections, Token, TokenSource, delete_token_in_keychain, find_token, save_token_in_keychain,
};

/// Runs `connections`; reads a token from `input` when asked to, messages to `out` and `err`.
pub fn connections(
    args: &ConnectionsArgs,
    input: &mut dyn BufRead,
    out: &mut dyn Write,
    err: &mut dyn Write,
) -> Status {
    match file().and_then(|path| run(args, &path, input, out, err)) {
        Ok(()) => Status::Met,
        Err(message) => {
            let _ = writeln!(err, "tracedeck: {message}");
            Status::BadInput
        }
    }
}

/// The connections file's path, or why there is none.
pub(super) fn file() -> Result<PathBuf, String> {
    Connections::default_path()
        .ok_or_else(|| "there is no config folder for the connections file; set TRACEDECK_CONNECTIONS".to_owned())
}

fn run(
    args: &ConnectionsArgs,
    path: &Path,
    input: &mut dyn BufRead,
    out: &mut dyn Write,
    err: &mut dyn Write,
) -> Result<(), String> {
    let mut saved = Connections::load(path)?;
    let write_error = |e: std::io::Error| e.to_string();
    match args.action.as_ref().unwrap_or(&ConnectionsAction::List) {
        ConnectionsAction::List => {
            if saved.list.is_empty() {
                writeln!(out, "no saved connections in {}", path.display()).map_err(write_error)?;
            } else {
                writeln!(out, "connections in {}:", path.display()).map_err(write_error)?;
            }
            for c in &saved.list {
                let org = c.org.as_deref().map(|o| format!(", organization {o}")).unwrap_or_default();
                let token = match find_token(c.backend, Some(&c.name), |k| std::env::var(k).ok()).1 {
                    TokenSource::Env(variable) => format!("token from {variable}"),
                    TokenSource::Keychain => "token in the OS keychain".to_owned(),
                    TokenSource::None(why) => why,
                };
                writeln!(out, "  {}: {} at {}{org}; {token}", c.name, c.backend.name(), c.base).map_err(write_error)?;
            }
        }
        ConnectionsAction::Add { name, from, url, org, token_from_stdin } => {
            let connection = Connection { name: name.clone(), backend: *from, base: url.clone(), org: org.clone() };
            connection.check()?;
            let token = if *token_from_stdin {
                let mut line = String::new();
                input.read_line(&mut line).map_err(|e| format!("cannot read the token from standard input: {e}"))?;
                Some(Token::new(&line).ok_or("standard input held no token; nothing was saved")?)
            } else {
                None
            };
            // A token saved for the connection's old host must not follow it to the new one.
            let stale = saved.upsert(connection, token.is_some());
            if let Some(stale) = &stale {
                match delete_token_in_keychain(stale) {
                    Ok(true) => writeln!(out, "forgot the token saved for its old URL").map_err(write_error)?,
                    Ok(false) => {}
                    Err(e) => {
                        let _ = writeln!(err, "tracedeck: {e}; if it holds a token under {stale:?}, delete it there");
                    }
                }
            }
            // The token before the file: when it cannot be kept, the file is left as it was.
            if let Some(token) = &token {
                save_token_in_keychain(name, token).map_err(|e| format!("{e}; nothing was saved"))?;
            }
            saved.save(path)?;
            let token = if token.is_some() { ", and its token in the OS keychain" } else { "" };
            writeln!(out, "saved {name} in {}{token}", path.display()).map_err(write_error)?;
        }
        ConnectionsAction::Remove { name } => {
            let Some(removed) = saved.remove(name) else {
                return Err(format!("there is no connection called {name:?} in {}", path.display()));
            };
            saved.save(path)?;
            let token = match delete_token_in_keychain(&removed.name) {
                Ok(true) => ", and its token from the OS keychain",
                Ok(false) => "",
                Err(e) => {
                    // A keychain that cannot be reached (a headless machine) holds nothing to
                    // delete, or keeps it where only the user can: say so, do not fail.
                    let _ = writeln!(err, "tracedeck: {e}; if it holds one under {:?}, delete it there", removed.name);
                    ""
                }
            };
            writeln!(out, "removed {} from {}{token}", removed.name, path.display()).map_err(write_error)?;
        }
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use clap::Parser;

    use super::*;
    use crate::cli::{Cli, Command};
    use crate::fetch::test_keychain;

    /// Runs `tracedeck connections ARGS` on the file `path` with `stdin`; the result and the
    /// messages to standard error.
    fn connections(path: &Path, args: &[&str], stdin: &str) -> (Result<(), String>, String) {
        test_keychain::install();
        let Some(Command::Connections(args)) =
            Cli::try_parse_from(["tracedeck", "connections"].iter().chain(args)).unwrap().command
        else {
            panic!("expected connections");
        };
        let mut err = Vec::new();
        let result = run(&args, path, &mut stdin.as_bytes(), &mut Vec::new(), &mut err);
        (result, String::from_utf8(err).unwrap())
    }

    fn folder(test: &str) -> PathBuf {
        let dir = std::env::temp_dir().join(format!("tracedeck-cli-connections-{test}-{}", std::process::id()));
        let _ = std::fs::remove_dir_all(&dir);
        dir
    }

    #[test]
    fn a_token_that_cannot_be_kept_saves_nothing() {
        let dir = folder("token");
        let path = dir.join("connections.json");
        let add = |name: &'static str, stdin| {
            connections(
                &path,
                &["add", name, "--from", "jaeger", "--url", "http://j:16686", "--token-from-stdin"],
                stdin,
            )
        };
        let (result, _) = add("broken keychain", "tok-kept-nowhere\n");
        let error = result.unwrap_err();
        assert!(error.starts_with("the token could not be saved in the OS keychain ("), "{error}");
        assert!(error.ends_with("; nothing was saved"), "{error}");
        assert!(!path.exists(), "no connection without its token");
        assert_eq!(add("tokenless", "  \n").0.unwrap_err(), "standard input held no token; nothing was saved");
        assert!(!path.exists());

        add("kept", "tok-kept\n").0.unwrap();
        assert_eq!(test_keychain::get("kept").as_deref(), Some("tok-kept"));
        assert!(Connections::load(&path).unwrap().get("kept").is_some());
        std::fs::remove_dir_all(&dir).unwrap();
    }

    #[test]
    fn moving_a_connection_to_another_host_forgets_its_token() {
        let dir = folder("moved");
        let path = dir.join("connections.json");
        let add = |url: &str, stdin: &str| {
            let mut args = vec!["add", "build jaeger", "--from", "jaeger", "--url", url];
            if !stdin.is_empty() {
                args.push("--token-from-stdin");
            }
            connections(&path, &args, stdin).0.unwrap();
        };
        add("http://j:16686", "tok-for-j\n");
        add("http://j:16686/", "");
        assert_eq!(test_keychain::get("build jaeger").as_deref(), Some("tok-for-j"), "same host: kept");
        add("http://elsewhere:16686", "");
        assert_eq!(test_keychain::get("build jaeger"), None, "the token was for the old host");
        add("http://elsewhere:16686", "tok-for-elsewhere\n");
        assert_eq!(test_keychain::get("build jaeger").as_deref(), Some("tok-for-elsewhere"));
        std::fs::remove_dir_all(&dir).unwrap();
    }

    #[test]
    fn removing_a_connection_deletes_its_token_by_its_own_name() {
        let dir = folder("remove");
        let path = dir.join("connections.json");
        let add = ["add", "Staging Zipkin", "--from", "zipkin", "--url", "http://z:9411", "--token-from-stdin"];
        connections(&path, &add, "tok-staging\n").0.unwrap();
        assert_eq!(test_keychain::get("Staging Zipkin").as_deref(), Some("tok-staging"));
        let (result, err) = connections(&path, &["remove", "staging ZIPKIN"], "");
        result.unwrap();
        assert_eq!(err, "");
        assert_eq!(test_keychain::get("Staging Zipkin"), None, "its token went with it");
        assert!(Connections::load(&path).unwrap().list.is_empty());
        std::fs::remove_dir_all(&dir).unwrap();
    }
}
