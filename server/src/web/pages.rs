//! The dashboard's HTML, rendered on the server (maud escapes every value): the frame with its
//! navigation, the sign-in form, and one function per page.

use super::trend;
use super::words::{Dash, code, dash};
use crate::backups::BackupState;
use crate::db::{Device, NegativesPage, QueueState, Totals};
use crate::upstream::LinkState;
use hailong_core::level::Level;
use hailong_core::period::ReportPeriod;
use hailong_core::reason::Reason;
use hailong_core::report::{Appraisal, Figures, Group, Report};
use hailong_core::summary::Counts;
use hailong_report::{Format, Lang, month_label};
use maud::{DOCTYPE, Markup, html};

/// The pages behind sign-in, in the navigation's order.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Nav {
    Overview,
    Officers,
    Fields,
    Negatives,
    Communes,
    Devices,
}

impl Nav {
    const ALL: [Nav; 6] = [
        Nav::Overview,
        Nav::Officers,
        Nav::Fields,
        Nav::Negatives,
        Nav::Communes,
        Nav::Devices,
    ];

    pub fn path(self) -> &'static str {
        match self {
            Nav::Overview => "/",
            Nav::Officers => "/officers",
            Nav::Fields => "/fields",
            Nav::Negatives => "/negatives",
            Nav::Communes => "/communes",
            Nav::Devices => "/devices",
        }
    }

    fn title(self, d: &Dash) -> &'static str {
        match self {
            Nav::Overview => d.overview,
            Nav::Officers => d.officers,
            Nav::Fields => d.fields,
            Nav::Negatives => d.negatives,
            Nav::Communes => d.communes,
            Nav::Devices => d.devices,
        }
    }

    /// Whether the page is about a period (the devices page is about now).
    fn has_period(self) -> bool {
        self != Nav::Devices
    }

    /// Whether a province shows this page for one commune too.
    pub fn of_a_commune(self) -> bool {
        matches!(
            self,
            Nav::Overview | Nav::Officers | Nav::Fields | Nav::Negatives
        )
    }
}

/// What every page behind sign-in knows.
pub struct Frame<'a> {
    pub lang: Lang,
    pub user: &'a str,
    pub unit: &'a str,
    pub nav: Nav,
    pub period: ReportPeriod,
    /// The session's CSRF token, for the sign-out form.
    pub csrf: &'a str,
    /// Query parameters the page keeps when its period or language changes (a filter),
    /// each as `&name=value`, encoded.
    pub keep: &'a str,
    /// Communes' servers forward here (a province's server): the communes' page is shown.
    pub communes: bool,
    /// The commune whose own pages these are (on a province's server), or none: the whole
    /// server's.
    pub commune: Option<&'a Commune>,
}

/// A commune on a province's server: its server's device there, whose own pages are shown.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Commune {
    pub id: String,
    pub name: String,
    pub unit_code: String,
}

impl Commune {
    /// The query parameter that keeps a page on this commune, as `&commune=…`, encoded.
    pub fn keep(&self) -> String {
        format!("&commune={}", encode(&self.id))
    }
}

impl Frame<'_> {
    fn d(&self) -> &'static Dash {
        dash(self.lang)
    }

    /// Whose figures the page shows: the commune's server's device, or `None` for all.
    pub fn device(&self) -> Option<&str> {
        self.commune.map(|c| c.id.as_str())
    }

    /// This page's address for `period`, with what it keeps.
    fn at(&self, period: ReportPeriod) -> String {
        let link = self.link(self.nav, period);
        if self.nav.has_period() {
            link + self.keep
        } else {
            link
        }
    }

    /// The address of page `nav` for `period`, on this page's commune if it is one of a
    /// commune's own pages.
    fn link(&self, nav: Nav, period: ReportPeriod) -> String {
        match self.commune {
            Some(commune) if nav.of_a_commune() => link(nav, period) + &commune.keep(),
            _ => link(nav, period),
        }
    }

    /// This page's own address, to come back to after switching language.
    fn here(&self) -> String {
        self.at(self.period)
    }
}

/// The address of page `nav` for `period`.
fn link(nav: Nav, period: ReportPeriod) -> String {
    if nav.has_period() {
        format!("{}?period={}", nav.path(), period.code())
    } else {
        nav.path().to_owned()
    }
}

