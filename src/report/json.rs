//! `results.json`: `{"metadata": {...}, "rows": [{...}, ...]}`.
//!
//! Each row object has exactly the keys of the `results.csv` header, in the same order;
//! numbers are JSON numbers (the same digits as in the CSV) and empty cells are `null`.
//! The writer is hand-rolled so key order is the contract's order without depending on
//! `serde_json`'s `preserve_order` feature; strings are escaped by `serde_json`.
//!
//! Metadata keys: `name`, `description`, `rtsim_version`, `seed`, `replications`,
//! `sweep_keys`, `notes`, `resolved_experiment` (the TOML text).

use super::{Exporter, Metadata, Results, machine_number};
use crate::columns::{Cell, result_columns};

/// Writes `results.json`.
pub struct JsonExporter;

impl Exporter for JsonExporter {
    fn file_name(&self) -> &'static str {
        "results.json"
    }
    fn serialize(&self, results: &Results, meta: &Metadata) -> Vec<u8> {
        results_json(results, meta).into_bytes()
    }
}

fn string(s: &str) -> String {
    serde_json::to_string(s).expect("a string always serializes")
}

fn number(v: f64) -> String {
    if v.is_finite() {
        machine_number(v)
    } else {
        "null".to_string()
    }
}

fn cell(c: &Cell) -> String {
    match c {
        Cell::Text(s) => string(s),
        Cell::Int(i) => i.to_string(),
        Cell::Num(v) => number(*v),
        Cell::Empty => "null".to_string(),
    }
}

fn string_array(items: &[String]) -> String {
    let inner: Vec<String> = items.iter().map(|s| string(s)).collect();
    format!("[{}]", inner.join(", "))
}

/// `{ "k": v, ... }` over pre-rendered values, indented by `indent` spaces.
fn object(pairs: &[(String, String)], indent: usize) -> String {
    if pairs.is_empty() {
        return "{}".to_string();
    }
    let pad = " ".repeat(indent + 2);
    let body: Vec<String> = pairs
        .iter()
        .map(|(k, v)| format!("{pad}{}: {v}", string(k)))
        .collect();
    format!("{{\n{}\n{}}}", body.join(",\n"), " ".repeat(indent))
}

/// The text of `results.json`.
pub fn results_json(results: &Results, meta: &Metadata) -> String {
    let metadata = object(
        &[
            ("name".into(), string(&meta.name)),
            ("description".into(), string(&meta.description)),
            ("rtsim_version".into(), string(&meta.rtsim_version)),
            ("seed".into(), meta.seed.to_string()),
            ("replications".into(), meta.replications.to_string()),
            ("sweep_keys".into(), string_array(&meta.sweep_keys)),
            ("notes".into(), string_array(&meta.notes)),
            (
                "resolved_experiment".into(),
                string(&meta.resolved_experiment),
            ),
        ],
        2,
    );
    let columns = result_columns(&meta.sweep_keys);
    let rows: Vec<String> = results
        .rows()
        .iter()
        .enumerate()
        .map(|(i, row)| {
            let theory = results.theory(i);
            let pairs: Vec<(String, String)> = columns
                .iter()
                .map(|c| (c.name(), cell(&c.cell(row, theory))))
                .collect();
            format!("    {}", object(&pairs, 4))
        })
        .collect();
    let rows = if rows.is_empty() {
        "[]".to_string()
    } else {
        format!("[\n{}\n  ]", rows.join(",\n"))
    };
    format!("{{\n  \"metadata\": {metadata},\n  \"rows\": {rows}\n}}\n")
}

#[cfg(test)]
mod tests {
    use super::super::{results_csv, testdata};
    use super::*;
    use crate::scenario::Technique;

    fn meta() -> Metadata {
        Metadata {
            name: "polling \"waste\"".into(),
            description: "d".into(),
            rtsim_version: "0.1.0".into(),
            seed: 7,
            replications: 3,
            wall_time_s: 1.25,
            resolved_experiment: "name = \"x\"\n".into(),
            sweep_keys: testdata::keys(),
            notes: vec!["n1".into()],
            charts: Vec::new(),
            marks: Vec::new(),
            claims: Vec::new(),
            findings: Default::default(),
        }
    }

    /// Keys of a JSON object in text order (serde_json without `preserve_order` sorts).
    fn keys_in_order(object_text: &str) -> Vec<String> {
        object_text
            .lines()
            .filter_map(|l| {
                let l = l.trim_start();
                l.strip_prefix('"')
                    .and_then(|rest| rest.split_once("\": "))
                    .map(|(k, _)| k.to_string())
            })
            .collect()
    }

    #[test]
    fn parses_and_keys_equal_the_csv_header() {
        let rows = testdata::sweep();
        let n = rows.len();
        let results = Results::unannotated(rows);
        let m = meta();
        let text = results_json(&results, &m);
        let v: serde_json::Value = serde_json::from_str(&text).unwrap();
        assert_eq!(v["metadata"]["name"], "polling \"waste\"");
        assert_eq!(v["metadata"]["seed"], 7);
        assert_eq!(v["metadata"]["resolved_experiment"], "name = \"x\"\n");
        assert_eq!(v["rows"].as_array().unwrap().len(), n);

        let csv = results_csv(&results, &m.sweep_keys);
        let header: Vec<String> = csv
            .lines()
            .next()
            .unwrap()
            .split(',')
            .map(String::from)
            .collect();
        let first_row = text.split("\"rows\": [").nth(1).unwrap();
        let first_row = &first_row[..first_row.find("    }").unwrap()];
        assert_eq!(keys_in_order(first_row), header);
    }

    #[test]
    fn numbers_match_csv_and_empty_is_null() {
        let mut row = testdata::row(Technique::LongPolling, 1000, None);
        row.ci95 = None;
        row.mean.latency_p99_s = f64::NAN;
        let m = meta();
        let results = Results::unannotated(vec![row]);
        let v: serde_json::Value = serde_json::from_str(&results_json(&results, &m)).unwrap();
        let r = &v["rows"][0];
        assert_eq!(r["technique"], "long-polling");
        assert_eq!(r["clients"], 1000);
        assert!(r["poll_interval_s"].is_null());
        assert_eq!(r["short-polling.interval"], "");
        assert_eq!(r["workload.clients"], "1000");
        assert!(r["requests_per_s_ci95"].is_null());
        assert!(r["latency_p99_s"].is_null());
        assert_eq!(r["empty_response_fraction"], 0.995);
        assert_eq!(r["deliveries"], 10);
    }

    #[test]
    fn empty_rows() {
        let text = results_json(&Results::default(), &Metadata::default());
        let v: serde_json::Value = serde_json::from_str(&text).unwrap();
        assert_eq!(v["rows"], serde_json::json!([]));
        assert!(text.ends_with("\"rows\": []\n}\n"));
    }
}
