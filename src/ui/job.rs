//! One kind of background work for the whole window. A [`Job`] runs on a thread or on the
//! window's tokio runtime, reports progress of type `P` as it goes and then one result `T`, can
//! be asked to stop, and wakes the window (a repaint) whenever it has news. The UI thread only
//! polls: it never waits for a job. A worker that panics, or drops its end without a result, is
//! reported as an error, so no panel shows a job that runs forever.
//!
//! Every panel keeps its work as jobs (loading, the file dialogs, saving, fetch and search, the
//! replay, re-judging under a new profile), and [`crate::ui::App`] polls all of them each frame,
//! whether or not their tab is shown. This module knows nothing of the panels.

use std::panic::AssertUnwindSafe;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::mpsc::{Receiver, Sender, TryRecvError, channel};

use tokio_util::sync::CancellationToken;

/// Wakes the window from any thread (`egui::Context::request_repaint`).
type Wake = Arc<dyn Fn() + Send + Sync>;

enum Event<T, P> {
    Progress(P),
    Done(Result<T, String>),
}

/// How a job is asked to stop: a flag for work on a thread, a token for async work; cancelling
/// sets both.
#[derive(Clone, Default)]
struct Stop {
    flag: Arc<AtomicBool>,
    token: CancellationToken,
}

impl Stop {
    fn cancel(&self) {
        self.flag.store(true, Ordering::Relaxed);
        self.token.cancel();
    }
}

/// Work running off the UI thread: progress `P` as it comes, then a result `T` (or an error
/// saying the worker failed).
pub struct Job<T, P = ()> {
    rx: Receiver<Event<T, P>>,
    stop: Stop,
    finished: bool,
}

/// The worker's end of a [`Job`]: reports progress and the result, and sees a cancel. Clones
/// report to the same job; when every clone is dropped without a result, the job ends with an
/// error.
pub struct Worker<T, P = ()> {
    tx: Sender<Event<T, P>>,
    stop: Stop,
    wake: Wake,
}

impl<T, P> Clone for Worker<T, P> {
    fn clone(&self) -> Self {
        Worker { tx: self.tx.clone(), stop: self.stop.clone(), wake: Arc::clone(&self.wake) }
    }
}

impl<T: Send + 'static, P: Send + 'static> Job<T, P> {
    /// A job and its worker's end, for work started some other way than [`Job::thread`] or
    /// [`Job::spawn`]; `wake` is called whenever the worker has news.
    pub fn new(wake: impl Fn() + Send + Sync + 'static) -> (Self, Worker<T, P>) {
        let (tx, rx) = channel();
        let stop = Stop::default();
        let job = Job { rx, stop: stop.clone(), finished: false };
        (job, Worker { tx, stop, wake: Arc::new(wake) })
    }

    /// Runs `work` on a new thread called `name`; its return value is the job's result, and a
    /// panic is the job's error.
    pub fn thread(
        name: &str,
        wake: impl Fn() + Send + Sync + 'static,
        work: impl FnOnce(&Worker<T, P>) -> T + Send + 'static,
    ) -> Self {
        let (job, worker) = Job::new(wake);
        std::thread::Builder::new()
            .name(name.to_owned())
            .spawn(move || {
                let result = std::panic::catch_unwind(AssertUnwindSafe(|| work(&worker)));
                worker.send_result(result.map_err(|panic| failure(panic_text(&*panic))));
            })
            .expect("the OS can start a thread");
        job
    }

    /// Runs the future `work` makes on `runtime`; its output is the job's result, and a panic is
    /// the job's error.
    pub fn spawn<F, Fut>(runtime: &tokio::runtime::Handle, wake: impl Fn() + Send + Sync + 'static, work: F) -> Self
    where
        F: FnOnce(Worker<T, P>) -> Fut,
        Fut: Future<Output = T> + Send + 'static,
    {
        let (job, worker) = Job::new(wake);
        let task = runtime.spawn(work(worker.clone()));
        runtime.spawn(async move {
            let result = task.await.map_err(|e| match e.try_into_panic() {
                Ok(panic) => failure(panic_text(&*panic)),
                Err(_) => failure("the window's network runtime stopped"),
            });
            worker.send_result(result);
        });
        job
    }

    /// Takes the worker's news: hands each progress report to `progress`, in order, and returns
    /// the result once, when the worker is done.
    pub fn poll(&mut self, mut progress: impl FnMut(P)) -> Option<Result<T, String>> {
        if self.finished {
            return None;
        }
        loop {
            match self.rx.try_recv() {
                Ok(Event::Progress(p)) => progress(p),
                Ok(Event::Done(result)) => {
                    self.finished = true;
                    return Some(result);
                }
                Err(TryRecvError::Empty) => return None,
                Err(TryRecvError::Disconnected) => {
                    self.finished = true;
                    return Some(Err(failure("it stopped without a result")));
                }
            }
        }
    }

    /// Asks the worker to stop; what it does then (a partial result, an error saying it was
    /// cancelled) is still delivered by [`Job::poll`].
    pub fn cancel(&self) {
        self.stop.cancel();
    }
}

impl<T, P> Worker<T, P> {
    /// Reports progress and wakes the window.
    pub fn progress(&self, progress: P) {
        let _ = self.tx.send(Event::Progress(progress));
        (self.wake)();
    }

