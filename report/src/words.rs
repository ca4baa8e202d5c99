//! The words report files are written in: Vietnamese, the language reports are filed in, or
//! English. Levels and reasons use the glossary's labels.

use hailong_core::level::Level;
use hailong_core::reason::Reason;

/// The language of a report file.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum Lang {
    #[default]
    Vi,
    En,
}

impl std::str::FromStr for Lang {
    type Err = String;

    fn from_str(s: &str) -> Result<Lang, String> {
        match s {
            "vi" => Ok(Lang::Vi),
            "en" => Ok(Lang::En),
            _ => Err(format!("{s:?} is not a report language: vi or en")),
        }
    }
}

/// Every fixed text of the XLSX report and the chart.
pub struct Words {
    pub motto: &'static str,
    pub motto_sub: &'static str,
    pub title: &'static str,
    pub period: &'static str,
    pub total: &'static str,
    /// "Nơi nhận:" and the short list under it, as the administrative layout ends.
    pub recipients: &'static str,
    pub recipient_lines: [&'static str; 2],
    /// Under each signer's title.
    pub sign_here: &'static str,
    /// The signers when the office has set none.
    pub signers: [&'static str; 2],
    /// The page footer, in the spreadsheet's codes (&P page, &N pages).
    pub page_footer: &'static str,
    pub sheet_device: &'static str,
    pub device: &'static str,
    pub sheet_commune: &'static str,
    pub commune: &'static str,
    /// The row of ratings with no procedure: walk-ups, and dossiers linked without one.
    pub no_procedure: &'static str,
    /// The row of ratings with no field: walk-ups, and procedures the catalogue gives none.
    pub no_field: &'static str,
    /// The row of ratings given while no officer was on shift.
    pub no_officer: &'static str,
    /// The column of the people's summary CSV that names each row's breakdown.
    pub breakdown: &'static str,
    pub rating_id: &'static str,
    pub sheet_summary: &'static str,
    pub sheet_field: &'static str,
    pub sheet_procedure: &'static str,
    pub sheet_officer: &'static str,
    /// Each officer month by month, for appraisal.
    pub sheet_appraisal: &'static str,
    pub whole_period: &'static str,
    pub negative_reasons: &'static str,
    pub sheet_negative: &'static str,
    pub sheet_detail: &'static str,
    pub item: &'static str,
    pub count: &'static str,
    pub share: &'static str,
    pub ratings: &'static str,
    pub satisfied_pct: &'static str,
    pub armed: &'static str,
    pub rated_dossiers: &'static str,
    pub response_pct: &'static str,
    pub unrated: &'static str,
    pub repeat: &'static str,
    pub misuse: &'static str,
    pub by_month: &'static str,
    pub month: &'static str,
    pub number: &'static str,
    pub field: &'static str,
    pub procedure_code: &'static str,
    pub procedure: &'static str,
    pub officer: &'static str,
    pub counter: &'static str,
    pub time: &'static str,
    pub dossier: &'static str,
    pub level: &'static str,
    pub reasons: &'static str,
    pub comment: &'static str,
    pub counted: &'static str,
    pub yes: &'static str,
    pub no: &'static str,
    pub none: &'static str,
    pub not_rated: &'static str,
    pub chart_months: &'static str,
    pub chart_officers: &'static str,
    /// Under the months: what the labels under the bars are.
    pub chart_month_axis: &'static str,
    pub no_ratings: &'static str,
    /// The PDF report's sections that the workbook's sheets do not name.
    pub overall: &'static str,
    pub chart: &'static str,
    pub negatives: &'static str,
    pub no_negatives: &'static str,
}

const VI: Words = Words {
    motto: "CỘNG HÒA XÃ HỘI CHỦ NGHĨA VIỆT NAM",
    motto_sub: "Độc lập - Tự do - Hạnh phúc",
    title: "BÁO CÁO KẾT QUẢ ĐÁNH GIÁ MỨC ĐỘ HÀI LÒNG",
    period: "Thời điểm đánh giá",
    total: "Tổng cộng",
    recipients: "Nơi nhận:",
    recipient_lines: ["- Lãnh đạo đơn vị;", "- Lưu: VT."],
    sign_here: "(Ký, ghi rõ họ tên)",
    signers: ["NGƯỜI LẬP BIỂU", "THỦ TRƯỞNG ĐƠN VỊ"],
    page_footer: "Trang &P/&N",
    sheet_device: "Theo quầy",
    device: "Quầy (máy tính bảng)",
    sheet_commune: "Theo xã",
    commune: "Xã",
    no_procedure: "Không gắn hồ sơ, thủ tục",
    no_field: "Không gắn hồ sơ, lĩnh vực",
    no_officer: "Không có cán bộ trực",
    breakdown: "Nhóm",
    rating_id: "Mã đánh giá",
    sheet_summary: "Tổng hợp",
    sheet_field: "Theo lĩnh vực",
    sheet_procedure: "Theo thủ tục",
    sheet_officer: "Theo cán bộ",
    sheet_appraisal: "Đánh giá cán bộ",
    whole_period: "Cả kỳ",
    negative_reasons: "Lý do không hài lòng (số lần)",
    sheet_negative: "Không hài lòng",
    sheet_detail: "Chi tiết",
    item: "Chỉ tiêu",
    count: "Số lượng",
    share: "Tỷ lệ (%)",
    ratings: "Số phiếu đánh giá",
    satisfied_pct: "Tỷ lệ hài lòng (%)",
    armed: "Hồ sơ mời đánh giá",
    rated_dossiers: "Hồ sơ được đánh giá",
    response_pct: "Tỷ lệ phản hồi (%)",
    unrated: "Hồ sơ không được đánh giá",
    repeat: "Đánh giá lặp lại hồ sơ (không tính)",
    misuse: "Lượt bấm quá nhanh (không tính)",
    by_month: "Theo tháng",
    month: "Tháng",
    number: "STT",
    field: "Lĩnh vực",
    procedure_code: "Mã thủ tục",
    procedure: "Thủ tục hành chính",
    officer: "Cán bộ",
    counter: "Quầy",
    time: "Thời gian",
    dossier: "Mã hồ sơ",
    level: "Mức độ hài lòng",
    reasons: "Lý do",
    comment: "Ý kiến",
    counted: "Được tính",
    yes: "Có",
    no: "Không",
    none: "(không có)",
    not_rated: "Không đánh giá",
    chart_months: "Số phiếu đánh giá theo tháng",
    chart_officers: "Tỷ lệ hài lòng theo cán bộ (%)",
    chart_month_axis: "Tháng",
    no_ratings: "Không có phiếu đánh giá trong kỳ",
    overall: "Kết quả chung",
    chart: "Biểu đồ",
    negatives: "Phiếu không hài lòng",
    no_negatives: "Không có phiếu không hài lòng trong kỳ.",
};

const EN: Words = Words {
    motto: "SOCIALIST REPUBLIC OF VIETNAM",
    motto_sub: "Independence - Freedom - Happiness",
    title: "SATISFACTION RATING REPORT",
    period: "Period",
    total: "Total",
    recipients: "Recipients:",
    recipient_lines: ["- Head of unit;", "- Filed."],
    sign_here: "(Signature and full name)",
    signers: ["PREPARED BY", "HEAD OF UNIT"],
    page_footer: "Page &P of &N",
    sheet_device: "By counter",
    device: "Counter (tablet)",
    sheet_commune: "By commune",
    commune: "Commune",
    no_procedure: "Walk-up or no procedure",
    no_field: "Walk-up or no field",
    no_officer: "No officer on shift",
    breakdown: "Breakdown",
    rating_id: "Rating id",
    sheet_summary: "Summary",
    sheet_field: "By field",
    sheet_procedure: "By procedure",
    sheet_officer: "By officer",
    sheet_appraisal: "Officer appraisal",
    whole_period: "Whole period",
    negative_reasons: "Reasons for dissatisfaction (times)",
    sheet_negative: "Unsatisfied",
    sheet_detail: "Details",
    item: "Item",
    count: "Count",
    share: "Share (%)",
    ratings: "Ratings",
    satisfied_pct: "Satisfaction (%)",
    armed: "Dossiers offered for rating",
    rated_dossiers: "Dossiers rated",
    response_pct: "Response rate (%)",
    unrated: "Dossiers not rated",
    repeat: "Repeat ratings of a dossier (not counted)",
    misuse: "Presses too soon (not counted)",
    by_month: "By month",
    month: "Month",
    number: "No.",
    field: "Field",
    procedure_code: "Procedure code",
    procedure: "Administrative procedure",
    officer: "Officer",
    counter: "Counter",
    time: "Time",
    dossier: "Dossier code",
    level: "Level",
    reasons: "Reasons",
    comment: "Comment",
    counted: "Counted",
    yes: "Yes",
    no: "No",
    none: "(none)",
    not_rated: "Not rated",
    chart_months: "Ratings per month",
    chart_officers: "Satisfaction per officer (%)",
    chart_month_axis: "Month",
    no_ratings: "No ratings in the period",
    overall: "Overall results",
    chart: "Chart",
    negatives: "Negative ratings",
    no_negatives: "No negative ratings in the period.",
};

impl Lang {
    pub fn words(self) -> &'static Words {
        match self {
            Lang::Vi => &VI,
            Lang::En => &EN,
        }
    }

    pub fn level(self, level: Level) -> &'static str {
        let (vi, en) = match level {
            Level::VerySatisfied => ("Rất hài lòng", "Very satisfied"),
            Level::Satisfied => ("Hài lòng", "Satisfied"),
            Level::Neutral => ("Bình thường", "Neutral"),
            Level::Unsatisfied => ("Không hài lòng", "Unsatisfied"),
            Level::VeryUnsatisfied => ("Rất không hài lòng", "Very unsatisfied"),
        };
        self.pick(vi, en)
    }

