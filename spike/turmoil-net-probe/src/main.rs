//! Probe: does turmoil-net's TCP survive the latencies simnet uses (1–20 ms)?
use std::time::Duration;

use tokio::io::{AsyncReadExt, AsyncWriteExt};
use turmoil_net::{
    fixture::ClientServer,
    rule,
    shim::tokio::net::{TcpListener, TcpStream},
    KernelConfig, Latency,
};

fn echo(latency: Duration, cfg: KernelConfig) -> Result<Duration, std::io::Error> {
    ClientServer::with_config(cfg)
        .server("server", async move {
            let l = TcpListener::bind("0.0.0.0:9000").await.unwrap();
            loop {
                let (mut s, _) = l.accept().await.unwrap();
                tokio::task::spawn_local(async move {
                    let mut buf = [0u8; 64];
                    while let Ok(n) = s.read(&mut buf).await {
                        if n == 0 || s.write_all(&buf[..n]).await.is_err() {
                            break;
                        }
                    }
                });
            }
        })
        .run("client", async move {
            rule(Latency::fixed(latency)).forget();
            let start = tokio::time::Instant::now();
            let mut s = TcpStream::connect("server:9000").await?;
            s.write_all(b"hello").await?;
            let mut buf = [0u8; 5];
            s.read_exact(&mut buf).await?;
            Ok(start.elapsed())
        })
}

fn main() {
    for ms in [1u64, 2, 5, 10, 20] {
        let r = echo(Duration::from_millis(ms), KernelConfig::default());
        println!("default config, one-way latency {ms:>2} ms: {r:?}");
    }
    let patient = KernelConfig::default().retx_threshold(1_000_000);
    let r = echo(Duration::from_millis(20), patient);
    println!("retx_threshold 1e6, one-way latency 20 ms: {r:?}");
}
