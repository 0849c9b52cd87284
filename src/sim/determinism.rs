//! Seeded randomness and a virtual clock for the thread that runs a simulation.
//!
//! libp2p and its dependencies read the operating system directly: noise's
//! ephemeral keys and rand's thread-local generators come from `getrandom`,
//! std's `HashMap` keys too, gossipsub and yamux read `Instant`/`SystemTime`
//! through `clock_gettime`. None of that can be passed in, so simnet overrides
//! the libc symbols `getrandom`, `getentropy` and `clock_gettime` for the whole
//! process (`build.rs` exports them so `dlsym` lookups find them too).
//!
//! The overrides change behaviour **only on a thread inside [`enter`]**: there
//! they return bytes from a ChaCha generator seeded by the simulation's seed, and
//! a clock that moves only when the simulation advances. Every other thread —
//! benchmarks, real-socket tests, a sweep's other simulations — falls through to
//! the real system calls (the real `clock_gettime` through `dlsym(RTLD_NEXT)`, so
//! it keeps the fast vDSO path).
//!
//! Each simulation must run on a fresh OS thread: `thread_rng` and std's hash
//! keys are seeded once per thread, on first use, and a fresh thread makes that
//! first use happen inside the simulation.

use std::{
    cell::{Cell, RefCell},
    future::Future,
    marker::PhantomData,
    pin::Pin,
    sync::{
        atomic::{AtomicI64, AtomicUsize, Ordering},
        Arc,
    },
    task::{Context, Poll},
    time::Duration,
};

use rand_chacha::ChaCha20Rng;
use rand_core::{RngCore, SeedableRng};

use crate::net::NetworkError;

/// What `CLOCK_MONOTONIC` reads at virtual time zero. Non-zero so that code
/// subtracting durations from "now" does not underflow.
const MONOTONIC_BASE: Duration = Duration::from_secs(1_000_000);

/// Virtual wall-clock time at virtual time zero: 2026-01-01T00:00:00Z.
pub const DEFAULT_EPOCH: Duration = Duration::from_secs(1_767_225_600);

#[derive(Clone, Copy)]
struct Clock {
    epoch: Duration,
    elapsed: Duration,
}

/// Where the virtual clock reads its time: virtual time since the start.
pub type ClockSource = fn() -> Option<Duration>;

thread_local! {
    static CLOCK: Cell<Option<Clock>> = const { Cell::new(None) };
    static RNG: RefCell<Option<ChaCha20Rng>> = const { RefCell::new(None) };
    static WALL_OFFSET_MS: Cell<i64> = const { Cell::new(0) };
    static CLOCK_SOURCE: Cell<Option<ClockSource>> = const { Cell::new(None) };
    static IN_CLOCK_SOURCE: Cell<bool> = const { Cell::new(false) };
}

/// While alive, the current thread sees seeded randomness and virtual time.
/// Not `Send`: it belongs to the thread that created it.
pub struct Determinism {
    _thread_bound: PhantomData<*const ()>,
}

/// Makes the current thread deterministic for `seed`, with wall-clock time
/// starting at `epoch` (since the Unix epoch) and virtual time at zero.
///
/// # Panics
/// If the thread is already inside a simulation.
pub fn enter(seed: u64, epoch: Duration) -> Determinism {
    assert!(
        !is_active(),
        "a simulation is already running on this thread"
    );
    RNG.with(|rng| *rng.borrow_mut() = Some(ChaCha20Rng::seed_from_u64(seed)));
    CLOCK.with(|c| {
        c.set(Some(Clock {
            epoch,
            elapsed: Duration::ZERO,
        }))
    });
    Determinism {
        _thread_bound: PhantomData,
    }
}

impl Drop for Determinism {
    fn drop(&mut self) {
        CLOCK.with(|c| c.set(None));
        RNG.with(|rng| *rng.borrow_mut() = None);
        WALL_OFFSET_MS.with(|o| o.set(0));
        CLOCK_SOURCE.with(|s| s.set(None));
    }
}

