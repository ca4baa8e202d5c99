//! A TCP proxy for the network fault tests: it stands between the tablet and the server and
//! breaks connections on purpose, at points drawn from a seed so every run can be replayed; or
//! holds answers back until the client asks again, to show it has several requests out.

#![allow(dead_code)] // each includer uses its own part

use rand::rngs::StdRng;
use rand::{Rng, SeedableRng};
use std::io::{Read, Write};
use std::net::{Shutdown, SocketAddr, TcpListener, TcpStream};
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::mpsc::{Receiver, Sender, channel};
use std::sync::{Arc, Condvar, Mutex};
use std::time::Duration;

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
    /// Forwards everything, but holds each answer after the very first until the client has
    /// started the request after it (on another connection), at most [`ASKED_AGAIN_WAIT`]. An
    /// answer the wait released instead is counted in `faults`: a client with one request out
    /// at a time has one for every answer after the first, one with two out only its last.
    AnswerOnceAskedAgain,
}

/// How long `AnswerOnceAskedAgain` holds an answer for the next request at most: far longer
/// than a client keeping two requests out takes to send the next.
pub const ASKED_AGAIN_WAIT: Duration = Duration::from_secs(5);

/// Requests started through the proxy so far, for `AnswerOnceAskedAgain`.
type Started = Arc<(Mutex<u64>, Condvar)>;

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
        let started: Started = Arc::default();
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
                    Fault::AnswerOnceAskedAgain => Plan::AnswerOnceAskedAgain(started.clone()),
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

#[derive(Clone)]
enum Plan {
    CutAfter(u64),
    DropResponse(u32),
    Hold,
    AnswerOnceAskedAgain(Started),
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
    // This connection's request being answered: its number among all the proxy's requests.
    let asking = Arc::new(AtomicU64::new(0));
    let (asking_up, plan_up) = (asking.clone(), plan.clone());
    std::thread::spawn(move || {
        let mut budget = match plan_up {
            Plan::CutAfter(n) => n,
            Plan::DropResponse(_) | Plan::Hold | Plan::AnswerOnceAskedAgain(_) => u64::MAX,
        };
        let mut buf = [0u8; 16 * 1024];
        loop {
            let n = match from_client.read(&mut buf) {
                Ok(0) | Err(_) => break,
                Ok(n) => n,
            };
            let pass = usize::try_from(budget.min(n as u64)).unwrap();
            if !asked_up.swap(true, Ordering::SeqCst)
                && let Plan::AnswerOnceAskedAgain(started) = &plan_up
            {
                let mut count = started.0.lock().unwrap();
                asking_up.store(*count, Ordering::SeqCst);
                *count += 1;
                started.1.notify_all();
            }
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
                if let Plan::AnswerOnceAskedAgain(started) = &plan {
                    let this = asking.load(Ordering::SeqCst);
                    let count = started.0.lock().unwrap();
                    let (_count, waited) = started
                        .1
                        .wait_timeout_while(count, ASKED_AGAIN_WAIT, |count| {
                            this > 0 && *count <= this + 1
                        })
                        .unwrap();
                    if waited.timed_out() {
                        faults.fetch_add(1, Ordering::SeqCst);
                    }
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
