//! Tenants as the real service has them: a vault in another tenant (its challenge names the tenant,
//! a token from elsewhere gets 401 AKV10032), tokens issued per tenant, Resource Manager spreading
//! subscriptions over tenants with `/tenants`, states and throttling — and kvtui's worker opening
//! such a vault after one retry in the challenge's tenant, and discovering across every tenant.

mod common;

use std::time::{Duration, Instant};

use common::*;
use kvtui::emulator::{ArmConfig, Emulator, FaultConfig, VaultPolicy};
use kvtui::vault::{Request, Response};
use serde_json::Value;

const OTHER: &str = "0b1e7e2a-0000-4000-8000-00000000beef";

async fn get(http: &reqwest::Client, url: &str, token: Option<&str>) -> (u16, Value, String) {
    let mut r = http.get(url);
    if let Some(t) = token {
        r = r.bearer_auth(t);
    }
    let resp = r.send().await.expect("response");
    let status = resp.status().as_u16();
    let challenge = resp
        .headers()
        .get("www-authenticate")
        .and_then(|h| h.to_str().ok())
        .unwrap_or_default()
        .to_string();
    let text = resp.text().await.expect("body");
    (
        status,
        serde_json::from_str(&text).unwrap_or(Value::Null),
        challenge,
    )
}

