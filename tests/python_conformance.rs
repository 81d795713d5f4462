//! The official Python SDK (azure-keyvault-secrets, azure-identity from PyPI) against real
//! `kvtui emulator` processes, with challenge verification on and loopback-only networking.

mod support;

/// `script` under the official Python SDK, signed in the way an app on Azure is: through the local
/// vault's managed-identity endpoint (IDENTITY_ENDPOINT/IDENTITY_HEADER), trusting its CA.
fn signed_in(emu: &support::EmulatorProc, script: &str) -> std::process::Command {
    let mut cmd = support::python_command(script);
    cmd.env(
        "IDENTITY_ENDPOINT",
        emu.ready["identity_endpoint"].as_str().expect("endpoint"),
    )
    .env(
        "IDENTITY_HEADER",
        emu.ready["identity_header"].as_str().expect("header"),
    )
    .env(
        "REQUESTS_CA_BUNDLE",
        emu.ready["ca_file"].as_str().expect("ca"),
    );
    cmd
}

#[test]
fn official_python_client_runs_the_quickstart_flow_and_more() {
    let data = tempfile::tempdir().expect("tempdir");
    let emu = support::start_emulator(
        data.path(),
        &["--delete-delay-ms", "3000", "--recover-delay-ms", "3000"],
    );
    let ca = emu.ready["ca_file"].as_str().expect("ca_file");
    assert!(
        ca.starts_with(&data.path().display().to_string()),
        "CA kept in the data directory: {ca}"
    );
    let mut cmd = support::python_command("conformance.py");
    cmd.arg(&emu.ready_file);
    let (ok, stdout, stderr) = support::run_python(cmd, "");
    println!("{stdout}");
    assert!(ok, "python conformance failed:\n{stdout}\n{stderr}");
    assert!(
        stdout.contains("python conformance: 10 passed, 0 failed"),
        "{stdout}"
    );
}

#[test]
fn default_azure_credential_uses_the_managed_identity_endpoint() {
    let data = tempfile::tempdir().expect("tempdir");
    let emu = support::start_emulator(data.path(), &[]);
    let mut cmd = signed_in(&emu, "default_credential.py");
    cmd.arg(emu.ready["vaults"]["demo"].as_str().expect("url"));
    let (ok, stdout, stderr) = support::run_python(cmd, "");
    assert!(ok, "{stdout}\n{stderr}");
    assert!(stdout.contains("value: from-managed-identity"), "{stdout}");
    assert!(
        stdout.contains("credential: ManagedIdentityCredential"),
        "{stdout}"
    );

    // A wrong IDENTITY_HEADER is refused, and the credential says so.
    let mut cmd = signed_in(&emu, "default_credential.py");
    cmd.env("IDENTITY_HEADER", "wrong")
        .arg(emu.ready["vaults"]["demo"].as_str().expect("url"));
    let (ok, stdout, stderr) = support::run_python(cmd, "");
    assert!(!ok, "a wrong identity header must fail: {stdout}");
    assert!(stderr.contains("X-IDENTITY-HEADER"), "{stderr}");
}

