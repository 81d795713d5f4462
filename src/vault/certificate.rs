//! A service principal that signs in with a certificate (`AZURE_CLIENT_CERTIFICATE_PATH`): the
//! client assertion Entra expects (an RS256 JWT whose `x5t` is the certificate's SHA-1 thumbprint,
//! for the token endpoint as audience), signed with ring. The SDK's own certificate credential needs
//! OpenSSL; this reads PEM — the certificate and its unencrypted private key, PKCS#8 or PKCS#1.

use std::path::Path;

use azure_core::http::ClientMethodOptions;
use azure_identity::ClientAssertion;
use base64::engine::general_purpose::{STANDARD, URL_SAFE_NO_PAD};
use base64::Engine as _;
use ring::rand::{SecureRandom, SystemRandom};
use ring::signature::{RsaKeyPair, RSA_PKCS1_SHA256};
use rustls_pki_types::pem::PemObject;
use rustls_pki_types::{CertificateDer, PrivateKeyDer};

/// How long an assertion is valid (Entra allows up to 10 minutes).
const LIFETIME_SECS: i64 = 600;

/// Signs client assertions for one client and token endpoint.
pub struct CertificateAssertion {
    key: RsaKeyPair,
    /// base64url SHA-1 of the certificate (DER).
    x5t: String,
    client_id: String,
    /// The token endpoint: `{authority}/{tenant}/oauth2/v2.0/token`.
    audience: String,
    rng: SystemRandom,
}

impl std::fmt::Debug for CertificateAssertion {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("CertificateAssertion")
            .field("client_id", &self.client_id)
            .field("x5t", &self.x5t)
            .finish_non_exhaustive()
    }
}

/// The certificate's thumbprint as `x5t` (base64url SHA-1 of its DER).
pub fn thumbprint(cert: &[u8]) -> String {
    URL_SAFE_NO_PAD.encode(ring::digest::digest(
        &ring::digest::SHA1_FOR_LEGACY_USE_ONLY,
        cert,
    ))
}

impl CertificateAssertion {
    /// Reads a PEM file holding the certificate and its private key.
    pub fn from_pem_file(path: &Path, client_id: &str, audience: &str) -> Result<Self, String> {
        let shown = path.display();
        let bytes = std::fs::read(path).map_err(|e| format!("reading {shown}: {e}"))?;
        if !bytes.starts_with(b"-----") && !bytes.windows(10).any(|w| w == b"-----BEGIN") {
            return Err(format!("{shown} is not PEM (a .pfx?): kvtui reads a PEM certificate with its private key; convert with `openssl pkcs12 -in cert.pfx -out cert.pem -nodes`"));
        }
        let cert = CertificateDer::pem_slice_iter(&bytes)
            .next()
            .and_then(Result::ok)
            .ok_or_else(|| format!("{shown} holds no CERTIFICATE block"))?;
        if bytes.windows(21).any(|w| w == b"ENCRYPTED PRIVATE KEY") {
            return Err(format!("{shown}: the private key is encrypted; kvtui needs it unencrypted (`openssl pkey -in {shown} -out key.pem`, kept 0600)"));
        }
        let key = PrivateKeyDer::from_pem_slice(&bytes)
            .map_err(|_| format!("{shown} holds no PRIVATE KEY block"))?;
        let key = match &key {
            PrivateKeyDer::Pkcs8(k) => RsaKeyPair::from_pkcs8(k.secret_pkcs8_der()),
            PrivateKeyDer::Pkcs1(k) => RsaKeyPair::from_der(k.secret_pkcs1_der()),
            _ => {
                return Err(format!(
                "{shown}: the private key is not RSA (Entra signs in certificates with RSA keys)"
            ))
            }
        }
        .map_err(|e| format!("{shown}: the private key is not a usable RSA key ({e})"))?;
        Ok(Self {
            key,
            x5t: thumbprint(cert.as_ref()),
            client_id: client_id.to_string(),
            audience: audience.to_string(),
            rng: SystemRandom::new(),
        })
    }

    /// A fresh assertion.
    pub fn sign(&self) -> Result<String, String> {
        let now = time::OffsetDateTime::now_utc().unix_timestamp();
        let mut jti = [0u8; 16];
        self.rng
            .fill(&mut jti)
            .map_err(|_| "no randomness for the assertion".to_string())?;
        let header = serde_json::json!({"alg": "RS256", "typ": "JWT", "x5t": self.x5t});
        let claims = serde_json::json!({
            "aud": self.audience,
            "iss": self.client_id,
            "sub": self.client_id,
            "jti": STANDARD.encode(jti),
            "nbf": now,
            "iat": now,
            "exp": now + LIFETIME_SECS,
        });
        let input = format!(
            "{}.{}",
            URL_SAFE_NO_PAD.encode(header.to_string()),
            URL_SAFE_NO_PAD.encode(claims.to_string())
        );
        let mut sig = vec![0u8; self.key.public().modulus_len()];
        self.key
            .sign(&RSA_PKCS1_SHA256, &self.rng, input.as_bytes(), &mut sig)
            .map_err(|_| "signing the assertion failed".to_string())?;
        Ok(format!("{input}.{}", URL_SAFE_NO_PAD.encode(sig)))
    }
}

