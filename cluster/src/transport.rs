//! The network: TCP on loopback, frames of [`Wire`] values.
//!
//! The node itself runs on one thread, the event loop ([`crate::runtime`]); this module's
//! threads only move bytes between sockets and that loop, so no protocol code ever runs
//! concurrently with itself:
//!
//! - an **acceptor** takes connections on the node's port and gives each a **reader** thread,
//!   which decodes frames and hands them to the loop as [`Event`]s over one channel;
//! - one **writer** thread per peer owns the outgoing connection to it: it connects on demand,
//!   says [`Wire::Hello`], and writes the frames the loop queues for that peer.
//!
//! The network may lose messages, as the simulator's does, and the protocol copes (deadlines,
//! retries, repair). So the loop never waits on a peer: frames for a peer whose queue is full,
//! or that cannot be reached (refused, or a connect attempt failed in the last
//! [`RECONNECT_AFTER`]), are dropped and counted. A peer that stopped reading (paused with
//! SIGSTOP) blocks only its writer, until the write times out and the connection is dropped.
// Bytes that go to disk or the wire: every narrowing cast is checked or explained (#22 §5).
#![deny(clippy::cast_possible_truncation)]

use std::io::{BufReader, Write};
use std::net::{SocketAddr, TcpListener, TcpStream};
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::mpsc::{self, Receiver, Sender, SyncSender, TrySendError};
use std::sync::Arc;
use std::thread;
use std::time::{Duration, Instant};

use seedbed_nodes::quorum::msg::{Msg, Op};
use seedbed_nodes::{NodeId, OpId};

use crate::frame;
use crate::wire::Wire;

/// Frames queued for one peer, at most; more are dropped.
pub const PEER_QUEUE_FRAMES: usize = 4_096;
/// After a failed connect, frames for that peer are dropped for this long before trying again.
pub const RECONNECT_AFTER: Duration = Duration::from_millis(100);
/// How long a connect or a write may take before the peer counts as unreachable.
pub const IO_TIMEOUT: Duration = Duration::from_millis(500);

/// What the transport hands the event loop.
#[derive(Debug)]
pub enum Event {
    /// A protocol message from a peer.
    Peer {
        /// The sender.
        from: NodeId,
        /// The message.
        msg: Msg,
    },
    /// A client connected; answers to it go to `stream`.
    ClientOpen {
        /// The connection's number.
        conn: u64,
        /// Its writing half.
        stream: TcpStream,
    },
    /// A client asks for an operation.
    Client {
        /// The connection's number.
        conn: u64,
        /// The client's id for it.
        op_id: OpId,
        /// The operation.
        op: Op,
    },
    /// A client asks for the node's status.
    Status {
        /// The connection's number.
        conn: u64,
    },
    /// A client's connection ended.
    ClientGone {
        /// The connection's number.
        conn: u64,
    },
}

/// Listen on `listener` and feed every connection's frames to `events`. Frames from a
/// different cluster, or that fail their checks, end their connection with a line on stderr.
pub fn serve(listener: TcpListener, me: NodeId, cluster: u64, events: Sender<Event>) {
    thread::Builder::new()
        .name("acceptor".into())
        .spawn(move || {
            let mut next_conn = 0u64;
            for stream in listener.incoming() {
                let Ok(stream) = stream else { continue };
                next_conn += 1;
                let conn = next_conn;
                let events = events.clone();
                let _ = thread::Builder::new()
                    .name(format!("reader-{conn}"))
                    .spawn(move || {
                        if let Err(e) = read_conn(stream, cluster, conn, &events) {
                            eprintln!("node {me}: connection {conn}: {e}");
                        }
                    });
            }
        })
        .expect("spawn the acceptor");
}

