//! A readable per-node timeline of a trace: one column per node, time running down the page.
//!
//! ```text
//!       time  | n0                       | n1                       | n2
//!  0.000512s  | deliver from n1 Query..  |                          |
//! ```
//! World events (faults, the quiet period) span the row.

use std::fmt::Write;

use super::TraceLine;
use crate::time::fmt_nanos;

/// Width of the whole table, in characters; columns share it (but get at least
/// [`COLUMN_WIDTH_MIN`]).
pub const TABLE_WIDTH: usize = 160;
/// Narrowest column, in characters.
pub const COLUMN_WIDTH_MIN: usize = 24;

fn clip(s: &str, width: usize) -> String {
    if s.chars().count() <= width {
        format!("{s:<width$}")
    } else {
        let mut out: String = s.chars().take(width.saturating_sub(1)).collect();
        out.push('~');
        out
    }
}

/// Render `events` for a run of `nodes` nodes.
pub fn render(events: &[TraceLine], nodes: u32) -> String {
    let column = (TABLE_WIDTH / nodes.max(1) as usize).max(COLUMN_WIDTH_MIN);
    let mut out = String::new();
    let _ = write!(out, "{:>12} ", "time");
    for n in 0..nodes {
        let _ = write!(out, "| {} ", clip(&format!("n{n}"), column));
    }
    out.push('\n');
    for e in events {
        let _ = write!(out, "{:>12} ", fmt_nanos(e.t_ns));
        let text = format!("{} {}", e.event, e.detail);
        match e.node {
            Some(node) if node < nodes => {
                for n in 0..nodes {
                    let cell = if n == node {
                        clip(&text, column)
                    } else {
                        clip("", column)
                    };
                    let _ = write!(out, "| {cell} ");
                }
            }
            _ => {
                let _ = write!(out, "|== {text}");
            }
        }
        out.push('\n');
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn events_land_in_their_node_column() {
        let ev = vec![
            TraceLine {
                t_ns: 1_000,
                node: Some(1),
                event: "deliver".into(),
                detail: "from n0".into(),
            },
            TraceLine {
                t_ns: 2_000,
                node: None,
                event: "partition".into(),
                detail: "split".into(),
            },
        ];
        let text = render(&ev, 2);
        let rows: Vec<&str> = text.lines().collect();
        assert_eq!(rows.len(), 3);
        let cols: Vec<&str> = rows[1].split('|').collect();
        assert!(cols[1].trim().is_empty() && cols[2].contains("deliver from n0"));
        assert!(rows[2].contains("== partition split"));
    }
}
