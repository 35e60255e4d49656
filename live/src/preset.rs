//! The server preset `rtsim calibrate` writes: each measured figure with its method, K
//! and the date, the figures it does not measure taken from `event-loop`; written through
//! a temporary name, and only after every measurement succeeded.

use std::io::Write as _;
use std::path::{Path, PathBuf};

use crate::calibrate::{CalibrateError, Figure, Options, Server};

type Result<T> = std::result::Result<T, CalibrateError>;

/// Today's date (UTC) from the system clock, `YYYY-MM-DD`: for the preset's record only.
fn today() -> String {
    let secs = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map_or(0, |d| d.as_secs());
    // Days to civil date (Howard Hinnant's algorithm).
    let z = (secs / 86_400) as i64 + 719_468;
    let era = z.div_euclid(146_097);
    let doe = z - era * 146_097;
    let yoe = (doe - doe / 1_460 + doe / 36_524 - doe / 146_096) / 365;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let d = doy - (153 * mp + 2) / 5 + 1;
    let m = if mp < 10 { mp + 3 } else { mp - 9 };
    let y = yoe + era * 400 + i64::from(m <= 2);
    format!("{y:04}-{m:02}-{d:02}")
}

fn value_text(f: &Figure) -> String {
    match f.unit {
        "s" => format!("\"{:.1}us\"", f.value * 1e6),
        "B" if f.key == "response_header_bytes" => format!("\"{:.0}B\"", f.value),
        _ => format!("\"{:.0}B\"", f.value),
    }
}

/// The preset's text: every measured figure with its method, the rest from `event-loop`.
pub fn preset_text(o: &Options, figures: &[Figure]) -> String {
    let mut out = String::new();
    let source = match &o.server {
        Server::Pid(pid) => format!("process {pid}"),
        Server::Command(c) => format!("`{c}`"),
    };
    out.push_str(&format!(
        "# Server preset measured by `rtsim calibrate` on {} against {} ({source}), K = {}.\n\
         # Each measured figure says how it was measured. Figures not measured here are\n\
         # event-loop's (models/servers/event-loop.toml), marked so.\n\
         # response_header_bytes is a [network] key: set it there, not in [server].\n\n",
        today(),
        o.url,
        o.k
    ));
    let server_keys = [
        "base_memory",
        "memory_per_connection",
        "memory_per_request",
        "memory_per_stream",
        "request_cpu",
        "tcp_accept_cpu",
        "push_cpu",
    ];
    for f in figures.iter().filter(|f| server_keys.contains(&f.key)) {
        out.push_str(&format!(
            "# Measured: {}.\n{} = {}\n\n",
            f.method,
            f.key,
            value_text(f)
        ));
    }
    for f in figures.iter().filter(|f| !server_keys.contains(&f.key)) {
        out.push_str(&format!(
            "# Measured ({}): {} = {} ({}).\n",
            f.method,
            f.key,
            value_text(f),
            "write it in [network]"
        ));
    }
    out.push_str(
        "\n# Not measured: event-loop's figures.\nconcurrency = \"event-loop\"\ncores = 8\n",
    );
    if !figures.iter().any(|f| f.key == "push_cpu") {
        out.push_str("push_cpu = \"10us\"\n");
    }
    out.push_str(
        "tls_handshake_cpu = \"1ms\"\nmax_connections = 1_000_000\nmemory_limit = \"16GiB\"\nthread_stack = \"1MiB\"\n",
    );
    out
}

/// Checks the name and the destination before anything is measured.
pub fn destination(o: &Options) -> Result<PathBuf> {
    let ok = !o.name.is_empty()
        && o.name
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || c == '-' || c == '_');
    if !ok {
        return Err(CalibrateError::BadName(o.name.clone()));
    }
    let file = o.models.join(format!("{}.toml", o.name));
    if file.exists() && !o.force {
        return Err(CalibrateError::Exists(file));
    }
    Ok(file)
}

/// Writes the preset through a temporary name.
pub fn write_preset(file: &Path, text: &str) -> Result<()> {
    let wrap = |error| CalibrateError::Write {
        path: file.to_path_buf(),
        error,
    };
    if let Some(dir) = file.parent() {
        std::fs::create_dir_all(dir).map_err(wrap)?;
    }
    let tmp = file.with_extension("toml.tmp");
    let mut f = std::fs::File::create(&tmp).map_err(wrap)?;
    f.write_all(text.as_bytes()).map_err(wrap)?;
    f.sync_all().map_err(wrap)?;
    std::fs::rename(&tmp, file).map_err(wrap)
}
