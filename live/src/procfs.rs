//! What `rtsim calibrate` reads of a process in `/proc`: its resident set, its CPU time,
//! and whether it holds the socket listening on a port.

use crate::calibrate::CalibrateError;

type Result<T> = std::result::Result<T, CalibrateError>;

/// `/proc/PID/stat` counts CPU time in USER_HZ ticks: 100 per second on Linux.
pub const USER_HZ: f64 = 100.0;

/// Resident set of `pid`, in bytes.
pub fn rss(pid: u32) -> Result<u64> {
    let status = std::fs::read_to_string(format!("/proc/{pid}/status"))
        .map_err(|_| CalibrateError::Died(pid))?;
    let kb = status
        .lines()
        .find_map(|l| l.strip_prefix("VmRSS:"))
        .and_then(|v| v.split_whitespace().next()?.parse::<u64>().ok())
        .ok_or(CalibrateError::Died(pid))?;
    Ok(kb * 1024)
}

/// CPU time of `pid` (user + system), in seconds.
pub fn cpu_s(pid: u32) -> Result<f64> {
    let stat = std::fs::read_to_string(format!("/proc/{pid}/stat"))
        .map_err(|_| CalibrateError::Died(pid))?;
    // Fields after the command name, which is in parentheses and may hold spaces.
    let after = stat.rsplit_once(')').map(|(_, r)| r).unwrap_or("");
    let fields: Vec<&str> = after.split_whitespace().collect();
    // utime and stime are fields 14 and 15 of the line, 12 and 13 after the name.
    let tick = |i: usize| fields.get(i).and_then(|v| v.parse::<f64>().ok());
    match (tick(11), tick(12)) {
        (Some(u), Some(s)) => Ok((u + s) / USER_HZ),
        _ => Err(CalibrateError::Died(pid)),
    }
}

/// The inode of the socket listening on `port` (from `/proc/net/tcp`).
fn listening_inode(port: u16) -> Option<String> {
    let table = std::fs::read_to_string("/proc/net/tcp").ok()?;
    let want = format!(":{port:04X}");
    table.lines().skip(1).find_map(|line| {
        let f: Vec<&str> = line.split_whitespace().collect();
        (f.get(1)?.ends_with(&want) && *f.get(3)? == "0A")
            .then(|| f.get(9).map(|s| s.to_string()))?
    })
}

/// Checks that `pid` exists and holds the socket listening on `port`.
pub fn check_pid(pid: u32, port: u16) -> Result<()> {
    let name = std::fs::read_to_string(format!("/proc/{pid}/comm"))
        .map_err(|_| CalibrateError::NoProcess(pid))?
        .trim()
        .to_string();
    let not_it = || CalibrateError::NotTheServer {
        pid,
        name: name.clone(),
        port,
    };
    let inode = listening_inode(port).ok_or_else(not_it)?;
    let link = format!("socket:[{inode}]");
    let fds = std::fs::read_dir(format!("/proc/{pid}/fd")).map_err(|_| not_it())?;
    let holds = fds
        .flatten()
        .any(|fd| std::fs::read_link(fd.path()).is_ok_and(|l| l.to_string_lossy() == link));
    if holds { Ok(()) } else { Err(not_it()) }
}
