//! A small evaluator for the subset of the Expr language that Betterleaks configurations use
//! in `filter` (per finding: `true` discards it) and `prefilter` (per input: `true` skips it):
//!
//! ```text
//! entropy(finding["secret"]) <= 3.0
//! || matchesAny(finding["secret"], [`^[a-z]+$`, "(?i)example"])
//! || containsAny(lower(finding["line"]), ["dummy"])
//! matchesAny(get(attributes, "path", ""), [`\.lock$`])      // prefilter
//! ```
//!
//! Supported: `||` `&&` `!`/`not`, comparisons (`< <= > >= == !=`), parentheses, numbers,
//! strings (`"…"`, `'…'`, `` `…` ``), lists, `true`/`false`/`nil`, `??`,
//! `finding["secret"|"match"|"line"]` (or `finding.secret`), `attributes["path"]`,
//! `get(map, key, default)`, and the functions `entropy`, `matchesAny`, `containsAny`,
//! `contains`, `lower`, `upper`, `len` (each also with a `filter.` prefix). Anything else is reported as unsupported when the rule is loaded, so the
//! caller can warn instead of guessing.

use super::compile::LazyRegex;
use crate::checksum::shannon_entropy;

/// Deepest nesting a filter may have (hostile configurations cannot overflow the stack).
const MAX_DEPTH: usize = 64;

/// A parsed filter.
#[derive(Debug)]
pub struct Filter {
    root: Node,
    source: String,
}

#[derive(Debug)]
enum Node {
    Or(Box<Node>, Box<Node>),
    And(Box<Node>, Box<Node>),
    Not(Box<Node>),
    Cmp(Box<Node>, CmpOp, Box<Node>),
    Coalesce(Box<Node>, Box<Node>),
    Num(f64),
    Str(String),
    Bool(bool),
    Nil,
    List(Vec<Node>),
    Field(Map, String),
    Get(Map, String, Box<Node>),
    Entropy(Box<Node>),
    MatchesAny(Box<Node>, Vec<LazyRegex>),
    ContainsAny(Box<Node>, Box<Node>),
    Lower(Box<Node>),
    Upper(Box<Node>),
    Len(Box<Node>),
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Map {
    Finding,
    Attributes,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum CmpOp {
    Lt,
    Le,
    Gt,
    Ge,
    Eq,
    Ne,
}

/// What a filter can look at.
#[derive(Debug, Clone, Copy, Default)]
pub struct FilterInput<'a> {
    /// The captured secret.
    pub secret: &'a [u8],
    /// The whole match.
    pub matched: &'a [u8],
    /// The line(s) of the match.
    pub line: &'a [u8],
    /// The input's path.
    pub path: Option<&'a str>,
}

#[derive(Debug, Clone, PartialEq)]
enum Value {
    Num(f64),
    Str(String),
    Bool(bool),
    Nil,
    List(Vec<Value>),
}

impl Value {
    fn truthy(&self) -> bool {
        match self {
            Value::Bool(b) => *b,
            Value::Nil => false,
            Value::Num(n) => *n != 0.0,
            Value::Str(s) => !s.is_empty(),
            Value::List(l) => !l.is_empty(),
        }
    }

    fn text(&self) -> String {
        match self {
            Value::Str(s) => s.clone(),
            Value::Num(n) => n.to_string(),
            Value::Bool(b) => b.to_string(),
            Value::Nil => String::new(),
            Value::List(_) => String::new(),
        }
    }
}

impl Filter {
    /// Parses a filter; the error says what is not supported.
    pub fn parse(source: &str) -> Result<Self, String> {
        let tokens = lex(source)?;
        let mut p = Parser {
            tokens,
            pos: 0,
            depth: 0,
        };
        let root = p.expr()?;
        if p.pos != p.tokens.len() {
            return Err(format!("unexpected {:?}", p.tokens[p.pos]));
        }
        Ok(Filter {
            root,
            source: source.to_string(),
        })
    }

    /// The filter's text.
    pub fn source(&self) -> &str {
        &self.source
    }

