//! A reader for the small subset of YAML the project's CI files and Kubernetes manifests are
//! written in (action.yml, the GitLab template, .pre-commit-hooks.yaml, deploy/kubernetes/):
//! block mappings and sequences by indentation, plain, quoted and block (`|`, `|-`, `>`, `>-`)
//! scalars, flow sequences of scalars, and comments. Anything outside the subset panics with
//! the line, so a file that drifts out of it fails the tests instead of being misread.
//! ci/test-install.sh and ci/test-deploy.sh load the same files with full YAML parsers
//! (PyYAML) and their schemas.

/// A YAML node.
#[derive(Debug, Clone, PartialEq)]
pub enum Yaml {
    /// A scalar, as text.
    Str(String),
    /// A sequence.
    Seq(Vec<Yaml>),
    /// A mapping, in file order.
    Map(Vec<(String, Yaml)>),
    /// An empty value (`key:` with nothing under it).
    Null,
}

impl Yaml {
    /// The value of `key` in a mapping.
    pub fn get(&self, key: &str) -> Option<&Yaml> {
        match self {
            Yaml::Map(entries) => entries.iter().find(|(k, _)| k == key).map(|(_, v)| v),
            _ => None,
        }
    }

    /// The value at a path of keys; panics with the path when absent.
    pub fn at(&self, path: &[&str]) -> &Yaml {
        let mut node = self;
        for (i, key) in path.iter().enumerate() {
            node = node
                .get(key)
                .unwrap_or_else(|| panic!("no `{}` in the YAML", path[..=i].join(".")));
        }
        node
    }

    /// The text of a scalar.
    pub fn str(&self) -> Option<&str> {
        match self {
            Yaml::Str(s) => Some(s),
            _ => None,
        }
    }

    /// The items of a sequence (empty for anything else).
    pub fn seq(&self) -> &[Yaml] {
        match self {
            Yaml::Seq(items) => items,
            _ => &[],
        }
    }

    /// The entries of a mapping (empty for anything else).
    pub fn map(&self) -> &[(String, Yaml)] {
        match self {
            Yaml::Map(entries) => entries,
            _ => &[],
        }
    }
}

/// Parses `text`; panics (naming the line) on anything outside the subset.
pub fn parse(text: &str) -> Yaml {
    let lines: Vec<&str> = text.lines().collect();
    let mut p = Parser { lines, i: 0 };
    p.skip_blank();
    if p.i >= p.lines.len() {
        return Yaml::Null;
    }
    let indent = p.indent_of(p.i);
    let node = p.block(indent);
    p.skip_blank();
    assert!(
        p.i >= p.lines.len(),
        "line {}: unexpected indentation: {:?}",
        p.i + 1,
        p.lines[p.i]
    );
    node
}

struct Parser<'a> {
    lines: Vec<&'a str>,
    i: usize,
}

