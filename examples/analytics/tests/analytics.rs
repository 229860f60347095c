//! The built component on fn-host-test: uploads, reports, malformed rows and
//! every client error.

mod common;

use common::{Sale, expected, sales, to_csv, to_ndjson};
use fn_host_test::{CallResult, Limits, TestFunction};
use serde_json::Value;

fn analytics() -> TestFunction {
    TestFunction::from_package(concat!(env!("CARGO_MANIFEST_DIR"), "/Cargo.toml")).unwrap()
}

fn upload(f: &TestFunction, name: &str, content_type: &str, body: impl Into<String>) -> CallResult {
    let req = http::Request::post(format!("/datasets/{name}"))
        .header("content-type", content_type)
        .body(body.into())
        .unwrap();
    f.call(req)
}

fn report(f: &TestFunction, name: &str) -> Value {
    let res = f.get(&format!("/datasets/{name}/report"));
    assert_eq!(res.status(), 200, "{}", res.describe());
    assert_eq!(res.header("content-type"), Some("application/json"));
    res.json().unwrap()
}

fn error_of(res: &CallResult) -> String {
    let body: Value = res.json().unwrap_or_default();
    body["error"].as_str().unwrap_or_default().to_owned()
}

/// Checks the report against totals computed from `sales` in the test.
fn assert_totals(report: &Value, sales: &[Sale]) {
    let e = expected(sales);
    assert_eq!(report["rows"], sales.len());
    assert_eq!(report["quantity"]["total"], e.quantity);
    assert_eq!(report["revenue_cents"]["total"], e.revenue_cents);
    assert_eq!(report["first_date"], e.first_date.as_str());
    assert_eq!(report["last_date"], e.last_date.as_str());
    let by_region = report["by_region"].as_array().unwrap();
    assert_eq!(by_region.len(), e.revenue_by_region.len());
    for group in by_region {
        let name = group["name"].as_str().unwrap();
        assert_eq!(group["revenue_cents"], e.revenue_by_region[name], "{name}");
    }
    // Ranked by revenue, highest first.
    let revenues: Vec<u64> = by_region
        .iter()
        .map(|g| g["revenue_cents"].as_u64().unwrap())
        .collect();
    assert!(revenues.windows(2).all(|w| w[0] >= w[1]), "{revenues:?}");
    for group in report["by_product"].as_array().unwrap() {
        let name = group["name"].as_str().unwrap();
        assert_eq!(group["quantity"], e.quantity_by_product[name], "{name}");
    }
    let min_qty = sales.iter().map(|s| s.quantity).min().unwrap();
    let max_price = sales.iter().map(|s| s.unit_price_cents).max().unwrap();
    assert_eq!(report["quantity"]["min"], min_qty);
    assert_eq!(report["unit_price_cents"]["max"], max_price);
    let mean = e.revenue_cents as f64 / sales.len() as f64;
    let reported = report["revenue_cents"]["mean"].as_f64().unwrap();
    assert!((reported - mean).abs() <= 0.005, "{reported} vs {mean}");
}

#[test]
fn csv_and_ndjson_give_the_same_report_with_the_known_totals() {
    let f = analytics();
    let data = sales(2_000);

    let res = upload(&f, "q1-csv", "text/csv; charset=utf-8", to_csv(&data));
    assert_eq!(res.status(), 200, "{}", res.describe());
    let summary: Value = res.json().unwrap();
    assert_eq!(summary["rows"], 2_000);
    assert_eq!(summary["malformed_rows"], 0);
    assert_eq!(summary["report"], "/datasets/q1-csv/report");
    assert_eq!(summary["revenue_cents"], expected(&data).revenue_cents);

    let res = upload(&f, "q1-json", "application/x-ndjson", to_ndjson(&data));
    assert_eq!(res.status(), 200, "{}", res.describe());

    let mut csv = report(&f, "q1-csv");
    let mut ndjson = report(&f, "q1-json");
    assert_totals(&csv, &data);
    assert_eq!(csv["format"], "csv");
    assert_eq!(ndjson["format"], "ndjson");
    for report in [&mut csv, &mut ndjson] {
        let object = report.as_object_mut().unwrap();
        object.remove("format");
        object.remove("dataset");
    }
    assert_eq!(csv, ndjson);

    // The report is what is stored in key-value.
    let stored: Value = f.kv().get_json("report:q1-csv").unwrap().unwrap();
    assert_eq!(stored["rows"], 2_000);
}

