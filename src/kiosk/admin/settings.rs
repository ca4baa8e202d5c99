//! The settings tab: the setup fields, delays, walk-up ratings, kiosk mode, the reports'
//! letterhead and a new admin PIN, saved to `settings.json` and applied at once.

use super::Admin;
use crate::auth::hash_pin;
use crate::settings::{self, Lang, Settings};
use crate::setup::{SetupProblem, identity_problems, is_unit_code, unit_codes};
use crate::ui::SettingsForm;
use crate::voice::VoiceStatus;
use hailong_core::level::Scale;
use hailong_core::pin::{ADMIN_PIN_MIN, Pin};
use slint::{SharedString, VecModel};
use std::rc::Rc;

fn secs(n: u32) -> i32 {
    i32::try_from(n).unwrap_or(i32::MAX)
}

fn from_secs(n: i32, min: u32, max: u32) -> u32 {
    u32::try_from(n).unwrap_or(min).clamp(min, max)
}

impl Admin {
    pub(super) fn show_settings(&self) {
        let s = self.settings.borrow().clone();
        let form = SettingsForm {
            unit_name: s.unit_name.into(),
            unit_code: s.unit_code.into(),
            extra_unit_codes: s.extra_unit_codes.join(" ").into(),
            counter_name: s.counter_name.into(),
            lang: s.lang.code().into(),
            scale: i32::from(s.scale.number()),
            thank_you_secs: secs(s.thank_you_secs),
            reasons_timeout_secs: secs(s.reasons_timeout_secs),
            armed_expiry_secs: secs(s.armed_expiry_secs),
            min_interval_secs: secs(s.min_interval_secs),
            change_of_mind_secs: secs(s.change_of_mind_secs),
            walk_up_allowed: s.walk_up_allowed,
            voice_on: s.voice_on,
            voice_volume: i32::from(s.voice_volume),
            large_text: s.large_text,
            fullscreen: s.fullscreen,
            superior: s.letterhead.superior.unwrap_or_default().into(),
            place: s.letterhead.place.unwrap_or_default().into(),
            signer_left: s
                .letterhead
                .signers
                .first()
                .cloned()
                .unwrap_or_default()
                .into(),
            signer_right: s
                .letterhead
                .signers
                .get(1)
                .cloned()
                .unwrap_or_default()
                .into(),
            new_admin_pin: SharedString::default(),
            new_admin_pin_again: SharedString::default(),
        };
        let (status, problem) = match self.speech.status() {
            VoiceStatus::Off => ("off", String::new()),
            VoiceStatus::Ready => ("ready", String::new()),
            VoiceStatus::NoDevice(reason) => ("no_device", reason),
        };
        self.with(|a| {
            a.set_voice_status(status.into());
            a.set_voice_problem(problem.into());
            a.set_form(form);
            a.set_settings_problems(Rc::new(VecModel::<SharedString>::default()).into());
            a.set_settings_saved(false);
        });
    }

    pub(super) fn save_settings(&self) {
        self.idle.touched();
        let Some(form) = self.with(|a| a.get_form()) else {
            return;
        };
        let mut problems: Vec<&str> =
            identity_problems(&form.unit_name, &form.unit_code, &form.counter_name)
                .into_iter()
                .map(SetupProblem::code)
                .collect();
        // Codes typed after the first in the unit code field count as further codes too.
        let mut typed = unit_codes(&form.unit_code).into_iter();
        let unit_code = typed.next().unwrap_or_default();
        let extra: Vec<String> = typed.chain(unit_codes(&form.extra_unit_codes)).collect();
        if !extra.iter().all(|c| is_unit_code(c)) && !problems.contains(&"unit_code") {
            problems.push("unit_code");
        }
        let new_pin = form.new_admin_pin.trim();
        if new_pin != form.new_admin_pin_again.trim() {
            problems.push("pin_mismatch");
        }
        let pin_hash = if new_pin.is_empty() {
            None
        } else {
            match Pin::parse(new_pin, ADMIN_PIN_MIN)
                .ok()
                .map(|p| hash_pin(&p))
            {
                Some(Ok(hash)) => Some(hash),
                _ => {
                    problems.push(SetupProblem::AdminPin.code());
                    None
                }
            }
        };
        if problems.is_empty() {
            let mut next: Settings = self.settings.borrow().clone();
            next.unit_name = form.unit_name.trim().to_owned();
            next.unit_code = unit_code;
            next.extra_unit_codes = extra;
            next.counter_name = form.counter_name.trim().to_owned();
            next.lang = Lang::parse(&form.lang).unwrap_or(next.lang);
            next.scale = if form.scale == 5 {
                Scale::Five
            } else {
                Scale::Three
            };
            next.thank_you_secs = from_secs(form.thank_you_secs, 2, 30);
            next.reasons_timeout_secs = from_secs(form.reasons_timeout_secs, 15, 300);
            next.armed_expiry_secs = from_secs(form.armed_expiry_secs, 30, 1800);
            next.min_interval_secs = from_secs(form.min_interval_secs, 1, 30);
            next.change_of_mind_secs = from_secs(form.change_of_mind_secs, 0, 30);
            next.walk_up_allowed = form.walk_up_allowed;
            next.voice_on = form.voice_on;
            next.large_text = form.large_text;
            next.voice_volume = u8::try_from(form.voice_volume.clamp(10, 100)).unwrap_or(80);
            next.fullscreen = form.fullscreen;
            let given = |text: &str| Some(text.trim().to_owned()).filter(|t| !t.is_empty());
            next.letterhead.superior = given(&form.superior);
            next.letterhead.place = given(&form.place);
            // Left to right; one title alone gives one signer.
            next.letterhead.signers = match (given(&form.signer_left), given(&form.signer_right)) {
                (Some(left), Some(right)) => vec![left, right],
                (Some(one), None) | (None, Some(one)) => vec![one],
                (None, None) => Vec::new(),
            };
            if let Some(hash) = pin_hash {
                next.admin_pin_hash = hash;
            }
            match settings::save(&self.dir, &next) {
                Ok(()) => {
                    tracing::info!("settings saved");
                    if let Some(sync) = self.sync.borrow().as_ref() {
                        sync.settings_changed(next.clone());
                    }
                    *self.settings.borrow_mut() = next;
                    self.flow.settings_changed();
                    self.speech.settings_changed();
                    if let Some(window) = self.window.upgrade() {
                        super::super::set_kiosk_mode(&window, form.fullscreen);
                    }
                    self.show_settings();
                    self.with(|a| a.set_settings_saved(true));
                    return;
                }
                Err(e) => {
                    tracing::error!(error = %e, "settings could not be saved");
                    problems.push("save");
                }
            }
        }
        let problems: Vec<SharedString> = problems.into_iter().map(Into::into).collect();
        self.with(|a| {
            a.set_settings_saved(false);
            a.set_settings_problems(Rc::new(VecModel::from(problems)).into());
        });
    }
}
