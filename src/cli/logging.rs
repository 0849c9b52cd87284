//! Log output: virtual time on simulation threads, levels from -v/-q, no
//! colour off a terminal or with `NO_COLOR`.

/// Log timestamps: virtual seconds on a simulation's thread, wall-clock time
/// elsewhere. (turmoil puts each host's events in a `node{name}` span.)
pub(crate) struct SimOrWallTime;

impl tracing_subscriber::fmt::time::FormatTime for SimOrWallTime {
    fn format_time(&self, w: &mut tracing_subscriber::fmt::format::Writer<'_>) -> std::fmt::Result {
        match simnet::sim::determinism::elapsed() {
            Some(virtual_time) => write!(w, "[sim {:>9.3}s]", virtual_time.as_secs_f64()),
            None => tracing_subscriber::fmt::time::SystemTime.format_time(w),
        }
    }
}

/// Installs the log subscriber for -v/-vv/-q (RUST_LOG overrides).
pub(crate) fn init_logging(verbose: u8, quiet: bool) {
    use std::io::IsTerminal;

    let level = match (quiet, verbose) {
        (true, _) => "error",
        (false, 0) => "warn",
        (false, 1) => "simnet=debug,turmoil=info,warn",
        (false, _) => "simnet=trace,turmoil=info,debug",
    };
    let filter = tracing_subscriber::EnvFilter::try_from_default_env()
        .unwrap_or_else(|_| tracing_subscriber::EnvFilter::new(level));
    let colour = std::io::stderr().is_terminal() && std::env::var_os("NO_COLOR").is_none();
    let _ = tracing_subscriber::fmt()
        .with_env_filter(filter)
        .with_timer(SimOrWallTime)
        .with_ansi(colour)
        .with_writer(std::io::stderr)
        .try_init();
}
