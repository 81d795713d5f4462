//! Refusals through the real binary: `kvtui emulator` in each access model, kvtui signed in with the
//! local managed identity, and the screen read back — each refusal explained with what to do and the
//! exact command; a failed listing is never an empty vault; a wrong CA is a certificate problem at once.

mod support;

use std::time::{Duration, Instant};

use support::pty::Tui;

const MI: &str = "6b767475-6d69-4000-8000-000000000001";

struct Setup {
    _dir: tempfile::TempDir,
    home: tempfile::TempDir,
    emu: support::EmulatorProc,
    ca: String,
}

fn setup(extra: &[&str]) -> Setup {
    let dir = tempfile::tempdir().expect("tempdir");
    let seed = dir.path().join("seed.jsonl");
    let line =
        |vault: &str, name: &str| support::seed_line(vault, name, "canary-value-1234", 'c', "");
    std::fs::write(
        &seed,
        format!(
            "{}\n{}\n",
            line("rbac", "db-password"),
            line("policy", "api-key")
        ),
    )
    .expect("seed");
    let grant = format!("{MI}=Key Vault Reader@rbac");
    let policy = format!("{MI}=list@policy");
    let mut args = vec![
        "--vault",
        "rbac",
        "--vault",
        "policy",
        "--vault",
        "fw",
        "--seed",
        seed.to_str().expect("utf-8"),
        "--grant",
        &grant,
        "--access-policy",
        &policy,
        "--firewall-allow",
        "10.0.0.0/8@fw",
    ];
    args.extend_from_slice(extra);
    let emu = support::start_emulator(dir.path(), &args);
    let ca = emu.ca_file();
    Setup {
        _dir: dir,
        home: tempfile::tempdir().expect("home"),
        emu,
        ca,
    }
}

fn kvtui(s: &Setup, vault: &str) -> Tui {
    let url = s.emu.vault_url(vault);
    let endpoint = s.emu.ready["identity_endpoint"]
        .as_str()
        .expect("identity endpoint")
        .to_string();
    let header = s.emu.ready["identity_header"]
        .as_str()
        .expect("identity header")
        .to_string();
    Tui::start_with(
        &[
            "--vault",
            &url,
            "--ca",
            &s.ca,
            "--no-discovery",
            "--clipboard",
            "osc52",
        ],
        s.home.path(),
        &[
            ("IDENTITY_ENDPOINT", Some(&endpoint)),
            ("IDENTITY_HEADER", Some(&header)),
        ],
    )
}

#[test]
fn rbac_refusal_is_explained_with_the_role_and_the_command() {
    let s = setup(&[]);
    let mut tui = kvtui(&s, "rbac");
    // The Reader lists; the header says who is signed in.
    let screen = tui.wait_for("db-password");
    assert!(screen.contains(&format!("as app {MI}")), "{screen}");
    tui.send("\r");
    let screen = tui.wait_for("Refused by Azure RBAC");
    assert!(
        !screen.contains("canary-value"),
        "no value shown:\n{screen}"
    );
    tui.wait_for("Key Vault Secrets User");
    tui.send("!");
    // The error panel (its own frame: "Esc closes" at its foot).
    let panel = tui.wait_for("Esc closes");
    for part in [
        "403 · ForbiddenByRbac",
        "--role \"Key Vault Secrets User\"",
        "few minutes",
    ] {
        assert!(panel.contains(part), "{part:?} in:\n{panel}");
    }
    // Scrolled, the service's message whole.
    tui.send("jjjjjjjjjjjj");
    tui.wait_for("DecisionReason: 'DeniedWithNoValidRBAC'");
    tui.send("c");
    tui.wait_for("Copied the suggested command");
    tui.send("\x1b");
    tui.wait_gone("Esc closes");
    tui.send(":messages\r");
    tui.wait_for("messages (");
}

#[test]
fn access_policy_and_firewall_refusals_say_what_to_run() {
    let s = setup(&[]);
    let mut tui = kvtui(&s, "policy");
    tui.wait_for("api-key");
    tui.send("n");
    tui.wait_for("new secret");
    tui.send("new-one\tv\x13");
    let form = tui.wait_for("The vault refused it");
    assert!(form.contains("AccessDenied"), "{form}");
    tui.wait_for("az keyvault set-policy --name policy --object-id");
    tui.wait_for("--secret-permissions set");
    drop(tui);

    let mut tui = kvtui(&s, "fw");
    let screen = tui.wait_for("could not list");
    assert!(screen.contains("ForbiddenByFirewall"), "{screen}");
    assert!(!screen.contains("no secrets in this vault"), "{screen}");
    tui.send("!");
    tui.wait_for("Esc closes");
    tui.wait_for("az keyvault network-rule add --name fw --ip-address 127.0.0.1");
}