/// Makes the virtual clock follow `source` (virtual time since the start),
/// asked on every clock read, instead of [`set_elapsed`]. The event-driven
/// engine ([`super::engine`]) passes its paused tokio clock: code polled in
/// any task, including tasks libp2p spawns that no wrapper of simnet's sees,
/// then reads the time of the event it runs at. When `source` answers `None`
/// (outside the runtime), or while it runs (a clock read of its own), the
/// last time it answered stands.
pub fn set_clock_source(source: Option<ClockSource>) {
    CLOCK_SOURCE.with(|s| s.set(source));
}

/// Asks the clock source, if any, and records its answer as the elapsed time.
fn refresh_from_source() {
    let Some(source) = CLOCK_SOURCE.try_with(|s| s.get()).ok().flatten() else {
        return;
    };
    if IN_CLOCK_SOURCE.with(|busy| busy.replace(true)) {
        return;
    }
    let answer = source();
    IN_CLOCK_SOURCE.with(|busy| busy.set(false));
    if let Some(elapsed) = answer {
        set_elapsed(elapsed);
    }
}

/// Whether the current thread is inside a simulation.
pub fn is_active() -> bool {
    CLOCK.try_with(|c| c.get().is_some()).unwrap_or(false)
}

/// Virtual time since the simulation started, on a simulation's thread.
pub fn elapsed() -> Option<Duration> {
    CLOCK
        .try_with(|c| c.get().map(|clock| clock.elapsed))
        .ok()
        .flatten()
}

/// Moves the virtual clock to `elapsed` since the simulation started.
pub fn set_elapsed(elapsed: Duration) {
    CLOCK.with(|c| {
        if let Some(mut clock) = c.get() {
            clock.elapsed = elapsed;
            c.set(Some(clock));
        }
    });
}

/// Runs `f` with the virtual wall clock shifted by `offset_ms` (a node whose
/// clock is wrong). The monotonic clock is not shifted.
pub fn with_wall_offset<R>(offset_ms: i64, f: impl FnOnce() -> R) -> R {
    let previous = WALL_OFFSET_MS.with(|o| o.replace(offset_ms));
    let result = f();
    WALL_OFFSET_MS.with(|o| o.set(previous));
    result
}

fn virtual_time(clock_id: libc::clockid_t) -> Option<Duration> {
    CLOCK.try_with(|c| c.get()).ok().flatten()?;
    refresh_from_source();
    let clock = CLOCK.try_with(|c| c.get()).ok().flatten()?;
    match clock_id {
        libc::CLOCK_REALTIME | libc::CLOCK_REALTIME_COARSE => {
            let offset = WALL_OFFSET_MS.try_with(|o| o.get()).unwrap_or(0);
            let wall = clock.epoch + clock.elapsed;
            Some(if offset >= 0 {
                wall + Duration::from_millis(offset as u64)
            } else {
                wall.saturating_sub(Duration::from_millis(offset.unsigned_abs()))
            })
        }
        libc::CLOCK_MONOTONIC
        | libc::CLOCK_MONOTONIC_RAW
        | libc::CLOCK_MONOTONIC_COARSE
        | libc::CLOCK_BOOTTIME => Some(MONOTONIC_BASE + clock.elapsed),
        // CPU-time clocks stay real: they measure work, not time.
        _ => None,
    }
}

/// Fills `buf` from the simulation's generator; false outside a simulation.
fn fill_seeded(buf: &mut [u8]) -> bool {
    RNG.try_with(|rng| match rng.try_borrow_mut() {
        Ok(mut guard) => match guard.as_mut() {
            Some(rng) => {
                rng.fill_bytes(buf);
                true
            }
            None => false,
        },
        Err(_) => false,
    })
    .unwrap_or(false)
}

type ClockGettime = unsafe extern "C" fn(libc::clockid_t, *mut libc::timespec) -> libc::c_int;

static REAL_CLOCK_GETTIME: AtomicUsize = AtomicUsize::new(0);

