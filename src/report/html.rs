//! `report.html`: one self-contained page per run — the lesson's question, the trade-off
//! table, every chart (its SVG inline), the warnings, the claims and whether they held,
//! `explain`'s verdicts and a trace of one client per technique — and, for `rtsim run
//! FOLDER`, the course's `index.html` linking each lesson's page.
//!
//! **Self-contained.** No script, no font, no stylesheet or image from elsewhere: the
//! page carries a Content-Security-Policy (`default-src 'none'`) that forbids fetching
//! anything and running any script, so it opens the same offline, from a file, or
//! attached to an e-mail.
//!
//! **Every text is escaped.** The description, names, `[[claims]]` sentences and chart
//! labels are the lesson author's input: they go through [`escape`] (the charts' SVG
//! through plotters' and the traces' own escaping), so `<script>` in a description is
//! shown as text, never run (and the policy above would block it anyway).
//!
//! The reports know nothing of theory or of the simulator: the warnings, the verdicts
//! and the traces arrive as words and SVG in [`Findings`] (the CLI makes them), beside
//! the rows, as theory's cells do.

use std::fmt::Write as _;

use super::claims::Verdict;
use super::table::{HEADINGS, table_cells};
use super::{ChartEntry, Exporter, Metadata, Results};

/// What the page says that the rows alone cannot: made by the CLI (diagnosis, the
/// steady-state detector, theory's `explain`, a traced run), carried in [`Metadata`].
#[derive(Clone, Debug, Default, PartialEq)]
pub struct Findings {
    /// `run`'s warnings, one line each (overload, no sample, start-up transients).
    pub warnings: Vec<String>,
    /// `explain`'s text for each row: (heading, plain text).
    pub verdicts: Vec<(String, String)>,
    /// One traced client per technique: (technique title, SVG sequence diagram), or
    /// (technique title, why there is none) as `Err`.
    pub traces: Vec<(String, Result<String, String>)>,
}

/// A drawn chart for the page: its index entry and its SVG text.
#[derive(Clone, Debug, PartialEq)]
pub struct InlineChart {
    pub entry: ChartEntry,
    pub svg: String,
}

/// Writes `report.html` from the rows, the metadata's findings, the claims' verdicts and
/// the charts already drawn.
pub struct HtmlExporter {
    pub charts: Vec<InlineChart>,
    pub verdicts: Vec<Verdict>,
}

/// The report's file name.
pub const FILE_NAME: &str = "report.html";

impl Exporter for HtmlExporter {
    fn file_name(&self) -> &'static str {
        FILE_NAME
    }
    fn serialize(&self, results: &Results, meta: &Metadata) -> Vec<u8> {
        page(results, meta, &self.charts, &self.verdicts).into_bytes()
    }
}

