//! Where a command's results go, and how they get there.
//!
//! - **Names are not paths.** The default folder is `output/<slug>`, the slug made of
//!   the experiment's `name` with everything but letters, digits, `-`, `_` and inner
//!   dots turned into `-`: `name = "/etc"` or `".."` can never leave `output/`. Only
//!   `--out` chooses a path.
//! - **Checked before simulating.** [`Staging::prepare`] creates the parent folders and
//!   an empty sibling staging folder (which proves the place writable), and refuses a
//!   path that is a file, or a folder that holds something other than an earlier rtsim
//!   output (replacing it would delete the user's files).
//! - **Replaced as a whole.** Everything is written into the staging folder, then
//!   [`Staging::commit`] swaps it in with renames: the old folder moves aside, the new
//!   one takes its name, the old one is removed. A kill at any moment leaves the
//!   complete old folder or the complete new one (between the two renames, the old one
//!   waits under its aside name and [`Staging::prepare`] of the next run puts it back).
//!   Files of an earlier run that this one did not write do not survive; files rtsim
//!   never wrote (a teacher's notes, a `.gitignore`) do: each output folder lists what
//!   rtsim wrote in [`MANIFEST`], and [`Staging::commit`] carries every other file of
//!   the old folder into the new one. (A folder written before the manifest existed
//!   counts rtsim's own file names and `charts/*.svg|png|json` as rtsim's.)
//! - **Leftovers are cleaned.** Staging and aside folders of an interrupted run are
//!   removed by the next run into the same folder.
//!
//! Also here: printing to stdout when the reader may have gone (`rtsim explain | head`).

use std::io::Write;
use std::path::{Path, PathBuf};

use anyhow::{Context, anyhow};

/// Files whose presence marks a folder as an earlier rtsim output (safe to replace).
const MARKERS: [&str; 4] = ["results.csv", "experiment.toml", "shard.json", "sizing.csv"];

/// The list of files rtsim wrote into an output folder, one relative path a line.
pub(super) const MANIFEST: &str = ".rtsim-files";

/// Files rtsim writes at the top of an output folder (for folders without a manifest).
const OWN_FILES: [&str; 11] = [
    "results.csv",
    "results.json",
    "table.md",
    "timeseries.csv",
    "experiment.toml",
    "timing.json",
    "claims.json",
    "shard.json",
    "sizing.csv",
    "sizing.md",
    "report.html",
];

/// Every file under `dir`, as paths relative to it, sorted.
fn files_under(dir: &Path) -> anyhow::Result<Vec<PathBuf>> {
    let mut out = Vec::new();
    let mut stack = vec![PathBuf::new()];
    while let Some(rel) = stack.pop() {
        let here = dir.join(&rel);
        for e in
            std::fs::read_dir(&here).with_context(|| format!("cannot list {}", here.display()))?
        {
            let e = e?;
            let path = rel.join(e.file_name());
            if e.file_type()?.is_dir() {
                stack.push(path);
            } else {
                out.push(path);
            }
        }
    }
    out.sort();
    Ok(out)
}

/// The files of an old output folder that rtsim wrote: its manifest's, or, without one,
/// rtsim's own names.
fn written_by_rtsim(old: &Path) -> anyhow::Result<Vec<PathBuf>> {
    if let Ok(text) = std::fs::read_to_string(old.join(MANIFEST)) {
        return Ok(text
            .lines()
            .filter(|l| !l.is_empty())
            .map(PathBuf::from)
            .collect());
    }
    Ok(files_under(old)?
        .into_iter()
        .filter(|p| {
            let top = p.components().count() == 1;
            let name = p.to_string_lossy();
            (top && OWN_FILES.iter().any(|f| name == *f))
                || (p.starts_with("charts")
                    && p.extension()
                        .is_some_and(|e| e == "svg" || e == "png" || e == "json"))
        })
        .collect())
}

/// The course's `index.html` in `root` (a folder run's `--out`), written atomically;
/// an `index.html` that rtsim did not write is left alone, with a note.
pub(super) fn write_course_index(root: &Path, html: &str) -> anyhow::Result<()> {
    let path = root.join("index.html");
    if let Ok(old) = std::fs::read_to_string(&path) {
        if !old.contains(crate::report::html::GENERATOR) {
            eprintln!(
                "note: {} was not written by rtsim; the course index is not written",
                path.display()
            );
            return Ok(());
        }
    } else if path.exists() {
        eprintln!(
            "note: {} is not a page rtsim wrote; the course index is not written",
            path.display()
        );
        return Ok(());
    }
    crate::report::write_atomic(&path, html.as_bytes())
        .with_context(|| format!("writing {}", path.display()))
}