#[test]
fn tens_of_thousands_of_rows_in_one_upload() {
    let f = analytics();
    // NDJSON rows are ~100 bytes: 60k of them pass the 10 MiB default cap.
    f.set_limits(Limits::default().with_max_request_body(64 << 20));
    let data = sales(60_000);
    for (name, content_type, body) in [
        ("big-csv", "text/csv", to_csv(&data)),
        ("big-json", "application/x-ndjson", to_ndjson(&data)),
    ] {
        let res = upload(&f, name, content_type, body);
        assert_eq!(res.status(), 200, "{}", res.describe());
        assert_totals(&report(&f, name), &data);
        // One pass over the borrowed body: memory stays a small multiple of it.
        assert!(
            res.metrics.peak_memory < 64 << 20,
            "{name}: peak {} bytes",
            res.metrics.peak_memory
        );
    }
}

#[test]
fn malformed_csv_rows_are_counted_with_line_numbers() {
    let f = analytics();
    let csv = "\
date,region,product,quantity,unit_price
2024-01-05,North,Widget,3,2.50
2024-02-30,North,Widget,1,1.00
2024-01-06,South,\"Gizmo, large\",2,10
2024-01-07,South
2024-01-08,East,Widget,1,1.999
2024-01-09,East,Widget,-4,1.00
2024-01-10,,Widget,1,1.00

2024-01-11,West,Gadget,5,0.20
";
    let res = upload(&f, "messy", "text/csv", csv);
    assert_eq!(res.status(), 200, "{}", res.describe());
    let summary: Value = res.json().unwrap();
    assert_eq!(summary["rows"], 3);
    assert_eq!(summary["malformed_rows"], 5);
    let samples = summary["malformed_samples"].as_array().unwrap();
    let lines: Vec<u64> = samples
        .iter()
        .map(|s| s["line"].as_u64().unwrap())
        .collect();
    assert_eq!(lines, [3, 5, 6, 7, 8]);
    let reasons: Vec<&str> = samples
        .iter()
        .map(|s| s["reason"].as_str().unwrap())
        .collect();
    assert!(reasons[0].contains("date"), "{reasons:?}");
    assert!(
        reasons[1].contains("expected 5 fields, found 2"),
        "{reasons:?}"
    );
    assert!(reasons[2].contains("unit_price"), "{reasons:?}");
    assert!(reasons[3].contains("quantity"), "{reasons:?}");
    assert!(reasons[4].contains("`region` is empty"), "{reasons:?}");
    // 3 × 2.50 + 2 × 10.00 + 5 × 0.20
    assert_eq!(summary["revenue_cents"], 750 + 2000 + 100);
    assert_eq!(report(&f, "messy")["malformed_rows"], 5);
}

