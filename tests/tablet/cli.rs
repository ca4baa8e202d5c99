//! The real `hailong` binary: setup, officers, catalogue, summary, export, demo, and exit
//! status 2 on bad input.

use hailong::store::{NewRating, Store};
use hailong_core::level::Level;
use hailong_core::rating::Outcome;

use crate::binary::{hailong, hailong_with_input};
use std::path::Path;
use std::process::Output;

/// `hailong setup` with the admin PIN typed on standard input, as a person would.
fn set_up(dir: &Path) {
    let out = hailong_with_input(
        dir,
        &[
            "setup",
            "--unit-name",
            "UBND xã Tân Lập",
            "--unit-code",
            "000.00.14.H56",
            "--counter",
            "Quầy 1",
        ],
        "246810\n",
    );
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
}

fn tap(dir: &Path, level: Level, when: &str) {
    let mut store = Store::open(&dir.join("hailong.db")).unwrap();
    let at = chrono::DateTime::parse_from_rfc3339(when).unwrap();
    store
        .record(&NewRating {
            at,
            scale: hailong_core::level::Scale::Three,
            outcome: Outcome::Rated(level),
            dossier: None,
            procedure: None,
            officer: None,
            counter: "Quầy 1",
            finished: true,
        })
        .unwrap();
}

fn stderr(out: &Output) -> String {
    String::from_utf8_lossy(&out.stderr).into_owned()
}

#[test]
fn setup_stores_only_a_hash_of_the_admin_pin() {
    let dir = tempfile::tempdir().unwrap();
    set_up(dir.path());
    let settings = std::fs::read_to_string(dir.path().join("settings.json")).unwrap();
    assert!(settings.contains("UBND xã Tân Lập"));
    assert!(settings.contains("$argon2id$"));
    assert!(!settings.contains("246810"));
}

#[test]
fn setup_refuses_a_short_pin_with_status_2() {
    let dir = tempfile::tempdir().unwrap();
    let out = hailong(
        dir.path(),
        &[
            "setup",
            "--admin-pin",
            "123",
            "--unit-name",
            "X",
            "--unit-code",
            "000.00.14.H56",
            "--counter",
            "Q",
        ],
    );
    assert_eq!(out.status.code(), Some(2));
    assert!(
        stderr(&out).contains("at least 6 digits"),
        "{}",
        stderr(&out)
    );
    assert!(
        stderr(&out).contains("visible to other users"),
        "a PIN on the command line is warned about: {}",
        stderr(&out)
    );
    assert!(!dir.path().join("settings.json").exists());
}

#[cfg(unix)]
#[test]
fn the_tablets_files_are_its_owners_only_and_older_ones_are_tightened() {
    use std::os::unix::fs::PermissionsExt;
    let mode = |path: &Path| std::fs::metadata(path).unwrap().permissions().mode() & 0o777;
    let dir = tempfile::tempdir().unwrap();
    let data = dir.path().join("data");
    set_up(&data);
    tap(&data, Level::Satisfied, "2026-11-20T09:00:00+07:00");
    let files = ["settings.json", "hailong.db"].map(|f| data.join(f));
    assert_eq!(mode(&data), 0o700);
    for file in &files {
        assert_eq!(mode(file), 0o600, "{}", file.display());
    }
    // As an older version left them: readable by every user of the machine.
    std::fs::set_permissions(&data, std::fs::Permissions::from_mode(0o755)).unwrap();
    for file in &files {
        std::fs::set_permissions(file, std::fs::Permissions::from_mode(0o644)).unwrap();
    }
    let out = hailong(&data, &["summary"]);
    assert!(out.status.success(), "{}", stderr(&out));
    assert_eq!(mode(&data), 0o700);
    for file in &files {
        assert_eq!(mode(file), 0o600, "{}", file.display());
    }
    let wal = data.join("hailong.db-wal");
    if wal.exists() {
        assert_eq!(mode(&wal), 0o600);
    }
}

