//! Number formatting for people: table cells and chart tick labels.
//!
//! Machines get Rust's shortest round-trip `{}` formatting (`report::machine_number`);
//! people get these: `32,258 req/s`, `1.60 s`, `250 ms`, `1.5 GiB`, and `10k` / `1M` on
//! axes — never `10000.0`.
//!
//! Every function is plain decimal arithmetic on the value (no logarithms), so the text
//! is the same on every platform. Non-finite values print as `n/a`. (The `bytesize`
//! crate was considered for [`bytes`]: it always prints one decimal (`64.0 KiB`),
//! takes whole bytes only and picks the unit with `f64::ln`, so it cannot give these
//! strings; it is not a dependency.)

/// Significant digits kept by the human formatters.
const SIG: usize = 3;

/// Decimals that give `sig` significant digits for a magnitude `a` (a ≥ 0).
fn decimals_for(a: f64, sig: usize) -> usize {
    let mut d = sig.saturating_sub(1);
    let mut bound = 10.0;
    while a >= bound && d > 0 {
        d -= 1;
        bound *= 10.0;
    }
    let mut bound = 1.0;
    while a > 0.0 && a < bound && d < 12 {
        d += 1;
        bound /= 10.0;
    }
    d
}

/// `v` with `sig` significant digits; `trim` drops trailing zeros (`1.50` → `1.5`).
pub fn sig(v: f64, sig: usize, trim: bool) -> String {
    if !v.is_finite() {
        return "n/a".to_string();
    }
    let mut d = decimals_for(v.abs(), sig);
    let mut s = format!("{:.*}", d, v);
    // Rounding can carry into a new digit (99.96 → "100.0"): drop a decimal then.
    let digits = s.chars().filter(|c| c.is_ascii_digit()).count();
    let leading_zeros = s
        .trim_start_matches('-')
        .chars()
        .take_while(|c| *c == '0' || *c == '.')
        .filter(|c| *c == '0')
        .count();
    if d > 0 && digits - leading_zeros > sig {
        d -= 1;
        s = format!("{:.*}", d, v);
    }
    if trim && s.contains('.') {
        s = s.trim_end_matches('0').trim_end_matches('.').to_string();
    }
    if s == "-0" {
        s = "0".to_string();
    }
    s
}

/// Thousands separators on a rounded integer: `32258.4` → `32,258`.
pub fn thousands(v: f64) -> String {
    if !v.is_finite() {
        return "n/a".to_string();
    }
    let r = v.round();
    let neg = r < 0.0;
    let digits = format!("{}", r.abs());
    let mut out = String::new();
    for (i, c) in digits.chars().enumerate() {
        if i > 0 && (digits.len() - i) % 3 == 0 {
            out.push(',');
        }
        out.push(c);
    }
    if neg && out != "0" {
        out.insert(0, '-');
    }
    out
}

/// A count or rate for a table: `32,258` from 100 up, else three significant digits
/// (`33.3`, `0.5`).
pub fn count(v: f64) -> String {
    if v.is_finite() && v.abs() >= 1e15 {
        // Seventeen digits and more read as noise: `1.00e30`.
        format!("{v:.2e}")
    } else if v.is_finite() && v.abs() >= 100.0 {
        thousands(v)
    } else {
        sig(v, SIG, true)
    }
}

/// A share as a percentage with one decimal: `0.995` → `99.5%`.
pub fn percent(fraction: f64) -> String {
    if !fraction.is_finite() {
        return "n/a".to_string();
    }
    let s = format!("{:.1}", fraction * 100.0);
    let s = s.strip_suffix(".0").map(str::to_string).unwrap_or(s);
    format!("{s}%")
}

/// A duration in seconds: `1.60 s`, `250 ms`, `45.2 ms`, `850 µs`, `2.50 min`.
/// `trim` drops trailing zeros (for axis ticks: `1 s`, `1.5 s`).
pub fn duration(seconds: f64, trim: bool) -> String {
    if !seconds.is_finite() {
        return "n/a".to_string();
    }
    let a = seconds.abs();
    let (v, unit) = if a == 0.0 {
        (0.0, "s")
    } else if a < 1e-6 {
        (seconds * 1e9, "ns")
    } else if a < 1e-3 {
        (seconds * 1e6, "µs")
    } else if a < 1.0 {
        (seconds * 1e3, "ms")
    } else if a < 60.0 {
        (seconds, "s")
    } else if a < 3600.0 {
        (seconds / 60.0, "min")
    } else {
        (seconds / 3600.0, "h")
    };
    if v == 0.0 {
        return format!("0 {unit}");
    }
    format!("{} {unit}", sig(v, SIG, trim))
}

