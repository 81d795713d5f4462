//! The local vault's certificates: a CA that users trust once (kept in the data directory and reused
//! across restarts) and a leaf for `localhost`, `*.localhost`, each vault's name and loopback addresses,
//! made anew at every start.

use std::collections::HashMap;
use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex};

use anyhow::{anyhow, Context, Result};
use rcgen::{
    BasicConstraints, CertificateParams, CidrSubnet, DistinguishedName, DnType,
    ExtendedKeyUsagePurpose, GeneralSubtree, IsCa, Issuer, KeyPair, KeyUsagePurpose,
    NameConstraints, SanType,
};
use rustls::pki_types::{CertificateDer, PrivateKeyDer, PrivatePkcs8KeyDer};
use rustls::server::{ClientHello, ResolvesServerCert};
use rustls::sign::CertifiedKey;
use time::{Duration, OffsetDateTime};

use crate::paths;

pub struct Ca {
    key: KeyPair,
    cert_pem: String,
    /// Where the CA lives on disk, when it is not an in-memory one.
    pub path: Option<PathBuf>,
    /// The `--tls-name` names its constraints permit.
    extra: Vec<String>,
}

/// How long a CA lasts; it is renewed when fewer than `RENEW_DAYS` are left.
const CA_DAYS: i64 = 365;
const RENEW_DAYS: i64 = 30;

/// The names the CA may vouch for (name constraints): `localhost` and its subdomains, the loopback
/// addresses, and the `--tls-name` names (a wildcard's parent domain). Trusted system-wide, it still
/// cannot vouch for anything else.
fn permitted(extra: &[String]) -> Vec<GeneralSubtree> {
    let mut dns = vec!["localhost".to_string()];
    for n in extra {
        let n = n.trim_start_matches("*.").to_ascii_lowercase();
        if !n.is_empty() && !dns.contains(&n) {
            dns.push(n);
        }
    }
    let mut out: Vec<GeneralSubtree> = dns.into_iter().map(GeneralSubtree::DnsName).collect();
    for cidr in ["127.0.0.0/8", "::1/128"] {
        if let Ok(c) = cidr.parse::<CidrSubnet>() {
            out.push(GeneralSubtree::IpAddress(c));
        }
    }
    out
}

/// The CA's name is derived from its key, so the same key always gives the same issuer name.
fn ca_params(key: &KeyPair, extra: &[String]) -> CertificateParams {
    let digest = ring::digest::digest(&ring::digest::SHA256, key.public_key_raw());
    let id: String = digest.as_ref()[..4]
        .iter()
        .map(|b| format!("{b:02x}"))
        .collect();
    let mut params = CertificateParams::default();
    let mut dn = DistinguishedName::new();
    dn.push(DnType::CommonName, format!("kvtui local vault CA {id}"));
    dn.push(DnType::OrganizationName, "kvtui");
    params.distinguished_name = dn;
    params.is_ca = IsCa::Ca(BasicConstraints::Constrained(0));
    params.name_constraints = Some(NameConstraints {
        permitted_subtrees: permitted(extra),
        excluded_subtrees: Vec::new(),
    });
    params.key_usages = vec![
        KeyUsagePurpose::KeyCertSign,
        KeyUsagePurpose::CrlSign,
        KeyUsagePurpose::DigitalSignature,
    ];
    params
}

impl Ca {
    /// A CA that lives only in memory (the demo, tests).
    pub fn ephemeral(extra: &[String]) -> Result<Self> {
        let key = KeyPair::generate().context("generating the CA key")?;
        let (cert_pem, _) = Self::self_sign(&key, extra)?;
        Ok(Self {
            key,
            cert_pem,
            path: None,
            extra: extra.to_vec(),
        })
    }

    /// The CA certificate, and when it expires (unix seconds).
    fn self_sign(key: &KeyPair, extra: &[String]) -> Result<(String, i64)> {
        let mut params = ca_params(key, extra);
        let now = OffsetDateTime::now_utc();
        params.not_before = now - Duration::days(1);
        let not_after = now + Duration::days(CA_DAYS);
        params.not_after = not_after;
        Ok((
            params.self_signed(key).context("signing the CA")?.pem(),
            not_after.unix_timestamp(),
        ))
    }

    /// Whether the CA kept in `dir` can serve: made for these names, and not about to expire. A CA
    /// from before name constraints (no `ca.json`) is made anew.
    fn still_good(dir: &Path, extra: &[String]) -> bool {
        let Ok(text) = std::fs::read_to_string(dir.join("ca.json")) else {
            return false;
        };
        let Ok(v) = serde_json::from_str::<serde_json::Value>(&text) else {
            return false;
        };
        let names: Vec<String> = v["names"]
            .as_array()
            .map(|a| {
                a.iter()
                    .filter_map(|n| n.as_str().map(str::to_string))
                    .collect()
            })
            .unwrap_or_default();
        let left =
            v["not_after"].as_i64().unwrap_or(0) - OffsetDateTime::now_utc().unix_timestamp();
        names == extra && left > RENEW_DAYS * 86_400
    }

