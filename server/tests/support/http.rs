//! An HTTP client for the server's tests and benches (included with `#[path]`).

use reqwest::blocking::Client;

/// In a workspace build reqwest carries rustls without a crypto provider (the tablet picks
/// ring), so one is installed first.
pub fn http() -> Client {
    static PROVIDER: std::sync::Once = std::sync::Once::new();
    PROVIDER.call_once(|| {
        let _ = rustls::crypto::ring::default_provider().install_default();
    });
    Client::new()
}