#[test]
fn summary_json_has_every_level_of_the_scale_and_the_ratio() {
    let dir = tempfile::tempdir().unwrap();
    set_up(dir.path());
    for (level, when) in [
        (Level::VerySatisfied, "2026-11-20T09:00:00+07:00"),
        (Level::VerySatisfied, "2026-11-21T09:00:00+07:00"),
        (Level::Satisfied, "2026-11-21T10:00:00+07:00"),
        (Level::Unsatisfied, "2026-11-22T10:00:00+07:00"),
    ] {
        tap(dir.path(), level, when);
    }
    let out = hailong(dir.path(), &["summary", "--json"]);
    assert!(out.status.success(), "{}", stderr(&out));
    let json: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(json["total"], 4);
    assert_eq!(json["levels"]["very_satisfied"], 2);
    assert_eq!(json["levels"]["satisfied"], 1);
    assert_eq!(json["levels"]["unsatisfied"], 1);
    assert_eq!(json["levels"].as_object().unwrap().len(), 3);
    assert_eq!(json["satisfied_pct"], 75.0);
    assert_eq!(json["unrated"], 0);
    let out = hailong(
        dir.path(),
        &[
            "summary",
            "--json",
            "--from",
            "2026-11-21",
            "--to",
            "2026-11-21",
        ],
    );
    let json: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(json["total"], 2);
    assert_eq!(json["satisfied_pct"], 100.0);
}

#[test]
fn bad_dates_formats_and_paths_exit_with_status_2() {
    let dir = tempfile::tempdir().unwrap();
    set_up(dir.path());
    let out = hailong(dir.path(), &["summary", "--from", "2026-13-01"]);
    assert_eq!(out.status.code(), Some(2));
    assert!(stderr(&out).contains("YYYY-MM-DD"), "{}", stderr(&out));
    let out = hailong(
        dir.path(),
        &["summary", "--from", "2026-02-01", "--to", "2026-01-01"],
    );
    assert_eq!(out.status.code(), Some(2));
    let out = hailong(dir.path(), &["export", "--format", "pdfx", "--out", "x"]);
    assert_eq!(out.status.code(), Some(2));
    let out = hailong(
        dir.path(),
        &[
            "export",
            "--format",
            "csv",
            "--out",
            "/nonexistent-dir/ratings.csv",
        ],
    );
    assert_eq!(out.status.code(), Some(2));
    assert!(stderr(&out).contains("cannot write"), "{}", stderr(&out));
    let empty = tempfile::tempdir().unwrap();
    let out = hailong(empty.path(), &["summary"]);
    assert_eq!(out.status.code(), Some(2));
    assert!(stderr(&out).contains("not set up"));
}

#[test]
fn csv_export_starts_with_a_bom_and_the_documented_header() {
    let dir = tempfile::tempdir().unwrap();
    set_up(dir.path());
    tap(dir.path(), Level::Satisfied, "2026-11-21T10:00:00+07:00");
    let file = dir.path().join("ratings.csv");
    let out = hailong(
        dir.path(),
        &["export", "--format", "csv", "--out", file.to_str().unwrap()],
    );
    assert!(out.status.success(), "{}", stderr(&out));
    let bytes = std::fs::read(&file).unwrap();
    assert_eq!(&bytes[..3], b"\xEF\xBB\xBF");
    let text = String::from_utf8(bytes[3..].to_vec()).unwrap();
    let mut lines = text.lines();
    assert_eq!(
        lines.next().unwrap(),
        hailong_report::RATING_COLUMNS.join(",")
    );
    let row = lines.next().unwrap();
    assert!(row.contains(",satisfied,1,"), "{row}");
    assert!(row.contains("2026-11-21T10:00:00+07:00"));
    assert_eq!(lines.next(), None);
}