#[test]
fn a_wrong_ca_is_a_certificate_problem_at_once() {
    let s = setup(&[]);
    // Another local vault's CA: valid, but not the one that signed this vault's certificate.
    let other = tempfile::tempdir().expect("other");
    let other_emu = support::start_emulator(other.path(), &[]);
    let wrong_ca = other_emu.ca_file();
    let url = s.emu.vault_url("rbac");
    let start = Instant::now();
    let mut tui = Tui::start_with(
        &["--vault", &url, "--ca", &wrong_ca, "--no-discovery"],
        s.home.path(),
        &[],
    );
    let screen = tui.wait_for("could not list");
    let took = start.elapsed();
    println!("wrong CA reported after {took:?}");
    assert!(
        took < Duration::from_secs(3),
        "not retried: {took:?}\n{screen}"
    );
    assert!(screen.to_lowercase().contains("certificate"), "{screen}");
    tui.send("!");
    tui.wait_for("Esc closes");
    let panel = tui.wait_for("not trusted");
    assert!(
        panel.contains(&wrong_ca) || panel.contains("--ca"),
        "{panel}"
    );
}

#[test]
fn no_credential_at_all_is_a_sign_in_page_and_r_retries() {
    let s = setup(&[]);
    let url = s.emu.vault_url("rbac");
    let empty = tempfile::tempdir().expect("empty PATH");
    let path = empty.path().display().to_string();
    let mut tui = Tui::start_with(
        &[
            "--vault",
            &url,
            "--ca",
            &s.ca,
            "--no-discovery",
            "--auth",
            "cli",
        ],
        s.home.path(),
        &[("PATH", Some(&path)), ("AZURE_CLIENT_ID", None)],
    );
    let page = tui.wait_for("Not signed in");
    for part in [
        "Each was tried in turn",
        "AzureCliCredential",
        "az login",
        "to try again",
    ] {
        assert!(page.contains(part), "{part:?} in:\n{page}");
    }
    assert!(!page.contains("no secrets in this vault"), "{page}");
    // R tries again (still nobody signed in: the page stays).
    tui.send("R");
    tui.wait_for("Not signed in");
}

#[test]
fn a_vault_in_another_tenant_opens_after_one_retry_and_its_tenant_is_remembered() {
    const OTHER: &str = "0b1e7e2a-0000-4000-8000-00000000beef";
    let dir = tempfile::tempdir().expect("tempdir");
    let seed = dir.path().join("seed.jsonl");
    std::fs::write(
        &seed,
        support::seed_line("guest", "db-password", "canary-value-1234", 'e', "") + "\n",
    )
    .expect("seed");
    let vault_tenant = format!("guest={OTHER}");
    let emu = support::start_emulator(
        dir.path(),
        &[
            "--vault",
            "home",
            "--vault",
            "guest",
            "--vault-tenant",
            &vault_tenant,
            "--seed",
            seed.to_str().expect("utf-8"),
        ],
    );
    let ca = emu.ca_file();
    let guest = emu.vault_url("guest");
    assert_eq!(emu.ready["vault_tenants"]["guest"], OTHER);
    let home = tempfile::tempdir().expect("home");
    let args = [
        "--vault",
        guest.as_str(),
        "--ca",
        ca.as_str(),
        "--no-discovery",
    ];
    let mut tui = Tui::start_with(&args, home.path(), &[]);
    // The local vault's challenge names the tenant; kvtui asks there, says so, and lists.
    let screen = tui.wait_for(&format!("guest is in tenant {OTHER}"));
    assert!(screen.contains("remembered"), "{screen}");
    let screen = tui.wait_for("db-password");
    assert!(!screen.contains("could not list"), "{screen}");
    tui.send("q");
    tui.wait_exit();
    let remembered = std::fs::read_to_string(home.path().join("state/kvtui/tenants.json"))
        .expect("tenants.json");
    assert!(
        remembered.contains(&guest.to_ascii_lowercase()) && remembered.contains(OTHER),
        "{remembered}"
    );
    // The next start goes to the right tenant at once: nothing to learn.
    let tui = Tui::start_with(&args, home.path(), &[]);
    let screen = tui.wait_for("db-password");
    assert!(!screen.contains("is in tenant"), "{screen}");
}