    /// Whether the filter holds (for `filter`: the finding is discarded).
    pub fn eval(&self, input: &FilterInput<'_>) -> bool {
        eval(&self.root, input).truthy()
    }
}

fn eval(node: &Node, inp: &FilterInput<'_>) -> Value {
    let text = |n: &Node| eval(n, inp).text();
    match node {
        Node::Or(a, b) => Value::Bool(eval(a, inp).truthy() || eval(b, inp).truthy()),
        Node::And(a, b) => Value::Bool(eval(a, inp).truthy() && eval(b, inp).truthy()),
        Node::Not(a) => Value::Bool(!eval(a, inp).truthy()),
        Node::Cmp(a, op, b) => {
            let (a, b) = (eval(a, inp), eval(b, inp));
            let ord = match (&a, &b) {
                (Value::Num(x), Value::Num(y)) => x.partial_cmp(y),
                (Value::Str(x), Value::Str(y)) => Some(x.cmp(y)),
                _ => None,
            };
            Value::Bool(match (op, ord) {
                (CmpOp::Eq, _) => a == b,
                (CmpOp::Ne, _) => a != b,
                (_, None) => false,
                (CmpOp::Lt, Some(o)) => o.is_lt(),
                (CmpOp::Le, Some(o)) => o.is_le(),
                (CmpOp::Gt, Some(o)) => o.is_gt(),
                (CmpOp::Ge, Some(o)) => o.is_ge(),
            })
        }
        Node::Coalesce(a, b) => match eval(a, inp) {
            Value::Nil => eval(b, inp),
            v => v,
        },
        Node::Num(n) => Value::Num(*n),
        Node::Str(s) => Value::Str(s.clone()),
        Node::Bool(b) => Value::Bool(*b),
        Node::Nil => Value::Nil,
        Node::List(items) => Value::List(items.iter().map(|n| eval(n, inp)).collect()),
        Node::Field(map, key) => field(*map, key, inp),
        Node::Get(map, key, default) => match field(*map, key, inp) {
            Value::Nil => eval(default, inp),
            v => v,
        },
        Node::Entropy(a) => Value::Num(shannon_entropy(text(a).as_bytes())),
        Node::MatchesAny(a, res) => {
            let t = text(a);
            Value::Bool(res.iter().any(|r| r.is_match(t.as_bytes())))
        }
        Node::ContainsAny(a, list) => {
            let t = text(a);
            let Value::List(items) = eval(list, inp) else {
                return Value::Bool(false);
            };
            Value::Bool(items.iter().any(|i| t.contains(&i.text())))
        }
        Node::Lower(a) => Value::Str(text(a).to_lowercase()),
        Node::Upper(a) => Value::Str(text(a).to_uppercase()),
        Node::Len(a) => Value::Num(text(a).chars().count() as f64),
    }
}

fn field(map: Map, key: &str, inp: &FilterInput<'_>) -> Value {
    let s = |b: &[u8]| Value::Str(String::from_utf8_lossy(b).into_owned());
    match (map, key) {
        (Map::Finding, "secret") => s(inp.secret),
        (Map::Finding, "match") => s(inp.matched),
        (Map::Finding, "line") => s(inp.line),
        (Map::Attributes, "path") => inp.path.map_or(Value::Nil, |p| Value::Str(p.to_string())),
        _ => Value::Nil,
    }
}

#[derive(Debug, Clone, PartialEq)]
enum Tok {
    Num(f64),
    Str(String),
    Ident(String),
    Op(&'static str),
}

fn lex(src: &str) -> Result<Vec<Tok>, String> {
    let b = src.as_bytes();
    let mut out = Vec::new();
    let mut i = 0;
    const OPS: [&str; 17] = [
        "||", "&&", "??", "<=", ">=", "==", "!=", "<", ">", "!", "(", ")", "[", "]", ",", ".", "-",
    ];
    while i < b.len() {
        let c = b[i];
        if c.is_ascii_whitespace() {
            i += 1;
        } else if c == b'/' && b.get(i + 1) == Some(&b'/') {
            while i < b.len() && b[i] != b'\n' {
                i += 1;
            }
        } else if c.is_ascii_digit() {
            let start = i;
            while i < b.len() && (b[i].is_ascii_digit() || b[i] == b'.') {
                i += 1;
            }
            out.push(Tok::Num(
                src[start..i]
                    .parse()
                    .map_err(|_| format!("bad number {}", &src[start..i]))?,
            ));
        } else if c == b'"' || c == b'\'' || c == b'`' {
            let quote = c;
            let mut s = Vec::new();
            i += 1;
            loop {
                match b.get(i) {
                    None => return Err("unterminated string".into()),
                    Some(&q) if q == quote => {
                        i += 1;
                        break;
                    }
                    Some(b'\\') if quote != b'`' => {
                        let e = *b.get(i + 1).ok_or("unterminated string")?;
                        s.push(match e {
                            b'n' => b'\n',
                            b't' => b'\t',
                            b'r' => b'\r',
                            other => other,
                        });
                        i += 2;
                    }
                    Some(&ch) => {
                        s.push(ch);
                        i += 1;
                    }
                }
            }
            out.push(Tok::Str(
                String::from_utf8(s).map_err(|_| "string is not UTF-8")?,
            ));
        } else if c.is_ascii_alphabetic() || c == b'_' {
            let start = i;
            while i < b.len() && (b[i].is_ascii_alphanumeric() || b[i] == b'_') {
                i += 1;
            }
            out.push(Tok::Ident(src[start..i].to_string()));
        } else if let Some(op) = OPS.iter().find(|op| src[i..].starts_with(**op)) {
            out.push(Tok::Op(op));
            i += op.len();
        } else {
            return Err(format!("unexpected character {:?}", c as char));
        }
    }
    Ok(out)
}

struct Parser {
    tokens: Vec<Tok>,
    pos: usize,
    depth: usize,
}

impl Parser {
    fn peek(&self) -> Option<&Tok> {
        self.tokens.get(self.pos)
    }

