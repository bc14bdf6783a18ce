//! Request timestamps: parsing `X-Amz-Date` (ISO 8601 basic, `YYYYMMDDTHHMMSSZ`) and `Date`
//! (the same, or RFC 7231 IMF-fixdate), and formatting Unix seconds back to ISO 8601 basic.
//!
//! Pure arithmetic on the proleptic Gregorian calendar (Howard Hinnant's days-from-civil), no
//! clock reads except converting a caller-supplied [`SystemTime`]. Years are 0000..=9999: a
//! clock outside that range is clamped, a header outside it does not parse.

use std::time::{SystemTime, UNIX_EPOCH};

/// Latest instant representable as `YYYYMMDDTHHMMSSZ`: 9999-12-31T23:59:59Z.
const MAX_SECS: i64 = 253_402_300_799;
/// Earliest: 0000-01-01T00:00:00Z.
const MIN_SECS: i64 = -62_167_219_200;

const MONTHS: [&str; 12] = [
    "Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec",
];

/// `t` as Unix seconds, clamped to the years 0000..=9999.
pub(super) fn unix_secs(t: SystemTime) -> i64 {
    let secs = match t.duration_since(UNIX_EPOCH) {
        Ok(d) => i64::try_from(d.as_secs()).unwrap_or(MAX_SECS),
        Err(e) => i64::try_from(e.duration().as_secs()).map_or(MIN_SECS, |s| -s),
    };
    secs.clamp(MIN_SECS, MAX_SECS)
}

/// Days since 1970-01-01 of a valid civil date.
fn days_from_civil(year: i64, month: i64, day: i64) -> i64 {
    let y = if month <= 2 { year - 1 } else { year };
    let era = y.div_euclid(400);
    let yoe = y - era * 400;
    let mp = (month + 9) % 12;
    let doy = (153 * mp + 2) / 5 + day - 1;
    let doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
    era * 146_097 + doe - 719_468
}

/// The civil date `(year, month, day)` of a day count since 1970-01-01.
fn civil_from_days(days: i64) -> (i64, i64, i64) {
    let z = days + 719_468;
    let era = z.div_euclid(146_097);
    let doe = z - era * 146_097;
    let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let day = doy - (153 * mp + 2) / 5 + 1;
    let month = if mp < 10 { mp + 3 } else { mp - 9 };
    let year = yoe + era * 400 + i64::from(month <= 2);
    (year, month, day)
}

fn days_in_month(year: i64, month: i64) -> i64 {
    let leap = (year % 4 == 0 && year % 100 != 0) || year % 400 == 0;
    match month {
        2 if leap => 29,
        2 => 28,
        4 | 6 | 9 | 11 => 30,
        _ => 31,
    }
}

/// Unix seconds of a validated date-time, or `None` if any field is out of range.
fn to_secs(y: i64, mo: i64, d: i64, h: i64, mi: i64, s: i64) -> Option<i64> {
    let valid = (1..=12).contains(&mo)
        && (1..=days_in_month(y, mo)).contains(&d)
        && (0..24).contains(&h)
        && (0..60).contains(&mi)
        && (0..60).contains(&s);
    valid.then(|| days_from_civil(y, mo, d) * 86_400 + h * 3600 + mi * 60 + s)
}

/// The decimal value of an all-ASCII-digit string.
fn digits(s: &str) -> Option<i64> {
    if s.is_empty() || !s.bytes().all(|b| b.is_ascii_digit()) {
        return None;
    }
    s.parse().ok()
}

/// Parses `YYYYMMDDTHHMMSSZ` exactly (no separators, no fractions, `Z` only).
pub(super) fn parse_basic(s: &str) -> Option<i64> {
    if s.len() != 16 || !s.is_ascii() {
        return None;
    }
    let (date, rest) = s.split_at(8);
    let time = rest.strip_prefix('T')?.strip_suffix('Z')?;
    if time.len() != 6 {
        return None;
    }
    let f = |r: std::ops::Range<usize>, of: &str| of.get(r).and_then(digits);
    to_secs(
        f(0..4, date)?,
        f(4..6, date)?,
        f(6..8, date)?,
        f(0..2, time)?,
        f(2..4, time)?,
        f(4..6, time)?,
    )
}

