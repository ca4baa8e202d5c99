//! What the notifier sends: an alert of negative ratings (many in one when they arrive
//! together), a period's report, or a test. Queued as JSON; turned into a mail's subject, text
//! and attachment, or a webhook's JSON body, when it is sent. Comments are masked as on the
//! tablet (phone and ID numbers), since a mail leaves the commune's network.

use hailong_core::level::Level;
use hailong_core::privacy::mask_personal_numbers;
use hailong_core::reason::Reason;
use hailong_core::report::Entry;
use hailong_report::Lang;
use serde::{Deserialize, Serialize};

/// One negative rating, as an alert tells it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct AlertRating {
    pub id: String,
    /// The tap's local time, RFC 3339.
    pub at: String,
    /// Level code (`unsatisfied`, `very_unsatisfied`).
    pub level: String,
    /// Reason codes.
    pub reasons: Vec<String>,
    pub comment: Option<String>,
    pub officer: Option<String>,
    pub counter: Option<String>,
    pub dossier: Option<String>,
    pub procedure_code: Option<String>,
    pub procedure_name: Option<String>,
}

impl AlertRating {
    pub fn of(entry: &Entry) -> AlertRating {
        AlertRating {
            id: entry.id.clone(),
            at: entry.at.clone(),
            level: entry.level.map(|l| l.code()).unwrap_or("").to_owned(),
            reasons: entry.reasons.iter().map(|r| r.code().to_owned()).collect(),
            comment: entry.comment.as_deref().map(mask_personal_numbers),
            officer: entry.officer.clone(),
            counter: entry.counter.clone(),
            dossier: entry.dossier.clone(),
            procedure_code: entry.procedure_code.clone(),
            procedure_name: entry.procedure_name.clone(),
        }
    }
}

/// A queued message.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "type", rename_all = "snake_case")]
pub enum Message {
    Alert {
        unit: String,
        lang: String,
        ratings: Vec<AlertRating>,
    },
    /// The report of a month (`2026-10`) or a quarter (`2026-Q3`), made when it is sent.
    Report {
        unit: String,
        lang: String,
        period: String,
    },
    Test {
        unit: String,
        lang: String,
    },
}

impl Message {
    pub fn kind(&self) -> &'static str {
        match self {
            Message::Alert { .. } => "alert",
            Message::Report { .. } => "report",
            Message::Test { .. } => "test",
        }
    }

    pub fn lang(&self) -> Lang {
        let (Message::Alert { lang, .. }
        | Message::Report { lang, .. }
        | Message::Test { lang, .. }) = self;
        lang.parse().unwrap_or_default()
    }

    pub fn unit(&self) -> &str {
        let (Message::Alert { unit, .. }
        | Message::Report { unit, .. }
        | Message::Test { unit, .. }) = self;
        unit
    }
}

/// The words of the messages.
struct Words {
    alert_one: &'static str,
    alert_many: &'static str,
    lead_one: &'static str,
    lead_many: &'static str,
    reasons: &'static str,
    comment: &'static str,
    officer: &'static str,
    dossier: &'static str,
    report: &'static str,
    report_lead: &'static str,
    ratings: &'static str,
    satisfied: &'static str,
    negatives: &'static str,
    test: &'static str,
    test_body: &'static str,
    footer: &'static str,
}

const VI: Words = Words {
    alert_one: "Có đánh giá không hài lòng",
    alert_many: "{n} đánh giá không hài lòng",
    lead_one: "Có một đánh giá không hài lòng:",
    lead_many: "Có {n} đánh giá không hài lòng:",
    reasons: "Lý do",
    comment: "Ý kiến",
    officer: "Cán bộ",
    dossier: "Hồ sơ",
    report: "Báo cáo",
    report_lead: "Gửi kèm báo cáo kết quả đánh giá mức độ hài lòng (tệp PDF để in, ký và lưu).",
    ratings: "Số phiếu đánh giá",
    satisfied: "Tỷ lệ hài lòng",
    negatives: "Phiếu không hài lòng",
    test: "Thư thử",
    test_body: "Máy chủ Hài Lòng gửi được thư tới địa chỉ này. Cảnh báo và báo cáo định kỳ sẽ đến đây.",
    footer: "Thư này do máy chủ Hài Lòng của đơn vị gửi tự động.",
};

const EN: Words = Words {
    alert_one: "A negative rating",
    alert_many: "{n} negative ratings",
    lead_one: "A citizen was not satisfied:",
    lead_many: "{n} citizens were not satisfied:",
    reasons: "Reasons",
    comment: "Comment",
    officer: "Officer",
    dossier: "Dossier",
    report: "Report",
    report_lead: "The satisfaction rating report is attached (a PDF to print, sign and file).",
    ratings: "Ratings",
    satisfied: "Satisfaction",
    negatives: "Negative ratings",
    test: "Test message",
    test_body: "The Hài Lòng server can send mail to this address. Alerts and scheduled reports will come here.",
    footer: "This message was sent by the unit's Hài Lòng server.",
};

fn words(lang: Lang) -> &'static Words {
    match lang {
        Lang::Vi => &VI,
        Lang::En => &EN,
    }
}

/// `2026-11-29T14:26:05+07:00` as `14:26 29/11/2026`, the clock time where it was made.
fn clock(at: &str) -> String {
    chrono::DateTime::parse_from_rfc3339(at)
        .map(|t| t.format("%H:%M %d/%m/%Y").to_string())
        .unwrap_or_else(|_| at.to_owned())
}

