//! Units as written in experiment files: durations and sizes.
//!
//! Durations are strings such as `"250ms"`, `"3s"`, `"10min"`, `"1h"` or `"1h 30min"`,
//! parsed with `humantime` into integer nanoseconds. A bare number is refused: `"3"` could
//! mean seconds or milliseconds. Sizes are strings such as `"871B"`, `"64KiB"`, `"16GiB"`
//! or `"1.5GB"`; the parser here is a tight one (case-sensitive units, exact integer
//! arithmetic, no silent overflow, no fractional bytes). Both have a canonical formatter
//! whose output parses back to the same value, used for the resolved experiment.
//! A text that does not parse gives a [`ParseError`] whose message completes "found …
//! (…)": it says what was wrong with the text, not what was expected.

use crate::engine::Nanos;

/// Why a duration or size text does not parse.
#[derive(Clone, Debug, PartialEq, thiserror::Error)]
pub enum ParseError {
    #[error("an empty string")]
    Empty,
    #[error("a negative duration")]
    NegativeDuration,
    #[error("a number without a unit")]
    DurationWithoutUnit,
    /// humantime's own reason ("unknown time unit …", "number is too large", …).
    #[error(transparent)]
    Duration(#[from] humantime::DurationError),
    #[error(
        "a duration longer than 100 years (the simulator's clock covers ~584 years, and \
         its times are added together)"
    )]
    DurationTooLong,
    #[error("a negative size")]
    NegativeSize,
    #[error("no number")]
    NoNumber,
    #[error("a number without a unit (bytes are written \"B\")")]
    SizeWithoutUnit,
    #[error("unknown unit \"{unit}\" (units: {})", size_units())]
    UnknownSizeUnit { unit: String },
    #[error("a malformed number")]
    MalformedNumber,
    #[error("too many decimals")]
    TooManyDecimals,
    #[error("a fractional number of bytes")]
    FractionalBytes,
    #[error("a size too large for 64 bits")]
    SizeTooLarge,
}

/// What a duration looks like, for "expected …" messages.
pub const DURATION_EXPECTED: &str =
    "a duration with a unit such as \"250ms\", \"3s\", \"10min\" or \"1h\"";
/// The same, where `"off"` is allowed.
pub const OFF_DURATION_EXPECTED: &str =
    "a duration with a unit such as \"250ms\", \"3s\", \"10min\", or \"off\"";
/// What a size looks like.
pub const SIZE_EXPECTED: &str =
    "a size with a unit such as \"871B\", \"64KiB\", \"16GiB\" or \"1.5GB\"";

/// Parses a duration string into nanoseconds. The error says what was wrong with it.
pub fn parse_duration(s: &str) -> Result<Nanos, ParseError> {
    let t = s.trim();
    if t.is_empty() {
        return Err(ParseError::Empty);
    }
    if t.starts_with('-') {
        return Err(ParseError::NegativeDuration);
    }
    if t.chars()
        .all(|c| c.is_ascii_digit() || c == '.' || c == '_')
    {
        return Err(ParseError::DurationWithoutUnit);
    }
    let d = humantime::parse_duration(t)?;
    u64::try_from(d.as_nanos())
        .ok()
        .filter(|&ns| ns <= MAX_DURATION)
        .ok_or(ParseError::DurationTooLong)
}

/// The longest duration any key may be written with: 100 years. The clock is a `u64` of
/// nanoseconds (~584 years); capping every duration well below it means a run's end plus
/// any timer, or the warm-up plus the run, can never wrap.
pub const MAX_DURATION: Nanos = 100 * 365 * 24 * 3600 * 1_000_000_000;

/// Canonical text of a duration: the largest unit that divides it exactly.
pub fn format_duration(ns: Nanos) -> String {
    const UNITS: [(u64, &str); 6] = [
        (3_600_000_000_000, "h"),
        (60_000_000_000, "min"),
        (1_000_000_000, "s"),
        (1_000_000, "ms"),
        (1_000, "us"),
        (1, "ns"),
    ];
    if ns == 0 {
        return "0s".into();
    }
    for (factor, unit) in UNITS {
        if ns % factor == 0 {
            return format!("{}{unit}", ns / factor);
        }
    }
    format!("{ns}ns")
}

const SIZE_UNITS: [(&str, u64); 11] = [
    ("B", 1),
    ("kB", 1_000),
    ("KB", 1_000),
    ("MB", 1_000_000),
    ("GB", 1_000_000_000),
    ("TB", 1_000_000_000_000),
    ("KiB", 1 << 10),
    ("MiB", 1 << 20),
    ("GiB", 1 << 30),
    ("TiB", 1 << 40),
    ("PiB", 1 << 50),
];

/// The size units, for "unknown unit" messages.
fn size_units() -> String {
    let units: Vec<&str> = SIZE_UNITS.iter().map(|(u, _)| *u).collect();
    units.join(", ")
}