/// Parses an RFC 7231 IMF-fixdate, `Sun, 30 Aug 2015 12:36:00 GMT` (the weekday is not checked).
pub(super) fn parse_imf_fixdate(s: &str) -> Option<i64> {
    let mut parts = s.split(' ');
    let weekday = parts.next()?;
    let day = parts.next()?;
    let month = parts.next()?;
    let year = parts.next()?;
    let time = parts.next()?;
    if parts.next()? != "GMT" || parts.next().is_some() {
        return None;
    }
    if weekday.len() != 4 || !weekday.ends_with(',') || day.len() != 2 || year.len() != 4 {
        return None;
    }
    let month = MONTHS.iter().position(|m| *m == month)?;
    let mut hms = time.split(':');
    let (h, mi, sec) = (hms.next()?, hms.next()?, hms.next()?);
    if hms.next().is_some() || [h, mi, sec].iter().any(|p| p.len() != 2) {
        return None;
    }
    to_secs(
        digits(year)?,
        i64::try_from(month).ok()? + 1,
        digits(day)?,
        digits(h)?,
        digits(mi)?,
        digits(sec)?,
    )
}

/// Formats Unix seconds (clamped to 0000..=9999) as `YYYYMMDDTHHMMSSZ`.
pub(super) fn format_basic(secs: i64) -> String {
    let secs = secs.clamp(MIN_SECS, MAX_SECS);
    let (days, rem) = (secs.div_euclid(86_400), secs.rem_euclid(86_400));
    let (y, mo, d) = civil_from_days(days);
    format!(
        "{y:04}{mo:02}{d:02}T{:02}{:02}{:02}Z",
        rem / 3600,
        rem % 3600 / 60,
        rem % 60
    )
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::time::Duration;

    #[test]
    fn basic_round_trips() {
        for s in [
            "20150830T123600Z",
            "19700101T000000Z",
            "20000229T235959Z",
            "99991231T235959Z",
            "00000101T000000Z",
            "19691231T235959Z",
        ] {
            let secs = parse_basic(s).unwrap();
            assert_eq!(format_basic(secs), s);
        }
        assert_eq!(parse_basic("20150830T123600Z"), Some(1_440_938_160));
        assert_eq!(parse_basic("19700101T000000Z"), Some(0));
    }

    #[test]
    fn basic_rejects_malformed_and_out_of_range() {
        for s in [
            "",
            "20150830",
            "20150830T123600",
            "20150830T123600z",
            "2015-08-30T12:36:00Z",
            "20150830T1236000Z",
            "20151330T123600Z",
            "20150230T123600Z",
            "20190229T000000Z",
            "20150830T243600Z",
            "20150830T126000Z",
            "20150830T123660Z",
            "2015083+T123600Z",
            "20150830X123600Z",
            "2015083ÿT12360Z",
        ] {
            assert_eq!(parse_basic(s), None, "{s}");
        }
    }

    #[test]
    fn imf_fixdate() {
        assert_eq!(
            parse_imf_fixdate("Sun, 30 Aug 2015 12:36:00 GMT"),
            parse_basic("20150830T123600Z")
        );
        for s in [
            "Sun, 30 Aug 2015 12:36:00 UTC",
            "Sun, 30 Aug 2015 12:36:00",
            "Sun, 30 Aug 2015 12:36:00 GMT x",
            "Sun, 30 Foo 2015 12:36:00 GMT",
            "Sun, 31 Sep 2015 12:36:00 GMT",
            "Sun 30 Aug 2015 12:36:00 GMT",
            "Sun, 30 Aug 2015 12:36 GMT",
        ] {
            assert_eq!(parse_imf_fixdate(s), None, "{s}");
        }
    }

    #[test]
    fn system_time_conversion_clamps() {
        let t = UNIX_EPOCH + Duration::from_secs(1_440_938_160);
        assert_eq!(format_basic(unix_secs(t)), "20150830T123600Z");
        assert_eq!(unix_secs(UNIX_EPOCH - Duration::from_secs(1)), -1);
        let far = UNIX_EPOCH + Duration::from_secs(u64::MAX / 4);
        assert_eq!(format_basic(unix_secs(far)), "99991231T235959Z");
    }
}
