//! The server's integration tests, one binary: the real server in-process on a loopback port
//! with a real SQLite file (`running`), and the real binary where only a process shows what
//! is tested: SIGTERM, SIGKILL, its open-file limit and memory (`process`).
//! - `api`: pairing, batch semantics, every error status, the summary, exports, SIGTERM;
//! - `backups`: backups during ingest, restores;
//! - `dashboard`: the web dashboard's rules over plain HTTP;
//! - `hardening`: the server as an attacker on the commune's network tries it: sign-in
//!   floods, idle and half-sent connections, redirects, cross-site forms, forged log lines,
//!   file modes and leftovers;
//! - `notify`: alerts reaching a webhook through the running server, settings refused;
//! - `commune_tls`: `tls init`, HTTPS from the configuration file, pairing invitations and
//!   their QR codes;
//! - `province`: a commune's server forwarding to its province's;
//! - `postgres`: those of the above that do not test a file or a process, again with the
//!   server's data in a private PostgreSQL.

#[path = "../support/http.rs"]
mod http;
#[path = "../support/process.rs"]
mod process;
#[path = "../../../tests/support/proxy.rs"]
mod proxy;
#[path = "../support/receiver.rs"]
mod receiver;
#[path = "../support/running.rs"]
mod running;

mod api;
mod backups;
mod commune_tls;
mod dashboard;
mod hardening;
mod notify;
mod province;

/// The same tests with the server's data in a private PostgreSQL (`running::on_postgres`):
/// every one that tests what the server does, not a SQLite file or a process.
mod postgres {
    macro_rules! again {
        ($($module:ident :: $test:ident,)*) => {
            $(
                #[test]
                fn $test() {
                    crate::running::on_postgres(crate::$module::$test);
                }
            )*
        };
    }

    again! {
    province::a_communes_entries_reach_its_province_once_with_their_tablets_through_a_crash,
    province::answers_lost_on_the_way_up_are_sent_again_and_held_once,
    province::a_commune_the_province_revoked_stops_sending_says_so_and_sends_once_paired_again,
    api::pairing_succeeds_once_and_refuses_reuse_expiry_and_wrong_codes_then_rate_limits,
    api::a_passs_batches_are_written_in_their_order_whichever_arrives_first,
    api::a_batch_accepts_dedupes_logs_conflicts_rejects_and_flags_repeats_and_skew,
    api::every_error_has_its_status_and_a_json_message,
    api::exports_give_the_summarys_figures_in_every_format_and_refuse_bad_requests,
    dashboard::sign_in_sets_a_strict_http_only_session_and_refuses_without_a_hint,
    dashboard::five_wrong_passwords_hold_the_name_back_even_with_the_right_one,
    dashboard::the_negatives_page_past_its_end_shows_the_last_and_an_unknown_reason_filters_nothing,
    notify::a_negative_rating_reaches_the_webhook_by_itself_and_the_dashboard_says_so,
    notify::notify_settings_that_cannot_work_are_refused_with_the_reason,
    hardening::the_language_switch_goes_back_only_to_a_page_of_this_server_and_never_fails,
    hardening::forms_posted_from_another_site_or_without_their_token_are_refused,
    hardening::every_answer_says_nosniff_and_api_errors_are_json_with_their_status,
    hardening::request_fields_cannot_forge_a_log_line_or_a_devices_row,
    hardening::csv_cells_that_a_spreadsheet_would_run_are_written_as_text,
    hardening::a_phone_number_in_a_sent_comment_is_masked_before_the_server_stores_it,
    hardening::an_odd_queued_or_a_press_without_an_id_leaves_the_rest_of_the_batch_taken,
    }
}
