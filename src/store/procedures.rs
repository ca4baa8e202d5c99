//! The procedure catalogue on the tablet: replaced whole on import, searched without diacritics.

use super::{Store, StoreError};
use hailong_core::procedure::Procedure;
use hailong_core::text::fold;
use rusqlite::{OptionalExtension, TransactionBehavior, params};

impl Store {
    /// Replaces the catalogue in one transaction.
    pub fn replace_procedures(&mut self, procedures: &[Procedure]) -> Result<(), StoreError> {
        let tx = self
            .conn
            .transaction_with_behavior(TransactionBehavior::Immediate)?;
        tx.execute("DELETE FROM procedures", [])?;
        {
            let mut insert = tx.prepare(
                "INSERT INTO procedures (code, name, field_name, field_code, search) VALUES (?1, ?2, ?3, ?4, ?5)",
            )?;
            for p in procedures {
                let search = fold(&format!("{} {} {}", p.code, p.name, p.field_name));
                insert.execute(params![p.code, p.name, p.field_name, p.field_code, search])?;
            }
        }
        tx.commit()?;
        Ok(())
    }

    /// Procedures whose code, name or field contain every word of `query`, ignoring diacritics.
    pub fn search_procedures(
        &self,
        query: &str,
        limit: usize,
    ) -> Result<Vec<Procedure>, StoreError> {
        let words: Vec<String> = fold(query).split_whitespace().map(str::to_owned).collect();
        let mut stmt = self
            .conn
            .prepare_cached("SELECT code, name, field_name, field_code, search FROM procedures ORDER BY field_name, name")?;
        let mut found = Vec::new();
        let mut rows = stmt.query([])?;
        while let Some(row) = rows.next()? {
            let search: String = row.get(4)?;
            if words.iter().all(|w| search.contains(w.as_str())) {
                found.push(procedure_from_row(row)?);
                if found.len() == limit {
                    break;
                }
            }
        }
        Ok(found)
    }

    /// The procedures of the latest ratings at this counter, most recent first (looking at the
    /// last 2,000 ratings, so it stays quick on a long history).
    pub fn recent_procedures(&self, limit: usize) -> Result<Vec<Procedure>, StoreError> {
        let mut stmt = self.conn.prepare_cached(
            "SELECT p.code, p.name, p.field_name, p.field_code
             FROM (SELECT procedure_code, max(seq) AS last
                   FROM (SELECT seq, procedure_code FROM ratings ORDER BY seq DESC LIMIT 2000)
                   WHERE procedure_code IS NOT NULL GROUP BY procedure_code) AS r
             JOIN procedures AS p ON p.code = r.procedure_code
             ORDER BY r.last DESC LIMIT ?1",
        )?;
        let rows = stmt.query_map(
            [i64::try_from(limit).unwrap_or(i64::MAX)],
            procedure_from_row,
        )?;
        Ok(rows.collect::<Result<_, _>>()?)
    }

    pub fn procedure(&self, code: &str) -> Result<Option<Procedure>, StoreError> {
        Ok(self
            .conn
            .query_row(
                "SELECT code, name, field_name, field_code FROM procedures WHERE code = ?1",
                [code],
                procedure_from_row,
            )
            .optional()?)
    }

    pub fn procedure_count(&self) -> Result<usize, StoreError> {
        Ok(self
            .conn
            .query_row("SELECT count(*) FROM procedures", [], |r| r.get(0))?)
    }
}

fn procedure_from_row(row: &rusqlite::Row<'_>) -> rusqlite::Result<Procedure> {
    Ok(Procedure {
        code: row.get(0)?,
        name: row.get(1)?,
        field_name: row.get(2)?,
        field_code: row.get(3)?,
    })
}