/// Text made safe for HTML (and XML: the SVG traces use it too) element content and
/// quoted attribute values; `'` as `&#39;`, which both read.
pub fn escape(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    for ch in s.chars() {
        match ch {
            '&' => out.push_str("&amp;"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '"' => out.push_str("&quot;"),
            '\'' => out.push_str("&#39;"),
            c => out.push(c),
        }
    }
    out
}

/// The policy of every page: nothing fetched, nothing run; inline styles and the
/// inline SVG's own drawing only.
const POLICY: &str = "default-src 'none'; style-src 'unsafe-inline'; img-src data:";

/// Marks a page rtsim wrote (`index.html` is replaced only when it carries it).
pub const GENERATOR: &str = "<meta name=\"generator\" content=\"rtsim\">";

const STYLE: &str = "\
body{font-family:'DejaVu Sans',Verdana,sans-serif;max-width:1100px;margin:2em auto;padding:0 1em;color:#222;line-height:1.45}\
h1{font-size:1.7em;margin-bottom:.2em}h2{margin-top:2em;border-bottom:1px solid #ccc}\
table{border-collapse:collapse;margin:1em 0}th,td{border:1px solid #bbb;padding:.3em .6em;text-align:left;vertical-align:top}\
th{background:#f2f2f2}.caption{font-size:.9em;color:#555}\
figure{margin:1.5em 0}figure svg{max-width:100%;height:auto;display:block;border:1px solid #eee}\
figcaption{font-size:.9em;color:#555;margin-top:.3em}\
.held{color:#1a7f37;font-weight:bold}.failed{color:#b3261e;font-weight:bold}\
ul.warnings li{margin:.3em 0}pre{white-space:pre-wrap;background:#f7f7f7;padding:.8em;font-size:.85em}\
details{margin:.4em 0}summary{cursor:pointer}.meta{color:#555;font-size:.9em}";

fn head(s: &mut String, title: &str) {
    let _ = write!(
        s,
        "<!DOCTYPE html>\n<html lang=\"en\">\n<head>\n<meta charset=\"utf-8\">\n\
         <meta http-equiv=\"Content-Security-Policy\" content=\"{POLICY}\">\n{GENERATOR}\n\
         <meta name=\"viewport\" content=\"width=device-width, initial-scale=1\">\n\
         <title>{}</title>\n<style>{STYLE}</style>\n</head>\n<body>\n",
        escape(title)
    );
}

/// Paragraphs of a user's text: blank lines separate them, each escaped.
fn paragraphs(s: &mut String, text: &str) {
    for para in text.split("\n\n").map(str::trim).filter(|p| !p.is_empty()) {
        let _ = writeln!(s, "<p>{}</p>", escape(para));
    }
}

/// An SVG from the chart or trace renderers, inline: from its `<svg` on (an XML
/// declaration or doctype would not belong in HTML).
fn inline_svg(svg: &str) -> &str {
    svg.find("<svg").map_or("", |i| &svg[i..]).trim_end()
}

/// The whole page.
pub fn page(
    results: &Results,
    meta: &Metadata,
    charts: &[InlineChart],
    verdicts: &[Verdict],
) -> String {
    let mut s = String::new();
    let title = if meta.name.is_empty() {
        "rtsim report".to_string()
    } else {
        format!("{} — rtsim report", meta.name)
    };
    head(&mut s, &title);
    let _ = writeln!(s, "<h1>{}</h1>", escape(&meta.name));
    let _ = writeln!(
        s,
        "<p class=\"meta\">rtsim {} · seed {} · {} replication{} · {} rows</p>",
        escape(&meta.rtsim_version),
        meta.seed,
        meta.replications,
        if meta.replications == 1 { "" } else { "s" },
        results.rows().len()
    );

    s.push_str("<section id=\"question\">\n<h2>The question</h2>\n");
    if meta.description.trim().is_empty() {
        s.push_str("<p><em>The experiment has no description.</em></p>\n");
    } else {
        paragraphs(&mut s, &meta.description);
    }
    s.push_str("</section>\n");

    table(&mut s, results);

    s.push_str("<section id=\"charts\">\n<h2>Charts</h2>\n");
    for chart in charts {
        let _ = writeln!(
            s,
            "<figure class=\"chart\" id=\"chart-{}\">\n{}\n<figcaption>{}</figcaption>\n</figure>",
            escape(&chart.entry.stem),
            inline_svg(&chart.svg),
            escape(&chart.entry.title)
        );
    }
    s.push_str("</section>\n");

    s.push_str("<section id=\"warnings\">\n<h2>Warnings</h2>\n");
    if meta.findings.warnings.is_empty() {
        s.push_str(
            "<p>None: no row was overloaded, lost updates, lacked a sample or still held \
             its start-up transient in the measured window.</p>\n",
        );
    } else {
        s.push_str("<ul class=\"warnings\">\n");
        for w in &meta.findings.warnings {
            let _ = writeln!(s, "<li>{}</li>", escape(w));
        }
        s.push_str("</ul>\n");
    }
    s.push_str("</section>\n");

    claims(&mut s, verdicts);

    s.push_str("<section id=\"explain\">\n<h2>Theory beside measurement</h2>\n");
    s.push_str(
        "<p>For each row, <code>rtsim explain</code>'s comparison of the closed-form \
         prediction with the simulated value, and the assumption a scenario breaks where \
         they differ.</p>\n",
    );
    for (heading, text) in &meta.findings.verdicts {
        let _ = writeln!(
            s,
            "<details class=\"verdict\"><summary>{}</summary>\n<pre>{}</pre>\n</details>",
            escape(heading),
            escape(text.trim_end())
        );
    }
    s.push_str("</section>\n");

    s.push_str("<section id=\"traces\">\n<h2>One client, message by message</h2>\n");
    s.push_str(
        "<p>Each technique's representative scenario traced with one client for its \
         first seconds (as <code>rtsim trace</code> draws it).</p>\n",
    );
    for (technique, trace) in &meta.findings.traces {
        match trace {
            Ok(svg) => {
                let _ = writeln!(
                    s,
                    "<figure class=\"trace\">\n{}\n<figcaption>{}: one client</figcaption>\n</figure>",
                    inline_svg(svg),
                    escape(technique)
                );
            }
            Err(why) => {
                let _ = writeln!(
                    s,
                    "<p class=\"trace\">{}: no trace ({})</p>",
                    escape(technique),
                    escape(why)
                );
            }
        }
    }
    s.push_str("</section>\n</body>\n</html>\n");
    s
}

fn table(s: &mut String, results: &Results) {
    s.push_str("<section id=\"table\">\n<h2>The trade-off table</h2>\n");
    if results.rows().is_empty() {
        s.push_str("<p><em>No results.</em></p>\n</section>\n");
        return;
    }
    let (lines, caption) = table_cells(results.rows());
    s.push_str("<table class=\"tradeoff\">\n<tr>");
    for h in HEADINGS {
        let _ = write!(s, "<th>{}</th>", escape(h));
    }
    s.push_str("</tr>\n");
    for line in &lines {
        s.push_str("<tr>");
        for cell in line {
            let _ = write!(s, "<td>{}</td>", escape(cell));
        }
        s.push_str("</tr>\n");
    }
    s.push_str("</table>\n");
    let _ = writeln!(
        s,
        "<p class=\"caption\">{}</p>\n</section>",
        escape(caption.trim().trim_matches('*'))
    );
}

fn claims(s: &mut String, verdicts: &[Verdict]) {
    s.push_str("<section id=\"claims\">\n<h2>The lesson's claims</h2>\n");
    if verdicts.is_empty() {
        s.push_str("<p>The experiment states no <code>[[claims]]</code>.</p>\n</section>\n");
        return;
    }
    let failed = verdicts.iter().filter(|v| !v.held).count();
    let _ = writeln!(
        s,
        "<p>{} of {} held.</p>",
        verdicts.len() - failed,
        verdicts.len()
    );
    s.push_str("<table class=\"claims\">\n<tr><th>Claim</th><th>Held</th><th>Detail</th></tr>\n");
    for v in verdicts {
        let (class, word) = if v.held {
            ("held", "held")
        } else {
            ("failed", "does not hold")
        };
        let _ = writeln!(
            s,
            "<tr><td>{}</td><td class=\"{class}\">{word}</td><td>{}</td></tr>",
            escape(&v.says),
            escape(&v.detail)
        );
    }
    s.push_str("</table>\n</section>\n");
}

/// One lesson of a course, for [`index`].
#[derive(Clone, Debug, PartialEq)]
pub struct Lesson {
    pub name: String,
    pub description: String,
    /// The lesson's report, relative to the index (`<slug>/report.html`).
    pub href: String,
    /// Claims that held, and claims stated.
    pub claims_held: usize,
    pub claims: usize,
}

/// The course's `index.html`: every lesson's name (a link to its report), its question
/// and how many of its claims held.
pub fn index(lessons: &[Lesson]) -> String {
    let mut s = String::new();
    head(&mut s, "rtsim course");
    s.push_str("<h1>The course</h1>\n<ol class=\"lessons\">\n");
    for l in lessons {
        let claims = if l.claims == 0 {
            String::new()
        } else {
            format!(" ({} of {} claims held)", l.claims_held, l.claims)
        };
        let _ = writeln!(
            s,
            "<li><a href=\"{}\">{}</a>{}<br><span class=\"meta\">{}</span></li>",
            escape(&l.href),
            escape(&l.name),
            escape(&claims),
            escape(l.description.trim())
        );
    }
    s.push_str("</ol>\n</body>\n</html>\n");
    s
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::report::testdata;

    const HOSTILE: &str = "<script>alert(1)</script><img src=x onerror=alert(2)> \" ' &amp;";

    fn meta() -> Metadata {
        Metadata {
            name: format!("name {HOSTILE}"),
            description: format!("first {HOSTILE}\n\nsecond"),
            findings: Findings {
                warnings: vec![format!("warning: {HOSTILE}")],
                verdicts: vec![(format!("SSE {HOSTILE}"), format!("text {HOSTILE}"))],
                traces: vec![
                    ("SSE".into(), Ok("<svg><title>t</title></svg>\n".into())),
                    ("WebSockets".into(), Err(format!("stuck {HOSTILE}"))),
                ],
            },
            ..Metadata::default()
        }
    }

    fn hostile_page() -> String {
        let chart = InlineChart {
            entry: ChartEntry {
                stem: format!("s{HOSTILE}"),
                title: format!("title {HOSTILE}"),
                x: vec![],
                y: vec![],
            },
            svg: "<?xml version=\"1.0\"?>\n<svg width=\"10\" height=\"10\"></svg>\n".into(),
        };
        let verdicts = vec![Verdict {
            says: format!("says {HOSTILE}"),
            held: false,
            detail: format!("detail {HOSTILE}"),
        }];
        page(
            &Results::unannotated(testdata::sweep()),
            &meta(),
            &[chart],
            &verdicts,
        )
    }

    #[test]
    fn hostile_text_is_shown_never_run() {
        let html = hostile_page();
        assert!(!html.contains("<script"), "{html}");
        assert!(!html.contains("<img"), "{html}");
        // Shown as text, every place it came from: title and heading, description,
        // warning, verdict heading and text, the missing trace's reason, the chart's id
        // and caption, the claim and its detail.
        let shown = "&lt;script&gt;alert(1)&lt;/script&gt;";
        assert_eq!(html.matches(shown).count(), 11, "{html}");
        assert!(html.contains("&amp;amp;"));
    }

    #[test]
    fn the_page_forbids_fetching_and_scripts() {
        let html = hostile_page();
        assert!(html.contains("content=\"default-src 'none'"));
        // Nothing to fetch: no link, no source, no script (SVG's xmlns is a name).
        for fetch in ["<link", "src=\"http", "href=\"http", "<script", "url(http"] {
            assert!(!html.contains(fetch), "{fetch}");
        }
    }

    #[test]
    fn every_part_is_there() {
        let html = hostile_page();
        for id in [
            "question", "table", "charts", "warnings", "claims", "explain", "traces",
        ] {
            assert!(
                html.contains(&format!("<section id=\"{id}\">")),
                "{id} missing"
            );
        }
        // The XML declaration is dropped, the SVG kept.
        assert!(!html.contains("<?xml"));
        assert!(html.contains("<svg width=\"10\" height=\"10\"></svg>"));
        // The table: a heading row and a line per technique.
        assert_eq!(html.matches("<tr><td>").count(), 4 + 1);
        assert!(html.contains("does not hold"));
        assert!(html.contains("0 of 1 held."));
        assert!(html.contains("<p>second</p>"));
    }

    #[test]
    fn empty_results_say_so() {
        let html = page(&Results::default(), &Metadata::default(), &[], &[]);
        assert!(html.contains("No results."));
        assert!(html.contains("no description"));
        assert!(html.contains("states no <code>[[claims]]</code>"));
        assert!(html.contains("None: no row was overloaded"));
    }

    #[test]
    fn the_index_links_each_lesson_escaped() {
        let html = index(&[Lesson {
            name: HOSTILE.into(),
            description: "d".into(),
            href: "a\"b/report.html".into(),
            claims_held: 1,
            claims: 2,
        }]);
        assert!(!html.contains("<script"));
        assert!(html.contains("href=\"a&quot;b/report.html\""));
        assert!(html.contains("(1 of 2 claims held)"));
        assert!(html.contains(GENERATOR));
    }
}