    fn eat_op(&mut self, op: &str) -> bool {
        if matches!(self.peek(), Some(Tok::Op(o)) if *o == op) {
            self.pos += 1;
            true
        } else {
            false
        }
    }

    fn expect(&mut self, op: &str) -> Result<(), String> {
        if self.eat_op(op) {
            Ok(())
        } else {
            Err(format!("expected `{op}`, found {:?}", self.peek()))
        }
    }

    fn nest<T>(&mut self, f: impl FnOnce(&mut Self) -> Result<T, String>) -> Result<T, String> {
        self.depth += 1;
        if self.depth > MAX_DEPTH {
            return Err("filter nests too deeply".into());
        }
        let r = f(self);
        self.depth -= 1;
        r
    }

    fn expr(&mut self) -> Result<Node, String> {
        self.nest(|p| {
            let mut left = p.and()?;
            while p.eat_op("||") || p.eat_ident("or") {
                left = Node::Or(Box::new(left), Box::new(p.and()?));
            }
            Ok(left)
        })
    }

    fn eat_ident(&mut self, word: &str) -> bool {
        if matches!(self.peek(), Some(Tok::Ident(w)) if w == word) {
            self.pos += 1;
            true
        } else {
            false
        }
    }

    fn and(&mut self) -> Result<Node, String> {
        let mut left = self.unary()?;
        while self.eat_op("&&") || self.eat_ident("and") {
            left = Node::And(Box::new(left), Box::new(self.unary()?));
        }
        Ok(left)
    }

    fn unary(&mut self) -> Result<Node, String> {
        if self.eat_op("!") || self.eat_ident("not") {
            return self.nest(|p| Ok(Node::Not(Box::new(p.unary()?))));
        }
        self.cmp()
    }

    fn cmp(&mut self) -> Result<Node, String> {
        let left = self.coalesce()?;
        for (op, cmp) in [
            ("<=", CmpOp::Le),
            (">=", CmpOp::Ge),
            ("==", CmpOp::Eq),
            ("!=", CmpOp::Ne),
            ("<", CmpOp::Lt),
            (">", CmpOp::Gt),
        ] {
            if self.eat_op(op) {
                return Ok(Node::Cmp(Box::new(left), cmp, Box::new(self.coalesce()?)));
            }
        }
        Ok(left)
    }

    fn coalesce(&mut self) -> Result<Node, String> {
        let mut left = self.primary()?;
        while self.eat_op("??") {
            left = Node::Coalesce(Box::new(left), Box::new(self.primary()?));
        }
        Ok(left)
    }

