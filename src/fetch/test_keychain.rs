//! An OS keychain for tests: an in-memory store behind `keyring`'s default credential builder,
//! so tests save, find and delete tokens without touching the machine's keychain. Entries whose
//! name starts with `slow` take [`SLOW`] to read or delete (a keychain waiting for the user to
//! unlock it); those starting with `broken` cannot be written (a locked keychain).

use std::any::Any;
use std::collections::HashMap;
use std::sync::{Mutex, Once};
use std::time::Duration;

use keyring::credential::{Credential, CredentialApi, CredentialBuilderApi};

/// How long a `slow` entry takes.
pub(crate) const SLOW: Duration = Duration::from_millis(1500);

static STORE: Mutex<Option<HashMap<String, Vec<u8>>>> = Mutex::new(None);

/// Puts the test keychain in place of the OS's, for the whole test process.
pub(crate) fn install() {
    static ONCE: Once = Once::new();
    ONCE.call_once(|| keyring::set_default_credential_builder(Box::new(Builder)));
}

/// The token saved under `name`.
pub(crate) fn get(name: &str) -> Option<String> {
    store(|entries| entries.get(name).map(|secret| String::from_utf8_lossy(secret).into_owned()))
}

fn store<T>(f: impl FnOnce(&mut HashMap<String, Vec<u8>>) -> T) -> T {
    f(STORE.lock().unwrap_or_else(|e| e.into_inner()).get_or_insert_default())
}

#[derive(Debug)]
struct Builder;

impl CredentialBuilderApi for Builder {
    fn build(&self, _: Option<&str>, _: &str, user: &str) -> keyring::Result<Box<Credential>> {
        Ok(Box::new(Entry(user.to_owned())))
    }

    fn as_any(&self) -> &dyn Any {
        self
    }
}

#[derive(Debug)]
struct Entry(String);

impl Entry {
    fn wait_if_slow(&self) {
        if self.0.starts_with("slow") {
            std::thread::sleep(SLOW);
        }
    }
}

impl CredentialApi for Entry {
    fn set_secret(&self, secret: &[u8]) -> keyring::Result<()> {
        if self.0.starts_with("broken") {
            return Err(keyring::Error::NoStorageAccess("the test keychain is locked".into()));
        }
        store(|entries| entries.insert(self.0.clone(), secret.to_vec()));
        Ok(())
    }

    fn get_secret(&self) -> keyring::Result<Vec<u8>> {
        self.wait_if_slow();
        store(|entries| entries.get(&self.0).cloned()).ok_or(keyring::Error::NoEntry)
    }

    fn delete_credential(&self) -> keyring::Result<()> {
        self.wait_if_slow();
        store(|entries| entries.remove(&self.0)).map(drop).ok_or(keyring::Error::NoEntry)
    }

    fn as_any(&self) -> &dyn Any {
        self
    }
}