/// A size in binary units: `512 B`, `64 KiB`, `1.50 GiB` (`1.5 GiB` with `trim`).
pub fn bytes(v: f64, trim: bool) -> String {
    if !v.is_finite() {
        return "n/a".to_string();
    }
    const UNITS: [&str; 6] = ["B", "KiB", "MiB", "GiB", "TiB", "PiB"];
    let mut x = v;
    let mut unit = 0;
    while x.abs() >= 1024.0 && unit + 1 < UNITS.len() {
        x /= 1024.0;
        unit += 1;
    }
    if unit == 0 {
        return format!("{} B", thousands(x));
    }
    if x.abs() >= 1024.0 {
        // Beyond any real machine (an estimate of a hostile input): digits would not help.
        return format!("{v:.2e} B");
    }
    format!("{} {}", sig(x, SIG, trim), UNITS[unit])
}

/// A short axis label for a count: `0`, `250`, `1.5k`, `10k`, `1M`, `2.5G`, `0.05`.
pub fn si(v: f64) -> String {
    if !v.is_finite() {
        return "n/a".to_string();
    }
    let a = v.abs();
    let (x, suffix) = if a >= 1e9 {
        (v / 1e9, "G")
    } else if a >= 1e6 {
        (v / 1e6, "M")
    } else if a >= 1e3 {
        (v / 1e3, "k")
    } else {
        (v, "")
    };
    format!("{}{suffix}", sig(x, SIG, true))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn significant_digits() {
        assert_eq!(sig(1.6, 3, false), "1.60");
        assert_eq!(sig(1.6, 3, true), "1.6");
        assert_eq!(sig(4.56789, 3, false), "4.57");
        assert_eq!(sig(45.23, 3, false), "45.2");
        assert_eq!(sig(250.0, 3, false), "250");
        assert_eq!(sig(99.96, 3, false), "100");
        assert_eq!(sig(9.996, 3, false), "10.0");
        assert_eq!(sig(0.5, 3, false), "0.500");
        assert_eq!(sig(0.5, 3, true), "0.5");
        assert_eq!(sig(0.0123, 3, false), "0.0123");
        assert_eq!(sig(0.0, 3, true), "0");
        assert_eq!(sig(-0.0001, 1, true), "-0.0001");
        assert_eq!(sig(f64::NAN, 3, true), "n/a");
    }

    #[test]
    fn counts_and_thousands() {
        assert_eq!(thousands(32258.4), "32,258");
        assert_eq!(thousands(1_000_000.0), "1,000,000");
        assert_eq!(thousands(999.0), "999");
        assert_eq!(thousands(-1234.0), "-1,234");
        assert_eq!(count(33333.3), "33,333");
        assert_eq!(count(33.33), "33.3");
        assert_eq!(count(0.5), "0.5");
        assert_eq!(count(0.0), "0");
        assert_eq!(count(1e30), "1.00e30");
    }

    #[test]
    fn percents() {
        assert_eq!(percent(0.995), "99.5%");
        assert_eq!(percent(1.0), "100%");
        assert_eq!(percent(0.0), "0%");
        assert_eq!(percent(0.12345), "12.3%");
    }

    #[test]
    fn durations() {
        assert_eq!(duration(1.6, false), "1.60 s");
        assert_eq!(duration(3.1, true), "3.1 s");
        assert_eq!(duration(0.25, false), "250 ms");
        assert_eq!(duration(0.0452, false), "45.2 ms");
        assert_eq!(duration(0.00085, false), "850 µs");
        assert_eq!(duration(150.0, false), "2.50 min");
        assert_eq!(duration(1.0, true), "1 s");
        assert_eq!(duration(30.0, true), "30 s");
        assert_eq!(duration(0.0, true), "0 s");
    }

    #[test]
    fn sizes() {
        assert_eq!(bytes(512.0, true), "512 B");
        assert_eq!(bytes(65536.0, true), "64 KiB");
        assert_eq!(bytes(1.7e36, true), "1.70e36 B");
        assert_eq!(bytes(1.5 * 1024.0 * 1024.0 * 1024.0, true), "1.5 GiB");
        assert_eq!(bytes(1.5 * 1024.0 * 1024.0 * 1024.0, false), "1.50 GiB");
        assert_eq!(bytes(0.0, true), "0 B");
    }

    #[test]
    fn axis_labels() {
        assert_eq!(si(10_000.0), "10k");
        assert_eq!(si(1_000_000.0), "1M");
        assert_eq!(si(1_500.0), "1.5k");
        assert_eq!(si(250.0), "250");
        assert_eq!(si(0.05), "0.05");
        assert_eq!(si(0.0), "0");
        assert_eq!(si(2.5e9), "2.5G");
    }
}