impl Parser<'_> {
    fn is_blank(line: &str) -> bool {
        let t = line.trim_start();
        t.is_empty() || t.starts_with('#')
    }

    fn skip_blank(&mut self) {
        while self.i < self.lines.len() && Self::is_blank(self.lines[self.i]) {
            self.i += 1;
        }
    }

    fn indent_of(&self, i: usize) -> usize {
        let line = self.lines[i];
        assert!(
            !line.starts_with('\t'),
            "line {}: tab indentation is not YAML",
            i + 1
        );
        line.len() - line.trim_start_matches(' ').len()
    }

    /// The next non-blank line's indentation, if any.
    fn peek_indent(&mut self) -> Option<usize> {
        self.skip_blank();
        (self.i < self.lines.len()).then(|| self.indent_of(self.i))
    }

    fn block(&mut self, indent: usize) -> Yaml {
        let first = self.lines[self.i].trim_start();
        if first == "-" || first.starts_with("- ") {
            self.sequence(indent)
        } else {
            self.mapping(indent, None)
        }
    }

    fn sequence(&mut self, indent: usize) -> Yaml {
        let mut items = Vec::new();
        while self.peek_indent() == Some(indent) {
            let line = self.lines[self.i];
            let rest = line.trim_start();
            if !(rest == "-" || rest.starts_with("- ")) {
                break;
            }
            let rest = rest[1..].trim_start();
            let line_no = self.i;
            self.i += 1;
            if rest.is_empty() {
                items.push(self.nested(indent));
            } else if split_key(rest).is_some() {
                // `- key: value`: a mapping whose keys line up with this first key.
                let inner = line.len() - rest.len();
                items.push(self.mapping(inner, Some((line_no, rest))));
            } else {
                items.push(self.value(rest, indent, line_no));
            }
        }
        Yaml::Seq(items)
    }

    /// A mapping at `indent`; `first` is an entry already taken off its line (after `- `).
    fn mapping(&mut self, indent: usize, first: Option<(usize, &str)>) -> Yaml {
        let mut entries: Vec<(String, Yaml)> = Vec::new();
        let mut pending = first.map(|(n, s)| (n, s.to_string()));
        loop {
            let (line_no, text) = match pending.take() {
                Some(p) => p,
                None => {
                    if self.peek_indent() != Some(indent) {
                        break;
                    }
                    let t = self.lines[self.i].trim_start().to_string();
                    if t == "-" || t.starts_with("- ") {
                        break;
                    }
                    let n = self.i;
                    self.i += 1;
                    (n, t)
                }
            };
            let (key, value) = split_key(&text)
                .unwrap_or_else(|| panic!("line {}: expected `key: value`: {text:?}", line_no + 1));
            assert!(
                !entries.iter().any(|(k, _)| k == key),
                "line {}: duplicate key `{key}`",
                line_no + 1
            );
            let node = if value.is_empty() {
                // A nested block, or a sequence at the key's own indentation.
                match self.peek_indent() {
                    Some(n) if n == indent && self.lines[self.i].trim_start().starts_with('-') => {
                        self.sequence(indent)
                    }
                    _ => self.nested(indent),
                }
            } else {
                self.value(value, indent, line_no)
            };
            entries.push((key.to_string(), node));
        }
        Yaml::Map(entries)
    }

    /// The block under a line indented `indent`, or `Null` when nothing is nested.
    fn nested(&mut self, indent: usize) -> Yaml {
        match self.peek_indent() {
            Some(n) if n > indent => self.block(n),
            _ => Yaml::Null,
        }
    }

    /// An inline value: a block scalar header, a flow sequence or a scalar.
    fn value(&mut self, raw: &str, indent: usize, line_no: usize) -> Yaml {
        let v = strip_comment(raw);
        match v {
            "|" | "|-" | ">" | ">-" => self.block_scalar(v, indent),
            _ if v.starts_with('[') => {
                assert!(
                    v.ends_with(']'),
                    "line {}: a flow sequence must end on its line",
                    line_no + 1
                );
                let inner = v[1..v.len() - 1].trim();
                if inner.is_empty() {
                    return Yaml::Seq(Vec::new());
                }
                Yaml::Seq(
                    inner
                        .split(',')
                        .map(|s| Yaml::Str(scalar(s.trim(), line_no)))
                        .collect(),
                )
            }
            _ => {
                assert!(
                    !v.starts_with('{') && !v.starts_with('&') && !v.starts_with('*'),
                    "line {}: flow mappings, anchors and aliases are outside the subset",
                    line_no + 1
                );
                Yaml::Str(scalar(v, line_no))
            }
        }
    }

    fn block_scalar(&mut self, header: &str, indent: usize) -> Yaml {
        let start = self.i;
        let mut end = self.i;
        let mut body_indent = None;
        while end < self.lines.len() {
            let line = self.lines[end];
            if line.trim().is_empty() {
                end += 1;
                continue;
            }
            let n = line.len() - line.trim_start_matches(' ').len();
            if n <= indent {
                break;
            }
            body_indent.get_or_insert(n);
            end += 1;
        }
        // Trailing blank lines belong to what follows.
        while end > start && self.lines[end - 1].trim().is_empty() {
            end -= 1;
        }
        self.i = end;
        let Some(body_indent) = body_indent else {
            return Yaml::Str(String::new());
        };
        let body: Vec<&str> = self.lines[start..end]
            .iter()
            .map(|l| l.get(body_indent..).unwrap_or(""))
            .collect();
        let text = if header.starts_with('>') {
            let mut out = String::new();
            for l in &body {
                if l.is_empty() {
                    out.push('\n');
                } else {
                    if !out.is_empty() && !out.ends_with('\n') {
                        out.push(' ');
                    }
                    out.push_str(l);
                }
            }
            out
        } else {
            body.join("\n")
        };
        if header.ends_with('-') {
            Yaml::Str(text)
        } else {
            Yaml::Str(text + "\n")
        }
    }
}

/// `key: value` or `key:` → (key, value); `None` when the text is not a mapping entry.
fn split_key(text: &str) -> Option<(&str, &str)> {
    if text.starts_with('"') || text.starts_with('\'') {
        return None;
    }
    let (key, value) = if let Some(i) = text.find(": ") {
        (&text[..i], text[i + 2..].trim())
    } else if let Some(key) = strip_comment(text).strip_suffix(':') {
        (key, "")
    } else {
        return None;
    };
    let ok = !key.is_empty()
        && !key.contains(' ')
        && key
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || "-_.$/".contains(c));
    ok.then_some((key, value))
}

/// A value without a trailing ` # comment` (outside quotes).
fn strip_comment(v: &str) -> &str {
    let v = v.trim();
    let bytes = v.as_bytes();
    if let Some(&q) = bytes.first().filter(|q| **q == b'"' || **q == b'\'') {
        // Up to the closing quote (`\"` escapes in double quotes, `''` in single quotes).
        let mut i = 1;
        while i < bytes.len() {
            if q == b'"' && bytes[i] == b'\\' {
                i += 2;
                continue;
            }
            if bytes[i] == q {
                if q == b'\'' && bytes.get(i + 1) == Some(&b'\'') {
                    i += 2;
                    continue;
                }
                return &v[..=i];
            }
            i += 1;
        }
        return v;
    }
    match v.find(" #") {
        Some(i) => v[..i].trim_end(),
        None if v.starts_with('#') => "",
        None => v,
    }
}

fn scalar(v: &str, line_no: usize) -> String {
    if let Some(inner) = v.strip_prefix('"') {
        let inner = inner
            .strip_suffix('"')
            .unwrap_or_else(|| panic!("line {}: unterminated string", line_no + 1));
        let mut out = String::new();
        let mut chars = inner.chars();
        while let Some(c) = chars.next() {
            if c == '\\' {
                match chars.next() {
                    Some('n') => out.push('\n'),
                    Some('t') => out.push('\t'),
                    Some(c @ ('"' | '\\' | '/')) => out.push(c),
                    other => panic!(
                        "line {}: escape \\{other:?} outside the subset",
                        line_no + 1
                    ),
                }
            } else {
                out.push(c);
            }
        }
        out
    } else if let Some(inner) = v.strip_prefix('\'') {
        inner
            .strip_suffix('\'')
            .unwrap_or_else(|| panic!("line {}: unterminated string", line_no + 1))
            .replace("''", "'")
    } else {
        v.to_string()
    }
}