    /// The cancel as a flag, for code that checks an [`AtomicBool`] between steps.
    pub fn stop_flag(&self) -> &AtomicBool {
        &self.stop.flag
    }

    /// The cancel as a token, for async code.
    pub fn cancel_token(&self) -> &CancellationToken {
        &self.stop.token
    }

    /// Delivers the result (for a job made by [`Job::new`]) and wakes the window.
    pub fn finish(self, result: T) {
        self.send_result(Ok(result));
    }

    fn send_result(&self, result: Result<T, String>) {
        let _ = self.tx.send(Event::Done(result));
        (self.wake)();
    }
}

/// The error of a job whose worker failed.
fn failure(why: &str) -> String {
    format!("the background work failed: {why}")
}

/// What a panic said, when it said it as text.
fn panic_text(panic: &(dyn std::any::Any + Send)) -> &str {
    panic
        .downcast_ref::<&str>()
        .copied()
        .or_else(|| panic.downcast_ref::<String>().map(String::as_str))
        .unwrap_or("it panicked")
}

#[cfg(test)]
mod tests {
    use std::sync::atomic::AtomicUsize;
    use std::time::{Duration, Instant};

    use super::*;

    /// Polls `job` until it is done (at most 10 s), collecting its progress.
    fn finish<T: Send + 'static, P: Send + 'static>(job: &mut Job<T, P>) -> (Vec<P>, Result<T, String>) {
        let start = Instant::now();
        let mut progress = Vec::new();
        loop {
            if let Some(result) = job.poll(|p| progress.push(p)) {
                return (progress, result);
            }
            assert!(start.elapsed() < Duration::from_secs(10), "the job never finished");
            std::thread::sleep(Duration::from_millis(5));
        }
    }

    #[test]
    fn a_threads_progress_and_result_arrive_in_order_and_wake_the_window_each_time() {
        let wakes = Arc::new(AtomicUsize::new(0));
        let counted = Arc::clone(&wakes);
        let mut job = Job::thread(
            "test-job",
            move || {
                counted.fetch_add(1, Ordering::Relaxed);
            },
            |worker| {
                for step in 1..=3 {
                    worker.progress(step);
                }
                "done"
            },
        );
        assert_eq!(finish(&mut job), (vec![1, 2, 3], Ok("done")));
        assert_eq!(wakes.load(Ordering::Relaxed), 4, "three reports and the result");
        assert_eq!(job.poll(|_: i32| {}), None, "the result is delivered once");
    }

    #[test]
    fn a_cancelled_thread_sees_the_flag_and_its_answer_still_arrives() {
        let (started, wait) = std::sync::mpsc::channel();
        let mut job: Job<&str> = Job::thread(
            "test-job",
            || {},
            move |worker| {
                let _ = started.send(());
                while !worker.stop_flag().load(Ordering::Relaxed) {
                    std::thread::sleep(Duration::from_millis(1));
                }
                assert!(worker.cancel_token().is_cancelled(), "the token is cancelled with the flag");
                "stopped"
            },
        );
        wait.recv().unwrap();
        assert_eq!(job.poll(|()| {}), None, "still running");
        job.cancel();
        assert_eq!(finish(&mut job).1, Ok("stopped"));
    }

    #[test]
    fn a_panicking_worker_is_an_error_not_a_job_that_never_ends() {
        let mut job: Job<()> = Job::thread("test-job", || {}, |_| panic!("the parser tripped"));
        assert_eq!(finish(&mut job).1, Err("the background work failed: the parser tripped".into()));

        let runtime = tokio::runtime::Builder::new_current_thread().enable_all().build().unwrap();
        let _running = runtime.enter();
        let mut job: Job<()> = Job::spawn(runtime.handle(), || {}, |_| async { panic!("{} went wrong", 42) });
        let start = Instant::now();
        let result = loop {
            runtime.block_on(tokio::task::yield_now());
            if let Some(result) = job.poll(|()| {}) {
                break result;
            }
            assert!(start.elapsed() < Duration::from_secs(10), "the job never finished");
        };
        assert_eq!(result, Err("the background work failed: 42 went wrong".into()));
    }

    #[test]
    fn a_worker_dropped_without_a_result_ends_its_job_with_an_error() {
        let (mut job, worker) = Job::<u8, ()>::new(|| {});
        assert_eq!(job.poll(|()| {}), None);
        drop(worker);
        assert_eq!(job.poll(|()| {}), Some(Err("the background work failed: it stopped without a result".into())));
    }

    #[test]
    fn async_work_reports_progress_sees_a_cancel_and_returns_its_result() {
        let runtime = tokio::runtime::Builder::new_multi_thread().worker_threads(1).enable_all().build().unwrap();
        let mut job = Job::spawn(
            runtime.handle(),
            || {},
            |worker| async move {
                worker.progress("waiting");
                worker.cancel_token().cancelled().await;
                worker.stop_flag().load(Ordering::Relaxed)
            },
        );
        let start = Instant::now();
        let mut seen = Vec::new();
        while seen.is_empty() {
            assert_eq!(job.poll(|p| seen.push(p)), None);
            assert!(start.elapsed() < Duration::from_secs(10), "no progress came");
            std::thread::sleep(Duration::from_millis(5));
        }
        job.cancel();
        assert_eq!(finish(&mut job), (vec![], Ok(true)));
        assert_eq!(seen, ["waiting"]);
    }
}
