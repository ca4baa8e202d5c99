//! The administrative-procedure catalogue (thủ tục hành chính) and its CSV form.
//!
//! Columns: `code,name_vi,field_vi,field_code`, a header row first, UTF-8 (a BOM is accepted).

use serde::{Deserialize, Serialize};

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Procedure {
    /// National code, e.g. `1.001193`.
    pub code: String,
    pub name: String,
    /// Lĩnh vực as written in the catalogue, e.g. `Hộ tịch`.
    pub field_name: String,
    pub field_code: String,
}

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum CatalogueError {
    #[error("the catalogue must start with the header code,name_vi,field_vi,field_code")]
    BadHeader,
    #[error("line {line}: {message}")]
    BadRow { line: u64, message: String },
    #[error("line {line}: procedure code {code} appears twice")]
    Duplicate { line: u64, code: String },
    #[error("the catalogue has no procedures")]
    Empty,
}

impl CatalogueError {
    pub fn line(&self) -> Option<u64> {
        match self {
            CatalogueError::BadRow { line, .. } | CatalogueError::Duplicate { line, .. } => {
                Some(*line)
            }
            _ => None,
        }
    }
}

/// Parses a whole catalogue; any bad row refuses the whole file (nothing half-imported).
pub fn parse_catalogue(text: &str) -> Result<Vec<Procedure>, CatalogueError> {
    let text = text.strip_prefix('\u{feff}').unwrap_or(text);
    let mut reader = csv::ReaderBuilder::new()
        .trim(csv::Trim::All)
        .from_reader(text.as_bytes());
    let header = reader.headers().map_err(|_| CatalogueError::BadHeader)?;
    if header.iter().take(4).collect::<Vec<_>>() != ["code", "name_vi", "field_vi", "field_code"] {
        return Err(CatalogueError::BadHeader);
    }
    let mut procedures: Vec<Procedure> = Vec::new();
    let mut codes = std::collections::HashSet::new();
    for record in reader.records() {
        let line_of = |e: &csv::Error| e.position().map_or(0, |p| p.line());
        let record = record.map_err(|e| CatalogueError::BadRow {
            line: line_of(&e),
            message: e.to_string(),
        })?;
        let line = record.position().map_or(0, |p| p.line());
        let field = |i: usize| record.get(i).unwrap_or_default().to_owned();
        let procedure = Procedure {
            code: field(0),
            name: field(1),
            field_name: field(2),
            field_code: field(3),
        };
        if procedure.code.is_empty() || procedure.name.is_empty() {
            return Err(CatalogueError::BadRow {
                line,
                message: "a procedure needs a code and a name".into(),
            });
        }
        if !codes.insert(procedure.code.clone()) {
            return Err(CatalogueError::Duplicate {
                line,
                code: procedure.code,
            });
        }
        procedures.push(procedure);
    }
    if procedures.is_empty() {
        return Err(CatalogueError::Empty);
    }
    Ok(procedures)
}

#[cfg(test)]
mod tests {
    use super::*;

    const SAMPLE: &str = "\u{feff}code,name_vi,field_vi,field_code\n\
        1.001193,Đăng ký khai sinh,Hộ tịch,ho_tich\n\
        1.004859,\"Thay đổi, cải chính, bổ sung thông tin hộ tịch\",Hộ tịch,ho_tich\n";

    #[test]
    fn the_sample_catalogue_parses_with_quoted_commas() {
        let procedures = parse_catalogue(SAMPLE).unwrap();
        assert_eq!(procedures.len(), 2);
        assert_eq!(
            procedures[1].name,
            "Thay đổi, cải chính, bổ sung thông tin hộ tịch"
        );
        assert_eq!(procedures[0].field_code, "ho_tich");
    }

    #[test]
    fn bad_catalogues_are_refused_with_the_line() {
        assert_eq!(
            parse_catalogue("a,b\n1,2\n"),
            Err(CatalogueError::BadHeader)
        );
        assert_eq!(
            parse_catalogue("code,name_vi,field_vi,field_code\n"),
            Err(CatalogueError::Empty)
        );
        let dup = format!("{SAMPLE}1.001193,Khác,Hộ tịch,ho_tich\n");
        assert_eq!(parse_catalogue(&dup).unwrap_err().line(), Some(4));
        let blank = "code,name_vi,field_vi,field_code\n,Không mã,Hộ tịch,ho_tich\n";
        assert_eq!(parse_catalogue(blank).unwrap_err().line(), Some(2));
    }
}