/// The tab's icon: a smiling face in the "very satisfied" green, inline (no request, no 404).
const FAVICON: &str = "data:image/svg+xml,%3Csvg xmlns='http://www.w3.org/2000/svg' \
    viewBox='0 0 32 32'%3E%3Ccircle cx='16' cy='16' r='15' fill='%231b8a4a'/%3E%3Ccircle \
    cx='11' cy='12' r='2.2' fill='white'/%3E%3Ccircle cx='21' cy='12' r='2.2' fill='white'/%3E\
    %3Cpath d='M9 18q7 8 14 0' stroke='white' stroke-width='3' fill='none'/%3E%3C/svg%3E";

fn document(lang: Lang, title: &str, body: Markup) -> Markup {
    html! {
        (DOCTYPE)
        html lang=(code(lang)) {
            head {
                meta charset="utf-8";
                meta name="viewport" content="width=device-width, initial-scale=1";
                title { (title) }
                link rel="stylesheet" href="/static/style.css";
                link rel="icon" href=(FAVICON);
            }
            body { (body) }
        }
    }
}

fn language_links(lang: Lang, back: &str) -> Markup {
    html! {
        nav.langs aria-label=(dash(lang).languages) {
            @for (l, name) in [(Lang::Vi, "Tiếng Việt"), (Lang::En, "English")] {
                @if l == lang {
                    span.lang.on aria-current="true" { (name) }
                } @else {
                    a.lang href=(format!("/lang/{}?back={}", code(l), encode(back))) { (name) }
                }
            }
        }
    }
}

/// Percent-encodes a path and query for use as a query value.
fn encode(text: &str) -> String {
    text.bytes()
        .map(|b| match b {
            b'A'..=b'Z' | b'a'..=b'z' | b'0'..=b'9' | b'-' | b'_' | b'.' | b'~' | b'/' => {
                char::from(b).to_string()
            }
            _ => format!("%{b:02X}"),
        })
        .collect()
}

/// A page behind sign-in: header, navigation, the period's bar, then `content`.
pub fn frame(f: &Frame<'_>, content: Markup) -> Markup {
    let d = f.d();
    let body = html! {
        header.top {
            div.brand {
                strong { "Hài Lòng" }
                span.unit id="unit" { (f.unit) }
            }
            (language_links(f.lang, &f.here()))
            form.out method="post" action="/sign-out" {
                input type="hidden" name="csrf" value=(f.csrf);
                span.user { (d.signed_in_as) " " strong { (f.user) } }
                button type="submit" id="sign-out" { (d.sign_out) }
            }
        }
        nav.pages {
            @for nav in Nav::ALL.into_iter().filter(|n| *n != Nav::Communes || f.communes) {
                @let href = f.link(nav, f.period);
                @if nav == f.nav {
                    a.on href=(href) aria-current="page" id=(format!("nav-{}", nav_id(nav))) { (nav.title(d)) }
                } @else {
                    a href=(href) id=(format!("nav-{}", nav_id(nav))) { (nav.title(d)) }
                }
            }
        }
        main {
            @if let Some(commune) = f.commune { (commune_bar(f, commune)) }
            @if f.nav.has_period() { (period_bar(f)) }
            (content)
        }
    };
    let title = match f.commune {
        Some(commune) => format!("{} – {} – {}", f.nav.title(d), commune.name, d.title),
        None => format!("{} – {}", f.nav.title(d), d.title),
    };
    document(f.lang, &title, body)
}

/// Above a commune's own pages: which commune, and the way back to all of them.
fn commune_bar(f: &Frame<'_>, commune: &Commune) -> Markup {
    let d = f.d();
    html! {
        section.commune {
            a href=(link(Nav::Communes, f.period)) id="all-communes" { "‹ " (d.all_communes) }
            h2 id="commune" {
                (commune.name) " " span.unit-code { (commune.unit_code) }
            }
        }
    }
}

fn nav_id(nav: Nav) -> &'static str {
    match nav {
        Nav::Overview => "overview",
        Nav::Officers => "officers",
        Nav::Fields => "fields",
        Nav::Negatives => "negatives",
        Nav::Communes => "communes",
        Nav::Devices => "devices",
    }
}

fn period_bar(f: &Frame<'_>) -> Markup {
    let d = f.d();
    let first = f.period.range().from;
    let kinds = [
        (ReportPeriod::month_of(first), d.kind_month),
        (ReportPeriod::quarter_of(first), d.kind_quarter),
        (
            ReportPeriod::Year(chrono::Datelike::year(&first)),
            d.kind_year,
        ),
    ];
    let same_kind =
        |p: &ReportPeriod| std::mem::discriminant(p) == std::mem::discriminant(&f.period);
    let range = f.period.range();
    html! {
        section.period {
            div.kinds {
                @for (period, name) in kinds {
                    @if same_kind(&period) {
                        span.kind.on { (name) }
                    } @else {
                        a.kind href=(f.at(period)) { (name) }
                    }
                }
            }
            div.step {
                a.arrow href=(f.at(f.period.step(-1))) id="earlier" title=(d.earlier) { "‹" }
                div {
                    h1 id="period" { (f.lang.period(&f.period)) }
                    span.dates {
                        (d.from_to
                            .replace("{from}", &range.from.format("%d/%m/%Y").to_string())
                            .replace("{to}", &range.to.format("%d/%m/%Y").to_string()))
                    }
                }
                a.arrow href=(f.at(f.period.step(1))) id="later" title=(d.later) { "›" }
            }
        }
    }
}

