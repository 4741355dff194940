//! `tracedeck connections`: the saved connections file, listed, added to and removed from.
//! Tokens never go in the file: `add --token-from-stdin` puts one in the OS keychain.

use std::io::{BufRead, Write};
use std::path::PathBuf;

use super::{ConnectionsAction, ConnectionsArgs, Status};
use crate::fetch::{Connection, Connections, Token, TokenSource, find_token, save_token_in_keychain};

/// Runs `connections`; reads a token from `input` when asked to, messages to `out` and `err`.
pub fn connections(
    args: &ConnectionsArgs,
    input: &mut dyn BufRead,
    out: &mut dyn Write,
    err: &mut dyn Write,
) -> Status {
    match run(args, input, out) {
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

fn run(args: &ConnectionsArgs, input: &mut dyn BufRead, out: &mut dyn Write) -> Result<(), String> {
    let path = file()?;
    let mut saved = Connections::load(&path)?;
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
            saved.upsert(connection);
            saved.save(&path)?;
            writeln!(out, "saved {name} in {}", path.display()).map_err(write_error)?;
            if *token_from_stdin {
                let mut line = String::new();
                input.read_line(&mut line).map_err(|e| format!("cannot read the token from standard input: {e}"))?;
                let token = Token::new(&line).ok_or("standard input held no token")?;
                save_token_in_keychain(name, &token)?;
                writeln!(out, "saved its token in the OS keychain").map_err(write_error)?;
            }
        }
        ConnectionsAction::Remove { name } => {
            if !saved.remove(name) {
                return Err(format!("there is no connection called {name:?} in {}", path.display()));
            }
            saved.save(&path)?;
            writeln!(out, "removed {name} from {}", path.display()).map_err(write_error)?;
        }
    }
    Ok(())
}
