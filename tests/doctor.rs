//! `kvtui doctor` through the real binary against `kvtui emulator`: it passes where kvtui would
//! work, fails (exit 1) where it would not — each FAIL with the fix — and, with a stand-in `az`
//! that refuses `--tenant` as Cloud Shell's does, opens a discovered vault of the account's tenant.

mod support;

use std::path::Path;
use std::process::Command;

const MI: &str = "6b767475-6d69-4000-8000-000000000001";
const CANARY: &str = "doctor-canary-value-5150";

fn seed(dir: &Path, vaults: &[&str]) -> String {
    let path = dir.join("seed.jsonl");
    let lines: Vec<String> = vaults
        .iter()
        .map(|v| support::seed_line(v, "app-secret", CANARY, 'd', ""))
        .collect();
    std::fs::write(&path, lines.join("\n") + "\n").expect("seed");
    path.display().to_string()
}

/// Runs `kvtui doctor ARGS` with a private HOME and no Azure variables but `env`.
fn doctor(home: &Path, args: &[&str], env: &[(&str, &str)]) -> (bool, String) {
    let mut c = Command::new(env!("CARGO_BIN_EXE_kvtui"));
    c.arg("doctor").args(args).env("HOME", home);
    for (k, sub) in [
        ("XDG_DATA_HOME", "data"),
        ("XDG_STATE_HOME", "state"),
        ("XDG_CONFIG_HOME", "config"),
    ] {
        c.env(k, home.join(sub));
    }
    for v in [
        "AZURE_CLIENT_ID",
        "AZURE_CLIENT_SECRET",
        "AZURE_TENANT_ID",
        "AZURE_CLIENT_CERTIFICATE_PATH",
        "AZURE_FEDERATED_TOKEN_FILE",
        "AZURE_AUTHORITY_HOST",
        "AZURE_POD_IDENTITY_AUTHORITY_HOST",
        "IDENTITY_ENDPOINT",
        "IDENTITY_HEADER",
        "TMUX",
    ] {
        c.env_remove(v);
    }
    c.env("KVTUI_NO_IMDS", "1").env("TERM", "xterm-256color");
    for (k, v) in env {
        c.env(k, v);
    }
    let out = c.output().expect("kvtui doctor runs");
    let text =
        String::from_utf8_lossy(&out.stdout).into_owned() + &String::from_utf8_lossy(&out.stderr);
    assert!(
        !text.contains(CANARY),
        "a value in doctor's output:\n{text}"
    );
    (out.status.success(), text)
}

fn line<'a>(text: &'a str, prefix: &str, what: &str) -> Option<&'a str> {
    text.lines()
        .find(|l| l.starts_with(prefix) && l[6..].trim_start().starts_with(what))
}

#[test]
fn doctor_passes_where_kvtui_works_and_fails_with_the_fix_where_it_would_not() {
    let dir = tempfile::tempdir().expect("dir");
    let seed = seed(dir.path(), &["demo", "rbac"]);
    let grant = format!("{MI}=Key Vault Reader@rbac");
    let emu = support::start_emulator(
        dir.path(),
        &[
            "--vault", "demo", "--vault", "rbac", "--seed", &seed, "--grant", &grant,
        ],
    );
    let ca = emu.ca_file();
    let url = |v: &str| emu.vault_url(v);
    let home = tempfile::tempdir().expect("home");

    // Passes: the local vault's own tokens, list and get allowed.
    let (ok, text) = doctor(
        home.path(),
        &["--vault", &url("demo"), "--ca", &ca, "--no-discovery"],
        &[],
    );
    assert!(ok, "{text}");
    for (prefix, what, part) in [
        ("OK", "sign-in", "the local vault's own tokens"),
        ("OK", "demo", "list: allowed (1 secret)"),
        (
            "OK",
            "demo",
            "get: allowed (read 'app-secret'; its value is not shown)",
        ),
    ] {
        assert!(
            text.lines()
                .any(|l| l.starts_with(prefix) && l.contains(what) && l.contains(part)),
            "{prefix} {what} {part:?} in:\n{text}"
        );
    }
    assert!(line(&text, "OK", "terminal").is_some() || line(&text, "WARN", "terminal").is_some());
    assert!(text.contains("clipboard"), "{text}");

    // Fails: a Key Vault Reader may list, not read; the fix is the role assignment.
    let id = emu.ready["identity_endpoint"]
        .as_str()
        .expect("identity")
        .to_string();
    let header = emu.ready["identity_header"]
        .as_str()
        .expect("header")
        .to_string();
    let (ok, text) = doctor(
        home.path(),
        &[
            "--vault",
            &url("rbac"),
            "--ca",
            &ca,
            "--no-discovery",
            "--auth",
            "managed-identity",
        ],
        &[("IDENTITY_ENDPOINT", &id), ("IDENTITY_HEADER", &header)],
    );
    assert!(!ok, "exit 1 when a check fails:\n{text}");
    assert!(
        line(&text, "OK", "sign-in").is_some_and(|l| l.contains(&format!("as app {MI}"))),
        "{text}"
    );
    assert!(
        line(&text, "OK", "rbac").is_some_and(|l| l.contains("list: allowed")),
        "{text}"
    );
    let fail = line(&text, "FAIL", "rbac").unwrap_or_else(|| panic!("{text}"));
    assert!(
        fail.contains("get: 403 Forbidden (ForbiddenByRbac)"),
        "{fail}"
    );
    assert!(
        text.contains("fix:")
            && text.contains("az role assignment create --role \"Key Vault Secrets User\""),
        "{text}"
    );
    assert!(text.contains("some checks failed"), "{text}");

    // Fails: no credential signs in; each credential says how to fix it.
    let bin = tempfile::tempdir().expect("bin");
    let az = bin.path().join("az");
    std::fs::write(
        &az,
        "#!/bin/sh\necho \"ERROR: Please run 'az login' to setup account.\" >&2\nexit 1\n",
    )
    .expect("az");
    make_executable(&az);
    let path = format!(
        "{}:{}",
        bin.path().display(),
        std::env::var("PATH").unwrap_or_default()
    );
    let (ok, text) = doctor(
        home.path(),
        &[
            "--vault",
            &url("demo"),
            "--ca",
            &ca,
            "--no-discovery",
            "--auth",
            "cli",
        ],
        &[("PATH", &path)],
    );
    assert!(!ok, "{text}");
    assert!(line(&text, "FAIL", "sign-in").is_some(), "{text}");
    assert!(text.contains("az login"), "{text}");
}