/// A filter's choices, with the chosen one first if the period has none of it (a filter kept
/// from another period): the page says what it is filtered by, even with no rows.
fn with_chosen<'a>(names: &'a [String], chosen: Option<&'a str>) -> Vec<&'a str> {
    let mut all: Vec<&str> = names.iter().map(String::as_str).collect();
    if let Some(chosen) = chosen
        && !all.contains(&chosen)
    {
        all.insert(0, chosen);
    }
    all
}

fn percent(lang: Lang, tenths: Option<u32>) -> String {
    tenths.map_or_else(|| "–".to_owned(), |t| format!("{} %", lang.tenths(t)))
}

/// A label without its "(%)": on the dashboard the value carries its percent sign, so
/// "Tỷ lệ hài lòng (%)" above "91,9 %" would say it twice.
fn without_percent(label: &'static str) -> &'static str {
    label.strip_suffix(" (%)").unwrap_or(label)
}

fn figure(id: &str, label: &str, value: String) -> Markup {
    html! {
        div.figure {
            span.label { (label) }
            strong id=(id) { (value) }
        }
    }
}

/// The report files to download; a commune's own overview on a province's server points to
/// the province's, which break down by commune.
fn export_buttons(f: &Frame<'_>) -> Markup {
    let d = f.d();
    if f.commune.is_some() {
        return html! {
            p.note id="exports-of-province" {
                (d.exports_of_province) " "
                a href=(link(Nav::Overview, f.period)) { (d.province_overview) }
            }
        };
    }
    let formats = [
        (Format::Pdf, d.export_pdf),
        (Format::Xlsx, d.export_xlsx),
        (Format::Png, d.export_png),
        (Format::SummaryCsvExcel, d.export_summary_csv_excel),
        (Format::CsvExcel, d.export_csv_excel),
        (Format::SummaryCsv, d.export_summary_csv),
        (Format::Csv, d.export_csv),
        (Format::Json, d.export_json),
    ];
    html! {
        section.exports {
            h2 { (d.export) }
            div.buttons {
                @for (format, name) in formats {
                    a.button href=(format!("/export?format={}&period={}", format.code(), f.period.code()))
                        id=(format!("export-{}", format.code())) download { (name) }
                }
            }
        }
    }
}

pub fn overview(f: &Frame<'_>, totals: &Totals, months: &[(String, Counts)]) -> Markup {
    let (d, w, lang) = (f.d(), f.lang.words(), f.lang);
    let counts = &totals.counts;
    let shares = counts.shares_tenths(totals.scale);
    let share = |level: Level| {
        shares
            .as_ref()
            .and_then(|s| s.iter().find(|(l, _)| *l == level).map(|(_, t)| *t))
    };
    frame(
        f,
        html! {
            section.figures {
                (figure("total", w.ratings, lang.count(counts.total())))
                (figure("satisfied", without_percent(w.satisfied_pct), percent(lang, counts.satisfied_tenths())))
                (figure("unrated", w.unrated, lang.count(counts.unrated)))
                (figure("response", without_percent(w.response_pct), percent(lang, counts.response_tenths(totals.rated_dossiers))))
            }
            section.levels {
                @for &level in totals.scale.levels() {
                    div class=(format!("level {}", trend::level_class(level))) {
                        span.label { (lang.level(level)) }
                        strong id=(format!("level-{}", level.code())) { (lang.count(counts.count(level))) }
                        span.share id=(format!("share-{}", level.code())) { (percent(lang, share(level))) }
                    }
                }
            }
            p.note {
                (w.repeat) ": " strong id="repeat" { (lang.count(counts.repeat_dossier)) }
                " · " (w.misuse) ": " strong id="misuse" { (lang.count(counts.misuse)) }
            }
            section.chart {
                h2 { (d.trend) }
                (trend::chart(months, totals.scale, lang))
                p.note.legend {
                    @for &level in totals.scale.levels() {
                        span.entry {
                            span class=(format!("key {}", trend::level_class(level))) {}
                            (lang.level(level))
                        }
                        " "
                    }
                }
                p.note { (d.trend_note) }
            }
            (export_buttons(f))
        },
    )
}

/// A table of groups (officers, fields, procedures): count per level, tỷ lệ hài lòng, unrated.
fn groups_table(f: &Frame<'_>, report: &Report, id: &str, first: &str, groups: &[Group]) -> Markup {
    let (w, lang) = (f.lang.words(), f.lang);
    html! {
        div.scroll tabindex="0" role="region" aria-label=(first) { table id=(id) {
            thead {
                tr {
                    th { (first) }
                    th.n { (w.ratings) }
                    @for &level in report.scale.levels() { th.n { (lang.level(level)) } }
                    th.n { (without_percent(w.satisfied_pct)) }
                    th.n { (w.unrated) }
                }
            }
            tbody {
                @for group in groups {
                    tr data-key=(group.key.as_deref().unwrap_or("")) {
                        td { (group.label.as_deref().or(group.key.as_deref()).unwrap_or(w.none)) }
                        td.n.total { (lang.count(group.counts.total())) }
                        @for &level in report.scale.levels() {
                            td.n { (lang.count(group.counts.count(level))) }
                        }
                        td.n { (percent(lang, group.counts.satisfied_tenths())) }
                        td.n { (lang.count(group.counts.unrated)) }
                    }
                }
            }
        } }
    }
}

pub fn officers(f: &Frame<'_>, report: &Report) -> Markup {
    let w = f.lang.words();
    frame(
        f,
        html! {
            h2 { (w.sheet_officer) }
            (groups_table(f, report, "by-officer", w.officer, &report.by_officer))
            h2 { (w.sheet_appraisal) }
            @for (i, appraisal) in report.appraisals.iter().enumerate() {
                (appraisal_table(f, report, i, appraisal))
            }
        },
    )
}

/// One officer month by month, for appraisal: the counts, tỷ lệ hài lòng, dossiers not rated
/// and the response rate of each month and of the period, then the reasons of the negatives.
fn appraisal_table(f: &Frame<'_>, report: &Report, i: usize, a: &Appraisal) -> Markup {
    let (w, lang) = (f.lang.words(), f.lang);
    let name = a.officer.as_deref().unwrap_or(lang.no_key("by_officer"));
    let row = |label: String, figures: &Figures| {
        let c = &figures.counts;
        html! {
            td { (label) }
            td.n.total { (lang.count(c.total())) }
            @for &level in report.scale.levels() {
                td.n { (lang.count(c.count(level))) }
            }
            td.n { (percent(lang, c.satisfied_tenths())) }
            td.n { (lang.count(c.unrated)) }
            td.n.response { (percent(lang, figures.response_tenths())) }
        }
    };
    html! {
        section.appraisal id=(format!("appraisal-{i}")) {
            h3 { (name) }
            div.scroll tabindex="0" role="region" aria-label=(name) { table {
                thead {
                    tr {
                        th { (w.month) }
                        th.n { (w.ratings) }
                        @for &level in report.scale.levels() {
                            th.n { (lang.level(level)) }
                        }
                        th.n { (without_percent(w.satisfied_pct)) }
                        th.n { (w.unrated) }
                        th.n { (without_percent(w.response_pct)) }
                    }
                }
                tbody {
                    @for (month, figures) in &a.months {
                        tr.month { (row(month_label(month), figures)) }
                    }
                }
                tfoot {
                    tr.whole { (row(w.whole_period.to_owned(), &a.whole)) }
                }
            } }
            @if !a.reasons.is_empty() {
                p.reasons { (w.negative_reasons) ": " (lang.reason_counts(&a.reasons)) }
            }
        }
    }
}

pub fn fields(f: &Frame<'_>, report: &Report) -> Markup {
    let w = f.lang.words();
    frame(
        f,
        html! {
            h2 { (w.sheet_field) }
            (groups_table(f, report, "by-field", w.field, &report.by_field))
            h2 { (w.sheet_procedure) }
            (groups_table(f, report, "by-procedure", w.procedure, &report.by_procedure))
        },
    )
}

/// Negatives listed on one page of the negatives page.
pub const NEGATIVES_PER_PAGE: usize = 50;

/// What the negatives page is asked to show: a page of the list, and its filters (empty: all).
#[derive(Debug, Default, Clone)]
pub struct NegativeFilter {
    /// From 1.
    pub page: usize,
    pub officer: Option<String>,
    pub field: Option<String>,
    pub reason: Option<Reason>,
}

impl NegativeFilter {
    /// The page's address for `page` with these filters, of the frame's period and commune.
    fn link(&self, f: &Frame<'_>, page: usize) -> String {
        let mut pairs = vec![("period", f.period.code())];
        if let Some(commune) = f.commune {
            pairs.push(("commune", commune.id.clone()));
        }
        if let Some(o) = &self.officer {
            pairs.push(("officer", o.clone()));
        }
        if let Some(f) = &self.field {
            pairs.push(("field", f.clone()));
        }
        if let Some(r) = self.reason {
            pairs.push(("reason", r.code().to_owned()));
        }
        pairs.push(("page", page.to_string()));
        format!(
            "/negatives?{}",
            serde_urlencoded::to_string(pairs).unwrap_or_default()
        )
    }
}

/// The period's negatives, newest first, 50 a page, filtered by officer, field and reason.
pub fn negatives(f: &Frame<'_>, page: &NegativesPage, filter: &NegativeFilter) -> Markup {
    let (d, w, lang) = (f.d(), f.lang.words(), f.lang);
    let time = |at: &str| {
        chrono::DateTime::parse_from_rfc3339(at)
            .map(|t| t.format("%H:%M %d/%m/%Y").to_string())
            .unwrap_or_else(|_| at.to_owned())
    };
    let pages = (page.total as usize).div_ceil(NEGATIVES_PER_PAGE).max(1);
    let current = filter.page.clamp(1, pages);
    let filtered = filter.officer.is_some() || filter.field.is_some() || filter.reason.is_some();
    // A province's list of all its communes says whose each one is.
    let every_commune = f.communes && f.commune.is_none();
    let option = |value: &str, label: &str, chosen: bool| {
        html! { option value=(value) selected[chosen] { (label) } }
    };
    frame(
        f,
        html! {
            h2 { (w.sheet_negative) " (" span id="negative-count" { (lang.count(page.total)) } ")" }
            form.filters method="get" action="/negatives" {
                input type="hidden" name="period" value=(f.period.code());
                @if let Some(commune) = f.commune {
                    input type="hidden" name="commune" value=(commune.id);
                }
                label {
                    span { (w.officer) }
                    select name="officer" id="filter-officer" {
                        (option("", d.every_officer, filter.officer.is_none()))
                        @for name in with_chosen(&page.officers, filter.officer.as_deref()) {
                            (option(name, name, filter.officer.as_deref() == Some(name)))
                        }
                    }
                }
                label {
                    span { (w.field) }
                    select name="field" id="filter-field" {
                        (option("", d.every_field, filter.field.is_none()))
                        @for name in with_chosen(&page.fields, filter.field.as_deref()) {
                            (option(name, name, filter.field.as_deref() == Some(name)))
                        }
                    }
                }
                label {
                    span { (w.reasons) }
                    select name="reason" id="filter-reason" {
                        (option("", d.every_reason, filter.reason.is_none()))
                        @for reason in Reason::ALL {
                            (option(reason.code(), lang.reason(reason), filter.reason == Some(reason)))
                        }
                    }
                }
                button.button type="submit" id="filter-apply" { (d.filter) }
            }
            @if page.total == 0 && !filtered {
                p.empty { (d.no_negatives) }
            } @else if page.total == 0 {
                p.empty id="no-match" { (d.no_match) }
            } @else {
                div.scroll tabindex="0" role="region" aria-label=(w.sheet_negative) { table id="negatives" {
                    thead {
                        tr {
                            th { (w.time) } th { (w.level) } th { (w.reasons) } th { (w.comment) }
                            th { (w.dossier) } th { (w.procedure) } th { (w.officer) } th { (w.counter) }
                            @if every_commune { th { (w.commune) } }
                        }
                    }
                    tbody {
                        @for n in &page.rows {
                            tr {
                                td.when { (time(&n.at)) }
                                td { span class=(format!("badge {}", trend::level_class(n.level))) { (lang.level(n.level)) } }
                                td { (lang.reasons(&n.reasons)) }
                                td { (n.comment.as_deref().unwrap_or("")) }
                                td.code { (n.dossier.as_deref().unwrap_or("")) }
                                td { (n.procedure_name.as_deref().unwrap_or("")) }
                                td { (n.officer.as_deref().unwrap_or("")) }
                                td { (n.counter.as_deref().unwrap_or("")) }
                                @if every_commune { td.commune { (n.commune.as_deref().unwrap_or("")) } }
                            }
                        }
                    }
                } }
                @if pages > 1 {
                    nav.pager aria-label=(d.page_of.replace("{page}", &current.to_string()).replace("{pages}", &pages.to_string())) {
                        @if current > 1 {
                            a.button href=(filter.link(f, current - 1)) id="page-previous" rel="prev" { (d.previous_page) }
                        }
                        span id="page-of" { (d.page_of.replace("{page}", &current.to_string()).replace("{pages}", &pages.to_string())) }
                        @if current < pages {
                            a.button href=(filter.link(f, current + 1)) id="page-next" rel="next" { (d.next_page) }
                        }
                    }
                }
            }
        },
    )
}

/// How scheduled backups stand: off, the latest, a failure with its time and why, the next.
fn backups(f: &Frame<'_>, state: &BackupState) -> Markup {
    let (d, lang) = (f.d(), f.lang);
    let time = |at: &chrono::DateTime<chrono::Local>| at.format("%H:%M %d/%m/%Y").to_string();
    html! {
        section.backups id="backups" {
            h2 { (d.backups) }
            @if state.database_server {
                p.empty id="backups-database-server" { (d.backups_database_server) }
            } @else if state.dir.is_none() {
                p.empty id="backups-off" { (d.backups_off) }
            } @else {
                @if let Some(failure) = &state.last_failure {
                    p.problem id="backup-failed" role="alert" {
                        (d.backup_failed.replace("{at}", &time(&failure.at))) ": " (failure.error)
                    }
                }
                @match &state.last_made {
                    Some(made) => p id="backup-last" {
                        (d.backup_last) ": " strong { (time(&made.at)) } " – "
                        (made.file.file_name().map(|n| n.to_string_lossy().into_owned()).unwrap_or_default())
                        @if let Some(ratings) = made.ratings {
                            " (" (lang.count(u64::try_from(ratings).unwrap_or(0))) " " (d.ratings_word) ")"
                        }
                    },
                    None => p id="backup-last" { (d.backup_none_yet) },
                }
                @if let Some(next) = &state.next_at {
                    p id="backup-next" { (d.backup_next) ": " (time(next)) }
                }
            }
        }
    }
}

/// Where alerts and reports go, and how their queue stands: waiting, sent, the oldest failure
/// with its reason and next try.
fn notifications(f: &Frame<'_>, channels: &[&str], queue: &QueueState) -> Markup {
    let (d, lang) = (f.d(), f.lang);
    let time = |at: &str| {
        chrono::DateTime::parse_from_rfc3339(at)
            .map(|t| {
                t.with_timezone(&chrono::Local)
                    .format("%H:%M %d/%m/%Y")
                    .to_string()
            })
            .unwrap_or_else(|_| at.to_owned())
    };
    html! {
        section.notifications id="notifications" {
            h2 { (d.notifications) }
            @if channels.is_empty() {
                p.empty id="notifications-off" { (d.notifications_off) }
            } @else {
                p id="notifications-channels" { (d.notifications_through) ": " strong { (channels.join(", ")) } }
                @if let Some((channel, attempts, error, retry)) = &queue.failing {
                    p.problem id="notification-failed" role="alert" {
                        (d.notification_failed
                            .replace("{channel}", channel)
                            .replace("{attempts}", &attempts.to_string())
                            .replace("{at}", &time(retry)))
                        ": " (error)
                    }
                }
                p id="notifications-queue" {
                    (d.notifications_waiting) ": " strong id="notifications-waiting" { (lang.count(queue.waiting)) }
                    " · " (d.notifications_sent) ": " strong id="notifications-sent" { (lang.count(queue.sent)) }
                    @if let Some(last) = &queue.last_sent_at {
                        " · " (d.notifications_last) ": " (time(last))
                    }
                }
            }
        }
    }
}

pub fn devices(
    f: &Frame<'_>,
    devices: &[Device],
    backup_state: &BackupState,
    (channels, queue): &(Vec<&str>, QueueState),
    link: &LinkState,
) -> Markup {
    let (d, w, lang) = (f.d(), f.lang.words(), f.lang);
    let time = |at: Option<&str>| {
        at.and_then(|t| chrono::DateTime::parse_from_rfc3339(t).ok())
            .map(|t| {
                t.with_timezone(&chrono::Local)
                    .format("%H:%M %d/%m/%Y")
                    .to_string()
            })
            .unwrap_or_else(|| d.never.to_owned())
    };
    frame(
        f,
        html! {
            h1 { (d.devices) }
            @if devices.is_empty() {
                p.empty { (d.no_devices) }
            } @else {
                div.scroll tabindex="0" role="region" aria-label=(d.devices) { table id="devices" {
                    thead {
                        tr {
                            th { (w.counter) } th { (d.device_name) } th { (d.paired) } th { (d.last_seen) }
                            th.n { (d.received) } th.n { (d.queued) } th.n { (d.skew) } th.n { (d.conflicts) } th { (d.state) } th { (d.version) }
                        }
                    }
                    tbody {
                        @for device in devices {
                            tr data-key=(device.id) class=[device.revoked.then_some("revoked")] {
                                td {
                                    (device.counter)
                                    @if let Some(unit) = &device.unit_code {
                                        " " span.unit-code { "(" (d.commune_unit) " " (unit) ")" }
                                    }
                                }
                                td { (device.name) }
                                td.when { (time(Some(&device.paired_at))) }
                                td.when { (time(device.last_seen.as_deref())) }
                                td.n { (lang.count(u64::try_from(device.ratings_received).unwrap_or(0))) }
                                td.n { (device.queued.map_or("–".to_owned(), |q| lang.count(u64::try_from(q).unwrap_or(0)))) }
                                td.n { (device.clock_skew_secs.map_or("–".to_owned(), |s| format!("{s} {}", d.seconds))) }
                                td.n { (lang.count(u64::try_from(device.conflicts).unwrap_or(0))) }
                                td { (if device.revoked { d.revoked } else { d.active }) }
                                td.version { (device.app_version.as_deref().unwrap_or("–")) }
                            }
                        }
                    }
                } }
            }
            (pair_form(f))
            (upstream(f, link))
            (backups(f, backup_state))
            (notifications(f, channels, queue))
        },
    )
}

/// The form that makes a pairing code for a counter (answered by `pairing`).
fn pair_form(f: &Frame<'_>) -> Markup {
    let d = f.d();
    html! {
        section.pair id="pair" {
            h2 { (d.pair_title) }
            p { (d.pair_lead) }
            form.pair method="post" action="/devices/pair" {
                input type="hidden" name="csrf" value=(f.csrf);
                label for="pair-counter" { (d.pair_counter) }
                input id="pair-counter" name="counter" type="text" required maxlength="100"
                    placeholder="Quầy 1";
                button type="submit" id="pair-make" { (d.pair_make) }
            }
        }
    }
}

/// A pairing code just made for `counter`: its invitation as a QR code to scan at the counter
/// (when the address tablets reach the server at is known), the invitation as text, the code
/// alone and until when it works.
pub fn pairing(
    f: &Frame<'_>,
    counter: &str,
    code: &str,
    invitation: Option<&(Markup, String)>,
    valid_until: &str,
) -> Markup {
    let d = f.d();
    frame(
        f,
        html! {
            h1 { (d.pair_for) " " (counter) }
            section.pairing id="pairing" {
                @match invitation {
                    Some((svg, text)) => {
                        p { (d.pair_scan) }
                        div.qr id="pair-qr" { (svg) }
                        p { (d.pair_invitation) }
                        p { code.invitation id="pair-invitation" { (text) } }
                    }
                    None => p.problem id="pair-no-address" { (d.pair_no_address) },
                }
                p { (d.pair_code_alone) ": " }
                p.code id="pair-code" { (code) }
                p id="pair-valid" { (d.pair_valid_until.replace("{at}", valid_until)) }
                p { a href="/devices" { (d.pair_back) } }
            }
        },
    )
}

/// How forwarding to the province stands, once this server is paired with one: where, how
/// many entries wait, the last batch sent, the failure since.
fn upstream(f: &Frame<'_>, link: &LinkState) -> Markup {
    let (d, lang) = (f.d(), f.lang);
    let time = |at: &chrono::DateTime<chrono::Utc>| {
        at.with_timezone(&chrono::Local)
            .format("%H:%M %d/%m/%Y")
            .to_string()
    };
    html! {
        @if let Some(url) = &link.url {
            section.upstream id="upstream" {
                h2 { (d.upstream) }
                p { (d.upstream_to) ": " strong { (url) } }
                p { (d.upstream_waiting) ": " strong id="upstream-waiting" { (lang.count(link.waiting)) } }
                p id="upstream-last" {
                    (d.upstream_last) ": "
                    (link.last_sent.as_ref().map_or(d.never.to_owned(), time))
                }
                @if let Some(at) = &link.token_refused {
                    p.problem id="upstream-token-refused" role="alert" {
                        (d.upstream_token_refused.replace("{at}", &time(at)))
                    }
                }
                @if let Some((at, error)) = &link.failing {
                    p.problem id="upstream-failing" role="alert" {
                        (d.upstream_failing.replace("{at}", &time(at))) ": " (error)
                    }
                }
                @if link.refused > 0 {
                    p.problem id="upstream-refused" { (d.upstream_refused) ": " (lang.count(link.refused)) }
                }
            }
        }
    }
}

/// One commune on the province's communes page: its figures for the period.
pub struct CommuneRow {
    /// Its server's device here.
    pub id: String,
    pub name: String,
    pub unit_code: String,
    pub counts: Counts,
    pub rated_dossiers: u64,
    pub last_seen: Option<String>,
    /// Entries still waiting at the commune, as it said with its last batch.
    pub waiting: Option<u64>,
}

impl CommuneRow {
    pub fn negatives(&self) -> u64 {
        Level::ALL
            .into_iter()
            .filter(|l| l.is_negative())
            .map(|l| self.counts.count(l))
            .sum()
    }
}

/// The ways the communes' table sorts: its columns.
pub const COMMUNE_SORTS: [&str; 7] = [
    "name",
    "ratings",
    "satisfied",
    "response",
    "negatives",
    "contact",
    "waiting",
];

/// A province's communes side by side for the period, sorted by `sort` (a column).
pub fn communes(f: &Frame<'_>, rows: &[CommuneRow], sort: &str) -> Markup {
    let (d, w, lang) = (f.d(), f.lang.words(), f.lang);
    let time = |at: Option<&str>| {
        at.and_then(|t| chrono::DateTime::parse_from_rfc3339(t).ok())
            .map(|t| {
                t.with_timezone(&chrono::Local)
                    .format("%H:%M %d/%m/%Y")
                    .to_string()
            })
            .unwrap_or_else(|| d.never.to_owned())
    };
    let heads = [
        ("name", w.commune),
        ("ratings", w.ratings),
        ("satisfied", without_percent(w.satisfied_pct)),
        ("response", without_percent(w.response_pct)),
        ("negatives", d.negatives),
        ("contact", d.last_seen),
        ("waiting", d.queued),
    ];
    let here = |key: &str| format!("/communes?period={}&sort={key}", f.period.code());
    frame(
        f,
        html! {
            h1 { (d.communes) }
            @if rows.is_empty() {
                p.empty id="no-communes" { (d.no_communes) }
            } @else {
                div.scroll tabindex="0" role="region" aria-label=(d.communes) { table id="communes" {
                    thead {
                        tr {
                            @for (key, label) in heads {
                                @let class = if key == "name" || key == "contact" { "" } else { "n" };
                                @if key == sort {
                                    th class=(class) aria-sort=(if key == "name" { "ascending" } else { "descending" }) {
                                        a href=(here(key)) { (label) " ▾" }
                                    }
                                } @else {
                                    th class=(class) { a href=(here(key)) { (label) } }
                                }
                            }
                        }
                    }
                    tbody {
                        @for row in rows {
                            tr data-key=(row.unit_code) {
                                td {
                                    a href=(format!("/?period={}&commune={}", f.period.code(), encode(&row.id))) { (row.name) }
                                    " " span.unit-code { "(" (row.unit_code) ")" }
                                }
                                td.n { (lang.count(row.counts.total())) }
                                td.n { (percent(lang, row.counts.satisfied_tenths())) }
                                td.n { (percent(lang, row.counts.response_tenths(row.rated_dossiers))) }
                                td.n { (lang.count(row.negatives())) }
                                td.when { (time(row.last_seen.as_deref())) }
                                td.n { (row.waiting.map_or("–".to_owned(), |n| lang.count(n))) }
                            }
                        }
                    }
                } }
            }
        },
    )
}

/// The sign-in form; `problem` says why the last try failed, never which part was wrong.
pub fn sign_in(lang: Lang, name: &str, problem: Option<&str>, csrf: &str) -> Markup {
    let d = dash(lang);
    document(
        lang,
        &format!("{} – {}", d.sign_in, d.title),
        html! {
            main.sign-in {
                (language_links(lang, "/sign-in"))
                h1 { "Hài Lòng" }
                p { (d.sign_in_lead) }
                @if let Some(problem) = problem {
                    p.problem id="problem" role="alert" { (problem) }
                }
                form method="post" action="/sign-in" {
                    input type="hidden" name="csrf" value=(csrf);
                    label for="name" { (d.name) }
                    input id="name" name="name" type="text" value=(name) autocomplete="username" required autofocus;
                    label for="password" { (d.password) }
                    input id="password" name="password" type="password" autocomplete="current-password" required;
                    button type="submit" id="submit" { (d.sign_in) }
                }
            }
        },
    )
}

/// A page that only says what went wrong, with a way back.
pub fn problem(lang: Lang, message: &str) -> Markup {
    let d = dash(lang);
    document(
        lang,
        d.title,
        html! {
            main.sign-in {
                p.problem id="problem" role="alert" { (message) }
                p { a href="/" { (d.overview) } }
            }
        },
    )
}