/// A token from the local Entra endpoint for `tenant` (client credentials).
async fn token_for(emu: &Emulator, tenant: &str, scope: &str) -> (u16, Value) {
    let resp = raw(emu, false)
        .post(format!(
            "{}/{tenant}/oauth2/v2.0/token",
            emu.authority_host()
        ))
        .header("content-type", "application/x-www-form-urlencoded")
        .body(format!(
            "grant_type=client_credentials&client_id=app&client_secret=pw&scope={}",
            url::form_urlencoded::byte_serialize(scope.as_bytes()).collect::<String>()
        ))
        .send()
        .await
        .expect("token response");
    let status = resp.status().as_u16();
    (
        status,
        serde_json::from_str(&resp.text().await.expect("body")).expect("json"),
    )
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_vault_in_another_tenant_names_it_and_refuses_tokens_from_elsewhere() {
    let mut cfg = config(VaultPolicy::default(), &["home", "guest"]);
    cfg.arm.vault_tenants = vec![("guest".into(), OTHER.into())];
    let emu = start_config(cfg).await;
    let http = raw(&emu, false);
    let url = |v: &str| format!("{}/secrets?api-version=7.5", emu.vault_url(v));

    // No token: the challenge names the vault's tenant.
    let (status, _, challenge) = get(&http, &url("guest"), None).await;
    assert_eq!(status, 401);
    assert!(
        challenge.contains(&format!("login.microsoftonline.com/{OTHER}\"")),
        "{challenge}"
    );
    let (_, _, home_challenge) = get(&http, &url("home"), None).await;
    assert!(home_challenge.contains(&emu.tenant), "{home_challenge}");

    // A token of the home tenant: the service's AKV10032, naming both tenants.
    let (home_token, _) = emu.issuer().issue("app", "https://vault.azure.net");
    let (status, body, challenge) = get(&http, &url("guest"), Some(&home_token)).await;
    assert_eq!(status, 401);
    assert_eq!(body["error"]["code"], "Unauthorized");
    let message = body["error"]["message"].as_str().expect("message");
    assert!(
        message.starts_with("AKV10032: Invalid issuer. Expected one of ")
            && message.contains(&format!("https://sts.windows.net/{OTHER}/"))
            && message.contains(&format!("found https://sts.windows.net/{}/", emu.tenant)),
        "{message}"
    );
    assert!(challenge.contains(OTHER), "{challenge}");
    // Not a token this instance can read: refused as invalid, never let through.
    let (status, body, _) = get(&http, &url("guest"), Some("not-a-jwt")).await;
    assert_eq!(status, 401);
    assert!(
        body["error"]["message"]
            .as_str()
            .is_some_and(|m| m.starts_with("AKV10022")),
        "{body}"
    );

    // The Entra endpoint issues per tenant: a token for the vault's tenant opens it.
    let (status, answer) = token_for(&emu, OTHER, "https://vault.azure.net/.default").await;
    assert_eq!(status, 200, "{answer}");
    let guest_token = answer["access_token"].as_str().expect("token");
    let (status, body, _) = get(&http, &url("guest"), Some(guest_token)).await;
    assert_eq!(status, 200, "{body}");
    // …and not the home vault.
    let (status, body, _) = get(&http, &url("home"), Some(guest_token)).await;
    assert_eq!(status, 401);
    assert!(body["error"]["message"]
        .as_str()
        .is_some_and(|m| m.starts_with("AKV10032")));

    // A tenant this instance does not have: Entra's AADSTS90002.
    let (status, answer) = token_for(
        &emu,
        "11111111-2222-3333-4444-555555555555",
        "https://vault.azure.net/.default",
    )
    .await;
    assert_eq!(status, 400);
    assert_eq!(answer["error"], "invalid_request");
    assert!(answer["error_description"]
        .as_str()
        .is_some_and(|d| d
            .starts_with("AADSTS90002: Tenant '11111111-2222-3333-4444-555555555555' not found")));
    // `organizations` is the home tenant.
    let (status, answer) =
        token_for(&emu, "organizations", "https://vault.azure.net/.default").await;
    assert_eq!(status, 200, "{answer}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn resource_manager_spreads_subscriptions_over_tenants_with_states_and_paging() {
    let names: Vec<String> = (0..12).map(|i| format!("kv{i:02}")).collect();
    let refs: Vec<&str> = names.iter().map(String::as_str).collect();
    let mut cfg = config(VaultPolicy::default(), &refs);
    cfg.arm = ArmConfig {
        subscriptions: 6,
        tenants: 3,
        states: vec![(2, "Disabled".into()), (3, "PastDue".into())],
        ..ArmConfig::default()
    };
    let emu = start_config(cfg).await;
    let http = raw(&emu, false);
    let arm = emu.management_endpoint();
    let scope = format!("{arm}/.default");
    let (_, home) = token_for(&emu, &emu.tenant, &scope).await;
    let home = home["access_token"].as_str().expect("token").to_string();

    let (status, tenants, _) = get(
        &http,
        &format!("{arm}/tenants?api-version=2022-12-01"),
        Some(&home),
    )
    .await;
    assert_eq!(status, 200, "{tenants}");
    let ids: Vec<&str> = tenants["value"]
        .as_array()
        .expect("value")
        .iter()
        .map(|t| t["tenantId"].as_str().expect("id"))
        .collect();
    assert_eq!(ids.len(), 3);
    assert_eq!(ids[0], emu.tenant);
    assert_eq!(tenants["value"][0]["tenantCategory"], "Home");
    assert_eq!(emu.tenants, ids);

    // /subscriptions lists the token's tenant only.
    let subs = |token: String| {
        let http = http.clone();
        let arm = arm.clone();
        async move {
            let (status, body, _) = get(
                &http,
                &format!("{arm}/subscriptions?api-version=2022-12-01"),
                Some(&token),
            )
            .await;
            assert_eq!(status, 200, "{body}");
            body["value"]
                .as_array()
                .expect("value")
                .iter()
                .map(|s| {
                    (
                        s["displayName"].as_str().expect("name").to_string(),
                        s["state"].as_str().expect("state").to_string(),
                        s["tenantId"].as_str().expect("tenant").to_string(),
                    )
                })
                .collect::<Vec<_>>()
        }
    };
    let mine = subs(home.clone()).await;
    assert_eq!(
        mine.iter().map(|s| s.0.as_str()).collect::<Vec<_>>(),
        ["kvtui local subscription 1", "kvtui local subscription 4"]
    );
    let (_, second) = token_for(&emu, ids[1], &scope).await;
    let second = second["access_token"].as_str().expect("token").to_string();
    let theirs = subs(second.clone()).await;
    assert_eq!(
        theirs,
        [
            (
                "kvtui local subscription 2".to_string(),
                "Disabled".to_string(),
                ids[1].to_string()
            ),
            (
                "kvtui local subscription 5".to_string(),
                "Enabled".to_string(),
                ids[1].to_string()
            ),
        ]
    );
    let (_, third) = token_for(&emu, ids[2], &scope).await;
    let third = third["access_token"].as_str().expect("token").to_string();
    assert_eq!(subs(third).await[0].1, "PastDue");

    // Another tenant's subscription with this tenant's token: the real 401.
    let sub2 = kvtui::emulator::arm::subscription_id(1);
    let vaults_of = |sub: &str| {
        format!(
            "{arm}/subscriptions/{sub}/providers/Microsoft.KeyVault/vaults?api-version=2023-07-01"
        )
    };
    let (status, body, _) = get(&http, &vaults_of(&sub2), Some(&home)).await;
    assert_eq!(status, 401);
    assert_eq!(body["error"]["code"], "InvalidAuthenticationTokenTenant");

    // Vault listings page by name: the skiptoken is the last name given, then a final empty page.
    let sub1 = kvtui::emulator::arm::subscription_id(0);
    let mut next = Some(format!("{}&$top=1", vaults_of(&sub1)));
    let mut pages: Vec<Vec<String>> = Vec::new();
    while let Some(link) = next.take() {
        let (status, page, _) = get(&http, &link, Some(&home)).await;
        assert_eq!(status, 200, "{page}");
        let names: Vec<String> = page["value"]
            .as_array()
            .expect("value")
            .iter()
            .map(|v| {
                assert_eq!(v["properties"]["tenantId"], emu.tenant.as_str());
                v["name"].as_str().expect("name").to_string()
            })
            .collect();
        next = page["nextLink"].as_str().map(str::to_string);
        if let (Some(n), Some(last)) = (&next, names.last()) {
            use base64::Engine as _;
            let token = n.split("$skiptoken=").nth(1).expect("skiptoken");
            let decoded = base64::engine::general_purpose::URL_SAFE_NO_PAD
                .decode(token.split('&').next().expect("token"))
                .expect("base64");
            assert_eq!(String::from_utf8(decoded).expect("utf-8"), *last);
        }
        pages.push(names);
        assert!(pages.len() < 10, "paging ends");
    }
    assert_eq!(
        pages,
        [vec!["kv00"], vec!["kv06"], vec![]],
        "a final empty page"
    );
    // A vault of subscription 2 lives in tenant 2.
    let (_, body, _) = get(&http, &vaults_of(&sub2), Some(&second)).await;
    assert_eq!(body["value"][0]["properties"]["tenantId"], ids[1]);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_worker_opens_a_vault_of_another_tenant_after_one_retry_there() {
    let mut cfg = config(VaultPolicy::default(), &["home", "guest"]);
    cfg.arm.vault_tenants = vec![("guest".into(), OTHER.into())];
    let emu = start_config(cfg).await;
    // A secret in the guest vault, set with a token of its tenant.
    let (token, _) = emu
        .issuer()
        .issue_in(OTHER, "seeder", "https://vault.azure.net");
    let seeded = raw(&emu, false)
        .put(format!(
            "{}/secrets/in-guest?api-version=7.5",
            emu.vault_url("guest")
        ))
        .bearer_auth(token)
        .header("content-type", "application/json")
        .body(r#"{"value":"guest-value"}"#)
        .send()
        .await
        .expect("seeded");
    assert_eq!(seeded.status().as_u16(), 200);

    let (w, mut rx) = worker_for(&emu);
    let vault = emu.vault_url("guest");
    let id = w.send(Request::GetSecret {
        vault: vault.clone(),
        name: "in-guest".into(),
        version: None,
    });
    let rs = responses(&mut rx, id).await;
    assert!(
        matches!(&rs[0], Response::TenantLearned { tenant, .. } if tenant == OTHER),
        "{rs:?}"
    );
    let Some(Response::Value { value, .. }) = rs.last() else {
        panic!("{rs:?}")
    };
    assert_eq!(value.expose(), "guest-value");
    // Learned once: the next request goes straight there.
    let id = w.send(Request::ListSecrets {
        vault: vault.clone(),
    });
    let rs = responses(&mut rx, id).await;
    assert!(
        rs.iter()
            .all(|r| !matches!(r, Response::TenantLearned { .. } | Response::Failed(_))),
        "{rs:?}"
    );
    // A listing first learns it as well.
    let (w, mut rx) = worker_for(&emu);
    let id = w.send(Request::ListSecrets { vault });
    let rs = responses(&mut rx, id).await;
    assert!(
        matches!(&rs[0], Response::TenantLearned { tenant, .. } if tenant == OTHER),
        "{rs:?}"
    );
    assert!(
        matches!(rs.last(), Some(Response::SecretsPage { items, done: true }) if items.len() == 1),
        "{rs:?}"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn discovery_finds_every_vault_over_three_tenants_through_throttling() {
    // 3 tenants × 40 subscriptions, one vault in each plus a few more; subscription 7 Disabled;
    // Resource Manager throttles past 25 requests a second (429 with Retry-After).
    let names: Vec<String> = (0..130).map(|i| format!("kv{i:03}")).collect();
    let refs: Vec<&str> = names.iter().map(String::as_str).collect();
    let mut cfg = config(VaultPolicy::default(), &refs);
    cfg.arm = ArmConfig {
        subscriptions: 120,
        tenants: 3,
        states: vec![(7, "Disabled".into())],
        page_size: 1,
        ..ArmConfig::default()
    };
    cfg.faults = FaultConfig {
        throttle: Some(25),
        throttle_window: Duration::from_millis(1000),
        ..FaultConfig::default()
    };
    let emu = start_config(cfg).await;
    let (w, mut rx) = worker_for(&emu);
    let t = Instant::now();
    let id = w.send(Request::Discover);
    let rs = responses_within(&mut rx, id, Duration::from_secs(120)).await;
    let elapsed = t.elapsed();
    let mut found: Vec<(String, Option<String>)> = rs
        .iter()
        .filter_map(|r| match r {
            Response::VaultFound(v) => Some((v.name.clone(), v.tenant.clone())),
            _ => None,
        })
        .collect();
    found.sort();
    // Vault i is in subscription i % 120; subscription 7 (index 6) holds kv006 and kv126.
    let expected: Vec<String> = names
        .iter()
        .enumerate()
        .filter(|(i, _)| i % 120 != 6)
        .map(|(_, n)| n.clone())
        .collect();
    assert_eq!(
        found.iter().map(|f| f.0.clone()).collect::<Vec<_>>(),
        expected,
        "no vault dropped"
    );
    // Each vault carries its tenant.
    assert_eq!(
        found[1].1.as_deref(),
        Some(emu.tenants[1].as_str()),
        "kv001"
    );
    let throttled = emu
        .service()
        .faults()
        .expect("faults")
        .stats
        .throttled
        .load(std::sync::atomic::Ordering::Relaxed);
    assert!(throttled > 0, "Resource Manager throttled");
    let warnings: Vec<&String> = rs
        .iter()
        .filter_map(|r| match r {
            Response::DiscoveryWarning(w) => Some(w),
            _ => None,
        })
        .collect();
    assert!(warnings.is_empty(), "{warnings:?}");
    let summary = rs
        .iter()
        .find_map(|r| match r {
            Response::DiscoverySummary { text, failures } => Some((text.clone(), *failures)),
            _ => None,
        })
        .expect("a summary");
    assert_eq!(
        summary,
        (
            "discovery: 128 vaults in 119 subscriptions over 3 tenants, 1 disabled skipped".into(),
            0
        )
    );
    println!("discovery over 3 tenants × 40 subscriptions with {throttled} 429s took {elapsed:?}");
}
