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

use super::analysis::RegexError;
use super::compile::LazyRegex;
use crate::checksum::shannon_entropy;

/// Deepest nesting a filter may have (hostile configurations cannot overflow the stack).
const MAX_DEPTH: usize = 64;

/// Longest name an error message repeats (see [`Found::Name`]).
const MAX_SHOWN_NAME: usize = 40;

/// Why a filter is not supported. Positions are byte offsets into the filter's text. A
/// message never repeats a string or number of the filter, nor a name that could be a
/// token: a filter may compare against a real secret.
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
#[non_exhaustive]
pub enum ExprError {
    /// A number that does not parse (e.g. `1.2.3`).
    #[error("bad number (offset {at})")]
    BadNumber {
        /// Where the number starts.
        at: usize,
    },
    /// A string without its closing quote.
    #[error("unterminated string (offset {at})")]
    UnterminatedString {
        /// Where the string starts.
        at: usize,
    },
    /// A string whose escapes make it invalid UTF-8.
    #[error("string is not UTF-8 (offset {at})")]
    NotUtf8 {
        /// Where the string starts.
        at: usize,
    },
    /// A character that starts no token.
    #[error("unexpected character {ch:?} (offset {at})")]
    UnexpectedChar {
        /// The character (read as one byte).
        ch: char,
        /// Where it is.
        at: usize,
    },
    /// Something other than what the grammar needs at this point.
    #[error("expected {expected}, found {found} (offset {at})")]
    Expected {
        /// What was expected, e.g. `` `)` `` or `a string key`.
        expected: String,
        /// What was found instead.
        found: Found,
        /// Where.
        at: usize,
    },
    /// A token that cannot start or continue an expression here.
    #[error("unexpected {found} (offset {at})")]
    Unexpected {
        /// The token.
        found: Found,
        /// Where it is.
        at: usize,
    },
    /// The filter nests deeper than the parser allows.
    #[error("filter nests too deeply (more than {limit} levels)")]
    TooDeep {
        /// The deepest nesting allowed.
        limit: usize,
    },
    /// A name that is neither a map, a constant nor a function call.
    #[error("unsupported identifier{} (offset {at})", shown(name))]
    UnsupportedName {
        /// The name, when it looks like an ordinary name (see [`Found::Name`]).
        name: Option<String>,
        /// Where it is.
        at: usize,
    },
    /// A function shush does not evaluate.
    #[error("unsupported function{} (offset {at})", shown_call(name))]
    UnsupportedFunction {
        /// The function's name, when it looks like an ordinary name (see [`Found::Name`]).
        name: Option<String>,
        /// Where it is.
        at: usize,
    },
    /// A field of `finding` or `attributes` that shush does not provide.
    #[error("unsupported field{} (offset {at})", shown(key))]
    UnsupportedField {
        /// The field's name, when it looks like an ordinary name (see [`Found::Name`]).
        key: Option<String>,
        /// Where the key is.
        at: usize,
    },
    /// `matchesAny()` given something other than a list of string literals.
    #[error("matchesAny() needs a list of literal regexes (offset {at})")]
    NotLiteralRegexes {
        /// Where the offending item is.
        at: usize,
    },
    /// A regex of `matchesAny()` does not compile.
    #[error("matchesAny() regex (offset {at}): {error}")]
    Regex {
        /// Where the regex's string starts.
        at: usize,
        /// What is wrong with it (never the pattern text).
        error: RegexError,
    },
}

/// What a filter's parser found where it expected something else, described without the
/// text of strings and numbers.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub enum Found {
    /// The end of the filter.
    End,
    /// A number.
    Number,
    /// A string literal.
    String,
    /// A name (identifier): its text when it looks like an ordinary name (letters and `_`,
    /// at most 40 of them), not when it could be an unquoted token.
    Name(Option<String>),
    /// An operator or punctuation.
    Operator(&'static str),
}

impl std::fmt::Display for Found {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Found::End => f.write_str("end of filter"),
            Found::Number => f.write_str("a number"),
            Found::String => f.write_str("a string"),
            Found::Name(Some(n)) => write!(f, "`{n}`"),
            Found::Name(None) => f.write_str("a name"),
            Found::Operator(o) => write!(f, "`{o}`"),
        }
    }
}