#[async_trait::async_trait]
impl ClientAssertion for CertificateAssertion {
    async fn secret(
        &self,
        _options: Option<ClientMethodOptions<'_>>,
    ) -> azure_core::Result<String> {
        self.sign().map_err(|e| {
            azure_core::Error::with_message(azure_core::error::ErrorKind::Credential, e)
        })
    }
}

/// Checks an assertion against a client's certificate, as Entra does: the signature (RS256 with
/// the certificate's key), the thumbprint, issuer and subject, audience, lifetime.
pub fn verify_assertion(
    assertion: &str,
    cert_der: &[u8],
    client_id: &str,
    audience_ok: impl Fn(&str) -> bool,
) -> Result<(), &'static str> {
    let mut parts = assertion.rsplitn(2, '.');
    let (Some(sig), Some(input)) = (parts.next(), parts.next()) else {
        return Err("the client assertion is not a JWT");
    };
    let sig = URL_SAFE_NO_PAD
        .decode(sig)
        .map_err(|_| "the client assertion's signature is not base64url")?;
    let json = |i: usize| -> Option<serde_json::Value> {
        let part = input.split('.').nth(i)?;
        serde_json::from_slice(&URL_SAFE_NO_PAD.decode(part).ok()?).ok()
    };
    let (Some(header), Some(claims)) = (json(0), json(1)) else {
        return Err("the client assertion's header or claims are not JSON");
    };
    if header["alg"] != "RS256" && header["alg"] != "PS256" {
        return Err("the client assertion is not signed with RS256 or PS256");
    }
    if header["x5t"].as_str() != Some(thumbprint(cert_der).as_str()) && header["x5t#S256"].is_null()
    {
        return Err("the client assertion's x5t is not the thumbprint of the client's certificate");
    }
    let der = CertificateDer::from(cert_der);
    let cert = webpki::EndEntityCert::try_from(&der)
        .map_err(|_| "the client's certificate cannot be parsed")?;
    let alg = if header["alg"] == "PS256" {
        webpki::ring::RSA_PSS_2048_8192_SHA256_LEGACY_KEY
    } else {
        webpki::ring::RSA_PKCS1_2048_8192_SHA256
    };
    cert.verify_signature(alg, input.as_bytes(), &sig)
        .map_err(|_| "the client assertion's signature does not match the client's certificate")?;
    if claims["iss"].as_str() != Some(client_id) || claims["sub"].as_str() != Some(client_id) {
        return Err("the client assertion's iss and sub must be the client id");
    }
    if !claims["aud"].as_str().is_some_and(&audience_ok) {
        return Err("the client assertion's aud is not this token endpoint");
    }
    let now = time::OffsetDateTime::now_utc().unix_timestamp();
    if claims["exp"].as_i64().is_none_or(|e| e < now) {
        return Err("the client assertion has expired");
    }
    if claims["nbf"].as_i64().is_some_and(|n| n > now + 300) {
        return Err("the client assertion is not valid yet");
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    const FIXTURE: &str = concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/tests/fixtures/test-only-client.pem"
    );

    #[test]
    fn assertions_verify_against_the_certificate_and_nothing_else() {
        let a = CertificateAssertion::from_pem_file(
            Path::new(FIXTURE),
            "app",
            "https://login.localhost:1/t/oauth2/v2.0/token",
        )
        .expect("fixture");
        let jwt = a.sign().expect("signed");
        let pem = std::fs::read(FIXTURE).expect("fixture");
        let cert = CertificateDer::pem_slice_iter(&pem)
            .next()
            .and_then(Result::ok)
            .expect("cert");
        let aud = |a: &str| a.ends_with("/t/oauth2/v2.0/token");
        assert_eq!(verify_assertion(&jwt, cert.as_ref(), "app", aud), Ok(()));
        assert!(verify_assertion(&jwt, cert.as_ref(), "other-app", aud).is_err());
        assert!(verify_assertion(&jwt, cert.as_ref(), "app", |_| false).is_err());
        let mut forged = jwt.clone();
        let n = forged.len();
        forged.replace_range(n - 6..n - 2, "AAAA");
        assert!(verify_assertion(&forged, cert.as_ref(), "app", aud).is_err());
        assert!(verify_assertion("not-a-jwt", cert.as_ref(), "app", aud).is_err());
        assert!(!format!("{a:?}").contains("PRIVATE"), "no key in Debug");
    }

    #[test]
    fn a_pfx_or_an_encrypted_key_is_refused_with_the_fix() {
        let dir = tempfile::tempdir().expect("dir");
        let pfx = dir.path().join("c.pfx");
        std::fs::write(&pfx, [0x30, 0x82, 0x01, 0x00]).expect("write");
        let e = CertificateAssertion::from_pem_file(&pfx, "a", "x").expect_err("pfx");
        assert!(e.contains("openssl pkcs12"), "{e}");
        let enc = dir.path().join("e.pem");
        let text = std::fs::read_to_string(FIXTURE)
            .expect("fixture")
            .replace("PRIVATE KEY", "ENCRYPTED PRIVATE KEY");
        std::fs::write(&enc, text).expect("write");
        let e = CertificateAssertion::from_pem_file(&enc, "a", "x").expect_err("encrypted");
        assert!(e.contains("encrypted"), "{e}");
    }
}
