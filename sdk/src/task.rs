//! Running async code: the executor behind `async fn` handlers.
//!
//! A component handles one request per instance on one thread, so the
//! executor is small: [`block_on`] polls the handler's future and, while it
//! waits, hands every pending WASI `pollable` (an outbound response, a body
//! stream) to one `wasi:io/poll.poll` call, which returns when any is ready.
//! Outbound requests started together therefore run together:
//!
//! ```no_run
//! use fnsdk::{outbound, task, http, Bytes};
//!
//! # async fn f() -> Result<(), outbound::Error> {
//! let get = |url: &str| outbound::fetch(http::Request::get(url).body(Bytes::new()).unwrap());
//! // Both requests are in flight at once: this takes as long as the slower.
//! let (prices, stock) = task::join(get("https://prices.example/a"), get("https://stock.example/a")).await;
//! # let _ = (prices?, stock?); Ok(()) }
//! ```
//!
//! Any executor-agnostic future works too (`futures::join!`, `select`,
//! ...). In native tests the same functions run the future on the test's
//! thread.

use std::future::Future;
use std::pin::{Pin, pin};
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::task::{Context, Poll, Wake, Waker};

/// Wakes the loop in [`block_on`]: a flag (and, natively, an unpark).
struct Flag {
    woken: AtomicBool,
    #[cfg(not(target_arch = "wasm32"))]
    thread: std::thread::Thread,
}

impl Wake for Flag {
    fn wake(self: Arc<Self>) {
        self.wake_by_ref();
    }

    fn wake_by_ref(self: &Arc<Self>) {
        self.woken.store(true, Ordering::Release);
        #[cfg(not(target_arch = "wasm32"))]
        self.thread.unpark();
    }
}

/// Runs `future` to completion on this thread and returns its output.
///
/// In a component, while the future waits on WASI I/O, the instance blocks
/// in `wasi:io/poll.poll` until some of it is ready. A future that waits on
/// something else, which nothing on this thread will ever wake, is a bug:
/// it panics (a trap, answered 500 by the host) rather than hanging.
pub fn block_on<F: Future>(future: F) -> F::Output {
    let mut future = pin!(future);
    let flag = Arc::new(Flag {
        woken: AtomicBool::new(true),
        #[cfg(not(target_arch = "wasm32"))]
        thread: std::thread::current(),
    });
    let waker = Waker::from(flag.clone());
    let mut cx = Context::from_waker(&waker);
    loop {
        if flag.woken.swap(false, Ordering::Acquire)
            && let Poll::Ready(output) = future.as_mut().poll(&mut cx)
        {
            return output;
        }
        if !flag.woken.load(Ordering::Acquire) {
            wait();
        }
    }
}

#[cfg(target_arch = "wasm32")]
fn wait() {
    if !reactor::wait() {
        panic!(
            "fnsdk::task::block_on: the future is waiting, but on nothing a component can wait \
             for (no WASI pollable is pending); it would never finish"
        );
    }
}

#[cfg(not(target_arch = "wasm32"))]
fn wait() {
    std::thread::park();
}

/// Waits for both futures, polling them in turn, and returns both outputs.
pub fn join<A: Future, B: Future>(a: A, b: B) -> Join<A, B> {
    Join {
        a: MaybeDone::new(a),
        b: MaybeDone::new(b),
    }
}

/// Waits for every future of `futures` and returns their outputs in order.
pub fn join_all<F: Future>(futures: impl IntoIterator<Item = F>) -> JoinAll<F> {
    JoinAll {
        futures: futures.into_iter().map(MaybeDone::new).collect(),
    }
}

/// A future being joined: boxed, so the join itself is `Unpin` and needs
/// no pin projection.
enum MaybeDone<F: Future> {
    Pending(Pin<Box<F>>),
    Done(F::Output),
    Taken,
}

impl<F: Future> MaybeDone<F> {
    fn new(future: F) -> Self {
        MaybeDone::Pending(Box::pin(future))
    }

    /// Polls if still pending; true once the output is there.
    fn poll(&mut self, cx: &mut Context<'_>) -> bool {
        if let MaybeDone::Pending(f) = self {
            match f.as_mut().poll(cx) {
                Poll::Ready(out) => *self = MaybeDone::Done(out),
                Poll::Pending => return false,
            }
        }
        true
    }

    fn take(&mut self) -> F::Output {
        match std::mem::replace(self, MaybeDone::Taken) {
            MaybeDone::Done(out) => out,
            _ => unreachable!("taken before it was done"),
        }
    }
}

/// The future [`join`] returns.
#[must_use = "futures do nothing unless awaited"]
pub struct Join<A: Future, B: Future> {
    a: MaybeDone<A>,
    b: MaybeDone<B>,
}

impl<A: Future, B: Future> Future for Join<A, B> {
    type Output = (A::Output, B::Output);

    fn poll(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Self::Output> {
        let this = &mut *self;
        let a_done = this.a.poll(cx);
        let b_done = this.b.poll(cx);
        if a_done && b_done {
            Poll::Ready((this.a.take(), this.b.take()))
        } else {
            Poll::Pending
        }
    }
}

// Nothing in a join is pinned in place: the futures are boxed and the
// outputs are never pinned.
impl<A: Future, B: Future> Unpin for Join<A, B> {}
impl<F: Future> Unpin for JoinAll<F> {}

/// The future [`join_all`] returns.
#[must_use = "futures do nothing unless awaited"]
pub struct JoinAll<F: Future> {
    futures: Vec<MaybeDone<F>>,
}

impl<F: Future> Future for JoinAll<F> {
    type Output = Vec<F::Output>;

