//! The server tab: shows the sync worker's reports and passes on the administrator's pairing
//! and "send now".

use super::Admin;
use crate::sync::{PairRequest, Pairing, SyncStatus};
use crate::ui::{AdminAdapter, AppWindow, RejectedItem};
use chrono::{DateTime, FixedOffset};
use hailong_core::invite::Invite;
use slint::{ComponentHandle, SharedString, VecModel};
use std::path::PathBuf;
use std::rc::Rc;

fn when(at: Option<DateTime<FixedOffset>>) -> SharedString {
    at.map(|t| t.format("%H:%M %d/%m/%Y").to_string().into())
        .unwrap_or_default()
}

/// Puts a report from the sync worker on the administrator's screen (on the UI thread).
pub fn show_sync(window: &AppWindow, status: &SyncStatus) {
    let a = window.global::<AdminAdapter>();
    a.set_server_address(status.server.clone().unwrap_or_default().into());
    a.set_server_plain_http(status.plain_http);
    a.set_queued(i32::try_from(status.counts.queued).unwrap_or(i32::MAX));
    a.set_last_success(when(status.record.last_success));
    a.set_sync_error(status.record.last_error.clone().unwrap_or_default().into());
    a.set_retry_at(when(status.retry_at));
    a.set_sending(status.sending);
    // A pairing's outcome stays on screen until the tab is opened again.
    match status.pairing {
        Pairing::Idle => {}
        Pairing::Working => a.set_pairing("working".into()),
        Pairing::Paired => {
            // The code is single-use; the address stays for a later re-pairing.
            a.set_pair_code(SharedString::default());
            a.set_pairing("paired".into());
        }
        Pairing::Failed(code) => a.set_pairing(code.into()),
    }
    a.set_rejected_count(i32::try_from(status.counts.rejected).unwrap_or(i32::MAX));
    let rejected: Vec<RejectedItem> = status
        .rejected
        .iter()
        .map(|r| RejectedItem {
            when: when(r.recorded_at),
            level: r.outcome.as_str().into(),
            dossier: r.dossier.clone().unwrap_or_default().into(),
            error: r.error.as_str().into(),
        })
        .collect();
    a.set_rejected(Rc::new(VecModel::from(rejected)).into());
}

impl Admin {
    pub(super) fn pair(&self) {
        self.idle.touched();
        let Some(request) = self.with(|a| {
            let code = a.get_pair_code().trim().to_owned();
            // A scanned invitation holds the address, the code and the CA to pin: the form
            // shows what it held, and pairing goes ahead with it.
            if Invite::looks_like(&code) {
                let invite = code.parse::<Invite>().map_err(|e| e.code())?;
                a.set_pair_address(invite.server.clone().into());
                a.set_pair_code(invite.code.clone().into());
                a.set_pair_ca_file(SharedString::default());
                a.set_pair_pinned(invite.ca.is_some());
                return Ok::<_, &str>(PairRequest::from_invite(invite));
            }
            a.set_pair_pinned(false);
            let ca_file = a.get_pair_ca_file().trim().to_owned();
            Ok(PairRequest {
                server: a.get_pair_address().trim().to_owned(),
                code,
                ca_file: (!ca_file.is_empty()).then(|| PathBuf::from(ca_file)),
                ca: None,
            })
        }) else {
            return;
        };
        let request = match request {
            Ok(request) => request,
            Err(code) => {
                self.with(|a| a.set_pairing(code.into()));
                return;
            }
        };
        match self.sync.borrow().as_ref() {
            Some(sync) => {
                self.with(|a| a.set_pairing("working".into()));
                sync.pair(request);
            }
            None => {
                self.with(|a| a.set_pairing("storage".into()));
            }
        }
    }

    pub(super) fn send_now(&self) {
        self.idle.touched();
        if let Some(sync) = self.sync.borrow().as_ref() {
            sync.send_now();
        }
    }
}
