//! A small OpenMetrics text parser for the metrics tests: checks the shape of every line,
//! that each sample's family has a `# TYPE` line before it, and the histogram invariants
//! (cumulative buckets ending at `+Inf`, `_count` equal to the `+Inf` bucket).

use std::collections::{BTreeMap, HashMap};

/// One sample line.
#[derive(Debug, Clone)]
pub(super) struct Sample {
    pub name: String,
    pub labels: BTreeMap<String, String>,
    pub value: f64,
}

/// A parsed exposition.
#[derive(Debug)]
pub(super) struct Exposition {
    /// Family name -> type.
    pub types: HashMap<String, String>,
    pub samples: Vec<Sample>,
}

impl Exposition {
    /// The value of the sample `name` whose labels are exactly `labels`.
    pub fn value(&self, name: &str, labels: &[(&str, &str)]) -> Option<f64> {
        let want: BTreeMap<String, String> = labels
            .iter()
            .map(|(k, v)| ((*k).to_owned(), (*v).to_owned()))
            .collect();
        self.samples
            .iter()
            .find(|s| s.name == name && s.labels == want)
            .map(|s| s.value)
    }

    /// Every sample named `name`.
    pub fn named<'a>(&'a self, name: &'a str) -> impl Iterator<Item = &'a Sample> + 'a {
        self.samples.iter().filter(move |s| s.name == name)
    }
}

/// The family a sample name belongs to, given the families typed so far.
fn family_of(name: &str, types: &HashMap<String, String>) -> Option<String> {
    if types.contains_key(name) {
        return Some(name.to_owned());
    }
    ["_total", "_bucket", "_count", "_sum", "_created"]
        .iter()
        .filter_map(|suffix| name.strip_suffix(suffix))
        .find(|base| types.contains_key(*base))
        .map(str::to_owned)
}

fn valid_name(name: &str) -> bool {
    !name.is_empty()
        && name
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || c == '_' || c == ':')
        && !name.starts_with(|c: char| c.is_ascii_digit())
}

/// Parses `{k="v",...}`; values may not contain quotes, backslashes or newlines.
fn parse_labels(s: &str, line: &str) -> BTreeMap<String, String> {
    let mut labels = BTreeMap::new();
    if s.is_empty() {
        return labels;
    }
    for pair in s.split(',') {
        let (k, v) = pair
            .split_once('=')
            .unwrap_or_else(|| panic!("label without '=' in {line:?}"));
        assert!(valid_name(k), "bad label name {k:?} in {line:?}");
        let v = v
            .strip_prefix('"')
            .and_then(|v| v.strip_suffix('"'))
            .unwrap_or_else(|| panic!("unquoted label value in {line:?}"));
        assert!(
            !v.contains(['"', '\\', '\n']),
            "label value needs escaping in {line:?}"
        );
        assert!(
            labels.insert(k.to_owned(), v.to_owned()).is_none(),
            "duplicate label {k} in {line:?}"
        );
    }
    labels
}