unsafe fn real_clock_gettime(clock_id: libc::clockid_t, tp: *mut libc::timespec) -> libc::c_int {
    let mut f = REAL_CLOCK_GETTIME.load(Ordering::Acquire);
    if f == 0 {
        // SAFETY: dlsym with a NUL-terminated name; RTLD_NEXT finds libc's
        // definition, the one this module's override hides.
        f = unsafe { libc::dlsym(libc::RTLD_NEXT, c"clock_gettime".as_ptr()) } as usize;
        REAL_CLOCK_GETTIME.store(f, Ordering::Release);
    }
    if f == 0 {
        // SAFETY: the raw system call with the caller's arguments.
        return unsafe { libc::syscall(libc::SYS_clock_gettime, clock_id, tp) as libc::c_int };
    }
    // SAFETY: `f` is libc's clock_gettime, which has this signature.
    unsafe { std::mem::transmute::<usize, ClockGettime>(f)(clock_id, tp) }
}

/// Override of libc's `clock_gettime`: virtual inside a simulation.
///
/// # Safety
/// Same contract as libc's `clock_gettime`: `tp` must be valid for writes.
#[no_mangle]
pub unsafe extern "C" fn clock_gettime(
    clock_id: libc::clockid_t,
    tp: *mut libc::timespec,
) -> libc::c_int {
    if let Some(now) = virtual_time(clock_id) {
        if tp.is_null() {
            return -1;
        }
        // SAFETY: checked non-null; the caller guarantees it is writable.
        unsafe {
            (*tp).tv_sec = now.as_secs() as libc::time_t;
            (*tp).tv_nsec = now.subsec_nanos() as libc::c_long;
        }
        return 0;
    }
    // SAFETY: forwarded unchanged.
    unsafe { real_clock_gettime(clock_id, tp) }
}

/// Override of libc's `getrandom`: seeded inside a simulation.
///
/// # Safety
/// Same contract as libc's `getrandom`: `buf` must be valid for `len` bytes.
#[no_mangle]
pub unsafe extern "C" fn getrandom(
    buf: *mut libc::c_void,
    len: libc::size_t,
    flags: libc::c_uint,
) -> libc::ssize_t {
    if len > 0 && !buf.is_null() {
        // SAFETY: the caller guarantees `buf` is valid for `len` bytes.
        let out = unsafe { std::slice::from_raw_parts_mut(buf.cast::<u8>(), len) };
        if fill_seeded(out) {
            return len as libc::ssize_t;
        }
    }
    // SAFETY: the raw system call with the caller's arguments.
    unsafe { libc::syscall(libc::SYS_getrandom, buf, len, flags) as libc::ssize_t }
}

/// Override of libc's `getentropy`: seeded inside a simulation.
///
/// # Safety
/// Same contract as libc's `getentropy`: `buf` valid for `len` (≤ 256) bytes.
#[no_mangle]
pub unsafe extern "C" fn getentropy(buf: *mut libc::c_void, len: libc::size_t) -> libc::c_int {
    if len > 256 {
        return -1;
    }
    let mut filled = 0usize;
    while filled < len {
        // SAFETY: stays within the caller's buffer.
        let n = unsafe { getrandom(buf.cast::<u8>().add(filled).cast(), len - filled, 0) };
        if n <= 0 {
            return -1;
        }
        filled += n as usize;
    }
    0
}

/// Runs `body` on a fresh OS thread named `name`, made deterministic for
/// `seed` from `epoch`, and returns what it returns; a panic inside comes
/// back as [`NetworkError::Panicked`] with its message.
pub(crate) fn on_fresh_thread<T, F>(
    name: String,
    seed: u64,
    epoch: Duration,
    body: F,
) -> Result<T, NetworkError>
where
    T: Send + 'static,
    F: FnOnce() -> T + Send + 'static,
{
    let thread = std::thread::Builder::new()
        .name(name)
        .spawn(move || {
            let _determinism = enter(seed, epoch);
            body()
        })
        .map_err(|e| NetworkError::Panicked(format!("could not start a thread: {e}")))?;
    thread.join().map_err(|panic| {
        let message = panic
            .downcast_ref::<String>()
            .cloned()
            .or_else(|| panic.downcast_ref::<&str>().map(|s| (*s).to_owned()))
            .unwrap_or_else(|| "unknown panic".to_owned());
        NetworkError::Panicked(message)
    })
}