/// `output/<slug of name>`.
pub(super) fn default_out(name: &str) -> PathBuf {
    Path::new("output").join(slug(name))
}

/// A file-name-safe form of an experiment name: ASCII letters, digits, `-`, `_` and
/// dots kept (but never leading, so no `.` or `..`), every other run of characters
/// turned into one `-`; `experiment` when nothing is left.
pub(super) fn slug(name: &str) -> String {
    let mut out = String::new();
    for c in name.chars() {
        let keep = c.is_ascii_alphanumeric() || c == '-' || c == '_' || c == '.';
        if keep {
            out.push(c);
        } else if !out.ends_with('-') {
            out.push('-');
        }
    }
    let trimmed = out.trim_start_matches(['.', '-']).trim_end_matches('-');
    if trimmed.is_empty() {
        "experiment".to_string()
    } else {
        trimmed.to_string()
    }
}

/// An output folder being prepared: written into a sibling staging folder, swapped in
/// by [`Staging::commit`]. Dropped without a commit, the staging folder is removed.
pub(super) struct Staging {
    /// The folder the results will have once committed.
    target: PathBuf,
    /// Where they are written meanwhile.
    staging: PathBuf,
    committed: bool,
}

impl Staging {
    /// Checks `target` can become an output folder, cleans the leftovers of an
    /// interrupted run into it, and creates the staging folder. Call before simulating.
    pub(super) fn prepare(target: &Path) -> anyhow::Result<Staging> {
        let file_name = target
            .file_name()
            .filter(|n| *n != "." && *n != "..")
            .ok_or_else(|| {
                anyhow!(
                    "{}: an output folder needs a name of its own (not `.`, `..` or `/`)",
                    target.display()
                )
            })?;
        let parent = match target.parent() {
            Some(p) if !p.as_os_str().is_empty() => p.to_path_buf(),
            _ => PathBuf::from("."),
        };
        std::fs::create_dir_all(&parent)
            .with_context(|| format!("cannot create the folder {}", parent.display()))?;
        let target = parent.join(file_name);
        let prefix = leftover_prefix(&target);
        restore_or_clean(&parent, &target, &prefix)?;
        if let Ok(meta) = std::fs::symlink_metadata(&target) {
            if !meta.is_dir() {
                return Err(anyhow!(
                    "{} exists and is not a folder; choose another --out",
                    target.display()
                ));
            }
            if !is_replaceable(&target)? {
                return Err(anyhow!(
                    "{} exists and is not an rtsim output folder (no results.csv, \
                     experiment.toml, shard.json or sizing.csv); a run replaces its output \
                     folder as a whole, so choose another --out or remove it",
                    target.display()
                ));
            }
        }
        let staging = parent.join(format!("{prefix}new-{}", std::process::id()));
        std::fs::create_dir(&staging)
            .with_context(|| format!("cannot write in {}", parent.display()))?;
        Ok(Staging {
            target,
            staging,
            committed: false,
        })
    }

    /// Where to write.
    pub(super) fn dir(&self) -> &Path {
        &self.staging
    }

    /// The folder the results will have.
    pub(super) fn target(&self) -> &Path {
        &self.target
    }

    /// Swaps the staging folder in: the old folder (if any) aside, the new one to its
    /// name, the old one removed.
    pub(super) fn commit(mut self) -> anyhow::Result<()> {
        // What this run wrote, listed for the next one.
        let written = files_under(&self.staging)?;
        let list: String = written
            .iter()
            .map(|p| format!("{}\n", p.display()))
            .collect();
        std::fs::write(self.staging.join(MANIFEST), list)
            .with_context(|| format!("writing {}", self.staging.join(MANIFEST).display()))?;
        // The user's own files in the old folder come along.
        if self.target.is_dir() {
            let ours = written_by_rtsim(&self.target)?;
            for rel in files_under(&self.target)? {
                let name = rel.to_string_lossy();
                if ours.contains(&rel) || name == MANIFEST || name.contains(".rtsim-") {
                    continue;
                }
                let to = self.staging.join(&rel);
                if to.exists() {
                    continue;
                }
                if let Some(dir) = to.parent() {
                    std::fs::create_dir_all(dir)?;
                }
                // Copied, not moved: killed before the swap, the old folder still has it.
                std::fs::copy(self.target.join(&rel), &to)
                    .with_context(|| format!("keeping {}", self.target.join(&rel).display()))?;
            }
        }
        let parent = self.target.parent().unwrap_or(Path::new("."));
        let aside = parent.join(format!(
            "{}old-{}",
            leftover_prefix(&self.target),
            std::process::id()
        ));
        let had_old = self.target.exists();
        if had_old {
            std::fs::rename(&self.target, &aside)
                .with_context(|| format!("moving the old {} aside", self.target.display()))?;
        }
        if let Err(e) = std::fs::rename(&self.staging, &self.target) {
            if had_old {
                let _ = std::fs::rename(&aside, &self.target);
            }
            return Err(e).with_context(|| format!("renaming into {}", self.target.display()));
        }
        self.committed = true;
        if had_old {
            std::fs::remove_dir_all(&aside)
                .with_context(|| format!("removing the old results {}", aside.display()))?;
        }
        Ok(())
    }
}

