//! Finding where two traces of the same run part ways.

use serde::Serialize;

/// The first event at which two traces differ.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct Divergence {
    /// Index of the first differing line (0 = header).
    pub line: usize,
    /// That line in the first trace (`None`: the first trace ended).
    pub first: Option<String>,
    /// That line in the second trace.
    pub second: Option<String>,
}

/// The first line where `a` and `b` differ, or `None` if they are identical.
pub fn first_divergence(a: &[String], b: &[String]) -> Option<Divergence> {
    let n = a.len().max(b.len());
    (0..n).find(|&i| a.get(i) != b.get(i)).map(|i| Divergence {
        line: i,
        first: a.get(i).cloned(),
        second: b.get(i).cloned(),
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_the_first_differing_line() {
        let a: Vec<String> = ["h", "x", "y"].map(String::from).to_vec();
        let mut b = a.clone();
        assert_eq!(first_divergence(&a, &b), None);
        b[2] = "z".into();
        let d = first_divergence(&a, &b).unwrap();
        assert_eq!(
            (d.line, d.first.as_deref(), d.second.as_deref()),
            (2, Some("y"), Some("z"))
        );
        b.pop();
        assert_eq!(first_divergence(&a, &b).unwrap().second, None);
    }
}