    fn poll(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Self::Output> {
        let mut all_done = true;
        for f in self.futures.iter_mut() {
            all_done &= f.poll(cx);
        }
        if !all_done {
            return Poll::Pending;
        }
        Poll::Ready(self.futures.iter_mut().map(MaybeDone::take).collect())
    }
}

/// The component side: pollables registered by pending futures, and the
/// one `wasi:io/poll.poll` call that waits for any of them.
#[cfg(target_arch = "wasm32")]
pub(crate) mod reactor {
    use std::cell::RefCell;
    use std::rc::Rc;
    use std::task::Waker;

    use crate::wasm::bindings::wasi::io::poll::{Pollable, poll};

    thread_local! {
        static WAITING: RefCell<Vec<(Rc<Pollable>, Waker)>> = const { RefCell::new(Vec::new()) };
    }

    /// A pollable a future waits on: registered while the future is
    /// pending, removed when it is ready or dropped (a pollable must go
    /// before the resource it watches).
    pub(crate) struct Wait {
        pollable: Rc<Pollable>,
    }

    impl Wait {
        pub(crate) fn new(pollable: Pollable) -> Self {
            Self {
                pollable: Rc::new(pollable),
            }
        }

        /// Ready now, or registered to wake `waker` when it is.
        pub(crate) fn ready(&self, waker: &Waker) -> bool {
            if self.pollable.ready() {
                self.deregister();
                return true;
            }
            WAITING.with(|w| {
                let mut w = w.borrow_mut();
                match w.iter_mut().find(|(p, _)| Rc::ptr_eq(p, &self.pollable)) {
                    Some((_, registered)) => registered.clone_from(waker),
                    None => w.push((self.pollable.clone(), waker.clone())),
                }
            });
            false
        }

        fn deregister(&self) {
            WAITING.with(|w| {
                w.borrow_mut()
                    .retain(|(p, _)| !Rc::ptr_eq(p, &self.pollable))
            });
        }
    }

    impl Drop for Wait {
        fn drop(&mut self) {
            self.deregister();
        }
    }

    /// Blocks until at least one registered pollable is ready and wakes its
    /// future; false when nothing is registered.
    pub(crate) fn wait() -> bool {
        let pending: Vec<(Rc<Pollable>, Waker)> = WAITING.with(|w| w.borrow().clone());
        if pending.is_empty() {
            return false;
        }
        let list: Vec<&Pollable> = pending.iter().map(|(p, _)| &**p).collect();
        let ready = poll(&list);
        drop(list);
        for index in ready {
            if let Some((pollable, waker)) = pending.get(index as usize) {
                WAITING.with(|w| w.borrow_mut().retain(|(p, _)| !Rc::ptr_eq(p, pollable)));
                waker.wake_by_ref();
            }
        }
        true
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::cell::Cell;

    /// Pending `n` times (waking itself each time), then ready with `v`.
    struct Countdown {
        n: Cell<u32>,
        v: u32,
        polls: std::rc::Rc<Cell<u32>>,
    }

    impl Future for Countdown {
        type Output = u32;
        fn poll(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<u32> {
            self.polls.set(self.polls.get() + 1);
            if self.n.get() == 0 {
                return Poll::Ready(self.v);
            }
            self.n.set(self.n.get() - 1);
            cx.waker().wake_by_ref();
            Poll::Pending
        }
    }

    fn countdown(n: u32, v: u32) -> (Countdown, std::rc::Rc<Cell<u32>>) {
        let polls = std::rc::Rc::new(Cell::new(0));
        (
            Countdown {
                n: Cell::new(n),
                v,
                polls: polls.clone(),
            },
            polls,
        )
    }

    #[test]
    fn block_on_runs_futures_that_wait() {
        assert_eq!(block_on(async { 7 }), 7);
        let (f, polls) = countdown(3, 9);
        assert_eq!(block_on(f), 9);
        assert_eq!(polls.get(), 4);
    }

    #[test]
    fn join_interleaves_and_keeps_the_order() {
        let (a, a_polls) = countdown(1, 1);
        let (b, b_polls) = countdown(4, 2);
        assert_eq!(block_on(join(a, b)), (1, 2));
        // `a` is done after two polls and not polled again.
        assert_eq!(a_polls.get(), 2);
        assert_eq!(b_polls.get(), 5);
        let all = block_on(join_all((0..5).map(|i| countdown(5 - i, i).0)));
        assert_eq!(all, vec![0, 1, 2, 3, 4]);
    }

    #[test]
    fn woken_from_another_thread() {
        let (tx, rx) = std::sync::mpsc::channel::<Waker>();
        struct Remote(Option<std::sync::mpsc::Sender<Waker>>, bool);
        impl Future for Remote {
            type Output = &'static str;
            fn poll(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<&'static str> {
                if self.1 {
                    return Poll::Ready("woken");
                }
                self.1 = true;
                self.0.take().unwrap().send(cx.waker().clone()).unwrap();
                Poll::Pending
            }
        }
        let t = std::thread::spawn(move || rx.recv().unwrap().wake());
        assert_eq!(block_on(Remote(Some(tx), false)), "woken");
        t.join().unwrap();
    }
}