impl Drop for Staging {
    fn drop(&mut self) {
        if !self.committed {
            let _ = std::fs::remove_dir_all(&self.staging);
        }
    }
}

/// `.<name>.rtsim-`: what staging (`…new-PID`) and aside (`…old-PID`) folders of
/// `target` start with.
fn leftover_prefix(target: &Path) -> String {
    let name = target.file_name().unwrap_or_default().to_string_lossy();
    format!(".{name}.rtsim-")
}

/// Leftovers of an interrupted run into `target`: an aside folder comes back when the
/// target is missing (killed between the two renames of a commit); every other one is
/// removed.
fn restore_or_clean(parent: &Path, target: &Path, prefix: &str) -> anyhow::Result<()> {
    let mut leftovers: Vec<PathBuf> = std::fs::read_dir(parent)
        .with_context(|| format!("cannot list {}", parent.display()))?
        .filter_map(Result::ok)
        .filter(|e| e.file_name().to_string_lossy().starts_with(prefix))
        .map(|e| e.path())
        .collect();
    leftovers.sort();
    for path in leftovers {
        let is_aside = path
            .file_name()
            .is_some_and(|n| n.to_string_lossy()[prefix.len()..].starts_with("old-"));
        if is_aside && !target.exists() {
            std::fs::rename(&path, target)
                .with_context(|| format!("restoring {}", target.display()))?;
        } else {
            std::fs::remove_dir_all(&path)
                .with_context(|| format!("removing the leftover {}", path.display()))?;
        }
    }
    Ok(())
}

/// An empty folder, or one holding an earlier rtsim output.
fn is_replaceable(dir: &Path) -> anyhow::Result<bool> {
    let mut entries =
        std::fs::read_dir(dir).with_context(|| format!("cannot list {}", dir.display()))?;
    if entries.next().is_none() {
        return Ok(true);
    }
    Ok(MARKERS.iter().any(|m| dir.join(m).is_file()))
}

/// The reader of stdout went away (`rtsim explain | head -1`): not an error worth a
/// word; the command stops and exits with 141, as if SIGPIPE had ended it.
#[derive(Debug, thiserror::Error)]
#[error("stdout closed")]
pub(super) struct ClosedPipe;

/// Writes `text` to stdout. A closed pipe becomes [`ClosedPipe`]; `println!` would panic.
pub(super) fn write_stdout(text: std::fmt::Arguments) -> anyhow::Result<()> {
    let mut out = std::io::stdout().lock();
    match out.write_fmt(text).and_then(|()| out.flush()) {
        Ok(()) => Ok(()),
        Err(e) if e.kind() == std::io::ErrorKind::BrokenPipe => Err(ClosedPipe.into()),
        Err(e) => Err(anyhow::Error::new(e).context("writing to stdout")),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_become_slugs_inside_output() {
        assert_eq!(slug("default"), "default");
        assert_eq!(slug("polling-waste"), "polling-waste");
        assert_eq!(slug("/some/abs/path"), "some-abs-path");
        assert_eq!(slug(".."), "experiment");
        assert_eq!(slug("../x"), "x");
        assert_eq!(slug("a b/c"), "a-b-c");
        assert_eq!(slug(""), "experiment");
        assert_eq!(slug("v1.2"), "v1.2");
        for name in ["/etc", "..", "../x", "./..", "a/../../b", "\\..\\x", "é"] {
            let out = default_out(name);
            assert_eq!(out.components().count(), 2, "{name} → {}", out.display());
            assert!(out.starts_with("output"), "{name}");
        }
    }
}