#[test]
fn malformed_ndjson_rows_are_counted_and_only_the_first_ten_sampled() {
    let f = analytics();
    let good = r#"{"date":"2024-03-01","region":"North","product":"Widget","quantity":2,"unit_price":1.25}"#;
    let mut body = format!("{good}\n{{not json\n\n");
    body.push_str(r#"{"date":"2024-03-01","region":"North","product":"Widget","quantity":"2","unit_price":1}"#);
    body.push('\n');
    for _ in 0..12 {
        body.push_str(r#"{"date":"2024-03-01","region":"North","product":"Widget"}"#);
        body.push('\n');
    }
    body.push_str(good);
    let res = upload(&f, "messy-json", "application/x-ndjson", body);
    assert_eq!(res.status(), 200, "{}", res.describe());
    let summary: Value = res.json().unwrap();
    assert_eq!(summary["rows"], 2);
    assert_eq!(summary["malformed_rows"], 14);
    let samples = summary["malformed_samples"].as_array().unwrap();
    assert_eq!(samples.len(), 10);
    assert_eq!(samples[0]["line"], 2);
    assert!(
        samples[0]["reason"]
            .as_str()
            .unwrap()
            .contains("invalid JSON")
    );
    // Line 3 is blank (skipped, not malformed); line 4 has a string quantity.
    assert_eq!(samples[1]["line"], 4);
    assert!(
        samples[1]["reason"]
            .as_str()
            .unwrap()
            .contains("expected u64")
    );
    assert_eq!(samples[2]["line"], 5);
    assert!(
        samples[2]["reason"]
            .as_str()
            .unwrap()
            .contains("missing field")
    );
}

#[test]
fn listing_and_replacing_data_sets() {
    let f = analytics();
    let listed = f.get("/datasets");
    assert_eq!(listed.status(), 200, "{}", listed.describe());
    assert_eq!(
        listed.json::<Value>().unwrap()["datasets"],
        serde_json::json!([])
    );

    let small = sales(10);
    assert_eq!(upload(&f, "b", "text/csv", to_csv(&small)).status(), 200);
    assert_eq!(
        upload(&f, "a", "text/csv", to_csv(&sales(20))).status(),
        200
    );
    f.kv().set("unrelated", "x");
    let names = f.get("/datasets/").json::<Value>().unwrap();
    assert_eq!(names["datasets"], serde_json::json!(["a", "b"]));

    // Re-uploading replaces the report; columns may come in any order,
    // unknown columns are ignored.
    let reordered =
        "unit_price,quantity,Product,region,date,note\n1.00,4,Widget,North,2024-05-01,hi\n";
    assert_eq!(upload(&f, "b", "text/csv", reordered).status(), 200);
    let b = report(&f, "b");
    assert_eq!(b["rows"], 1);
    assert_eq!(b["revenue_cents"]["total"], 400);
}

#[test]
fn unusable_uploads_are_client_errors_with_a_reason() {
    let f = analytics();
    let csv = to_csv(&sales(3));
    let cases: [(&str, &str, String, u16, &str); 8] = [
        (
            "ok",
            "application/json",
            csv.clone(),
            415,
            "text/csv or application/x-ndjson",
        ),
        ("ok", "", csv.clone(), 415, "unsupported content-type"),
        ("ok", "text/csv", String::new(), 400, "body is empty"),
        ("ok", "text/csv", " \n".into(), 400, "body is empty"),
        (
            "ok",
            "text/csv",
            "2024-01-01,North,Widget,1,1.00\n".into(),
            400,
            "missing date, region, product, quantity, unit_price",
        ),
        (
            "ok",
            "text/csv",
            "date,region,product,qty,unit_price\n".into(),
            400,
            "missing quantity",
        ),
        (
            "ok",
            "text/csv",
            "date,region,product,quantity,unit_price\n".into(),
            400,
            "no valid rows",
        ),
        (
            "bad.name",
            "text/csv",
            csv.clone(),
            400,
            "invalid data set name",
        ),
    ];
    for (name, content_type, body, status, message) in cases {
        let res = upload(&f, name, content_type, body);
        assert_eq!(
            res.status(),
            status,
            "{content_type} {message}: {}",
            res.describe()
        );
        assert!(error_of(&res).contains(message), "{}", res.text());
    }
    let res = upload(&f, "ok", "application/x-ndjson", "[1,2]\n\"x\"\n");
    assert_eq!(res.status(), 400);
    assert!(
        error_of(&res).contains("no valid rows (2 malformed); line 1:"),
        "{}",
        res.text()
    );
    assert!(
        f.kv().store(fn_host_test::DEFAULT_STORE).keys().is_empty(),
        "nothing stored"
    );

    let res = f.get("/datasets/nope/report");
    assert_eq!(res.status(), 404);
    assert!(error_of(&res).contains("no data set \"nope\""));
    assert_eq!(f.get("/datasets/ok").status(), 405);
    assert_eq!(f.post("/datasets", "x").status(), 405);
    assert_eq!(f.get("/elsewhere").status(), 404);

    // Past the body cap the runtime answers 413 before the function runs.
    f.set_limits(Limits::default().with_max_request_body(1_000));
    assert_eq!(
        upload(&f, "ok", "text/csv", to_csv(&sales(100))).status(),
        413
    );
}
