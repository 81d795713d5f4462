//! Dates: parsing what the user types (absolute, local, relative), showing them (local with the
//! offset, or relative to now), expiry urgency and the days left before a purge.

use std::time::{Duration as StdDuration, Instant};

use time::{Date, Duration, Month, OffsetDateTime, PrimitiveDateTime, Time, UtcOffset};

/// A date: `2026-12-31` (local midnight), `2026-12-31T08:00` or `2026-12-31 08:00[:ss]` (local time),
/// either with an explicit offset (`Z`, `+02:00`), or relative: `+30d`, `+12h`, `+90m`. Empty: none.
pub fn parse_date(
    text: &str,
    now: OffsetDateTime,
    local: UtcOffset,
) -> Result<Option<OffsetDateTime>, String> {
    let t = text.trim();
    if t.is_empty() {
        return Ok(None);
    }
    if let Some(rel) = t.strip_prefix('+') {
        // Split off the unit by character: the text may end in a multi-byte one.
        let unit_len = rel.chars().last().map(char::len_utf8).unwrap_or(0);
        let (num, unit) = rel.split_at(rel.len() - unit_len);
        let n: i64 = num
            .parse()
            .map_err(|_| format!("'{t}': expected +30d, +12h or +90m"))?;
        let d = match unit {
            "d" => Duration::days(n),
            "h" => Duration::hours(n),
            "m" => Duration::minutes(n),
            _ => return Err(format!("'{t}': the unit is d, h or m")),
        };
        if n <= 0 {
            return Err(format!("'{t}': must be in the future"));
        }
        return Ok(Some(now + d));
    }
    let bad = || format!("'{t}': expected 2026-12-31, 2026-12-31T08:00, +30d or +12h");
    let (date_part, rest) = t.split_at(t.find(['T', ' ']).unwrap_or(t.len()));
    let mut d = date_part.split('-');
    let (Some(y), Some(m), Some(dd), None) = (d.next(), d.next(), d.next(), d.next()) else {
        return Err(bad());
    };
    let year: i32 = y.parse().map_err(|_| bad())?;
    let month: u8 = m.parse().map_err(|_| bad())?;
    let day: u8 = dd.parse().map_err(|_| bad())?;
    let month = Month::try_from(month).map_err(|_| format!("'{t}': there is no month {month}"))?;
    let date =
        Date::from_calendar_date(year, month, day).map_err(|_| format!("'{t}': no such day"))?;
    let rest = rest.trim_start_matches(['T', ' ']);
    // Split an explicit offset from the time.
    let (time_part, offset) = if let Some(tp) = rest.strip_suffix('Z') {
        (tp, Some(UtcOffset::UTC))
    } else if let Some(i) = rest.rfind(['+', '-']).filter(|i| *i > 0) {
        let (tp, off) = rest.split_at(i);
        let sign: i8 = if off.starts_with('-') { -1 } else { 1 };
        let mut hm = off[1..].split(':');
        let h: i8 = hm.next().and_then(|x| x.parse().ok()).ok_or_else(bad)?;
        let mi: i8 = hm.next().unwrap_or("0").parse().map_err(|_| bad())?;
        let o = UtcOffset::from_hms(sign * h, sign * mi, 0).map_err(|_| bad())?;
        (tp, Some(o))
    } else {
        (rest, None)
    };
    let time = if time_part.is_empty() {
        Time::MIDNIGHT
    } else {
        let mut p = time_part.split(':');
        let h: u8 = p.next().and_then(|x| x.parse().ok()).ok_or_else(bad)?;
        let mi: u8 = p.next().and_then(|x| x.parse().ok()).ok_or_else(bad)?;
        let s: u8 = p.next().unwrap_or("0").parse().map_err(|_| bad())?;
        Time::from_hms(h, mi, s).map_err(|_| format!("'{t}': no such time"))?
    };
    Ok(Some(
        PrimitiveDateTime::new(date, time).assume_offset(offset.unwrap_or(local)),
    ))
}

/// How a parsed date is shown next to its field: local time with its offset.
pub fn show_date(d: OffsetDateTime, local: UtcOffset) -> String {
    let l = d.to_offset(local);
    let (h, m, _) = local.as_hms();
    format!(
        "{} {:02}:{:02} {}{:02}:{:02}",
        l.date(),
        l.hour(),
        l.minute(),
        if local.is_negative() { '-' } else { '+' },
        h.unsigned_abs(),
        m.unsigned_abs()
    )
}