    fn primary(&mut self) -> Result<Node, String> {
        match self.tokens.get(self.pos).cloned() {
            None => Err("unexpected end of filter".into()),
            Some(Tok::Num(n)) => {
                self.pos += 1;
                Ok(Node::Num(n))
            }
            Some(Tok::Op("-")) => {
                self.pos += 1;
                match self.tokens.get(self.pos).cloned() {
                    Some(Tok::Num(n)) => {
                        self.pos += 1;
                        Ok(Node::Num(-n))
                    }
                    other => Err(format!("expected a number after `-`, found {other:?}")),
                }
            }
            Some(Tok::Str(s)) => {
                self.pos += 1;
                Ok(Node::Str(s))
            }
            Some(Tok::Op("(")) => {
                self.pos += 1;
                let e = self.expr()?;
                self.expect(")")?;
                Ok(e)
            }
            Some(Tok::Op("[")) => {
                self.pos += 1;
                let items = self.list_items()?;
                Ok(Node::List(items))
            }
            Some(Tok::Ident(name)) => {
                self.pos += 1;
                self.ident(name)
            }
            Some(t) => Err(format!("unexpected {t:?}")),
        }
    }

    /// Items of a list after its `[`, through its `]`.
    fn list_items(&mut self) -> Result<Vec<Node>, String> {
        let mut items = Vec::new();
        loop {
            if self.eat_op("]") {
                return Ok(items);
            }
            items.push(self.expr()?);
            if !self.eat_op(",") {
                self.expect("]")?;
                return Ok(items);
            }
        }
    }