/// A period code as people read it: `2026-10` "10/2026", `2026-Q3` "Quý III năm 2026".
pub fn period_label(code: &str, lang: Lang) -> String {
    match code.parse::<hailong_core::period::ReportPeriod>() {
        Ok(period) => lang.period(&period),
        Err(_) => code.to_owned(),
    }
}

/// The figures a report's mail gives in its text.
pub struct Figures {
    pub ratings: u64,
    pub satisfied_tenths: Option<u32>,
    pub negatives: u64,
}

/// A mail's subject and text.
pub fn mail_text(message: &Message, figures: Option<&Figures>) -> (String, String) {
    let lang = message.lang();
    let w = words(lang);
    let unit = message.unit();
    let mut body = String::new();
    let subject = match message {
        Message::Alert { ratings, .. } => {
            let n = ratings.len();
            let (title, lead) = if n == 1 {
                (w.alert_one.to_owned(), w.lead_one.to_owned())
            } else {
                let n = lang.count(n as u64);
                (
                    w.alert_many.replace("{n}", &n),
                    w.lead_many.replace("{n}", &n),
                )
            };
            body.push_str(&format!("{unit}\n{lead}\n"));
            for (i, r) in ratings.iter().enumerate() {
                let level = r
                    .level
                    .parse::<Level>()
                    .map_or(r.level.clone(), |l| lang.level(l).to_owned());
                body.push_str(&format!("\n{}. {} – {level}\n", i + 1, clock(&r.at)));
                let reasons: Vec<Reason> =
                    r.reasons.iter().filter_map(|c| c.parse().ok()).collect();
                if !reasons.is_empty() {
                    body.push_str(&format!("   {}: {}\n", w.reasons, lang.reasons(&reasons)));
                }
                if let Some(comment) = r.comment.as_deref().filter(|c| !c.trim().is_empty()) {
                    body.push_str(&format!("   {}: \"{}\"\n", w.comment, comment.trim()));
                }
                let who: Vec<&str> = [r.officer.as_deref(), r.counter.as_deref()]
                    .into_iter()
                    .flatten()
                    .collect();
                if !who.is_empty() {
                    body.push_str(&format!("   {}: {}\n", w.officer, who.join(" – ")));
                }
                let procedure = match (&r.procedure_code, &r.procedure_name) {
                    (Some(c), Some(n)) => Some(format!("{c} – {n}")),
                    (c, n) => n.clone().or_else(|| c.clone()),
                };
                match (&r.dossier, procedure) {
                    (Some(d), Some(p)) => body.push_str(&format!("   {}: {d} ({p})\n", w.dossier)),
                    (Some(d), None) => body.push_str(&format!("   {}: {d}\n", w.dossier)),
                    (None, Some(p)) => body.push_str(&format!("   {}: {p}\n", w.dossier)),
                    (None, None) => {}
                }
            }
            format!("[Hài Lòng] {title} – {unit}")
        }
        Message::Report { period, .. } => {
            let label = period_label(period, lang);
            body.push_str(&format!("{unit}\n{label}\n\n{}\n", w.report_lead));
            if let Some(f) = figures {
                body.push_str(&format!("\n{}: {}\n", w.ratings, lang.count(f.ratings)));
                if let Some(t) = f.satisfied_tenths {
                    body.push_str(&format!("{}: {} %\n", w.satisfied, lang.tenths(t)));
                }
                body.push_str(&format!("{}: {}\n", w.negatives, lang.count(f.negatives)));
            }
            format!("[Hài Lòng] {} {label} – {unit}", w.report)
        }
        Message::Test { .. } => {
            body.push_str(&format!("{unit}\n\n{}\n", w.test_body));
            format!("[Hài Lòng] {} – {unit}", w.test)
        }
    };
    body.push_str(&format!("\n--\n{}\n", w.footer));
    (subject, body)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn rating(comment: &str) -> AlertRating {
        AlertRating {
            id: "019a".into(),
            at: "2026-11-29T14:26:05+07:00".into(),
            level: "unsatisfied".into(),
            reasons: vec!["late".into(), "long_wait".into()],
            comment: Some(mask_personal_numbers(comment)),
            officer: Some("Nguyễn Thị Lan".into()),
            counter: Some("Quầy 1".into()),
            dossier: Some("000.00.14.H56-261128-0017".into()),
            procedure_code: Some("1.001193".into()),
            procedure_name: Some("Đăng ký khai sinh".into()),
        }
    }

    #[test]
    fn an_alert_says_who_what_and_why_with_numbers_masked() {
        let message = Message::Alert {
            unit: "UBND xã Hòa Bình".into(),
            lang: "vi".into(),
            ratings: vec![rating("Gọi tôi số 0912345678")],
        };
        let (subject, body) = mail_text(&message, None);
        assert_eq!(
            subject,
            "[Hài Lòng] Có đánh giá không hài lòng – UBND xã Hòa Bình"
        );
        assert!(
            body.contains("1. 14:26 29/11/2026 – Không hài lòng"),
            "{body}"
        );
        assert!(
            body.contains("Lý do: Trả kết quả trễ hẹn; Phải chờ đợi lâu"),
            "{body}"
        );
        assert!(body.contains("Cán bộ: Nguyễn Thị Lan – Quầy 1"), "{body}");
        assert!(
            !body.contains("0912345678"),
            "the phone number is masked: {body}"
        );
        let many = Message::Alert {
            unit: "UBND xã Hòa Bình".into(),
            lang: "en".into(),
            ratings: vec![rating(""), rating("")],
        };
        assert_eq!(
            mail_text(&many, None).0,
            "[Hài Lòng] 2 negative ratings – UBND xã Hòa Bình"
        );
    }
}