    /// The CA kept in `dir` (`ca.pem`, `ca-key.pem`, `ca.json`), made there on first use, and made
    /// anew (a new key: trust it again) when it is near its end or was made for other names.
    pub fn load_or_create(dir: &Path, extra: &[String]) -> Result<Self> {
        let cert_path = dir.join("ca.pem");
        let key_path = dir.join("ca-key.pem");
        if cert_path.exists() && key_path.exists() && Self::still_good(dir, extra) {
            let key_pem = std::fs::read_to_string(&key_path)
                .with_context(|| format!("reading {}", key_path.display()))?;
            let key = KeyPair::from_pem(&key_pem)
                .with_context(|| format!("{} is not a valid private key", key_path.display()))?;
            let cert_pem = std::fs::read_to_string(&cert_path)
                .with_context(|| format!("reading {}", cert_path.display()))?;
            return Ok(Self {
                key,
                cert_pem,
                path: Some(cert_path),
                extra: extra.to_vec(),
            });
        }
        paths::create_private_dir(dir).with_context(|| format!("creating {}", dir.display()))?;
        let key = KeyPair::generate().context("generating the CA key")?;
        let (cert_pem, not_after) = Self::self_sign(&key, extra)?;
        let info = serde_json::json!({"names": extra, "not_after": not_after});
        paths::write_private_atomic(&dir.join("ca.json"), info.to_string().as_bytes())
            .with_context(|| format!("writing {}", dir.join("ca.json").display()))?;
        paths::write_private_atomic(&key_path, key.serialize_pem().as_bytes())
            .with_context(|| format!("writing {}", key_path.display()))?;
        paths::write_private_atomic(&cert_path, cert_pem.as_bytes())
            .with_context(|| format!("writing {}", cert_path.display()))?;
        Ok(Self {
            key,
            cert_pem,
            path: Some(cert_path),
            extra: extra.to_vec(),
        })
    }

    pub fn pem(&self) -> &str {
        &self.cert_pem
    }

    /// Issues a leaf for `names` plus the loopback addresses, signed by this CA.
    fn issue(&self, names: &[String]) -> Result<Arc<CertifiedKey>> {
        let leaf_key = KeyPair::generate().context("generating the server key")?;
        let mut dns: Vec<String> = Vec::new();
        for n in names {
            let n = n.to_ascii_lowercase();
            if !dns.contains(&n) {
                dns.push(n);
            }
        }
        let mut params = CertificateParams::new(dns).context("certificate names")?;
        params
            .subject_alt_names
            .push(SanType::IpAddress([127, 0, 0, 1].into()));
        params
            .subject_alt_names
            .push(SanType::IpAddress(std::net::Ipv6Addr::LOCALHOST.into()));
        let mut dn = DistinguishedName::new();
        dn.push(DnType::CommonName, "kvtui local vault");
        params.distinguished_name = dn;
        params.extended_key_usages = vec![ExtendedKeyUsagePurpose::ServerAuth];
        params.key_usages = vec![
            KeyUsagePurpose::DigitalSignature,
            KeyUsagePurpose::KeyEncipherment,
        ];
        let now = OffsetDateTime::now_utc();
        params.not_before = now - Duration::days(1);
        params.not_after = now + Duration::days(90);
        let issuer = Issuer::new(ca_params(&self.key, &self.extra), &self.key);
        let leaf = params
            .signed_by(&leaf_key, &issuer)
            .context("signing the server certificate")?;
        let ca_der = rustls::pki_types::pem::PemObject::from_pem_slice(self.cert_pem.as_bytes())
            .map_err(|e| anyhow!("the CA certificate is not valid PEM: {e}"))?;
        let chain: Vec<CertificateDer<'static>> = vec![leaf.der().clone(), ca_der];
        let key = PrivateKeyDer::Pkcs8(PrivatePkcs8KeyDer::from(leaf_key.serialize_der()));
        let signing = rustls::crypto::ring::sign::any_supported_type(&key)
            .map_err(|e| anyhow!("unusable server key: {e}"))?;
        Ok(Arc::new(CertifiedKey::new(chain, signing)))
    }