fn read_conn(
    stream: TcpStream,
    cluster: u64,
    conn: u64,
    events: &Sender<Event>,
) -> Result<(), String> {
    let _ = stream.set_nodelay(true);
    let writer = stream.try_clone().map_err(|e| e.to_string())?;
    let mut r = BufReader::new(stream);
    let first = match frame::read::<Wire>(&mut r).map_err(|e| e.to_string())? {
        None => return Ok(()),
        Some(w) => w,
    };
    if let Wire::Hello { from, cluster: c } = first {
        if c != cluster {
            return Err(format!(
                "node {from} of cluster {c:#x} is not of this cluster ({cluster:#x}); closed"
            ));
        }
        loop {
            match frame::read::<Wire>(&mut r) {
                Ok(None) => return Ok(()),
                Ok(Some(Wire::Peer(msg))) => {
                    if events.send(Event::Peer { from, msg }).is_err() {
                        return Ok(());
                    }
                }
                Ok(Some(other)) => {
                    return Err(format!("peer {from} sent {other:?} on a peer connection"))
                }
                Err(e) => return Err(format!("from peer {from}: {e}")),
            }
        }
    }
    let _ = writer.set_write_timeout(Some(IO_TIMEOUT));
    if events
        .send(Event::ClientOpen {
            conn,
            stream: writer,
        })
        .is_err()
    {
        return Ok(());
    }
    let mut next = Some(first);
    let result = loop {
        let w = match next.take() {
            Some(w) => w,
            None => match frame::read::<Wire>(&mut r) {
                Ok(None) => break Ok(()),
                Ok(Some(w)) => w,
                Err(e) => break Err(format!("from client: {e}")),
            },
        };
        let ev = match w {
            Wire::Client { op_id, op } => Event::Client { conn, op_id, op },
            Wire::Status => Event::Status { conn },
            other => break Err(format!("client sent {other:?}, which only nodes send")),
        };
        if events.send(ev).is_err() {
            break Ok(());
        }
    };
    let _ = events.send(Event::ClientGone { conn });
    result
}

/// The outgoing side: one queue and writer thread per peer.
#[derive(Debug)]
pub struct Peers {
    queues: Vec<Option<SyncSender<Vec<u8>>>>,
    /// Frames dropped because a peer was unreachable or its queue full.
    pub dropped: Arc<AtomicU64>,
}

impl Peers {
    /// Writers to every node of `addrs` but `me`.
    pub fn start(me: NodeId, cluster: u64, addrs: &[SocketAddr]) -> Peers {
        let dropped = Arc::new(AtomicU64::new(0));
        let queues = addrs
            .iter()
            .enumerate()
            .map(|(id, &addr)| {
                if NodeId::try_from(id).is_ok_and(|id| id == me) {
                    return None;
                }
                let (tx, rx) = mpsc::sync_channel(PEER_QUEUE_FRAMES);
                let dropped = Arc::clone(&dropped);
                thread::Builder::new()
                    .name(format!("writer-{id}"))
                    .spawn(move || write_peer(me, cluster, addr, &rx, &dropped))
                    .expect("spawn a peer writer");
                Some(tx)
            })
            .collect();
        Peers { queues, dropped }
    }

    /// Queue an encoded frame for `to`; dropped (and counted) if its queue is full.
    pub fn send(&self, to: NodeId, frame: Vec<u8>) {
        let Some(Some(q)) = self.queues.get(to as usize) else {
            return;
        };
        match q.try_send(frame) {
            Ok(()) => {}
            Err(TrySendError::Full(_)) | Err(TrySendError::Disconnected(_)) => {
                self.dropped.fetch_add(1, Ordering::Relaxed);
            }
        }
    }
}

fn write_peer(
    me: NodeId,
    cluster: u64,
    addr: SocketAddr,
    rx: &Receiver<Vec<u8>>,
    dropped: &AtomicU64,
) {
    let mut conn: Option<TcpStream> = None;
    let mut retry_at = Instant::now();
    while let Ok(f) = rx.recv() {
        if conn.is_none() && Instant::now() >= retry_at {
            conn = connect(me, cluster, addr).ok();
            if conn.is_none() {
                retry_at = Instant::now() + RECONNECT_AFTER;
            }
        }
        match conn.as_mut() {
            Some(s) => {
                if s.write_all(&f).is_err() {
                    conn = None;
                    dropped.fetch_add(1, Ordering::Relaxed);
                }
            }
            None => {
                dropped.fetch_add(1, Ordering::Relaxed);
            }
        }
    }
}

fn connect(me: NodeId, cluster: u64, addr: SocketAddr) -> std::io::Result<TcpStream> {
    let mut s = TcpStream::connect_timeout(&addr, IO_TIMEOUT)?;
    s.set_nodelay(true)?;
    s.set_write_timeout(Some(IO_TIMEOUT))?;
    let hello = frame::encode(&Wire::Hello { from: me, cluster })
        .map_err(|e| std::io::Error::other(e.to_string()))?;
    s.write_all(&hello)?;
    Ok(s)
}