    /// An entry's outcome in words: its level, or "not rated" for an armed dossier nobody rated.
    pub fn outcome(self, level: Option<Level>) -> &'static str {
        level.map_or(self.words().not_rated, |l| self.level(l))
    }

    pub fn reason(self, reason: Reason) -> &'static str {
        let (vi, en) = match reason {
            Reason::MultipleTrips => ("Phải đi lại nhiều lần", "Had to come back several times"),
            Reason::Late => ("Trả kết quả trễ hẹn", "Result was late"),
            Reason::LongWait => ("Phải chờ đợi lâu", "Waited too long"),
            Reason::Attitude => ("Thái độ cán bộ chưa tốt", "Officer's attitude was poor"),
            Reason::ExtraDocuments => (
                "Bị yêu cầu giấy tờ ngoài quy định",
                "Asked for documents not required by law",
            ),
            Reason::UnofficialFees => (
                "Phải trả chi phí ngoài quy định",
                "Had to pay unofficial fees",
            ),
            Reason::UnclearGuidance => (
                "Hướng dẫn, thủ tục chưa rõ ràng",
                "Guidance or procedure was unclear",
            ),
            Reason::Other => ("Lý do khác", "Other"),
            Reason::NotGiven => ("Không nêu lý do", "No reason given"),
        };
        self.pick(vi, en)
    }

    /// Reasons with how often they were given: "Trả kết quả trễ hẹn: 2; Phải chờ đợi lâu: 1".
    pub fn reason_counts(self, reasons: &[(Reason, u64)]) -> String {
        reasons
            .iter()
            .map(|&(r, n)| format!("{}: {}", self.reason(r), self.count(n)))
            .collect::<Vec<_>>()
            .join("; ")
    }

    /// Reasons joined with "; ".
    pub fn reasons(self, reasons: &[Reason]) -> String {
        reasons
            .iter()
            .map(|&r| self.reason(r))
            .collect::<Vec<_>>()
            .join("; ")
    }

    /// The note under a list of negatives cut short: which ones it shows and where the rest are.
    pub fn negatives_cut(self, shown: usize, all: usize) -> String {
        match self {
            Lang::Vi => format!(
                "Danh sách trên gồm {} phiếu gần nhất trong {} phiếu không hài lòng của kỳ; \
                 danh sách đầy đủ ở trang tính “{}” của báo cáo Excel.",
                self.count(shown as u64),
                self.count(all as u64),
                self.words().sheet_negative
            ),
            Lang::En => format!(
                "The list above holds the {} most recent of the period's {} negative ratings; \
                 the full list is on the “{}” sheet of the Excel report.",
                self.count(shown as u64),
                self.count(all as u64),
                self.words().sheet_negative
            ),
        }
    }

    /// What the officers' axis shows, said under the chart's title, since it may not start at 0.
    pub fn officer_axis(self, from: u32) -> String {
        match (self, from) {
            (Lang::Vi, 0) => "Trục ngang từ 0 % đến 100 %; trong ngoặc: số phiếu".to_owned(),
            (Lang::Vi, f) => {
                format!(
                    "Trục ngang bắt đầu từ {f} % (không phải 0 %) đến 100 %; trong ngoặc: số phiếu"
                )
            }
            (Lang::En, 0) => "The axis runs from 0% to 100%; in brackets: ratings".to_owned(),
            (Lang::En, f) => {
                format!("The axis starts at {f}% (not 0%) and ends at 100%; in brackets: ratings")
            }
        }
    }

    /// An officer's figures beside the bar: "91,9 % (480 phiếu)".
    pub fn officer_value(self, tenths: u32, ratings: u64) -> String {
        match self {
            Lang::Vi => format!("{} % ({} phiếu)", self.tenths(tenths), self.count(ratings)),
            Lang::En => format!("{}% ({} ratings)", self.tenths(tenths), self.count(ratings)),
        }
    }

    /// A page's footer: "Trang 2/5".
    pub fn page_of(self, page: usize, pages: usize) -> String {
        self.words()
            .page_footer
            .replace("&P", &page.to_string())
            .replace("&N", &pages.to_string())
    }

    /// Section `n` (from 1) of a printed report: "III. Theo lĩnh vực".
    pub fn section(self, n: usize, title: &str) -> String {
        const ROMAN: [&str; 12] = [
            "I", "II", "III", "IV", "V", "VI", "VII", "VIII", "IX", "X", "XI", "XII",
        ];
        match ROMAN.get(n.wrapping_sub(1)) {
            Some(r) => format!("{r}. {title}"),
            None => format!("{n}. {title}"),
        }
    }

    /// The period as a formal report names it.
    pub fn period(self, period: &hailong_core::period::ReportPeriod) -> String {
        match self {
            Lang::Vi => period.label_vi(),
            Lang::En => period.label_en(),
        }
    }

    /// What a breakdown's row without a key is called: `by_field` and `by_procedure` rows
    /// hold walk-ups, `by_officer` rows the ratings given with no officer on shift.
    pub fn no_key(self, breakdown: &str) -> &'static str {
        let words = self.words();
        match breakdown {
            "by_field" => words.no_field,
            "by_procedure" => words.no_procedure,
            "by_officer" => words.no_officer,
            _ => words.none,
        }
    }

    /// A breakdown's name (`by_field`) as a column header says it ("Lĩnh vực").
    pub fn breakdown(self, breakdown: &str) -> &'static str {
        let words = self.words();
        match breakdown {
            "by_month" => words.month,
            "by_field" => words.field,
            "by_procedure" => words.procedure,
            "by_officer" => words.officer,
            "by_device" => words.device,
            "by_commune" => words.commune,
            _ => words.total,
        }
    }

    /// The place and date line of the administrative layout: "Liêm Chung, ngày 05 tháng 02 năm
    /// 2026" (a day under 10 and the months 1 and 2 take a leading zero), "Liem Chung,
    /// 5 February 2026".
    pub fn place_and_date(self, place: Option<&str>, date: chrono::NaiveDate) -> String {
        use chrono::Datelike;
        let place = place.map(|p| format!("{p}, ")).unwrap_or_default();
        match self {
            Lang::Vi => {
                let month = match date.month() {
                    m @ (1 | 2) => format!("{m:02}"),
                    m => m.to_string(),
                };
                let ngay = if place.is_empty() { "Ngày" } else { "ngày" };
                format!(
                    "{place}{ngay} {:02} tháng {month} năm {}",
                    date.day(),
                    date.year()
                )
            }
            Lang::En => format!("{place}{}", date.format("%-d %B %Y")),
        }
    }

    /// A count as this language writes it: 12.345 in Vietnamese, 12,345 in English.
    pub fn count(self, n: u64) -> String {
        let separator = self.pick(".", ",");
        let digits = n.to_string();
        let mut out = String::new();
        for (i, c) in digits.chars().enumerate() {
            if i > 0 && (digits.len() - i).is_multiple_of(3) {
                out.push_str(separator);
            }
            out.push(c);
        }
        out
    }

    /// Tenths of a percent as this language writes them: 87,5 in Vietnamese, 87.5 in English.
    pub fn tenths(self, tenths: u32) -> String {
        let text = hailong_core::summary::format_tenths(tenths);
        match self {
            Lang::Vi => text.replace('.', ","),
            Lang::En => text,
        }
    }

    fn pick(self, vi: &'static str, en: &'static str) -> &'static str {
        match self {
            Lang::Vi => vi,
            Lang::En => en,
        }
    }
}

