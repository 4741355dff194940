//! What the user can ask the window for: every effect goes through [`crate::ui::App::apply`] as
//! one of these, at the end of the frame.

use std::net::SocketAddr;
use std::sync::Arc;

use super::settings::ThemeChoice;
use super::source::Source;
use crate::analysis::Profile;
use crate::fetch::Fetched;
use crate::formats::Format;
use crate::model::Trace;
use crate::receiver::Protocol;

/// Something the user asked for, carried out at the end of the frame.
#[derive(Debug)]
#[must_use]
pub enum Action {
    /// Load a trace file or bundled sample in a new tab.
    Open(Source),
    /// Show the native file dialog.
    OpenDialog,
    /// Show the native folder dialog, to open every trace in a folder.
    OpenFolderDialog,
    /// Open one trace of a traces view in its own tab.
    OpenTrace {
        /// The trace.
        trace: Arc<Trace>,
        /// The tab's title.
        title: String,
    },
    /// Close a tab.
    CloseTab(usize),
    /// Show another tab.
    SwitchTab(usize),
    /// Use another deadline profile for every open trace.
    SetProfile(Profile),
    /// Show the trace of tab `with` under the active tab's trace, on the same axis.
    Compare {
        /// The tab to compare against.
        with: usize,
    },
    /// Stop comparing in the active tab.
    StopComparing,
    /// Save the active tab's trace, as recorded, in a format (asks where).
    SaveTrace(Format),
    /// Start a receiver's listener for `protocol` on `addr`, or stop it (`None`).
    Receive {
        /// OTLP or Sentry.
        protocol: Protocol,
        /// Where to listen; `None` stops the listener.
        addr: Option<SocketAddr>,
    },
    /// Open a Replay tab.
    NewReplay,
    /// Open a Replay tab on the demo app (started in this process, buggy) and replay.
    TryDemo,
    /// Start the replay of the Replay tab at this index.
    StartReplay(usize),
    /// Open the traces received so far in a traces view.
    ShowReceived,
    /// Fetch the trace the Fetch dialog's fields name.
    StartFetch,
    /// Search the back-end the Fetch dialog's fields name, into a new traces view.
    StartSearch,
    /// Open what a fetch brought: one trace in a waterfall, several in a traces view.
    OpenFetched(Box<Fetched>),
    /// Show the Fetch dialog.
    ShowFetchDialog,
    /// Show the keyboard shortcuts.
    ShowHelp,
    /// Close the window.
    Quit,
    /// Use another theme.
    SetTheme(ThemeChoice),
    /// Highlight the critical path in every waterfall, or stop.
    ShowCriticalPath(bool),
}
