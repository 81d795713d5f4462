//! The service's JSON shapes and headers.

use super::*;

pub(super) fn attributes_json(v: &SecretVersion, policy: &VaultPolicy) -> Value {
    let mut a = Map::new();
    a.insert("enabled".into(), json!(v.enabled));
    if let Some(nbf) = v.nbf {
        a.insert("nbf".into(), json!(nbf));
    }
    if let Some(exp) = v.exp {
        a.insert("exp".into(), json!(exp));
    }
    a.insert("created".into(), json!(v.created));
    a.insert("updated".into(), json!(v.updated));
    a.insert("recoveryLevel".into(), json!(policy.recovery_level()));
    a.insert("recoverableDays".into(), json!(policy.recoverable_days));
    Value::Object(a)
}

/// SecretBundle (`value` only where the service returns it) or, with `versioned: false`, a SecretItem.
pub(super) fn secret_json(
    ctx: &Ctx<'_>,
    name: &str,
    v: &SecretVersion,
    policy: &VaultPolicy,
    with_value: bool,
    versioned: bool,
) -> Map<String, Value> {
    let mut m = Map::new();
    if with_value {
        m.insert("value".into(), json!(v.value.as_str()));
    }
    if let Some(ct) = &v.content_type {
        m.insert("contentType".into(), json!(ct));
    }
    let id = if versioned {
        format!("{}/secrets/{name}/{}", ctx.base(), v.version)
    } else {
        format!("{}/secrets/{name}", ctx.base())
    };
    m.insert("id".into(), json!(id));
    if v.kid.is_some() {
        m.insert("managed".into(), json!(true));
    }
    m.insert("attributes".into(), attributes_json(v, policy));
    if let Some(tags) = &v.tags {
        m.insert("tags".into(), json!(tags));
    }
    if let Some(kid) = &v.kid {
        m.insert("kid".into(), json!(kid));
    }
    m
}

/// DeletedSecretBundle or DeletedSecretItem: the deletion fields first, as the service orders them.
pub(super) fn deleted_json(
    ctx: &Ctx<'_>,
    d: &DeletedRecord,
    policy: &VaultPolicy,
    versioned: bool,
) -> Option<Value> {
    let latest = d.record.latest()?;
    let mut m = Map::new();
    if policy.soft_delete() {
        m.insert(
            "recoveryId".into(),
            json!(format!("{}/deletedsecrets/{}", ctx.base(), d.record.name)),
        );
        m.insert("deletedDate".into(), json!(d.deleted_date));
        m.insert("scheduledPurgeDate".into(), json!(d.scheduled_purge_date));
    }
    m.extend(secret_json(
        ctx,
        &d.record.name,
        latest,
        policy,
        false,
        versioned,
    ));
    Some(Value::Object(m))
}

pub(super) fn page_json<T>(
    ctx: &Ctx<'_>,
    path: &str,
    page: Page<T>,
    maxresults: Option<usize>,
    item: impl Fn(T) -> Option<Value>,
) -> Value {
    let next = page.next_after.map(|k| {
        let mut link = format!(
            "{}{path}?api-version={}&$skiptoken={}",
            ctx.link_base(),
            ctx.api_version,
            encode_skiptoken(&k)
        );
        if let Some(n) = maxresults {
            link.push_str(&format!("&maxresults={n}"));
        }
        link
    });
    let values: Vec<Value> = page.items.into_iter().filter_map(item).collect();
    json!({ "value": values, "nextLink": next })
}

pub(super) fn random_hex(rng: &SystemRandom, bytes: usize) -> String {
    let mut buf = vec![0u8; bytes];
    if rng.fill(&mut buf).is_err() {
        // SystemRandom only fails when the OS has no randomness at all; fall back to the clock.
        let t = SystemTime::now()
            .duration_since(UNIX_EPOCH)
            .map(|d| d.as_nanos())
            .unwrap_or_default();
        for (i, b) in buf.iter_mut().enumerate() {
            *b = (t >> ((i % 16) * 8)) as u8 ^ i as u8;
        }
    }
    buf.iter().map(|b| format!("{b:02x}")).collect()
}

pub(super) fn request_id(rng: &SystemRandom) -> String {
    let h = random_hex(rng, 16);
    format!(
        "{}-{}-4{}-8{}-{}",
        &h[0..8],
        &h[8..12],
        &h[13..16],
        &h[17..20],
        &h[20..32]
    )
}

impl Service {
    /// A response with the service's headers.
    pub(super) fn finish(
        &self,
        req: &Request<Bytes>,
        status: StatusCode,
        body: Option<Value>,
        extra: Vec<(&'static str, HeaderValue)>,
    ) -> Response<Bytes> {
        let request_id = request_id(&self.rng);
        let mut builder = Response::builder()
            .status(status)
            .header(header::CACHE_CONTROL, "no-cache")
            .header(header::PRAGMA, "no-cache")
            .header(header::EXPIRES, "-1")
            .header(
                header::STRICT_TRANSPORT_SECURITY,
                "max-age=31536000;includeSubDomains",
            )
            .header(header::X_CONTENT_TYPE_OPTIONS, "nosniff")
            .header("x-ms-keyvault-region", "local")
            .header("x-ms-keyvault-service-version", SERVICE_VERSION)
            .header(
                "x-ms-keyvault-network-info",
                "conn_type=Ipv4;addr=127.0.0.1;act_addr_fam=InterNetwork;",
            )
            .header("x-ms-request-id", request_id);
        if let Some(client_id) = req
            .headers()
            .get("x-ms-client-request-id")
            .filter(|v| v.len() <= 256)
        {
            builder = builder.header("x-ms-client-request-id", client_id.clone());
        }
        for (k, v) in extra {
            builder = builder.header(k, v);
        }
        let bytes = match body {
            Some(v) => {
                builder = builder.header(header::CONTENT_TYPE, "application/json; charset=utf-8");
                Bytes::from(v.to_string())
            }
            None => Bytes::new(),
        };
        builder.body(bytes).unwrap_or_else(|_| {
            let mut r = Response::new(Bytes::new());
            *r.status_mut() = StatusCode::INTERNAL_SERVER_ERROR;
            r
        })
    }
}
