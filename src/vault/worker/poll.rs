//! Pollers: waiting for a delete, a recover or a freed name, with progress; and the one set call.

use super::*;

pub(super) async fn set_secret(
    client: &SecretClient,
    name: &str,
    secret: &NewSecret,
) -> Result<SecretProps, VaultError> {
    {
        {
            let params = SetSecretParameters {
                value: Some(secret.value.expose().to_string()),
                content_type: secret.content_type.clone(),
                tags: (!secret.tags.is_empty()).then(|| secret.tags.clone().into_iter().collect()),
                secret_attributes: Some(SecretAttributes {
                    enabled: Some(secret.enabled),
                    not_before: secret.not_before,
                    expires: secret.expires,
                    ..Default::default()
                }),
            };
            let body = params.try_into().map_err(sdk)?;
            let mut saved = client
                .set_secret(name, body, None)
                .await
                .map_err(sdk)?
                .into_model()
                .map_err(sdk)?;
            // The PUT answer echoes the value: drop it at once.
            drop(take_value(&mut saved));
            Ok(SecretProps::from(&saved))
        }
    }
}

/// Calls `attempt` until it returns `Some`, sending `Progress` before each wait; the interval grows
/// from `poll.initial` to `poll.max`; gives up with a Timeout error after `poll.timeout`.
pub(super) async fn poll_until<T, F, Fut>(
    poll: PollConfig,
    phase: Phase,
    send: &(impl Fn(Response) + Sync),
    mut attempt: F,
) -> Result<T, VaultError>
where
    F: FnMut() -> Fut,
    Fut: std::future::Future<Output = Result<Option<T>, VaultError>>,
{
    let start = Instant::now();
    let mut interval = poll.initial;
    let mut attempts = 0u32;
    loop {
        attempts += 1;
        if let Some(v) = attempt().await? {
            return Ok(v);
        }
        let elapsed = start.elapsed();
        if elapsed >= poll.timeout {
            return Err(VaultError::new(
                ErrorKind::Timeout,
                format!(
                    "gave up after {} s and {attempts} attempts ({phase:?})",
                    elapsed.as_secs()
                ),
            ));
        }
        send(Response::Progress(Progress {
            elapsed,
            attempts,
            phase,
        }));
        tokio::time::sleep(interval.min(poll.timeout.saturating_sub(elapsed))).await;
        interval = (interval * 3 / 2).min(poll.max);
    }
}