    /// A TLS server configuration (HTTP/2 and HTTP/1.1). The default certificate covers `names`,
    /// `localhost` and the loopback addresses; a client asking (SNI) for any other `*.localhost`
    /// name, or one of `names`, gets a certificate issued for exactly that name. (Wildcards with a
    /// single label after the star, like `*.localhost`, are refused by webpki and OpenSSL alike.)
    pub fn server_config(self, names: &[String]) -> Result<rustls::ServerConfig> {
        let mut all: Vec<String> = vec!["localhost".into()];
        all.extend(names.iter().cloned());
        let default = self.issue(&all)?;
        let resolver = LeafResolver {
            extra: names.iter().map(|n| n.to_ascii_lowercase()).collect(),
            default,
            cache: Mutex::new(HashMap::new()),
            ca: self,
        };
        let mut config = rustls::ServerConfig::builder_with_provider(Arc::new(
            rustls::crypto::ring::default_provider(),
        ))
        .with_safe_default_protocol_versions()
        .context("TLS protocol versions")?
        .with_no_client_auth()
        .with_cert_resolver(Arc::new(resolver));
        config.alpn_protocols = vec![b"h2".to_vec(), b"http/1.1".to_vec()];
        Ok(config)
    }
}

/// Picks (and issues on first use) the certificate for the name the client asked for.
struct LeafResolver {
    ca: Ca,
    extra: Vec<String>,
    default: Arc<CertifiedKey>,
    cache: Mutex<HashMap<String, Arc<CertifiedKey>>>,
}

/// Bounds the cache: a client cycling through random names cannot grow it without limit.
const MAX_CACHED_LEAVES: usize = 256;

impl std::fmt::Debug for LeafResolver {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("LeafResolver").finish_non_exhaustive()
    }
}

impl ResolvesServerCert for LeafResolver {
    fn resolve(&self, hello: ClientHello<'_>) -> Option<Arc<CertifiedKey>> {
        let Some(name) = hello.server_name().map(str::to_ascii_lowercase) else {
            return Some(self.default.clone());
        };
        let wanted = crate::vault::transport::is_localhost(&name) || self.extra.contains(&name);
        if !wanted || name == "localhost" {
            return Some(self.default.clone());
        }
        let mut cache = self.cache.lock().unwrap_or_else(|p| p.into_inner());
        if let Some(c) = cache.get(&name) {
            return Some(c.clone());
        }
        let issued = self.ca.issue(&[name.clone(), "localhost".into()]).ok()?;
        if cache.len() >= MAX_CACHED_LEAVES {
            cache.clear();
        }
        cache.insert(name, issued.clone());
        Some(issued)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Verifies a leaf the CA signed for `name`, as a client that trusts the CA would.
    fn verify(ca: &Ca, leaf_for: &str, name: &str) -> Result<(), rustls::Error> {
        use rustls::client::danger::ServerCertVerifier;
        crate::vault::transport::ensure_crypto_provider();
        let leaf = ca.issue(&[leaf_for.to_string()]).expect("leaf");
        let mut roots = rustls::RootCertStore::empty();
        roots.add(leaf.cert[1].clone()).expect("root");
        let verifier = rustls::client::WebPkiServerVerifier::builder(Arc::new(roots))
            .build()
            .expect("verifier");
        let server = rustls::pki_types::ServerName::try_from(name.to_string()).expect("name");
        verifier
            .verify_server_cert(
                &leaf.cert[0],
                &[],
                &server,
                &[],
                rustls::pki_types::UnixTime::now(),
            )
            .map(|_| ())
    }

    #[test]
    fn the_ca_vouches_only_for_local_names_and_the_tls_names() {
        let ca = Ca::ephemeral(&["*.vault.azure.net".into()]).expect("ca");
        assert!(verify(&ca, "demo.localhost", "demo.localhost").is_ok());
        assert!(verify(&ca, "kv1.vault.azure.net", "kv1.vault.azure.net").is_ok());
        // Trusted system-wide, it still cannot vouch for anyone else.
        let e = verify(
            &ca,
            "login.microsoftonline.com",
            "login.microsoftonline.com",
        )
        .expect_err("outside the constraints");
        assert!(format!("{e:?}").to_lowercase().contains("name"), "{e:?}");
    }

    #[test]
    fn a_stored_ca_is_renewed_for_other_names_and_kept_otherwise() {
        let dir = tempfile::tempdir().expect("dir");
        let a = Ca::load_or_create(dir.path(), &[]).expect("ca");
        let b = Ca::load_or_create(dir.path(), &[]).expect("ca");
        assert_eq!(a.pem(), b.pem(), "reused");
        let c = Ca::load_or_create(dir.path(), &["*.vault.azure.net".into()]).expect("ca");
        assert_ne!(a.pem(), c.pem(), "made anew for another name");
        // One from before name constraints (no ca.json) is made anew too.
        std::fs::remove_file(dir.path().join("ca.json")).expect("rm");
        let d = Ca::load_or_create(dir.path(), &["*.vault.azure.net".into()]).expect("ca");
        assert_ne!(c.pem(), d.pem());
    }
}
