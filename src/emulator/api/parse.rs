//! Request parsing and validation: names, api-versions, query parameters, paths, bodies, skiptokens.

use super::*;

pub fn is_valid_name(name: &str) -> bool {
    (1..=127).contains(&name.len()) && name.bytes().all(|b| b.is_ascii_alphanumeric() || b == b'-')
}

/// Today's and future API versions are accepted: 7.0–7.6 (and their previews), 2016-10-01, and any
/// well-formed `YYYY-MM-DD[-preview[.N]]` from 2025 on.
pub fn is_supported_api_version(v: &str) -> bool {
    let (base, preview) = match v.split_once("-preview") {
        Some((b, rest)) => (b, Some(rest)),
        None => (v, None),
    };
    if let Some(rest) = preview {
        let ok = rest.is_empty()
            || rest
                .strip_prefix('.')
                .is_some_and(|n| !n.is_empty() && n.bytes().all(|b| b.is_ascii_digit()));
        if !ok {
            return false;
        }
    }
    if let Some(minor) = base.strip_prefix("7.") {
        return minor.len() == 1 && (b'0'..=b'6').contains(&minor.as_bytes()[0]);
    }
    if base == "2016-10-01" {
        return preview.is_none();
    }
    let parts: Vec<&str> = base.split('-').collect();
    if parts.len() != 3
        || parts[0].len() != 4
        || parts[1].len() != 2
        || parts[2].len() != 2
        || !parts.iter().all(|p| p.bytes().all(|b| b.is_ascii_digit()))
    {
        return false;
    }
    let (Ok(y), Ok(m), Ok(d)) = (
        parts[0].parse::<u32>(),
        parts[1].parse::<u32>(),
        parts[2].parse::<u32>(),
    ) else {
        return false;
    };
    y >= 2025 && (1..=12).contains(&m) && (1..=31).contains(&d)
}

pub(super) fn encode_skiptoken(key: &str) -> String {
    let inner = URL_SAFE_NO_PAD.encode(format!("000001!secret/{}!", key.to_ascii_uppercase()));
    let marker = format!("2!{}!{inner}", inner.len());
    URL_SAFE_NO_PAD.encode(json!({ "NextMarker": marker, "TargetLocation": 0 }).to_string())
}

pub(super) fn decode_skiptoken(token: &str) -> Option<String> {
    let outer = URL_SAFE_NO_PAD.decode(token.trim_end_matches('=')).ok()?;
    let v: Value = serde_json::from_slice(&outer).ok()?;
    let marker = v.get("NextMarker")?.as_str()?;
    let mut parts = marker.splitn(3, '!');
    let (_, _, inner) = (parts.next()?, parts.next()?, parts.next()?);
    let inner = String::from_utf8(URL_SAFE_NO_PAD.decode(inner).ok()?).ok()?;
    let key = inner.split('!').nth(1)?.strip_prefix("secret/")?;
    Some(key.to_ascii_lowercase())
}

pub(super) fn opt_string(
    obj: &Map<String, Value>,
    field: &str,
) -> Result<Option<String>, ApiError> {
    match obj.get(field) {
        None | Some(Value::Null) => Ok(None),
        Some(Value::String(s)) => Ok(Some(s.clone())),
        Some(_) => Err(ApiError::bad(format!(
            "Property '{field}' must be a string."
        ))),
    }
}

pub(super) fn opt_time(obj: &Map<String, Value>, field: &str) -> Result<Option<i64>, ApiError> {
    match obj.get(field) {
        None | Some(Value::Null) => Ok(None),
        Some(Value::Number(n)) => n
            .as_i64()
            .or_else(|| n.as_f64().filter(|f| f.is_finite()).map(|f| f as i64))
            .map(Some)
            .ok_or_else(|| {
                ApiError::bad(format!("Property 'attributes.{field}' is out of range."))
            }),
        Some(_) => Err(ApiError::bad(format!(
            "Property 'attributes.{field}' must be a number of seconds since 1970-01-01T00:00:00Z."
        ))),
    }
}

pub(super) fn parse_attributes(obj: &Map<String, Value>) -> Result<Attributes, ApiError> {
    let a = match obj.get("attributes") {
        None | Some(Value::Null) => return Ok(Attributes::default()),
        Some(Value::Object(a)) => a,
        Some(_) => return Err(ApiError::bad("Property 'attributes' must be an object.")),
    };
    let enabled = match a.get("enabled") {
        None | Some(Value::Null) => None,
        Some(Value::Bool(b)) => Some(*b),
        Some(_) => {
            return Err(ApiError::bad(
                "Property 'attributes.enabled' must be a boolean.",
            ))
        }
    };
    Ok(Attributes {
        enabled,
        nbf: opt_time(a, "nbf")?,
        exp: opt_time(a, "exp")?,
    })
}

pub(super) fn parse_content_type(obj: &Map<String, Value>) -> Result<Option<String>, ApiError> {
    let ct = opt_string(obj, "contentType")?;
    if let Some(ct) = &ct {
        if ct.chars().count() > MAX_CONTENT_TYPE_CHARS {
            return Err(ApiError::bad(format!(
                "The content type is too long: {} characters; the limit is {MAX_CONTENT_TYPE_CHARS}.",
                ct.chars().count()
            )));
        }
    }
    Ok(ct)
}

