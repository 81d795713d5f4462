//! Raw HTTP against the local vault over TLS, for what the SDK never sends: every path form, api-version
//! rules, headers, bad bodies, both HTTP/1.1 (Python's) and HTTP/2 (Rust's).

mod common;

use common::*;
use serde_json::{json, Value};

const API: &str = "api-version=2025-07-01";

struct Raw {
    http: reqwest::Client,
    base: String,
}

impl Raw {
    async fn send(
        &self,
        method: &str,
        path_and_query: &str,
        body: Option<&str>,
        auth: bool,
    ) -> (u16, reqwest::header::HeaderMap, Value) {
        let url = format!("{}{path_and_query}", self.base);
        let mut req = self
            .http
            .request(method.parse().expect("method"), &url)
            .header("x-ms-client-request-id", "abc-123");
        if auth {
            req = req.header("authorization", "Bearer test-token");
        }
        if let Some(b) = body {
            req = req
                .header("content-type", "application/json")
                .body(b.to_string());
        }
        let resp = req.send().await.expect("response");
        let status = resp.status().as_u16();
        let headers = resp.headers().clone();
        let text = resp.text().await.expect("body");
        let v = if text.is_empty() {
            Value::Null
        } else {
            serde_json::from_str(&text).unwrap_or_else(|e| panic!("not JSON ({e}): {text}"))
        };
        (status, headers, v)
    }
}