#[test]
fn demo_fills_an_empty_dir_and_refuses_real_ratings() {
    let dir = tempfile::tempdir().unwrap();
    let out = hailong(
        dir.path(),
        &["demo", "--count", "2000", "--days", "10", "--seed", "7"],
    );
    assert!(out.status.success(), "{}", stderr(&out));
    let out = hailong(dir.path(), &["summary", "--json"]);
    let json: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    let total = json["total"].as_u64().unwrap();
    let unrated = json["unrated"].as_u64().unwrap();
    let repeats = json["repeat_dossier"].as_u64().unwrap();
    assert_eq!(total + unrated + repeats, 2000);
    assert!(unrated > 0 && json["levels"]["unsatisfied"].as_u64().unwrap() > 0);
    // More demo data may go into a demo dir.
    assert!(
        hailong(dir.path(), &["demo", "--count", "10"])
            .status
            .success()
    );

    let real = tempfile::tempdir().unwrap();
    set_up(real.path());
    tap(real.path(), Level::Satisfied, "2026-11-21T10:00:00+07:00");
    let out = hailong(real.path(), &["demo", "--count", "10"]);
    assert_eq!(out.status.code(), Some(2));
    assert!(stderr(&out).contains("real ratings"));
    let store = Store::open(&real.path().join("hailong.db")).unwrap();
    assert_eq!(store.rating_count().unwrap(), 1);
}

#[test]
fn setup_over_damaged_settings_keeps_every_damaged_copy() {
    let dir = tempfile::tempdir().unwrap();
    for garbage in ["{ first damaged copy", "{ second damaged copy"] {
        std::fs::write(dir.path().join("settings.json"), garbage).unwrap();
        set_up(dir.path());
    }
    let mut kept: Vec<String> = std::fs::read_dir(dir.path())
        .unwrap()
        .map(|e| e.unwrap().path())
        .filter(|p| {
            p.file_name()
                .unwrap()
                .to_string_lossy()
                .starts_with("settings.json.damaged-")
        })
        .map(|p| std::fs::read_to_string(p).unwrap())
        .collect();
    kept.sort();
    assert_eq!(kept, ["{ first damaged copy", "{ second damaged copy"]);
}

#[test]
fn officers_are_added_with_a_pin_from_standard_input_listed_reset_and_removed() {
    let dir = tempfile::tempdir().unwrap();
    set_up(dir.path());
    let out = hailong_with_input(
        dir.path(),
        &["officer", "add", "--name", "Nguyễn Thị Hoa"],
        "2468\n",
    );
    assert!(out.status.success(), "{}", stderr(&out));
    let store = Store::open(&dir.path().join("hailong.db")).unwrap();
    let hoa = &store.officers().unwrap()[0];
    assert_eq!(hoa.name, "Nguyễn Thị Hoa");
    assert!(hailong::auth::verify_pin(&hoa.pin_hash, "2468"));
    assert!(!hoa.pin_hash.contains("2468"));

    let out = hailong(dir.path(), &["officer", "list"]);
    assert!(String::from_utf8_lossy(&out.stdout).contains("Nguyễn Thị Hoa"));

    // Bad PINs and unknown ids are bad input.
    let out = hailong_with_input(
        dir.path(),
        &["officer", "add", "--name", "Trần Văn Bình"],
        "12a4\n",
    );
    assert_eq!(out.status.code(), Some(2));
    assert!(stderr(&out).contains("only digits"), "{}", stderr(&out));
    let out = hailong_with_input(
        dir.path(),
        &["officer", "add", "--name", "Trần Văn Bình"],
        "123\n",
    );
    assert_eq!(out.status.code(), Some(2));
    let out = hailong(dir.path(), &["officer", "remove", "99"]);
    assert_eq!(out.status.code(), Some(2));
    assert_eq!(store.officers().unwrap().len(), 1);

    let id = hoa.id.to_string();
    let out = hailong_with_input(dir.path(), &["officer", "reset-pin", &id], "97531\n");
    assert!(out.status.success(), "{}", stderr(&out));
    assert!(hailong::auth::verify_pin(
        &store.officer(hoa.id).unwrap().pin_hash,
        "97531"
    ));
    let out = hailong(dir.path(), &["officer", "remove", &id]);
    assert!(out.status.success(), "{}", stderr(&out));
    assert!(store.officers().unwrap().is_empty());
}

