//! The report page: one self-contained HTML file (inline CSS, no scripts, no fonts, no network)
//! that links every chart's SVG beside it.

use super::load::Results;
use super::Figure;

/// Escape text for HTML.
pub fn esc(s: &str) -> String {
    s.replace('&', "&amp;")
        .replace('<', "&lt;")
        .replace('>', "&gt;")
        .replace('"', "&quot;")
}

const STYLE: &str = r#"
:root { color-scheme: light; --ink: #1b1f24; --muted: #57606a; --line: #d0d7de; --accent: #0072b2; }
* { box-sizing: border-box; }
body { margin: 0; font: 16px/1.55 system-ui, -apple-system, "Segoe UI", Roboto, sans-serif; color: var(--ink); background: #f6f8fa; }
header { background: #fff; border-bottom: 1px solid var(--line); padding: 28px 0 20px; }
main, .wrap { max-width: 980px; margin: 0 auto; padding: 0 24px; }
h1 { margin: 0 0 6px; font-size: 28px; letter-spacing: -0.01em; }
h1 span { color: var(--accent); }
header p { margin: 0; color: var(--muted); }
nav { margin-top: 14px; display: flex; flex-wrap: wrap; gap: 8px; }
nav a { font-size: 14px; color: var(--accent); text-decoration: none; border: 1px solid var(--line); border-radius: 999px; padding: 2px 12px; background: #fff; }
figure { background: #fff; border: 1px solid var(--line); border-radius: 10px; margin: 28px 0; padding: 18px 20px; }
figure h2 { margin: 0 0 10px; font-size: 19px; }
figure img { width: 100%; height: auto; display: block; border-radius: 6px; }
figcaption { margin-top: 12px; color: var(--ink); }
figcaption .cmd { display: block; margin-top: 8px; font: 13px/1.5 ui-monospace, SFMono-Regular, Menlo, Consolas, monospace; background: #f6f8fa; border: 1px solid var(--line); border-radius: 6px; padding: 6px 10px; color: var(--muted); overflow-x: auto; white-space: pre; }
footer { color: var(--muted); font-size: 13px; padding: 10px 0 40px; }
code { font-family: ui-monospace, SFMono-Regular, Menlo, Consolas, monospace; }
"#;

/// The whole page.
pub fn page(figures: &[Figure], results: &Results) -> String {
    let mut h = String::new();
    h.push_str("<!doctype html>\n<html lang=\"en\">\n<head>\n<meta charset=\"utf-8\">\n");
    h.push_str("<meta name=\"viewport\" content=\"width=device-width, initial-scale=1\">\n");
    h.push_str("<title>Seedbed report</title>\n<style>");
    h.push_str(STYLE);
    h.push_str("</style>\n</head>\n<body>\n<header><div class=\"wrap\">\n");
    h.push_str("<h1><span>Seedbed</span> report</h1>\n");
    h.push_str(&format!(
        "<p>{} chart{} from {} result file{}. Each caption says what the chart teaches and the \
         command that produced its data.</p>\n<nav>",
        figures.len(),
        if figures.len() == 1 { "" } else { "s" },
        results.files.len(),
        if results.files.len() == 1 { "" } else { "s" },
    ));
    for f in figures {
        h.push_str(&format!(
            "<a href=\"#{}\">{}</a>",
            esc(&anchor(&f.file)),
            esc(&f.title)
        ));
    }
    h.push_str("</nav>\n</div></header>\n<main>\n");
    for f in figures {
        h.push_str(&format!(
            "<figure id=\"{id}\">\n<h2>{title}</h2>\n<img src=\"{file}\" alt=\"{title}\">\n\
             <figcaption>{caption}<span class=\"cmd\">$ {cmd}</span></figcaption>\n</figure>\n",
            id = esc(&anchor(&f.file)),
            title = esc(&f.title),
            file = esc(&f.file),
            caption = esc(&f.caption),
            cmd = esc(&f.command),
        ));
    }
    h.push_str("<footer>Data: ");
    let names: Vec<String> = results
        .files
        .iter()
        .map(|p| {
            format!(
                "<code>{}</code>",
                esc(&p.file_name().unwrap_or_default().to_string_lossy())
            )
        })
        .collect();
    h.push_str(&names.join(", "));
    h.push_str(". Regenerate with <code>seedbed report --from DIR</code>.</footer>\n</main>\n</body>\n</html>\n");
    h
}

fn anchor(file: &str) -> String {
    file.trim_end_matches(".svg").to_string()
}