/// "3d ago", "in 12d", for dates relative to now.
pub fn relative(t: OffsetDateTime, now: OffsetDateTime) -> String {
    let d = t - now;
    let secs = d.whole_seconds();
    if secs.abs() < 2 {
        return "now".into();
    }
    let (n, unit) = match secs.unsigned_abs() {
        s if s < 60 => (s, "s"),
        s if s < 3600 => (s / 60, "m"),
        s if s < 86_400 => (s / 3600, "h"),
        s if s < 86_400 * 365 => (s / 86_400, "d"),
        s => (s / (86_400 * 365), "y"),
    };
    if secs < 0 {
        format!("{n}{unit} ago")
    } else {
        format!("in {n}{unit}")
    }
}

/// Urgency of an expiry date: expired, within 7, 30 or 90 days, or later. The secret list's colours
/// and `:expiring`'s groups both come from this.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord)]
pub enum Expiry {
    Expired,
    Week,
    Month,
    Quarter,
    Later,
}

/// The thresholds, in days.
pub const EXPIRY_DAYS: [i64; 3] = [7, 30, 90];

pub fn expiry(exp: Option<OffsetDateTime>, now: OffsetDateTime) -> Option<Expiry> {
    let e = exp?;
    let within = |d: i64| e - now < time::Duration::days(d);
    Some(if e <= now {
        Expiry::Expired
    } else if within(EXPIRY_DAYS[0]) {
        Expiry::Week
    } else if within(EXPIRY_DAYS[1]) {
        Expiry::Month
    } else if within(EXPIRY_DAYS[2]) {
        Expiry::Quarter
    } else {
        Expiry::Later
    })
}

/// How long ago a monotonic instant was, in whole seconds.
pub fn since(start: Instant, now: Instant) -> StdDuration {
    now.saturating_duration_since(start)
}

/// Whole days until `at`, rounded up: a purge scheduled 90 days after a delete shows 90 right after it.
pub fn days_left(at: OffsetDateTime, now: OffsetDateTime) -> i64 {
    let secs = (at - now).whole_seconds();
    if secs <= 0 {
        0
    } else {
        (secs + 86_399) / 86_400
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    fn now() -> OffsetDateTime {
        OffsetDateTime::UNIX_EPOCH + Duration::days(20_000)
    }

    #[test]
    fn dates_absolute_local_explicit_and_relative() {
        let local = UtcOffset::from_hms(2, 0, 0).expect("offset");
        let d = parse_date("2026-12-31", now(), local)
            .expect("ok")
            .expect("some");
        assert_eq!(
            (d.date().to_string(), d.hour(), d.offset()),
            ("2026-12-31".to_string(), 0, local)
        );
        let d = parse_date("2026-12-31T08:00", now(), local)
            .expect("ok")
            .expect("some");
        assert_eq!(
            d.to_offset(UtcOffset::UTC).hour(),
            6,
            "no offset means local time"
        );
        let d = parse_date("2026-12-31T08:00Z", now(), local)
            .expect("ok")
            .expect("some");
        assert_eq!(d.to_offset(UtcOffset::UTC).hour(), 8);
        let d = parse_date("2026-12-31 08:00-05:00", now(), local)
            .expect("ok")
            .expect("some");
        assert_eq!(d.to_offset(UtcOffset::UTC).hour(), 13);
        assert_eq!(
            parse_date("+30d", now(), local),
            Ok(Some(now() + Duration::days(30)))
        );
        assert_eq!(
            parse_date("+12h", now(), local),
            Ok(Some(now() + Duration::hours(12)))
        );
        assert_eq!(parse_date("", now(), local), Ok(None));
        assert!(parse_date("2026-02-30", now(), local)
            .unwrap_err()
            .contains("no such day"));
        assert!(parse_date("2026-13-01", now(), local)
            .unwrap_err()
            .contains("no month 13"));
        assert!(parse_date("tomorrow", now(), local).is_err());
        assert!(parse_date("+3w", now(), local)
            .unwrap_err()
            .contains("unit"));
        assert!(parse_date("+0d", now(), local).is_err());
        assert_eq!(
            show_date(OffsetDateTime::UNIX_EPOCH, local),
            "1970-01-01 02:00 +02:00"
        );
    }

    #[test]
    fn days_left_round_up() {
        assert_eq!(
            days_left(now() + Duration::days(90) - Duration::seconds(2), now()),
            90
        );
        assert_eq!(days_left(now() + Duration::hours(1), now()), 1);
        assert_eq!(days_left(now() - Duration::hours(1), now()), 0);
    }

    proptest! {
        #[test]
        fn parse_date_never_panics(s in "\\PC{0,60}") {
            let _ = parse_date(&s, now(), UtcOffset::UTC);
        }

        #[test]
        fn relative_dates_round_trip(n in 1i64..10_000) {
            prop_assert_eq!(parse_date(&format!("+{n}d"), now(), UtcOffset::UTC), Ok(Some(now() + Duration::days(n))));
        }
    }
}
