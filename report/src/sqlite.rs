//! Reading report entries from SQLite, the same for a tablet's store and the server's database:
//! both keep `ratings` and `misuse` tables with a `local_date` column.

use hailong_core::period::DateRange;
use hailong_core::rating::Outcome;
use hailong_core::reason::Reason;
use hailong_core::report::Entry;
use rusqlite::{Connection, Params, params};

/// Ratings and unrated dossiers in `range`.
pub fn entry_count(conn: &Connection, range: DateRange) -> rusqlite::Result<u64> {
    let (from, to) = range.text_bounds();
    conn.prepare_cached("SELECT count(*) FROM ratings WHERE local_date BETWEEN ?1 AND ?2")?
        .query_row(params![from, to], |r| r.get(0))
}

/// Misuse presses in `range`, per month (`2026-03`).
pub fn misuse_by_month(
    conn: &Connection,
    range: DateRange,
) -> rusqlite::Result<Vec<(String, u64)>> {
    let (from, to) = range.text_bounds();
    let mut stmt = conn.prepare_cached(
        "SELECT substr(local_date, 1, 7), count(*) FROM misuse
         WHERE local_date BETWEEN ?1 AND ?2 GROUP BY 1 ORDER BY 1",
    )?;
    let rows = stmt.query_map(params![from, to], |r| Ok((r.get(0)?, r.get(1)?)))?;
    rows.collect()
}

/// Runs `sql` with `params` and gives each row as an entry until `each` returns false. The
/// query's columns are, in order: id, time (RFC 3339), outcome code, reason codes, comment,
/// dossier, procedure code, procedure name, field name, officer, counter, repeat flag.
pub fn for_each_entry(
    conn: &Connection,
    sql: &str,
    params: impl Params,
    each: &mut dyn FnMut(&Entry) -> bool,
) -> rusqlite::Result<()> {
    let mut stmt = conn.prepare(sql)?;
    let mut rows = stmt.query(params)?;
    let mut entry = Entry::default();
    while let Some(row) = rows.next()? {
        let outcome: String = row.get(2)?;
        let reasons: String = row.get(3)?;
        entry.id = row.get(0)?;
        entry.at = row.get(1)?;
        entry.level = Outcome::parse(&outcome).and_then(Outcome::level);
        entry.reasons = Reason::split(&reasons).unwrap_or_default();
        entry.comment = row.get(4)?;
        entry.dossier = row.get(5)?;
        entry.procedure_code = row.get(6)?;
        entry.procedure_name = row.get(7)?;
        entry.field_name = row.get(8)?;
        entry.officer = row.get(9)?;
        entry.counter = row.get(10)?;
        entry.repeat_dossier = row.get(11)?;
        if !each(&entry) {
            break;
        }
    }
    Ok(())
}