/// Parses `text`, panicking on anything malformed.
pub(super) fn parse(text: &str) -> Exposition {
    assert!(text.ends_with("# EOF\n"), "no EOF marker: {text}");
    let mut types = HashMap::new();
    let mut samples = Vec::new();
    for line in text.lines() {
        if line == "# EOF" {
            continue;
        }
        if let Some(rest) = line.strip_prefix("# ") {
            let mut parts = rest.splitn(3, ' ');
            let kind = parts.next().unwrap_or_default();
            let name = parts.next().unwrap_or_default();
            let arg = parts.next().unwrap_or_default();
            assert!(valid_name(name), "bad family name in {line:?}");
            match kind {
                "TYPE" => {
                    assert!(
                        ["counter", "gauge", "histogram"].contains(&arg),
                        "unexpected type in {line:?}"
                    );
                    let old = types.insert(name.to_owned(), arg.to_owned());
                    assert!(old.is_none(), "family typed twice: {line:?}");
                }
                "HELP" | "UNIT" => {}
                _ => panic!("unknown comment {line:?}"),
            }
            continue;
        }
        let (head, value) = line
            .rsplit_once(' ')
            .unwrap_or_else(|| panic!("no value in {line:?}"));
        let value: f64 = value
            .parse()
            .unwrap_or_else(|_| panic!("value is not a float in {line:?}"));
        let (name, labels) = match head.split_once('{') {
            Some((name, rest)) => {
                let inner = rest
                    .strip_suffix('}')
                    .unwrap_or_else(|| panic!("unclosed labels in {line:?}"));
                (name, parse_labels(inner, line))
            }
            None => (head, BTreeMap::new()),
        };
        assert!(valid_name(name), "bad metric name in {line:?}");
        assert!(
            family_of(name, &types).is_some(),
            "sample before/without a # TYPE line: {line:?}"
        );
        samples.push(Sample {
            name: name.to_owned(),
            labels,
            value,
        });
    }
    let e = Exposition { types, samples };
    check_histograms(&e);
    e
}

/// A histogram series: its labels other than `le`.
type SeriesKey = Vec<(String, String)>;

/// Buckets cumulative and ending at `+Inf`, `_count` equal to the `+Inf` bucket.
fn check_histograms(e: &Exposition) {
    for (family, kind) in &e.types {
        if kind != "histogram" {
            continue;
        }
        // Series (labels without `le`) -> buckets in order.
        let mut series: BTreeMap<SeriesKey, Vec<(f64, f64)>> = BTreeMap::new();
        for s in e.named(&format!("{family}_bucket")) {
            let le = s.labels.get("le").expect("bucket without le");
            let le: f64 = if le == "+Inf" {
                f64::INFINITY
            } else {
                le.parse().expect("le is a float")
            };
            let key = s
                .labels
                .iter()
                .filter(|(k, _)| *k != "le")
                .map(|(k, v)| (k.clone(), v.clone()))
                .collect();
            series.entry(key).or_default().push((le, s.value));
        }
        for (labels, buckets) in &series {
            for w in buckets.windows(2) {
                assert!(w[0].0 < w[1].0, "{family} {labels:?}: le not increasing");
                assert!(w[0].1 <= w[1].1, "{family} {labels:?}: not cumulative");
            }
            let last = buckets.last().expect("a series has buckets");
            assert!(last.0.is_infinite(), "{family} {labels:?}: no +Inf bucket");
            let pairs: Vec<(&str, &str)> = labels
                .iter()
                .map(|(k, v)| (k.as_str(), v.as_str()))
                .collect();
            let count = e.value(&format!("{family}_count"), &pairs);
            assert_eq!(count, Some(last.1), "{family} {labels:?}: _count != +Inf");
            assert!(
                e.value(&format!("{family}_sum"), &pairs).is_some(),
                "{family} {labels:?}: no _sum"
            );
        }
    }
}

#[test]
#[should_panic(expected = "not cumulative")]
fn parser_rejects_non_cumulative_buckets() {
    parse(concat!(
        "# TYPE h histogram\n",
        "h_sum 1.0\nh_count 1\n",
        "h_bucket{le=\"1.0\"} 2\nh_bucket{le=\"+Inf\"} 1\n# EOF\n"
    ));
}

#[test]
#[should_panic(expected = "_count != +Inf")]
fn parser_rejects_count_unequal_to_inf_bucket() {
    parse(concat!(
        "# TYPE h histogram\n",
        "h_sum 1.0\nh_count 3\n",
        "h_bucket{le=\"1.0\"} 1\nh_bucket{le=\"+Inf\"} 2\n# EOF\n"
    ));
}

#[test]
#[should_panic(expected = "without a # TYPE")]
fn parser_rejects_untyped_samples() {
    parse("c_total 1\n# EOF\n");
}

#[test]
#[should_panic(expected = "not a float")]
fn parser_rejects_non_float_values() {
    parse("# TYPE g gauge\ng{a=\"b\"} x1\n# EOF\n");
}