/// Polls a node's future with the node's wall-clock offset in force, so a
/// node with a wrong clock signs and checks handshakes with that clock.
pub(crate) struct WithWallOffset<F> {
    /// The offset, changeable while the node runs.
    pub(crate) offset_ms: Arc<AtomicI64>,
    /// The node's future.
    pub(crate) inner: Pin<Box<F>>,
}

impl<F: Future> Future for WithWallOffset<F> {
    type Output = F::Output;

    fn poll(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<F::Output> {
        let offset = self.offset_ms.load(Ordering::Relaxed);
        with_wall_offset(offset, || self.inner.as_mut().poll(cx))
    }
}

#[cfg(test)]
mod tests {
    use std::{
        collections::{hash_map::RandomState, HashMap},
        hash::BuildHasher,
        time::{Instant, SystemTime, UNIX_EPOCH},
    };

    use super::*;

    /// What a fresh thread observes in a simulation with `seed`.
    fn observe(seed: u64) -> (u64, [u8; 16], u64, Duration) {
        std::thread::spawn(move || {
            let _sim = enter(seed, DEFAULT_EPOCH);
            let hash = RandomState::new().hash_one(42u32);
            let mut bytes = [0u8; 16];
            getrandom::fill(&mut bytes).expect("getrandom");
            let thread_rng =
                rand_core::RngCore::next_u64(&mut rand_chacha::ChaCha20Rng::from_os_rng());
            set_elapsed(Duration::from_millis(1500));
            let wall = SystemTime::now().duration_since(UNIX_EPOCH).unwrap();
            (hash, bytes, thread_rng, wall)
        })
        .join()
        .unwrap()
    }

    #[test]
    fn same_seed_same_randomness_and_time_on_fresh_threads() {
        let a = observe(7);
        let b = observe(7);
        assert_eq!(a, b);
        assert_eq!(a.3, DEFAULT_EPOCH + Duration::from_millis(1500));
        let c = observe(8);
        assert_ne!(a.0, c.0, "hash keys follow the seed");
        assert_ne!(a.1, c.1, "getrandom follows the seed");
    }

    #[test]
    fn other_threads_keep_real_time_and_randomness() {
        let sim = std::thread::spawn(|| {
            let _sim = enter(1, DEFAULT_EPOCH);
            let frozen = Instant::now();
            std::thread::sleep(Duration::from_millis(30));
            frozen.elapsed()
        });
        let real = Instant::now();
        std::thread::sleep(Duration::from_millis(30));
        assert!(real.elapsed() >= Duration::from_millis(30));
        assert_eq!(
            sim.join().unwrap(),
            Duration::ZERO,
            "virtual time does not move by itself"
        );
        let wall = SystemTime::now().duration_since(UNIX_EPOCH).unwrap();
        assert!(
            wall > Duration::from_secs(1_780_000_000),
            "real wall clock outside"
        );
        let mut a = [0u8; 16];
        let mut b = [0u8; 16];
        getrandom::fill(&mut a).unwrap();
        getrandom::fill(&mut b).unwrap();
        assert_ne!(a, b);
    }

    #[test]
    fn wall_offset_shifts_only_the_wall_clock() {
        std::thread::spawn(|| {
            let _sim = enter(1, DEFAULT_EPOCH);
            let mono = Instant::now();
            let shifted = with_wall_offset(-40_000, || {
                assert_eq!(Instant::now(), mono);
                SystemTime::now().duration_since(UNIX_EPOCH).unwrap()
            });
            assert_eq!(shifted, DEFAULT_EPOCH - Duration::from_secs(40));
            let _ = HashMap::<u8, u8>::new();
        })
        .join()
        .unwrap();
    }
}