pub(super) fn parse_tags(
    obj: &Map<String, Value>,
) -> Result<Option<BTreeMap<String, String>>, ApiError> {
    let tags = match obj.get("tags") {
        None | Some(Value::Null) => return Ok(None),
        Some(Value::Object(t)) => t,
        Some(_) => {
            return Err(ApiError::bad(
                "Property 'tags' must be an object of strings.",
            ))
        }
    };
    if tags.len() > MAX_TAGS {
        return Err(ApiError::bad(format!(
            "Too many tags: {}; a secret can have at most {MAX_TAGS}.",
            tags.len()
        )));
    }
    let mut out = BTreeMap::new();
    for (k, v) in tags {
        let Value::String(v) = v else {
            return Err(ApiError::bad(format!(
                "The value of tag '{k}' must be a string."
            )));
        };
        if k.is_empty() {
            return Err(ApiError::bad("Tag names cannot be empty."));
        }
        if k.chars().count() > MAX_TAG_CHARS || v.chars().count() > MAX_TAG_CHARS {
            return Err(ApiError::bad(format!(
                "Tag '{}' is too long: tag names and values are limited to {MAX_TAG_CHARS} characters.",
                k.chars().take(40).collect::<String>()
            )));
        }
        out.insert(k.clone(), v.clone());
    }
    Ok(Some(out))
}

pub(super) fn parse_object(body: &[u8]) -> Result<Map<String, Value>, ApiError> {
    if body.is_empty() {
        return Err(ApiError::bad(
            "The request body is empty; a JSON object was expected.",
        ));
    }
    match serde_json::from_slice::<Value>(body) {
        Ok(Value::Object(o)) => Ok(o),
        Ok(_) => Err(ApiError::bad("The request body must be a JSON object.")),
        Err(e) => Err(ApiError::bad(format!(
            "The request body is not valid JSON: {e}"
        ))),
    }
}

/// The authority the client called (lower case): `:authority` in HTTP/2, `Host` in HTTP/1.1.
pub fn authority_of(req: &Request<Bytes>) -> String {
    let authority = req
        .uri()
        .authority()
        .map(|a| a.as_str().to_string())
        .or_else(|| {
            req.headers()
                .get(header::HOST)
                .and_then(|h| h.to_str().ok())
                .map(str::to_string)
        })
        .unwrap_or_default();
    authority
        .rsplit('@')
        .next()
        .unwrap_or_default()
        .to_ascii_lowercase()
}

/// The query's parameters, percent-decoded (the Rust SDK sends `%24skiptoken`).
pub(super) fn query_params(query: Option<&str>) -> Vec<(String, String)> {
    query
        .map(|q| {
            url::form_urlencoded::parse(q.as_bytes())
                .map(|(k, v)| (k.into_owned(), v.into_owned()))
                .collect()
        })
        .unwrap_or_default()
}

pub(super) fn param<'a>(params: &'a [(String, String)], key: &str) -> Option<&'a str> {
    params
        .iter()
        .find(|(k, _)| k.eq_ignore_ascii_case(key))
        .map(|(_, v)| v.as_str())
}

/// Splits the path into percent-decoded segments: `//` collapses, and trailing empty or `/`
/// segments (`/secrets/x/`, `/secrets/x/%2F`) are dropped, so both mean "latest".
pub(super) fn segments(path: &str) -> Result<Vec<String>, ApiError> {
    let mut segs = Vec::new();
    for raw in path.split('/').filter(|s| !s.is_empty()) {
        let s = percent_encoding::percent_decode_str(raw)
            .decode_utf8()
            .map_err(|_| ApiError::bad("The request URI is not valid UTF-8."))?;
        segs.push(s.into_owned());
    }
    while segs.len() > 1 && segs.last().is_some_and(|s| s.is_empty() || s == "/") {
        segs.pop();
    }
    Ok(segs)
}

pub(super) fn check_name(name: &str) -> Result<(), ApiError> {
    if is_valid_name(name) {
        Ok(())
    } else {
        Err(ApiError::bad(format!(
            "The request URI contains an invalid name: {name}"
        )))
    }
}

pub(super) fn page_size(params: &[(String, String)]) -> Result<(usize, Option<usize>), ApiError> {
    match param(params, "maxresults") {
        None => Ok((MAX_PAGE, None)),
        Some(v) => match v.trim().parse::<usize>() {
            Ok(n) if (1..=MAX_PAGE).contains(&n) => Ok((n, Some(n))),
            _ => Err(ApiError::bad(format!(
                "Invalid value for maxresults: '{v}'. It must be an integer from 1 to {MAX_PAGE}."
            ))),
        },
    }
}

pub(super) fn skip_start(params: &[(String, String)]) -> Result<Option<String>, ApiError> {
    match param(params, "$skiptoken") {
        None => Ok(None),
        Some("") => Ok(None),
        Some(t) => decode_skiptoken(t)
            .map(Some)
            .ok_or_else(|| ApiError::bad("The $skiptoken is not valid.")),
    }
}