/// Parses a size string into bytes.
pub fn parse_size(s: &str) -> Result<u64, ParseError> {
    let t = s.trim();
    if t.starts_with('-') {
        return Err(ParseError::NegativeSize);
    }
    let num_len = t
        .find(|c: char| !(c.is_ascii_digit() || c == '.' || c == '_'))
        .unwrap_or(t.len());
    let (num, unit) = t.split_at(num_len);
    let num: String = num.chars().filter(|&c| c != '_').collect();
    let unit = unit.trim();
    if num.is_empty() {
        return Err(ParseError::NoNumber);
    }
    if unit.is_empty() {
        return Err(ParseError::SizeWithoutUnit);
    }
    let Some(&(_, factor)) = SIZE_UNITS.iter().find(|(u, _)| *u == unit) else {
        return Err(ParseError::UnknownSizeUnit {
            unit: unit.to_string(),
        });
    };
    let (int, frac) = match num.split_once('.') {
        Some((i, f)) => (i, f),
        None => (num.as_str(), ""),
    };
    if int.is_empty() || frac.contains('.') || (num.contains('.') && frac.is_empty()) {
        return Err(ParseError::MalformedNumber);
    }
    let int: u64 = int.parse().map_err(|_| ParseError::SizeTooLarge)?;
    let mut bytes = int.checked_mul(factor).ok_or(ParseError::SizeTooLarge)?;
    if !frac.is_empty() {
        if frac.len() > 18 {
            return Err(ParseError::TooManyDecimals);
        }
        let denom = 10u128.pow(frac.len() as u32);
        let f: u128 = frac.parse().map_err(|_| ParseError::MalformedNumber)?;
        let scaled = f * u128::from(factor);
        if scaled % denom != 0 {
            return Err(ParseError::FractionalBytes);
        }
        let extra = u64::try_from(scaled / denom).map_err(|_| ParseError::SizeTooLarge)?;
        bytes = bytes.checked_add(extra).ok_or(ParseError::SizeTooLarge)?;
    }
    Ok(bytes)
}

/// Canonical text of a size: the largest binary unit that divides it exactly.
pub fn format_size(bytes: u64) -> String {
    for (unit, factor) in [("PiB", 1u64 << 50), ("TiB", 1 << 40), ("GiB", 1 << 30)]
        .into_iter()
        .chain([("MiB", 1 << 20), ("KiB", 1 << 10)])
    {
        if bytes != 0 && bytes % factor == 0 {
            return format!("{}{unit}", bytes / factor);
        }
    }
    format!("{bytes}B")
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The message of a failed parse.
    fn why<T: std::fmt::Debug>(r: Result<T, ParseError>) -> String {
        r.unwrap_err().to_string()
    }

    #[test]
    fn durations_in_every_unit() {
        let cases = [
            ("1ns", 1),
            ("7us", 7_000),
            ("7µs", 7_000),
            ("250ms", 250_000_000),
            ("3s", 3_000_000_000),
            ("1.5s", 1_500_000_000),
            ("10min", 600_000_000_000),
            ("1h", 3_600_000_000_000),
            ("1h 30min", 5_400_000_000_000),
            ("1d", 86_400_000_000_000),
            ("0s", 0),
        ];
        for (s, ns) in cases {
            assert_eq!(parse_duration(s), Ok(ns), "{s}");
        }
    }

    #[test]
    fn bad_durations_say_why() {
        assert!(why(parse_duration("3")).contains("without a unit"));
        assert!(why(parse_duration("3x")).contains("unknown time unit"));
        assert!(why(parse_duration("-1s")).contains("negative"));
        assert!(why(parse_duration("")).contains("empty"));
        assert!(parse_duration("off").is_err());
        assert!(parse_duration("99999999999999999999h").is_err());
        assert!(why(parse_duration("600000y")).contains("100 years"));
    }

    #[test]
    fn sizes_in_every_unit() {
        let cases = [
            ("0B", 0),
            ("871B", 871),
            ("1kB", 1_000),
            ("1KB", 1_000),
            ("2MB", 2_000_000),
            ("1.5GB", 1_500_000_000),
            ("1TB", 1_000_000_000_000),
            ("64KiB", 65_536),
            ("1.5KiB", 1_536),
            ("3MiB", 3 << 20),
            ("16GiB", 16 << 30),
            ("1TiB", 1 << 40),
            ("1PiB", 1 << 50),
            ("1_000B", 1_000),
            ("4 KiB", 4_096),
        ];
        for (s, b) in cases {
            assert_eq!(parse_size(s), Ok(b), "{s}");
        }
    }

    #[test]
    fn bad_sizes_say_why() {
        assert!(why(parse_size("200")).contains("without a unit"));
        assert!(why(parse_size("200kb")).contains("unknown unit"));
        assert!(why(parse_size("1.5B")).contains("fractional"));
        assert!(why(parse_size("-1B")).contains("negative"));
        assert!(why(parse_size("B")).contains("no number"));
        assert!(parse_size("1..2B").is_err());
        assert!(parse_size("1.B").is_err());
        assert!(why(parse_size("99999999999PiB")).contains("64 bits"));
    }

    #[test]
    fn messages_read_as_what_was_found() {
        assert_eq!(
            why(parse_size("2kb")),
            "unknown unit \"kb\" (units: B, kB, KB, MB, GB, TB, KiB, MiB, GiB, TiB, PiB)"
        );
        assert_eq!(
            why(parse_size("2")),
            "a number without a unit (bytes are written \"B\")"
        );
        assert_eq!(
            why(parse_duration("3x")),
            humantime::parse_duration("3x").unwrap_err().to_string()
        );
    }

    #[test]
    fn formatting_round_trips() {
        for ns in [
            0,
            1,
            999,
            1_000,
            250_000_000,
            3_000_000_000,
            5_400_000_000_000,
            1_500_000_001,
        ] {
            assert_eq!(parse_duration(&format_duration(ns)), Ok(ns));
        }
        assert_eq!(format_duration(250_000_000), "250ms");
        assert_eq!(format_duration(600_000_000_000), "10min");
        for b in [0, 1, 871, 1_024, 1_536, 3_000, 16 << 30, u64::MAX] {
            assert_eq!(parse_size(&format_size(b)), Ok(b));
        }
        assert_eq!(format_size(16 << 30), "16GiB");
    }
}