/// A month key (`2026-03`) as reports write it: `03/2026`.
pub fn month_label(key: &str) -> String {
    match key.split_once('-') {
        Some((year, month)) => format!("{month}/{year}"),
        None => key.to_owned(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn labels_are_the_glossarys() {
        assert_eq!(Lang::Vi.level(Level::VerySatisfied), "Rất hài lòng");
        assert_eq!(
            Lang::Vi.reason(Reason::UnofficialFees),
            "Phải trả chi phí ngoài quy định"
        );
        assert_eq!(Lang::En.reason(Reason::Late), "Result was late");
        assert_eq!(
            Lang::Vi.reasons(&[Reason::Late, Reason::Other]),
            "Trả kết quả trễ hẹn; Lý do khác"
        );
    }

    #[test]
    fn the_date_line_is_written_as_the_administrative_format_asks() {
        let d = |y, m, day| chrono::NaiveDate::from_ymd_opt(y, m, day).unwrap();
        assert_eq!(
            Lang::Vi.place_and_date(Some("Liêm Chung"), d(2026, 2, 5)),
            "Liêm Chung, ngày 05 tháng 02 năm 2026"
        );
        assert_eq!(
            Lang::Vi.place_and_date(Some("Tân Phú"), d(2026, 11, 29)),
            "Tân Phú, ngày 29 tháng 11 năm 2026"
        );
        assert_eq!(
            Lang::Vi.place_and_date(None, d(2026, 3, 1)),
            "Ngày 01 tháng 3 năm 2026"
        );
        assert_eq!(
            Lang::En.place_and_date(Some("Tan Phu"), d(2026, 2, 5)),
            "Tan Phu, 5 February 2026"
        );
    }

    #[test]
    fn numbers_are_written_as_each_language_writes_them() {
        assert_eq!(Lang::Vi.count(1_234_567), "1.234.567");
        assert_eq!(Lang::En.count(1_234_567), "1,234,567");
        assert_eq!(Lang::Vi.count(999), "999");
        assert_eq!(Lang::Vi.tenths(875), "87,5");
        assert_eq!(Lang::En.tenths(1000), "100.0");
    }
}
