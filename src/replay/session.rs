//! A live replay session: one mock Web API kept up across many replays ("rounds"), so the app is
//! started once against it (or restarted after a code change) and replayed again and again.
//! Each round is a replay with its cold-start notes; between rounds the session watches the
//! target, and a round after the app went away and came back, or after it called `auth.test`
//! again (as an app does when it starts), is marked "after restart".

use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::{Duration, Instant};

use reqwest::Url;
use tokio::sync::mpsc;
use tokio_util::sync::CancellationToken;

use super::capture::Capture;
use super::driver::{Progress, ReplayConfig, replay_all};
use super::mock::MockSlack;
use super::verdict::RunResult;
use super::verdict::Summary;
use super::{readiness, warmth};

/// How often the target is tried between rounds.
const WATCH_EVERY: Duration = Duration::from_millis(250);

/// One replay of a session.
#[derive(Clone, Debug)]
pub struct Round {
    /// Its number, from 1.
    pub number: usize,
    /// Whether the app restarted since the previous round.
    pub after_restart: bool,
    /// How many unjudged warm-up runs went first.
    pub warmed_up: usize,
    /// The judged runs' statistics.
    pub summary: Summary,
    /// Cold-start notes ([`warmth::cold_start_notes`]).
    pub notes: Vec<String>,
}

impl Round {
    /// "round 2 (after restart): failed 0 of 10 (0%), ack p50 28.0 ms".
    pub fn headline(&self) -> String {
        let s = &self.summary;
        let restart = if self.after_restart { " (after restart)" } else { "" };
        let mut line = format!(
            "round {}{restart}: failed {} of {} ({:.0}%)",
            self.number,
            s.failed,
            s.runs,
            s.failure_rate * 100.0
        );
        if let Some(ack) = &s.ack {
            line.push_str(&format!(
                ", ack p50 {}",
                crate::model::format_duration(ack.p50.as_nanos() as crate::model::Nanos)
            ));
        }
        if !self.notes.is_empty() {
            line.push_str(", cold start");
        }
        line
    }
}

/// Watches the target between rounds: notices when it stops accepting connections.
struct Watch {
    went_down: Arc<AtomicBool>,
    task: tokio::task::JoinHandle<()>,
}

impl Watch {
    fn start(target: Url) -> Watch {
        let went_down = Arc::new(AtomicBool::new(false));
        let flag = went_down.clone();
        let task = tokio::spawn(async move {
            loop {
                if readiness::accepts(&target).await.is_err() {
                    flag.store(true, Ordering::Relaxed);
                }
                tokio::time::sleep(WATCH_EVERY).await;
            }
        });
        Watch { went_down, task }
    }

    /// Stops watching; says whether the target was ever down.
    fn finish(self) -> bool {
        self.task.abort();
        self.went_down.load(Ordering::Relaxed)
    }
}

impl Drop for Watch {
    fn drop(&mut self) {
        self.task.abort();
    }
}

/// A mock kept up across rounds, and what each round found.
pub struct Session {
    mock: Arc<MockSlack>,
    rounds: Vec<Round>,
    /// When the last round ended, and the watch on its target since.
    idle: Option<(Instant, Watch)>,
}

impl Session {
    /// A session over a running mock.
    pub fn new(mock: Arc<MockSlack>) -> Session {
        Session { mock, rounds: Vec::new(), idle: None }
    }

    /// The session's mock.
    pub fn mock(&self) -> &Arc<MockSlack> {
        &self.mock
    }

    /// The rounds so far.
    pub fn rounds(&self) -> &[Round] {
        &self.rounds
    }

    /// Replays a round: `warmup` unjudged runs of each interaction, then the judged ones (with
    /// `progress`); returns the round and its judged runs.
    pub async fn round(
        &mut self,
        capture: Arc<Capture>,
        config: Arc<ReplayConfig>,
        warmup: usize,
        progress: Option<mpsc::UnboundedSender<Progress>>,
        cancel: CancellationToken,
    ) -> Result<(Round, Vec<RunResult>), String> {
        let after_restart = match self.idle.take() {
            Some((ended, watch)) => {
                let went_down = watch.finish();
                let restarted = self.mock.all_calls().iter().any(|c| c.method == "auth.test" && c.arrived > ended);
                went_down || restarted
            }
            None => false,
        };
        let warm = warmth::warm_up(self.mock.clone(), capture.clone(), &config, warmup, cancel.clone()).await?;
        let seen = self.mock.all_calls().len();
        let results = replay_all(self.mock.clone(), capture, config.clone(), progress, cancel).await?;
        let calls = self.mock.all_calls();
        let notes = warmth::cold_start_notes(&results, calls.get(seen..).unwrap_or_default());
        let round = Round {
            number: self.rounds.len() + 1,
            after_restart,
            warmed_up: warm.len(),
            summary: Summary::of(&results),
            notes,
        };
        self.rounds.push(round.clone());
        self.idle = Some((Instant::now(), Watch::start(config.target.clone())));
        Ok((round, results))
    }
}
