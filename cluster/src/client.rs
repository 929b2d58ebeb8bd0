//! A client of one node, over the same frames the nodes use: the `seedbed cluster` command's
//! operations and status, and the tests'.

use std::io::BufReader;
use std::net::{SocketAddr, TcpStream};
use std::time::Duration;

use seedbed_nodes::quorum::msg::{Op, Reply};
use seedbed_nodes::OpId;

use crate::frame::{self, FrameError};
use crate::wire::{NodeStatus, Wire};

/// Why a request got no answer.
#[derive(Debug, thiserror::Error)]
pub enum ClientError {
    /// The node could not be reached or the connection broke (a killed or paused node, a
    /// timeout).
    #[error("node at {addr}: {detail}")]
    Unreachable {
        /// Where.
        addr: SocketAddr,
        /// What happened.
        detail: String,
    },
    /// A frame failed its checks or did not decode.
    #[error("node at {addr}: {source}")]
    Frame {
        /// Where.
        addr: SocketAddr,
        /// What was wrong.
        source: FrameError,
    },
    /// The node answered something other than what was asked.
    #[error("node at {addr} answered {got}")]
    Unexpected {
        /// Where.
        addr: SocketAddr,
        /// What came back.
        got: String,
    },
}

/// A connection to one node.
pub struct Client {
    addr: SocketAddr,
    reader: BufReader<TcpStream>,
    writer: TcpStream,
    next_op: OpId,
}

impl Client {
    /// Connect to the node at `addr`; every request waits at most `timeout`.
    pub fn connect(addr: SocketAddr, timeout: Duration) -> Result<Client, ClientError> {
        let unreachable = |e: std::io::Error| ClientError::Unreachable {
            addr,
            detail: e.to_string(),
        };
        let s = TcpStream::connect_timeout(&addr, timeout).map_err(unreachable)?;
        s.set_nodelay(true).map_err(unreachable)?;
        s.set_read_timeout(Some(timeout)).map_err(unreachable)?;
        s.set_write_timeout(Some(timeout)).map_err(unreachable)?;
        let writer = s.try_clone().map_err(unreachable)?;
        Ok(Client {
            addr,
            reader: BufReader::new(s),
            writer,
            next_op: 1,
        })
    }

    fn request(&mut self, w: &Wire) -> Result<Wire, ClientError> {
        let addr = self.addr;
        frame::write(&mut self.writer, w).map_err(|source| ClientError::Frame { addr, source })?;
        match frame::read::<Wire>(&mut self.reader) {
            Ok(Some(w)) => Ok(w),
            Ok(None) => Err(ClientError::Unreachable {
                addr,
                detail: "the node closed the connection".into(),
            }),
            Err(FrameError::Io(e)) => Err(ClientError::Unreachable {
                addr,
                detail: match e.kind() {
                    std::io::ErrorKind::WouldBlock | std::io::ErrorKind::TimedOut => {
                        "no answer in time (paused? overloaded?)".into()
                    }
                    _ => e.to_string(),
                },
            }),
            Err(source) => Err(ClientError::Frame { addr, source }),
        }
    }

    /// Run `op` with this node as coordinator.
    pub fn op(&mut self, op: Op) -> Result<Reply, ClientError> {
        let op_id = self.next_op;
        self.next_op += 1;
        match self.request(&Wire::Client { op_id, op })? {
            Wire::Reply { op_id: got, reply } if got == op_id => Ok(reply),
            other => Err(ClientError::Unexpected {
                addr: self.addr,
                got: format!("{other:?}"),
            }),
        }
    }

    /// The node's status.
    pub fn status(&mut self) -> Result<NodeStatus, ClientError> {
        match self.request(&Wire::Status)? {
            Wire::StatusReply(s) => Ok(s),
            other => Err(ClientError::Unexpected {
                addr: self.addr,
                got: format!("{other:?}"),
            }),
        }
    }
}

/// One status request on a fresh connection.
pub fn status_of(addr: SocketAddr, timeout: Duration) -> Result<NodeStatus, ClientError> {
    Client::connect(addr, timeout)?.status()
}