#[test]
fn setup_loads_the_bundled_catalogue_and_an_import_replaces_it_only_when_valid() {
    let dir = tempfile::tempdir().unwrap();
    set_up(dir.path());
    let store = Store::open(&dir.path().join("hailong.db")).unwrap();
    let bundled = store.procedure_count().unwrap();
    assert!(bundled >= 10);

    let bad = dir.path().join("bad.csv");
    std::fs::write(&bad, "code,name_vi,field_vi,field_code\n1.001193,Đăng ký khai sinh,Hộ tịch,ho_tich\n1.001193,Lặp,Hộ tịch,ho_tich\n").unwrap();
    let out = hailong(dir.path(), &["catalogue", "import", bad.to_str().unwrap()]);
    assert_eq!(out.status.code(), Some(2));
    assert!(stderr(&out).contains("line 3"), "{}", stderr(&out));
    assert_eq!(
        store.procedure_count().unwrap(),
        bundled,
        "a bad file changes nothing"
    );

    let good = dir.path().join("tinh.csv");
    std::fs::write(
        &good,
        "\u{feff}code,name_vi,field_vi,field_code\n1.000001,Thủ tục thử nghiệm,Nội vụ,noi_vu\n",
    )
    .unwrap();
    let out = hailong(dir.path(), &["catalogue", "import", good.to_str().unwrap()]);
    assert!(out.status.success(), "{}", stderr(&out));
    assert_eq!(store.procedure_count().unwrap(), 1);
    assert_eq!(
        store.search_procedures("thu nghiem", 5).unwrap()[0].code,
        "1.000001"
    );

    let out = hailong(
        dir.path(),
        &["catalogue", "import", "/nonexistent/tinh.csv"],
    );
    assert_eq!(out.status.code(), Some(2));

    // A catalogue saved as Windows-1258 or Latin-1 rather than UTF-8 is named as such.
    let latin = dir.path().join("latin.csv");
    std::fs::write(
        &latin,
        b"code,name_vi,field_vi,field_code\n1.000001,Th\xf4ng b\xe1o,N\xf4i,noi\n",
    )
    .unwrap();
    let out = hailong(
        dir.path(),
        &["catalogue", "import", latin.to_str().unwrap()],
    );
    assert_eq!(out.status.code(), Some(2));
    assert!(stderr(&out).contains("UTF-8"), "{}", stderr(&out));
    assert_eq!(store.procedure_count().unwrap(), 1);
}

#[test]
fn a_reader_that_closes_the_pipe_early_ends_a_command_quietly_with_status_0() {
    let dir = tempfile::tempdir().unwrap();
    set_up(dir.path());
    for name in ["Nguyễn Thị Hoa", "Trần Văn Bình"] {
        let out = hailong_with_input(dir.path(), &["officer", "add", "--name", name], "2468\n");
        assert!(out.status.success(), "{}", stderr(&out));
    }
    tap(dir.path(), Level::Satisfied, "2026-11-20T09:00:00+07:00");
    for args in [
        &["officer", "list"][..],
        &["summary"][..],
        &["summary", "--json"][..],
    ] {
        // As `| head -1` leaves it once it has read its line: nobody reads any more.
        let (reader, writer) = std::io::pipe().unwrap();
        drop(reader);
        let out = std::process::Command::new(env!("CARGO_BIN_EXE_hailong"))
            .arg("--data-dir")
            .arg(dir.path())
            .args(args)
            .env_remove("HAILONG_DATA_DIR")
            .stdout(writer)
            .stderr(std::process::Stdio::piped())
            .output()
            .unwrap();
        assert_eq!(out.status.code(), Some(0), "{args:?}: {}", stderr(&out));
        assert!(
            !stderr(&out).contains("panicked"),
            "{args:?}: {}",
            stderr(&out)
        );
    }
}
