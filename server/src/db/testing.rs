//! Helpers for the server's unit tests: a paired device, ready-made ratings, and a CA with a
//! certificate it signed.

use super::Db;
use crate::ingest::{Incoming, Ingested, Prepared};
use chrono::Utc;
use hailong_core::wire::WireRating;
use std::path::{Path, PathBuf};
use std::time::Duration;

/// Notify settings that alert each negative rating somewhere (the writer queues an alert
/// only while they say so).
pub const ALERTING: &str = r#"{"webhook": {"url": "https://hooks.example.vn/hailong"}}"#;

/// Pairs a device for `counter`; returns its id.
pub fn paired(db: &mut Db, counter: &str) -> String {
    let code = db
        .new_pairing_code(counter, None, Duration::from_secs(3600), Utc::now())
        .unwrap();
    db.pair(&code, counter, Utc::now()).unwrap().unwrap().0
}

/// A valid "satisfied" rating number `n` of `dossier`; the same `n` gives the same content.
pub fn rating(n: u32, dossier: &str) -> Ingested {
    rating_with(n, serde_json::json!({ "dossier_code": dossier }))
}

/// Rating number `n` on 23 November 2026, "satisfied" on three levels unless `fields` (wire
/// fields, such as `level`, `created_at` or `dossier_code`) say otherwise.
pub fn rating_with(n: u32, fields: serde_json::Value) -> Ingested {
    let mut wire = serde_json::json!({
        "id": format!("01936f6e-8b7a-7c41-9a57-{n:012}"),
        "created_at": "2026-11-23T09:15:02+07:00",
        "seq": n, "scale": 3, "level": "satisfied",
    });
    wire.as_object_mut()
        .unwrap()
        .extend(fields.as_object().unwrap().clone());
    let wire: WireRating = serde_json::from_value(wire).unwrap();
    Ingested::Checked(Box::new(Prepared::new(wire.check().unwrap())))
}

/// Rating number `n` written straight into the ratings table, with the columns every schema
/// since 10 has (no counter: it is its device's), for tests of a migration: an older schema
/// cannot take a rating through today's writer.
pub fn kept_as_written(db: &Db, device: &str, n: u32, outcome: &str, dossier: Option<&str>) {
    db.conn
        .execute(
            "INSERT INTO ratings (id, device_id, received_at, created_at, local_date, seq,
                 scale, outcome, reasons, comment, dossier, fingerprint, receipt)
             VALUES (?1, ?2, '2026-11-23T02:16:00+00:00', '2026-11-23T09:15:02+07:00',
                 '2026-11-23', ?3, 3, ?4, 'long_wait', 'Chờ lâu', ?5, 'f', ?3)",
            rusqlite::params![
                format!("01936f6e-8b7a-7c41-9a57-{n:012}"),
                device,
                n,
                outcome,
                dossier
            ],
        )
        .unwrap();
}

/// The link to a province at `url`, as pairing upward keeps it.
pub fn province_at(url: &str) -> crate::upstream::Upstream {
    crate::upstream::Upstream {
        url: url.to_owned(),
        token: "token".into(),
        device_id: "xa".into(),
        ca_file: None,
        refused_at: None,
    }
}

pub fn batch(device_id: &str, items: Vec<Ingested>) -> Incoming {
    Incoming {
        device_id: device_id.to_owned(),
        items,
        misuse: vec![],
        queued: None,
        clock_skew: None,
        acked_through: None,
        app_version: None,
        order: None,
    }
}

/// A CA (its certificate in `dir/NAME-ca.pem`) and a certificate it signed for 127.0.0.1
/// (`dir/NAME-cert.pem`, `dir/NAME-key.pem`).
pub fn certificate_authority(dir: &Path, name: &str) -> (PathBuf, PathBuf, PathBuf) {
    use rcgen::{BasicConstraints, CertificateParams, DnType, IsCa, KeyPair, KeyUsagePurpose};
    let ca_key = KeyPair::generate().unwrap();
    let mut ca = CertificateParams::new(Vec::<String>::new()).unwrap();
    ca.is_ca = IsCa::Ca(BasicConstraints::Unconstrained);
    ca.distinguished_name
        .push(DnType::CommonName, format!("{name} – CA nội bộ"));
    ca.key_usages = vec![KeyUsagePurpose::KeyCertSign, KeyUsagePurpose::CrlSign];
    let ca = ca.self_signed(&ca_key).unwrap();
    let key = KeyPair::generate().unwrap();
    let cert = CertificateParams::new(vec!["127.0.0.1".to_owned()])
        .unwrap()
        .signed_by(&key, &ca, &ca_key)
        .unwrap();
    let paths = (
        dir.join(format!("{name}-ca.pem")),
        dir.join(format!("{name}-cert.pem")),
        dir.join(format!("{name}-key.pem")),
    );
    std::fs::write(&paths.0, ca.pem()).unwrap();
    std::fs::write(&paths.1, cert.pem()).unwrap();
    std::fs::write(&paths.2, key.serialize_pem()).unwrap();
    paths
}