/// Microsoft's quickstart script, unmodified, against the local vault standing in for
/// `https://{name}.vault.azure.net` (port 443 as far as the script knows).
#[test]
fn unmodified_quickstart_script_runs_and_shows_the_deleted_but_recoverable_conflict() {
    let data = tempfile::tempdir().expect("tempdir");
    let emu = support::start_emulator(
        data.path(),
        &[
            "--vault",
            "quickstart",
            "--tls-name",
            "*.vault.azure.net",
            "--delete-delay-ms",
            "1500",
        ],
    );
    let quickstart = |input: &str| {
        let mut cmd = signed_in(&emu, "kv_secrets.py");
        cmd.env("KEY_VAULT_NAME", "quickstart")
            .env("KVTUI_STAND_IN", ".vault.azure.net")
            .env("KVTUI_VAULT_PORT", emu.ready["port"].to_string());
        support::run_python(cmd, input)
    };
    let (ok, stdout, stderr) = quickstart("quickstart-secret\nsuper-secret-value\n");
    assert!(ok, "the quickstart failed:\n{stdout}\n{stderr}");
    assert!(stdout.contains("Creating a secret in quickstart called 'quickstart-secret' with the value 'super-secret-value' ..."), "{stdout}");
    assert!(
        stdout.contains("Your secret is 'super-secret-value'."),
        "{stdout}"
    );
    assert_eq!(stdout.matches(" done.").count(), 2, "{stdout}");

    // Once the deletion has completed (the script does not wait for it; poll as the SDKs do),
    // running it again with the same name gives the error the quickstart warns about.
    let ca = emu.ca_pem();
    let url = format!("https://quickstart.localhost:{}", emu.ready["port"]);
    let client = kvtui::vault::transport::local_secret_client(&url, &ca).expect("client");
    let rt = tokio::runtime::Runtime::new().expect("runtime");
    let start = std::time::Instant::now();
    while rt
        .block_on(client.get_deleted_secret("quickstart-secret", None))
        .is_err()
    {
        assert!(
            start.elapsed() < std::time::Duration::from_secs(30),
            "deletion never completed"
        );
        std::thread::sleep(std::time::Duration::from_millis(100));
    }
    let (ok, stdout, stderr) = quickstart("quickstart-secret\nagain\n");
    assert!(!ok, "{stdout}");
    assert!(
        stderr.contains(
            "(Conflict) Secret quickstart-secret is currently in a deleted but recoverable state"
        ),
        "{stderr}"
    );
}

/// Each refusal of the access model as the official Python client meets it (RBAC roles, access
/// policies, firewall, private link, certificate-backed secrets), signed in with DefaultAzureCredential
/// through the local managed-identity endpoint.
#[test]
fn official_python_client_meets_every_refusal() {
    let data = tempfile::tempdir().expect("tempdir");
    let seed = data.path().join("seed.jsonl");
    let line = |vault: &str, name: &str, kid: &str| {
        support::seed_line(vault, name, "canary-value-1234", 'd', kid)
    };
    let kid = format!(
        r#","kid":"https://certs.localhost/keys/tls-cert/{}""#,
        "d".repeat(32)
    );
    std::fs::write(
        &seed,
        [
            line("rbac", "db-password", ""),
            line("users", "api-key", ""),
            line("certs", "tls-cert", &kid),
            line("guest", "in-guest", "").replace("canary-value-1234", "guest-canary"),
        ]
        .join("\n")
            + "\n",
    )
    .expect("seed");
    let mi = "6b767475-6d69-4000-8000-000000000001";
    let reader = format!("{mi}=Key Vault Reader@rbac");
    let user = format!("{mi}=Key Vault Secrets User@users");
    let policy = format!("{mi}=get,list@policy");
    let mut args = vec!["--seed", seed.to_str().expect("utf-8")];
    for v in ["rbac", "users", "policy", "fw", "private", "certs", "guest"] {
        args.extend(["--vault", v]);
    }
    args.extend([
        "--vault-tenant",
        "guest=0b1e7e2a-0000-4000-8000-00000000beef",
    ]);
    args.extend([
        "--grant",
        &reader,
        "--grant",
        &user,
        "--access-policy",
        &policy,
        "--firewall-allow",
        "10.0.0.0/8@fw",
        "--public-network-access",
        "disabled@private",
    ]);
    let emu = support::start_emulator(data.path(), &args);
    let mut cmd = signed_in(&emu, "refusals.py");
    cmd.arg(&emu.ready_file);
    let (ok, stdout, stderr) = support::run_python(cmd, "");
    println!("{stdout}");
    assert!(ok, "python refusals failed:\n{stdout}\n{stderr}");
    assert!(
        stdout.contains("python refusals: 7 passed, 0 failed"),
        "{stdout}"
    );
}