fn make_executable(p: &Path) {
    use std::os::unix::fs::PermissionsExt;
    std::fs::set_permissions(p, std::fs::Permissions::from_mode(0o755)).expect("chmod");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn in_a_cloud_shell_like_account_a_discovered_vault_opens_without_tenant() {
    // Two tenants; the guest vault's subscription (2) is in the second, where the account is.
    let dir = tempfile::tempdir().expect("dir");
    let seed = seed(dir.path(), &["home", "guest"]);
    let emu = support::start_emulator(
        dir.path(),
        &[
            "--vault",
            "home",
            "--vault",
            "guest",
            "--seed",
            &seed,
            "--tenants",
            "2",
            "--subscriptions",
            "2",
        ],
    );
    let ca = emu.ca_file();
    let tenants: Vec<String> = emu.ready["tenants"]
        .as_array()
        .expect("tenants")
        .iter()
        .map(|t| t.as_str().expect("tenant").to_string())
        .collect();
    let second = tenants[1].clone();
    let authority = emu.ready["authority_host"]
        .as_str()
        .expect("authority")
        .to_string();
    let http =
        kvtui::vault::transport::http_client(Some(&std::fs::read_to_string(&ca).expect("ca")))
            .expect("http");
    let answer: serde_json::Value = serde_json::from_slice(
        &http
            .post(format!("{authority}/{second}/oauth2/v2.0/token"))
            .header("content-type", "application/x-www-form-urlencoded")
            .body("grant_type=password&username=alice%40contoso.localhost&password=x&scope=https%3A%2F%2Fvault.azure.net%2F.default")
            .send()
            .await
            .expect("token")
            .bytes()
            .await
            .expect("body"),
    )
    .expect("json");
    // No --user given: the password grant is refused; a client token stands in for the account.
    let token = match answer["access_token"].as_str() {
        Some(t) => t.to_string(),
        None => {
            let a: serde_json::Value = serde_json::from_slice(
                &http
                    .post(format!("{authority}/{second}/oauth2/v2.0/token"))
                    .header("content-type", "application/x-www-form-urlencoded")
                    .body("grant_type=client_credentials&client_id=cloud-shell&client_secret=x&scope=https%3A%2F%2Fvault.azure.net%2F.default")
                    .send()
                    .await
                    .expect("token")
                    .bytes()
                    .await
                    .expect("body"),
            )
            .expect("json");
            a["access_token"].as_str().expect("token").to_string()
        }
    };
    let bin = tempfile::tempdir().expect("bin");
    let token_file = bin.path().join("token.json");
    std::fs::write(&token_file, format!(
        r#"{{"accessToken":"{token}","expiresOn":"2099-01-01 00:00:00.000000","expires_on":4070908800,"subscription":"s","tenant":"{second}","tokenType":"Bearer"}}"#
    )).expect("token file");
    let args_log = bin.path().join("args");
    let az = bin.path().join("az");
    std::fs::write(&az, format!(
        "#!/bin/sh\necho \"$@\" >> '{}'\ncase \"$*\" in *--tenant*) echo \"ERROR: Tenant shouldn't be specified for Cloud Shell account\" >&2; exit 1;; esac\ncat '{}'\n",
        args_log.display(), token_file.display()
    )).expect("az");
    make_executable(&az);
    let path = format!(
        "{}:{}",
        bin.path().display(),
        std::env::var("PATH").unwrap_or_default()
    );
    let guest = emu.vault_url("guest");
    let arm = emu.ready["management_endpoint"]
        .as_str()
        .expect("arm")
        .to_string();
    let home = tempfile::tempdir().expect("home");
    let (ok, text) = tokio::task::spawn_blocking(move || {
        doctor(
            home.path(),
            &[
                "--vault",
                &guest,
                "--ca",
                &ca,
                "--auth",
                "cli",
                "--management-endpoint",
                &arm,
            ],
            &[("PATH", &path)],
        )
    })
    .await
    .expect("doctor");
    assert!(ok, "{text}");
    assert!(
        line(&text, "WARN", "discovery")
            .is_some_and(|l| l.contains("1 vault in 1 subscription over 1 of 2 tenants")),
        "{text}"
    );
    // The first tenant needs --tenant, which Cloud Shell refuses: a warning, not a failure.
    assert!(
        text.lines().any(|l| l.starts_with("WARN")
            && l.contains("Tenant shouldn't be specified")
            && l.contains("az login --tenant")),
        "{text}"
    );
    assert!(
        line(&text, "OK", "guest").is_some_and(|l| l.contains("list: allowed (1 secret)")),
        "{text}"
    );
    let args = std::fs::read_to_string(&args_log).expect("az ran");
    assert!(!args.contains(&format!("--tenant {second}")), "{args}");
}
