//! Bounds on what clients of the panel may hold: connections at once, how
//! long a connection may sit without a byte, and how many live streams are
//! open. A stuck or hostile client cannot take the screen's panel away.

use axum::serve::Listener;
use std::future::Future;
use std::io;
use std::net::SocketAddr;
use std::pin::Pin;
use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::task::{Context, Poll};
use std::time::Duration;
use tokio::io::{AsyncRead, AsyncWrite, ReadBuf};
use tokio::net::{TcpListener, TcpStream};
use tokio::sync::{OwnedSemaphorePermit, Semaphore};
use tokio::time::{Instant, Sleep};

/// Connections served at once; more wait in the kernel's queue.
pub const CONNECTIONS_MAX: usize = 64;
/// A new connection must send its first byte within this.
pub const FIRST_BYTE_TIMEOUT: Duration = Duration::from_secs(10);
/// A connection with nothing read or written for this long is closed (a
/// live stream writes a keep-alive every 15 s).
pub const IDLE_TIMEOUT: Duration = Duration::from_secs(60);
/// Live streams (open pages) at once.
pub const LIVE_STREAMS_MAX: usize = 16;

/// A TCP listener that serves at most [`CONNECTIONS_MAX`] connections and
/// closes idle ones.
pub struct LimitedListener {
    inner: TcpListener,
    permits: Arc<Semaphore>,
}

impl LimitedListener {
    pub fn new(inner: TcpListener) -> Self {
        Self {
            inner,
            permits: Arc::new(Semaphore::new(CONNECTIONS_MAX)),
        }
    }
}

impl Listener for LimitedListener {
    type Io = LimitedStream;
    type Addr = SocketAddr;

    async fn accept(&mut self) -> (Self::Io, Self::Addr) {
        // The semaphore is never closed.
        let permit = loop {
            if let Ok(p) = Arc::clone(&self.permits).acquire_owned().await {
                break p;
            }
        };
        let (stream, addr) = Listener::accept(&mut self.inner).await;
        (LimitedStream::new(stream, permit), addr)
    }

    fn local_addr(&self) -> io::Result<Self::Addr> {
        self.inner.local_addr()
    }
}

/// A connection that gives up its place when dropped, and ends itself
/// when idle.
pub struct LimitedStream {
    stream: TcpStream,
    _permit: OwnedSemaphorePermit,
    deadline: Pin<Box<Sleep>>,
}

impl LimitedStream {
    fn new(stream: TcpStream, permit: OwnedSemaphorePermit) -> Self {
        Self {
            stream,
            _permit: permit,
            deadline: Box::pin(tokio::time::sleep(FIRST_BYTE_TIMEOUT)),
        }
    }

    fn touched(&mut self) {
        self.deadline.as_mut().reset(Instant::now() + IDLE_TIMEOUT);
    }

    fn expired(&mut self, cx: &mut Context<'_>) -> bool {
        self.deadline.as_mut().poll(cx).is_ready()
    }
}

fn idle() -> io::Error {
    io::Error::new(io::ErrorKind::TimedOut, "idle connection closed")
}

impl AsyncRead for LimitedStream {
    fn poll_read(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &mut ReadBuf<'_>,
    ) -> Poll<io::Result<()>> {
        let before = buf.filled().len();
        match Pin::new(&mut self.stream).poll_read(cx, buf) {
            Poll::Ready(Ok(())) => {
                if buf.filled().len() > before {
                    self.touched();
                }
                Poll::Ready(Ok(()))
            }
            Poll::Ready(Err(e)) => Poll::Ready(Err(e)),
            Poll::Pending if self.expired(cx) => Poll::Ready(Err(idle())),
            Poll::Pending => Poll::Pending,
        }
    }
}

impl AsyncWrite for LimitedStream {
    fn poll_write(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &[u8],
    ) -> Poll<io::Result<usize>> {
        match Pin::new(&mut self.stream).poll_write(cx, buf) {
            Poll::Ready(Ok(n)) => {
                if n > 0 {
                    self.touched();
                }
                Poll::Ready(Ok(n))
            }
            Poll::Pending if self.expired(cx) => Poll::Ready(Err(idle())),
            other => other,
        }
    }

    fn poll_flush(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        Pin::new(&mut self.stream).poll_flush(cx)
    }

    fn poll_shutdown(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        Pin::new(&mut self.stream).poll_shutdown(cx)
    }
}

/// Counts open live streams; a place is held for as long as the value lives.
#[derive(Clone, Default)]
pub struct StreamCount(Arc<AtomicUsize>);

/// One open live stream.
pub struct StreamPlace(Arc<AtomicUsize>);

impl StreamCount {
    /// A place, unless [`LIVE_STREAMS_MAX`] are taken.
    pub fn take(&self) -> Option<StreamPlace> {
        let taken = self
            .0
            .fetch_update(Ordering::AcqRel, Ordering::Acquire, |n| {
                (n < LIVE_STREAMS_MAX).then_some(n + 1)
            })
            .is_ok();
        taken.then(|| StreamPlace(Arc::clone(&self.0)))
    }
}

impl Drop for StreamPlace {
    fn drop(&mut self) {
        self.0.fetch_sub(1, Ordering::AcqRel);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn live_streams_are_counted_and_bounded() {
        let count = StreamCount::default();
        let places: Vec<StreamPlace> = (0..LIVE_STREAMS_MAX)
            .map(|_| count.take().expect("a place"))
            .collect();
        assert!(count.take().is_none());
        drop(places);
        assert!(count.take().is_some());
    }
}