    fn ident(&mut self, mut name: String) -> Result<Node, String> {
        match name.as_str() {
            "true" => return Ok(Node::Bool(true)),
            "false" => return Ok(Node::Bool(false)),
            "nil" => return Ok(Node::Nil),
            _ => {}
        }
        // `filter.entropy(...)` and friends.
        if name == "filter" && self.eat_op(".") {
            match self.tokens.get(self.pos).cloned() {
                Some(Tok::Ident(n)) => {
                    self.pos += 1;
                    name = n;
                }
                other => {
                    return Err(format!(
                        "expected a function after `filter.`, found {other:?}"
                    ));
                }
            }
        }
        let map = match name.as_str() {
            "finding" => Some(Map::Finding),
            "attributes" => Some(Map::Attributes),
            _ => None,
        };
        if let Some(map) = map {
            // `finding["secret"]` or `finding.secret`.
            let key = if self.eat_op(".") {
                match self.tokens.get(self.pos).cloned() {
                    Some(Tok::Ident(k)) => k,
                    other => return Err(format!("expected a field name, found {other:?}")),
                }
            } else {
                self.expect("[")?;
                let key = match self.tokens.get(self.pos).cloned() {
                    Some(Tok::Str(k)) => k,
                    other => return Err(format!("expected a string key, found {other:?}")),
                };
                self.pos += 1;
                self.expect("]")?;
                self.pos -= 1;
                key
            };
            self.pos += 1;
            check_key(map, &key)?;
            return Ok(Node::Field(map, key));
        }
        if !self.eat_op("(") {
            return Err(format!("unsupported identifier `{name}`"));
        }
        let node = match name.as_str() {
            "get" => {
                let map = match self.tokens.get(self.pos).cloned() {
                    Some(Tok::Ident(m)) if m == "finding" => Map::Finding,
                    Some(Tok::Ident(m)) if m == "attributes" => Map::Attributes,
                    other => {
                        return Err(format!(
                            "get() needs `finding` or `attributes`, found {other:?}"
                        ));
                    }
                };
                self.pos += 1;
                self.expect(",")?;
                let key = match self.tokens.get(self.pos).cloned() {
                    Some(Tok::Str(k)) => k,
                    other => return Err(format!("expected a string key, found {other:?}")),
                };
                self.pos += 1;
                check_key(map, &key)?;
                let default = if self.eat_op(",") {
                    self.expr()?
                } else {
                    Node::Nil
                };
                Node::Get(map, key, Box::new(default))
            }
            "entropy" => Node::Entropy(Box::new(self.expr()?)),
            "lower" => Node::Lower(Box::new(self.expr()?)),
            "upper" => Node::Upper(Box::new(self.expr()?)),
            "len" => Node::Len(Box::new(self.expr()?)),
            "matchesAny" => {
                let target = self.expr()?;
                self.expect(",")?;
                self.expect("[")?;
                let mut res = Vec::new();
                for item in self.list_items()? {
                    let Node::Str(pattern) = item else {
                        return Err("matchesAny() needs a list of literal regexes".into());
                    };
                    let re = LazyRegex::new(pattern, false);
                    re.get().map_err(|e| format!("matchesAny() regex: {e}"))?;
                    res.push(re);
                }
                Node::MatchesAny(Box::new(target), res)
            }
            "contains" => {
                let target = self.expr()?;
                self.expect(",")?;
                let needle = self.expr()?;
                Node::ContainsAny(Box::new(target), Box::new(Node::List(vec![needle])))
            }
            "containsAny" => {
                let target = self.expr()?;
                self.expect(",")?;
                let list = self.expr()?;
                Node::ContainsAny(Box::new(target), Box::new(list))
            }
            other => return Err(format!("unsupported function `{other}()`")),
        };
        self.expect(")")?;
        Ok(node)
    }
}

fn check_key(map: Map, key: &str) -> Result<(), String> {
    let ok = match map {
        Map::Finding => matches!(key, "secret" | "match" | "line"),
        Map::Attributes => key == "path",
    };
    if ok {
        Ok(())
    } else {
        Err(format!("unsupported field `{key}`"))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn holds(src: &str, secret: &str, path: Option<&str>) -> bool {
        let f = Filter::parse(src).unwrap_or_else(|e| panic!("{src}: {e}"));
        f.eval(&FilterInput {
            secret: secret.as_bytes(),
            matched: secret.as_bytes(),
            line: secret.as_bytes(),
            path,
        })
    }

    #[test]
    fn entropy_thresholds() {
        assert!(holds(
            r#"entropy(finding["secret"]) <= 3.0"#,
            "aaaaaaaa",
            None
        ));
        assert!(!holds(
            r#"entropy(finding["secret"]) <= 3.0"#,
            "aB3$xY9!qZ",
            None
        ));
        assert!(holds(
            r#"filter.entropy(finding["secret"]) < 3.5"#,
            "abcabc",
            None
        ));
    }

    #[test]
    fn matches_and_contains() {
        let f = r#"entropy(finding["secret"]) < 1.0
            || matchesAny(finding["secret"], [`^[a-z_]+$`, "(?i)example"])
            || filter.containsAny(lower(finding["line"]), ["dummy"])"#;
        assert!(holds(f, "only_letters", None));
        assert!(holds(f, "AKIAEXAMPLE123", None));
        assert!(holds(f, "xDUMMY9", None));
        assert!(!holds(f, "Zq9x!real77", None));
    }

    #[test]
    fn paths_and_defaults() {
        let f = r#"matchesAny(get(attributes, "path", ""), [`\.lock$`])"#;
        assert!(holds(f, "", Some("Cargo.lock")));
        assert!(!holds(f, "", Some("src/main.rs")));
        assert!(!holds(f, "", None));
        assert!(holds(
            r#"(attributes["path"] ?? "none") == "none""#,
            "",
            None
        ));
        assert!(holds(
            r#"!(len(finding["secret"]) > 5) && not false"#,
            "abc",
            None
        ));
    }

    #[test]
    fn unsupported_is_an_error_not_a_guess() {
        for src in [
            r#"failsTokenEfficiency(finding["secret"])"#,
            r#"filter.containsAny(providerMatchContext, ["x"])"#,
            r#"finding["commit"] == "x""#,
            r#"entropy(finding["secret"]) <="#,
            r#"matchesAny(finding["secret"], [`(`])"#,
            "\"unterminated",
        ] {
            assert!(Filter::parse(src).is_err(), "{src}");
        }
    }

    #[test]
    fn deep_nesting_is_refused() {
        let src = format!("{}true{}", "(".repeat(500), ")".repeat(500));
        assert!(Filter::parse(&src).is_err());
        let src = format!("{}true", "!".repeat(500));
        assert!(Filter::parse(&src).is_err());
    }
}