async fn raw_for(emu: &kvtui::emulator::Emulator, http1: bool) -> Raw {
    Raw {
        http: raw(emu, http1),
        base: emu.vault_url("demo"),
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn challenge_comes_first_with_a_resource_both_sdks_accept() {
    let emu = start().await;
    for http1 in [true, false] {
        let r = raw_for(&emu, http1).await;
        // No token: 401 before any other validation (no api-version, bad name, bad body).
        let (status, headers, body) = r
            .send("PUT", "/secrets/bad_name", Some("{not json"), false)
            .await;
        assert_eq!(status, 401);
        assert_eq!(
            body,
            json!({"error":{"code":"Unauthorized","message":"AKV10000: Request is missing a Bearer or PoP token."}})
        );
        let challenge = headers["www-authenticate"].to_str().expect("ascii");
        assert_eq!(
            challenge,
            format!(
                "Bearer authorization=\"https://login.microsoftonline.com/{}\", resource=\"https://localhost:{}\"",
                kvtui::emulator::api::LOCAL_TENANT,
                emu.port
            )
        );
        assert_eq!(headers["content-type"], "application/json; charset=utf-8");
        let (status, _, _) = r.send("GET", "/secrets", None, false).await;
        assert_eq!(status, 401);
        // "Bearer" with nothing after it is no token.
        let resp = r
            .http
            .get(format!("{}/secrets?{API}", r.base))
            .header("authorization", "Bearer ")
            .send()
            .await
            .expect("resp");
        assert_eq!(resp.status().as_u16(), 401);
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn service_headers_and_client_request_id_echo() {
    let emu = start().await;
    let r = raw_for(&emu, true).await;
    let (status, h, _) = r
        .send(
            "PUT",
            &format!("/secrets/x?{API}"),
            Some(r#"{"value":"v"}"#),
            true,
        )
        .await;
    assert_eq!(status, 200);
    assert_eq!(h["cache-control"], "no-cache");
    assert_eq!(h["pragma"], "no-cache");
    assert_eq!(h["expires"], "-1");
    assert_eq!(h["x-content-type-options"], "nosniff");
    assert_eq!(
        h["strict-transport-security"],
        "max-age=31536000;includeSubDomains"
    );
    assert_eq!(h["x-ms-client-request-id"], "abc-123");
    assert_eq!(h["x-ms-request-id"].len(), 36);
    assert!(h.contains_key("x-ms-keyvault-service-version"));
    // Purge: 204 with no body and no content type.
    r.send("DELETE", &format!("/secrets/x?{API}"), None, true)
        .await;
    let (status, h, body) = r
        .send("DELETE", &format!("/deletedsecrets/x?{API}"), None, true)
        .await;
    assert_eq!((status, body), (204, Value::Null));
    assert!(!h.contains_key("content-type"));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn api_versions_old_today_and_future_are_accepted_malformed_refused() {
    let emu = start().await;
    let r = raw_for(&emu, false).await;
    for ok in [
        "7.0",
        "7.3",
        "7.6",
        "7.6-preview.2",
        "2016-10-01",
        "2025-07-01",
        "2026-04-01",
        "2030-01-15-preview",
    ] {
        let (status, _, body) = r
            .send("GET", &format!("/secrets?api-version={ok}"), None, true)
            .await;
        assert_eq!(status, 200, "{ok}: {body}");
    }
    for bad in [
        "",
        "7.7",
        "banana",
        "2024-12-31",
        "2025-13-01",
        "2025-7-1",
        "8.0",
    ] {
        let (status, _, body) = r
            .send("GET", &format!("/secrets?api-version={bad}"), None, true)
            .await;
        assert_eq!(status, 400, "{bad}");
        assert_eq!(body["error"]["code"], "BadParameter");
        assert_eq!(
            body["error"]["message"],
            format!("The specified version ({bad}) is not recognized. Consider using the latest supported version (2025-07-01).")
        );
    }
    let (status, _, _) = r.send("GET", "/secrets", None, true).await;
    assert_eq!(status, 400, "missing api-version");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn every_form_of_latest_and_collapsed_slashes() {
    let emu = start().await;
    let r = raw_for(&emu, true).await;
    let (_, _, set) = r
        .send(
            "PUT",
            &format!("/secrets/latest-form?{API}"),
            Some(r#"{"value":"L"}"#),
            true,
        )
        .await;
    let id = set["id"].as_str().expect("id").to_string();
    for path in [
        "/secrets/latest-form",
        "/secrets/latest-form/",
        "/secrets/latest-form/%2F",
        "//secrets//latest-form",
        "/secrets/LATEST-FORM/",
    ] {
        let (status, _, body) = r.send("GET", &format!("{path}?{API}"), None, true).await;
        assert_eq!(status, 200, "{path}");
        assert_eq!(body["value"], "L", "{path}");
        assert_eq!(body["id"], id.as_str(), "{path}");
    }
    // Field order of a SecretBundle as the current service sends it.
    let (_, _, body) = r
        .send(
            "PUT",
            &format!("/secrets/ordered?{API}"),
            Some(r#"{"value":"v","contentType":"ct","tags":{"a":"b"},"attributes":{"exp":4102444800,"nbf":1700000000}}"#),
            true,
        )
        .await;
    let keys: Vec<&str> = body
        .as_object()
        .expect("obj")
        .keys()
        .map(String::as_str)
        .collect();
    assert_eq!(keys, ["value", "contentType", "id", "attributes", "tags"]);
    let attr_keys: Vec<&str> = body["attributes"]
        .as_object()
        .expect("o")
        .keys()
        .map(String::as_str)
        .collect();
    assert_eq!(
        attr_keys,
        [
            "enabled",
            "nbf",
            "exp",
            "created",
            "updated",
            "recoveryLevel",
            "recoverableDays"
        ]
    );
    let (_, _, deleted) = r
        .send("DELETE", &format!("/secrets/ordered?{API}"), None, true)
        .await;
    let keys: Vec<&str> = deleted
        .as_object()
        .expect("obj")
        .keys()
        .map(String::as_str)
        .collect();
    assert_eq!(
        keys,
        [
            "recoveryId",
            "deletedDate",
            "scheduledPurgeDate",
            "contentType",
            "id",
            "attributes",
            "tags"
        ]
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn method_and_path_errors() {
    let emu = start().await;
    let r = raw_for(&emu, true).await;
    let (status, _, body) = r
        .send(
            "PUT",
            &format!("/secrets/?{API}"),
            Some(r#"{"value":"v"}"#),
            true,
        )
        .await;
    assert_eq!(status, 405);
    assert_eq!(
        body,
        json!({"error":{"code":"MethodNotAllowed","message":"HTTP PUT not allowed"}})
    );
    let (status, _, _) = r
        .send("POST", &format!("/secrets/x?{API}"), Some("{}"), true)
        .await;
    assert_eq!(status, 405);
    let (status, _, body) = r.send("GET", &format!("/keys/x?{API}"), None, true).await;
    assert_eq!(
        (status, body["error"]["code"].as_str()),
        (404, Some("NotFound"))
    );
    // A secret may be called "restore": only POST /secrets/restore is the restore operation.
    let (status, _, _) = r
        .send(
            "PUT",
            &format!("/secrets/restore?{API}"),
            Some(r#"{"value":"r"}"#),
            true,
        )
        .await;
    assert_eq!(status, 200);
    let (_, _, body) = r
        .send("GET", &format!("/secrets/restore?{API}"), None, true)
        .await;
    assert_eq!(body["value"], "r");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn bad_bodies_get_specific_400s() {
    let emu = start().await;
    let r = raw_for(&emu, false).await;
    let cases: &[(&str, &str)] = &[
        ("{not json", "not valid JSON"),
        ("[1,2]", "must be a JSON object"),
        ("", "body is empty"),
        (r#"{"value":5}"#, "'value' must be a string"),
        (r#"{"contentType":"x"}"#, "no 'value'"),
        (
            r#"{"value":"v","tags":{"a":1}}"#,
            "tag 'a' must be a string",
        ),
        (r#"{"value":"v","tags":[]}"#, "'tags' must be an object"),
        (
            r#"{"value":"v","attributes":{"enabled":"yes"}}"#,
            "'attributes.enabled' must be a boolean",
        ),
        (
            r#"{"value":"v","attributes":{"exp":"tomorrow"}}"#,
            "'attributes.exp' must be a number",
        ),
        (
            r#"{"value":"v","attributes":[]}"#,
            "'attributes' must be an object",
        ),
    ];
    for (body, want) in cases {
        let (status, _, resp) = r
            .send("PUT", &format!("/secrets/b?{API}"), Some(body), true)
            .await;
        assert_eq!(status, 400, "{body}");
        assert_eq!(resp["error"]["code"], "BadParameter", "{body}");
        let msg = resp["error"]["message"].as_str().expect("message");
        assert!(msg.contains(want), "{body}: {msg}");
    }
    // Read-only attributes echoed back by the Rust client are ignored, not rejected.
    r.send(
        "PUT",
        &format!("/secrets/b?{API}"),
        Some(r#"{"value":"v"}"#),
        true,
    )
    .await;
    let (status, _, _) = r
        .send(
            "PATCH",
            &format!("/secrets/b/?{API}"),
            Some(r#"{"attributes":{"created":1,"updated":2,"recoveryLevel":"x","recoverableDays":3}}"#),
            true,
        )
        .await;
    assert_eq!(status, 200);
    // A huge body is refused without reading it all.
    let huge = format!("{{\"value\":\"{}\"}}", "x".repeat(5 * 1024 * 1024));
    let resp = r
        .http
        .put(format!("{}/secrets/huge?{API}", r.base))
        .header("authorization", "Bearer t")
        .body(huge)
        .send()
        .await
        .expect("resp");
    assert_eq!(resp.status().as_u16(), 413);
    let (status, _, body) = r
        .send("GET", &format!("/secrets?{API}&maxresults=26"), None, true)
        .await;
    assert_eq!(
        (status, body["error"]["code"].as_str()),
        (400, Some("BadParameter"))
    );
    let (status, _, _) = r
        .send(
            "GET",
            &format!("/secrets?{API}&$skiptoken=garbage"),
            None,
            true,
        )
        .await;
    assert_eq!(status, 400);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn next_links_are_absolute_carry_maxresults_and_work_percent_encoded() {
    let emu = start().await;
    let r = raw_for(&emu, true).await;
    for i in 0..5 {
        r.send(
            "PUT",
            &format!("/secrets/p{i}?{API}"),
            Some(r#"{"value":"v"}"#),
            true,
        )
        .await;
    }
    let (_, _, page) = r
        .send("GET", &format!("/secrets?{API}&maxresults=2"), None, true)
        .await;
    assert_eq!(page["value"].as_array().expect("a").len(), 2);
    let next = page["nextLink"].as_str().expect("nextLink").to_string();
    let prefix = format!(
        "https://demo.localhost:{}/secrets?{API}&$skiptoken=",
        emu.port
    );
    assert!(next.starts_with(&prefix), "{next}");
    assert!(next.ends_with("&maxresults=2"), "{next}");
    // The Rust SDK re-serialises the link with the key percent-encoded.
    let encoded = next.replacen("$skiptoken", "%24skiptoken", 1);
    let path = encoded.trim_start_matches(&format!("https://demo.localhost:{}", emu.port));
    let (status, _, page2) = r.send("GET", path, None, true).await;
    assert_eq!(status, 200);
    assert_eq!(
        page2["value"][0]["id"]
            .as_str()
            .map(|s| s.ends_with("/secrets/p2")),
        Some(true)
    );
    let (_, _, last) = r.send("GET", &format!("/secrets?{API}"), None, true).await;
    assert!(last.as_object().expect("o").contains_key("nextLink"));
    assert_eq!(
        last["nextLink"],
        Value::Null,
        "the last page says null, never omits it"
    );
}
