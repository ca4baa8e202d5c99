//! A TCP proxy for the network fault tests: it stands between the tablet and the server and
//! breaks connections on purpose, at points drawn from a seed so every run can be replayed.

#![allow(dead_code)] // each includer uses its own part

use rand::rngs::StdRng;
use rand::{Rng, SeedableRng};
use std::io::{Read, Write};
use std::net::{Shutdown, SocketAddr, TcpListener, TcpStream};
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::mpsc::{Receiver, Sender, channel};

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Fault {
    /// Each connection dies after forwarding a random number of request bytes (2 KB to
    /// 400 KB), so most cuts land in the middle of a request body.
    CutRequests,
    /// Each connection forwards its first responses, then swallows one (the 1st to 3rd): the
    /// server has committed that batch, but the tablet never hears so.
    DropResponses,
    /// Every connection forwards its request but holds the server's answer back, saying so on
    /// `Proxy::held`, until the connection ends: the tablet waits between sending and marking.
    HoldResponses,
}

pub struct Proxy {
    /// `http://127.0.0.1:PORT`
    pub url: String,
    address: SocketAddr,
    stop: Arc<AtomicBool>,
    faults: Arc<AtomicU64>,
    /// One message per response held back (`Fault::HoldResponses`).
    pub held: Receiver<()>,
}

impl Proxy {
    pub fn start(upstream: SocketAddr, fault: Fault, seed: u64) -> Proxy {
        let listener = TcpListener::bind("127.0.0.1:0").unwrap();
        let address = listener.local_addr().unwrap();
        let stop = Arc::new(AtomicBool::new(false));
        let faults = Arc::new(AtomicU64::new(0));
        let (stopped, counted) = (stop.clone(), faults.clone());
        let (hold, held) = channel();
        std::thread::spawn(move || {
            let mut rng = StdRng::seed_from_u64(seed);
            for client in listener.incoming() {
                if stopped.load(Ordering::SeqCst) {
                    return;
                }
                let Ok(client) = client else { continue };
                let Ok(server) = TcpStream::connect(upstream) else {
                    let _ = client.shutdown(Shutdown::Both);
                    continue;
                };
                let plan = match fault {
                    Fault::CutRequests => Plan::CutAfter(rng.random_range(2_000..400_000)),
                    Fault::DropResponses => Plan::DropResponse(rng.random_range(1..=3)),
                    Fault::HoldResponses => Plan::Hold,
                };
                relay(client, server, plan, counted.clone(), hold.clone());
            }
        });
        Proxy {
            url: format!("http://{address}"),
            address,
            stop,
            faults,
            held,
        }
    }

    /// How many connections it has broken so far.
    pub fn faults(&self) -> u64 {
        self.faults.load(Ordering::SeqCst)
    }
}

impl Drop for Proxy {
    fn drop(&mut self) {
        self.stop.store(true, Ordering::SeqCst);
        // Wakes the accept loop so it sees the stop.
        let _ = TcpStream::connect(self.address);
    }
}

#[derive(Clone, Copy)]
enum Plan {
    CutAfter(u64),
    DropResponse(u32),
    Hold,
}

/// Pumps both ways on two threads; either side ending ends both.
fn relay(
    client: TcpStream,
    server: TcpStream,
    plan: Plan,
    faults: Arc<AtomicU64>,
    hold: Sender<()>,
) {
    // Set when the client sent bytes since the server last answered: the next bytes from the
    // server start a new response (HTTP/1.1 without pipelining alternates).
    let asked = Arc::new(AtomicBool::new(false));
    let close = {
        let both = Arc::new((client.try_clone().unwrap(), server.try_clone().unwrap()));
        move || {
            let _ = both.0.shutdown(Shutdown::Both);
            let _ = both.1.shutdown(Shutdown::Both);
        }
    };
    let (mut from_client, mut to_server) =
        (client.try_clone().unwrap(), server.try_clone().unwrap());
    let close_up = close.clone();
    let (asked_up, faults_up) = (asked.clone(), faults.clone());
    std::thread::spawn(move || {
        let mut budget = match plan {
            Plan::CutAfter(n) => n,
            Plan::DropResponse(_) | Plan::Hold => u64::MAX,
        };
        let mut buf = [0u8; 16 * 1024];
        loop {
            let n = match from_client.read(&mut buf) {
                Ok(0) | Err(_) => break,
                Ok(n) => n,
            };
            let pass = usize::try_from(budget.min(n as u64)).unwrap();
            asked_up.store(true, Ordering::SeqCst);
            if to_server.write_all(&buf[..pass]).is_err() {
                break;
            }
            budget -= pass as u64;
            if budget == 0 {
                faults_up.fetch_add(1, Ordering::SeqCst);
                break;
            }
        }
        close_up();
    });
    let (mut from_server, mut to_client) = (server, client);
    std::thread::spawn(move || {
        let mut responses = 0;
        let mut buf = [0u8; 16 * 1024];
        loop {
            let n = match from_server.read(&mut buf) {
                Ok(0) | Err(_) => break,
                Ok(n) => n,
            };
            if asked.swap(false, Ordering::SeqCst) {
                responses += 1;
                if matches!(plan, Plan::DropResponse(k) if k == responses) {
                    faults.fetch_add(1, Ordering::SeqCst);
                    break;
                }
            }
            if matches!(plan, Plan::Hold) {
                // Keep reading (and dropping) until the client's side goes away.
                faults.fetch_add(1, Ordering::SeqCst);
                let _ = hold.send(());
                while matches!(from_server.read(&mut buf), Ok(n) if n > 0) {}
                break;
            }
            if to_client.write_all(&buf[..n]).is_err() {
                break;
            }
        }
        close();
    });
}