impl Found {
    fn of(tok: Option<&Tok>) -> Self {
        match tok {
            None => Found::End,
            Some(Tok::Num(_)) => Found::Number,
            Some(Tok::Str(_)) => Found::String,
            Some(Tok::Ident(n)) => Found::Name(showable(n)),
            Some(Tok::Op(o)) => Found::Operator(o),
        }
    }
}

/// `name` if an error may repeat it: letters and `_` only, and short. Tokens almost always
/// hold digits; names of functions and fields do not.
fn showable(name: &str) -> Option<String> {
    (!name.is_empty()
        && name.len() <= MAX_SHOWN_NAME
        && name.bytes().all(|b| b.is_ascii_alphabetic() || b == b'_'))
    .then(|| name.to_string())
}

fn shown(name: &Option<String>) -> String {
    name.as_ref()
        .map_or_else(String::new, |n| format!(" `{n}`"))
}

fn shown_call(name: &Option<String>) -> String {
    name.as_ref()
        .map_or_else(String::new, |n| format!(" `{n}()`"))
}

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
    /// Parses a filter; the error says what is not supported, and where.
    pub fn parse(source: &str) -> Result<Self, ExprError> {
        let (tokens, offsets) = lex(source)?;
        let mut p = Parser {
            tokens,
            offsets,
            end: source.len(),
            pos: 0,
            depth: 0,
        };
        let root = p.expr()?;
        if p.pos != p.tokens.len() {
            return Err(p.unexpected());
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

/// The tokens of `src` and the byte offset where each starts.
fn lex(src: &str) -> Result<(Vec<Tok>, Vec<usize>), ExprError> {
    let b = src.as_bytes();
    let mut out = Vec::new();
    let mut offsets = Vec::new();
    let mut i = 0;
    const OPS: [&str; 17] = [
        "||", "&&", "??", "<=", ">=", "==", "!=", "<", ">", "!", "(", ")", "[", "]", ",", ".", "-",
    ];
    while i < b.len() {
        let c = b[i];
        let at = i;
        if c.is_ascii_whitespace() {
            i += 1;
            continue;
        } else if c == b'/' && b.get(i + 1) == Some(&b'/') {
            while i < b.len() && b[i] != b'\n' {
                i += 1;
            }
            continue;
        } else if c.is_ascii_digit() {
            while i < b.len() && (b[i].is_ascii_digit() || b[i] == b'.') {
                i += 1;
            }
            out.push(Tok::Num(
                src[at..i]
                    .parse()
                    .map_err(|_| ExprError::BadNumber { at })?,
            ));
        } else if c == b'"' || c == b'\'' || c == b'`' {
            let quote = c;
            let mut s = Vec::new();
            i += 1;
            loop {
                match b.get(i) {
                    None => return Err(ExprError::UnterminatedString { at }),
                    Some(&q) if q == quote => {
                        i += 1;
                        break;
                    }
                    Some(b'\\') if quote != b'`' => {
                        let e = *b.get(i + 1).ok_or(ExprError::UnterminatedString { at })?;
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
                String::from_utf8(s).map_err(|_| ExprError::NotUtf8 { at })?,
            ));
        } else if c.is_ascii_alphabetic() || c == b'_' {
            while i < b.len() && (b[i].is_ascii_alphanumeric() || b[i] == b'_') {
                i += 1;
            }
            out.push(Tok::Ident(src[at..i].to_string()));
        } else if let Some(op) = OPS.iter().find(|op| src[i..].starts_with(**op)) {
            out.push(Tok::Op(op));
            i += op.len();
        } else {
            return Err(ExprError::UnexpectedChar { ch: c as char, at });
        }
        offsets.push(at);
    }
    Ok((out, offsets))
}

struct Parser {
    tokens: Vec<Tok>,
    /// Where each token starts in the filter's text.
    offsets: Vec<usize>,
    /// The length of the filter's text (the offset of its end).
    end: usize,
    pos: usize,
    depth: usize,
}

impl Parser {
    fn peek(&self) -> Option<&Tok> {
        self.tokens.get(self.pos)
    }

    /// The offset of the current token (or of the end).
    fn at(&self) -> usize {
        self.offsets.get(self.pos).copied().unwrap_or(self.end)
    }

    /// An error: `expected` is needed where the current token is.
    fn expected(&self, expected: impl Into<String>) -> ExprError {
        ExprError::Expected {
            expected: expected.into(),
            found: Found::of(self.peek()),
            at: self.at(),
        }
    }

    /// An error: the current token has no place here.
    fn unexpected(&self) -> ExprError {
        ExprError::Unexpected {
            found: Found::of(self.peek()),
            at: self.at(),
        }
    }

    fn eat_op(&mut self, op: &str) -> bool {
        if matches!(self.peek(), Some(Tok::Op(o)) if *o == op) {
            self.pos += 1;
            true
        } else {
            false
        }
    }

    fn expect(&mut self, op: &str) -> Result<(), ExprError> {
        if self.eat_op(op) {
            Ok(())
        } else {
            Err(self.expected(format!("`{op}`")))
        }
    }

    fn nest<T>(
        &mut self,
        f: impl FnOnce(&mut Self) -> Result<T, ExprError>,
    ) -> Result<T, ExprError> {
        self.depth += 1;
        if self.depth > MAX_DEPTH {
            return Err(ExprError::TooDeep { limit: MAX_DEPTH });
        }
        let r = f(self);
        self.depth -= 1;
        r
    }

    fn expr(&mut self) -> Result<Node, ExprError> {
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

    fn and(&mut self) -> Result<Node, ExprError> {
        let mut left = self.unary()?;
        while self.eat_op("&&") || self.eat_ident("and") {
            left = Node::And(Box::new(left), Box::new(self.unary()?));
        }
        Ok(left)
    }

    fn unary(&mut self) -> Result<Node, ExprError> {
        if self.eat_op("!") || self.eat_ident("not") {
            return self.nest(|p| Ok(Node::Not(Box::new(p.unary()?))));
        }
        self.cmp()
    }

    fn cmp(&mut self) -> Result<Node, ExprError> {
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

    fn coalesce(&mut self) -> Result<Node, ExprError> {
        let mut left = self.primary()?;
        while self.eat_op("??") {
            left = Node::Coalesce(Box::new(left), Box::new(self.primary()?));
        }
        Ok(left)
    }

    fn primary(&mut self) -> Result<Node, ExprError> {
        match self.tokens.get(self.pos).cloned() {
            None => Err(self.unexpected()),
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
                    _ => Err(self.expected("a number after `-`")),
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
            Some(_) => Err(self.unexpected()),
        }
    }

    /// Items of a list after its `[`, through its `]`.
    fn list_items(&mut self) -> Result<Vec<Node>, ExprError> {
        Ok(self
            .placed_list_items()?
            .into_iter()
            .map(|(n, _)| n)
            .collect())
    }

    /// Items of a list after its `[`, through its `]`, each with its offset.
    fn placed_list_items(&mut self) -> Result<Vec<(Node, usize)>, ExprError> {
        let mut items = Vec::new();
        loop {
            if self.eat_op("]") {
                return Ok(items);
            }
            let at = self.at();
            items.push((self.expr()?, at));
            if !self.eat_op(",") {
                self.expect("]")?;
                return Ok(items);
            }
        }
    }

    /// A string key (of `finding[…]` or `get(…)`), and its offset.
    fn string_key(&mut self) -> Result<(String, usize), ExprError> {
        let at = self.at();
        match self.tokens.get(self.pos).cloned() {
            Some(Tok::Str(k)) => {
                self.pos += 1;
                Ok((k, at))
            }
            _ => Err(self.expected("a string key")),
        }
    }

    fn ident(&mut self, mut name: String) -> Result<Node, ExprError> {
        // The name's own offset (it has been consumed).
        let mut at = self.offsets[self.pos - 1];
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
                    at = self.at();
                    self.pos += 1;
                    name = n;
                }
                _ => return Err(self.expected("a function after `filter.`")),
            }
        }
        let map = match name.as_str() {
            "finding" => Some(Map::Finding),
            "attributes" => Some(Map::Attributes),
            _ => None,
        };
        if let Some(map) = map {
            // `finding["secret"]` or `finding.secret`.
            let (key, key_at) = if self.eat_op(".") {
                let key_at = self.at();
                match self.tokens.get(self.pos).cloned() {
                    Some(Tok::Ident(k)) => {
                        self.pos += 1;
                        (k, key_at)
                    }
                    _ => return Err(self.expected("a field name")),
                }
            } else {
                self.expect("[")?;
                let key = self.string_key()?;
                self.expect("]")?;
                key
            };
            check_key(map, &key, key_at)?;
            return Ok(Node::Field(map, key));
        }
        if !self.eat_op("(") {
            return Err(ExprError::UnsupportedName {
                name: showable(&name),
                at,
            });
        }
        let node = match name.as_str() {
            "get" => {
                let map = match self.tokens.get(self.pos).cloned() {
                    Some(Tok::Ident(m)) if m == "finding" => Map::Finding,
                    Some(Tok::Ident(m)) if m == "attributes" => Map::Attributes,
                    _ => return Err(self.expected("`finding` or `attributes` in get()")),
                };
                self.pos += 1;
                self.expect(",")?;
                let (key, key_at) = self.string_key()?;
                check_key(map, &key, key_at)?;
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
                for (item, at) in self.placed_list_items()? {
                    let Node::Str(pattern) = item else {
                        return Err(ExprError::NotLiteralRegexes { at });
                    };
                    let re = LazyRegex::new(pattern, false);
                    re.get().map_err(|e| ExprError::Regex {
                        at,
                        error: e.clone(),
                    })?;
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
            other => {
                return Err(ExprError::UnsupportedFunction {
                    name: showable(other),
                    at,
                });
            }
        };
        self.expect(")")?;
        Ok(node)
    }
}

fn check_key(map: Map, key: &str, at: usize) -> Result<(), ExprError> {
    let ok = match map {
        Map::Finding => matches!(key, "secret" | "match" | "line"),
        Map::Attributes => key == "path",
    };
    if ok {
        Ok(())
    } else {
        Err(ExprError::UnsupportedField {
            key: showable(key),
            at,
        })
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

    #[test]
    fn errors_say_where_and_never_echo_literals() {
        const TOKEN: &str = "fake_TOKEN_abc123XYZ";
        let err = |src: &str| {
            let e = Filter::parse(src).unwrap_err();
            let text = e.to_string();
            assert!(!text.contains(TOKEN), "{src}: {text}");
            (e, text)
        };
        // A string literal where a name belongs, an unquoted token, a token as a key.
        let (e, _) = err(&format!(r#"finding["secret"] == "{TOKEN}" "{TOKEN}""#));
        assert!(
            matches!(
                e,
                ExprError::Unexpected {
                    found: Found::String,
                    ..
                }
            ),
            "{e:?}"
        );
        let (e, text) = err(&format!(r#"finding["secret"] == {TOKEN}"#));
        assert_eq!(e, ExprError::UnsupportedName { name: None, at: 21 });
        assert_eq!(text, "unsupported identifier (offset 21)");
        let (e, _) = err(&format!(r#"finding["{TOKEN}"]"#));
        assert_eq!(e, ExprError::UnsupportedField { key: None, at: 8 });
        let (e, _) = err(&format!(r#"get(finding, {TOKEN})"#));
        assert!(matches!(
            e,
            ExprError::Expected {
                found: Found::Name(None),
                at: 13,
                ..
            }
        ));
        let (e, text) = err(&format!(r#"entropy("{TOKEN}" "#));
        assert_eq!(
            text, "expected `)`, found end of filter (offset 31)",
            "{e:?}"
        );
        err(&format!("\"{TOKEN}"));
        err(&format!("1.2.3{TOKEN}"));
        // A regex of matchesAny(): its problem and where, not its text.
        let (e, text) = err(&format!(
            r#"matchesAny(finding.secret, [`ok`, `({TOKEN}`])"#
        ));
        assert!(matches!(e, ExprError::Regex { at: 34, .. }), "{e:?}");
        assert!(text.contains("unclosed group"), "{text}");
        // Ordinary names are named.
        let (_, text) = err(r#"failsTokenEfficiency(finding["secret"])"#);
        assert_eq!(
            text,
            "unsupported function `failsTokenEfficiency()` (offset 0)"
        );
        let (_, text) = err(r#"finding["commit"] == "x""#);
        assert_eq!(text, "unsupported field `commit` (offset 8)");
    }
}
