//! `futures_timer::Delay` backed by `tokio::time::Sleep`.
//!
//! Same public API as futures-timer 3.0.3 (`Delay::new`, `Delay::reset`,
//! `Future`, `Debug`). The deadline is taken from `tokio::time::Instant` when the
//! delay is created or reset, so under a paused or simulated tokio clock it is
//! virtual time. The underlying `Sleep` is created on first poll, because tokio
//! timers need a runtime context and libp2p sometimes builds a `Delay` outside one
//! (for example while a behaviour is constructed).

use std::{
    fmt,
    future::Future,
    pin::Pin,
    task::{Context, Poll},
    time::Duration,
};

use tokio::time::{Instant, Sleep};

/// A future that completes once a duration has elapsed on tokio's clock.
pub struct Delay {
    deadline: Instant,
    sleep: Option<Pin<Box<Sleep>>>,
}

impl Delay {
    /// Creates a delay that completes `dur` from now.
    pub fn new(dur: Duration) -> Delay {
        Delay {
            deadline: deadline_after(dur),
            sleep: None,
        }
    }

    /// Moves the deadline to `dur` from now, whether or not the delay has fired.
    pub fn reset(&mut self, dur: Duration) {
        self.deadline = deadline_after(dur);
        if let Some(sleep) = self.sleep.as_mut() {
            sleep.as_mut().reset(self.deadline);
        }
    }
}

/// Saturates instead of panicking: libp2p uses very long delays as "never".
fn deadline_after(dur: Duration) -> Instant {
    let now = Instant::now();
    now.checked_add(dur)
        .unwrap_or_else(|| now + Duration::from_secs(86_400 * 365 * 30))
}

impl Future for Delay {
    type Output = ();

    fn poll(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<()> {
        let deadline = self.deadline;
        let sleep = self
            .sleep
            .get_or_insert_with(|| Box::pin(tokio::time::sleep_until(deadline)));
        sleep.as_mut().poll(cx)
    }
}

impl fmt::Debug for Delay {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Delay")
            .field("deadline", &self.deadline)
            .finish()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test(start_paused = true)]
    async fn fires_on_paused_clock_without_wall_time() {
        let started = std::time::Instant::now();
        Delay::new(Duration::from_secs(3600)).await;
        assert!(started.elapsed() < Duration::from_secs(5));
    }

    #[tokio::test(start_paused = true)]
    async fn reset_moves_deadline() {
        let t0 = Instant::now();
        let mut delay = Delay::new(Duration::from_secs(1));
        delay.reset(Duration::from_secs(10));
        delay.await;
        assert!(t0.elapsed() >= Duration::from_secs(10));
    }

    #[test]
    fn created_outside_a_runtime() {
        let delay = Delay::new(Duration::from_millis(1));
        let rt = tokio::runtime::Builder::new_current_thread()
            .enable_time()
            .build()
            .expect("runtime");
        rt.block_on(delay);
    }
}
