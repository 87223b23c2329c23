//! Lexer and recursive-descent parser for GitHub Actions expressions.
//!
//! Token rules follow GitHub's lexer: a `.` starts a number when nothing that
//! can be dereferenced precedes it; `-`, `+` and digits start a number that
//! runs to the next token boundary; a keyword directly after `.` is a property
//! name (so `a.true` and `steps.my-step` work); a keyword followed by `(` is a
//! function. Precedence, lowest first: `||`, `&&`, `== !=`, `< <= > >=`, `!`,
//! then `.` `[ ]` and calls.

use super::ExprError;
use super::number::parse_number;

/// Deepest allowed syntax tree (GitHub's `MaxDepth`).
pub(crate) const MAX_DEPTH: usize = 50;
/// Longest allowed expression in bytes (GitHub's `MaxLength`, in chars there).
pub(crate) const MAX_LENGTH: usize = 21_000;

/// The contexts an expression may name (case-insensitive).
const NAMED_VALUES: [&str; 11] = [
    "github", "env", "vars", "secrets", "inputs", "matrix", "needs", "steps", "job", "runner",
    "strategy",
];

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Func {
    Contains,
    StartsWith,
    EndsWith,
    Format,
    Join,
    ToJson,
    FromJson,
    HashFiles,
    Success,
    Failure,
    Always,
    Cancelled,
}

impl Func {
    const ALL: [Func; 12] = [
        Func::Contains,
        Func::StartsWith,
        Func::EndsWith,
        Func::Format,
        Func::Join,
        Func::ToJson,
        Func::FromJson,
        Func::HashFiles,
        Func::Success,
        Func::Failure,
        Func::Always,
        Func::Cancelled,
    ];

    pub(crate) fn name(self) -> &'static str {
        match self {
            Func::Contains => "contains",
            Func::StartsWith => "startsWith",
            Func::EndsWith => "endsWith",
            Func::Format => "format",
            Func::Join => "join",
            Func::ToJson => "toJSON",
            Func::FromJson => "fromJSON",
            Func::HashFiles => "hashFiles",
            Func::Success => "success",
            Func::Failure => "failure",
            Func::Always => "always",
            Func::Cancelled => "cancelled",
        }
    }

    /// (minimum, maximum) number of arguments.
    fn arity(self) -> (usize, usize) {
        match self {
            Func::Contains | Func::StartsWith | Func::EndsWith => (2, 2),
            Func::Format | Func::HashFiles => (1, 255),
            Func::Join => (1, 2),
            Func::ToJson | Func::FromJson => (1, 1),
            Func::Success | Func::Failure | Func::Always | Func::Cancelled => (0, 0),
        }
    }

    pub(crate) fn is_status(self) -> bool {
        matches!(
            self,
            Func::Success | Func::Failure | Func::Always | Func::Cancelled
        )
    }

    fn lookup(name: &str) -> Option<Func> {
        Func::ALL
            .into_iter()
            .find(|f| f.name().eq_ignore_ascii_case(name))
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum CmpOp {
    Eq,
    Ne,
    Lt,
    Le,
    Gt,
    Ge,
}

#[derive(Debug, Clone)]
pub(crate) enum NodeKind {
    Null,
    Bool(bool),
    Number(f64),
    String(String),
    /// A context name, lowercased (`github`, `env`, ...).
    Named(&'static str),
    /// `target[index]`, and `target.name` with `index` a string literal.
    Index(Box<Node>, Box<Node>),
    /// `target.*` or `target[*]`.
    Wildcard(Box<Node>),
    Not(Box<Node>),
    Compare(CmpOp, Box<Node>, Box<Node>),
    And(Vec<Node>),
    Or(Vec<Node>),
    Call(Func, Vec<Node>),
}

/// One syntax-tree node; `offset`/`len` cover its source text.
#[derive(Debug, Clone)]
pub(crate) struct Node {
    pub(crate) kind: NodeKind,
    pub(crate) offset: usize,
    pub(crate) len: usize,
    depth: usize,
}

impl Node {
    pub(crate) fn children(&self) -> Vec<&Node> {
        match &self.kind {
            NodeKind::Null
            | NodeKind::Bool(_)
            | NodeKind::Number(_)
            | NodeKind::String(_)
            | NodeKind::Named(_) => Vec::new(),
            NodeKind::Index(a, b) | NodeKind::Compare(_, a, b) => vec![a, b],
            NodeKind::Wildcard(a) | NodeKind::Not(a) => vec![a],
            NodeKind::And(v) | NodeKind::Or(v) | NodeKind::Call(_, v) => v.iter().collect(),
        }
    }
}

#[derive(Debug, Clone, PartialEq)]
enum Tok {
    LParen,
    RParen,
    LBracket,
    RBracket,
    Comma,
    Dot,
    Star,
    Not,
    Cmp(CmpOp),
    And,
    Or,
    Null,
    Bool(bool),
    Number(f64),
    Str(String),
    /// A legal keyword: named value or function name, or a property name after `.`.
    Ident(String),
    /// Anything else; the parser reports it as an unexpected symbol.
    Unexpected,
}

#[derive(Debug, Clone)]
struct Token {
    tok: Tok,
    start: usize,
    end: usize,
}

fn is_boundary(c: char) -> bool {
    matches!(
        c,
        '(' | '[' | ')' | ']' | ',' | '.' | '!' | '>' | '<' | '=' | '&' | '|'
    ) || c.is_whitespace()
}

fn is_legal_keyword(s: &str) -> bool {
    let mut chars = s.chars();
    match chars.next() {
        Some(c) if c.is_ascii_alphabetic() || c == '_' => {
            chars.all(|c| c.is_ascii_alphanumeric() || c == '_' || c == '-')
        }
        _ => false,
    }
}

fn lex(src: &str) -> Vec<Token> {
    let mut tokens: Vec<Token> = Vec::new();
    let mut it = src.char_indices().peekable();
    // Index of the first byte after the token boundary run starting at `from`.
    let run_to_boundary = |from: usize, allow_dot: bool| -> usize {
        src[from..]
            .char_indices()
            .find(|&(_, c)| is_boundary(c) && !(allow_dot && c == '.'))
            .map_or(src.len(), |(i, _)| from + i)
    };
    while let Some(&(start, c)) = it.peek() {
        if c.is_whitespace() {
            it.next();
            continue;
        }
        let last = tokens.last().map(|t| &t.tok);
        let (tok, end) = match c {
            '(' => (Tok::LParen, start + 1),
            ')' => (Tok::RParen, start + 1),
            '[' => (Tok::LBracket, start + 1),
            ']' => (Tok::RBracket, start + 1),
            ',' => (Tok::Comma, start + 1),
            '*' => (Tok::Star, start + 1),
            '!' | '=' | '<' | '>' | '&' | '|' => {
                let next = src[start + 1..].chars().next();
                match (c, next) {
                    ('!', Some('=')) => (Tok::Cmp(CmpOp::Ne), start + 2),
                    ('!', _) => (Tok::Not, start + 1),
                    ('=', Some('=')) => (Tok::Cmp(CmpOp::Eq), start + 2),
                    ('<', Some('=')) => (Tok::Cmp(CmpOp::Le), start + 2),
                    ('<', _) => (Tok::Cmp(CmpOp::Lt), start + 1),
                    ('>', Some('=')) => (Tok::Cmp(CmpOp::Ge), start + 2),
                    ('>', _) => (Tok::Cmp(CmpOp::Gt), start + 1),
                    ('&', Some('&')) => (Tok::And, start + 2),
                    ('|', Some('|')) => (Tok::Or, start + 2),
                    _ => (Tok::Unexpected, start + 1),
                }
            }
            '\'' => {
                let mut value = String::new();
                let mut end = None;
                let mut chars = src[start + 1..].char_indices().peekable();
                while let Some((i, ch)) = chars.next() {
                    if ch == '\'' {
                        if chars.peek().map(|&(_, n)| n) == Some('\'') {
                            chars.next();
                        } else {
                            end = Some(start + 1 + i + 1);
                            break;
                        }
                    }
                    value.push(ch);
                }
                match end {
                    Some(end) => (Tok::Str(value), end),
                    None => (Tok::Unexpected, src.len()),
                }
            }
            '.' if !matches!(
                last,
                None | Some(
                    Tok::Comma
                        | Tok::LParen
                        | Tok::LBracket
                        | Tok::Not
                        | Tok::Cmp(_)
                        | Tok::And
                        | Tok::Or
                )
            ) =>
            {
                (Tok::Dot, start + 1)
            }
            '.' | '-' | '+' | '0'..='9' => {
                let end = run_to_boundary(start + 1, true);
                let x = parse_number(&src[start..end]);
                if x.is_nan() {
                    (Tok::Unexpected, end)
                } else {
                    (Tok::Number(x), end)
                }
            }
            _ => {
                let end = run_to_boundary(start + c.len_utf8(), false);
                let word = &src[start..end];
                let tok = if !is_legal_keyword(word) {
                    Tok::Unexpected
                } else if last == Some(&Tok::Dot) {
                    Tok::Ident(word.to_string())
                } else {
                    match word {
                        "null" => Tok::Null,
                        "true" => Tok::Bool(true),
                        "false" => Tok::Bool(false),
                        "NaN" => Tok::Number(f64::NAN),
                        "Infinity" => Tok::Number(f64::INFINITY),
                        _ => Tok::Ident(word.to_string()),
                    }
                };
                (tok, end)
            }
        };
        tokens.push(Token { tok, start, end });
        while it.peek().is_some_and(|&(i, _)| i < end) {
            it.next();
        }
    }
    tokens
}

struct Parser<'s> {
    src: &'s str,
    tokens: Vec<Token>,
    pos: usize,
}

fn err(offset: usize, len: usize, message: impl Into<String>) -> ExprError {
    ExprError {
        offset,
        len,
        message: message.into(),
    }
}

fn depth_error(offset: usize, len: usize) -> ExprError {
    err(
        offset,
        len,
        format!("expression nests too deeply: the maximum depth is {MAX_DEPTH}"),
    )
}

impl<'s> Parser<'s> {
    fn peek(&self) -> Option<&Token> {
        self.tokens.get(self.pos)
    }

    fn peek_tok(&self) -> Option<&Tok> {
        self.peek().map(|t| &t.tok)
    }

    fn unexpected(&self) -> ExprError {
        match self.peek() {
            Some(t) => err(
                t.start,
                t.end - t.start,
                format!("unexpected symbol: `{}`", &self.src[t.start..t.end]),
            ),
            None => err(self.src.len(), 0, "unexpected end of expression"),
        }
    }

    fn expect(&mut self, tok: &Tok) -> Result<Token, ExprError> {
        match self.peek() {
            Some(t) if &t.tok == tok => {
                let t = t.clone();
                self.pos += 1;
                Ok(t)
            }
            _ => Err(self.unexpected()),
        }
    }

    fn node(
        &self,
        kind: NodeKind,
        start: usize,
        end: usize,
        children: &[&Node],
    ) -> Result<Node, ExprError> {
        let depth = 1 + children.iter().map(|c| c.depth).max().unwrap_or(0);
        if depth > MAX_DEPTH {
            return Err(depth_error(start, end - start));
        }
        Ok(Node {
            kind,
            offset: start,
            len: end - start,
            depth,
        })
    }

    fn end_of(n: &Node) -> usize {
        n.offset + n.len
    }

    fn guard(&self, depth: usize) -> Result<(), ExprError> {
        if depth > MAX_DEPTH {
            let (o, l) = self
                .peek()
                .map_or((self.src.len(), 0), |t| (t.start, t.end - t.start));
            return Err(depth_error(o, l));
        }
        Ok(())
    }

    fn parse_or(&mut self, depth: usize) -> Result<Node, ExprError> {
        self.guard(depth)?;
        let first = self.parse_and(depth)?;
        if self.peek_tok() != Some(&Tok::Or) {
            return Ok(first);
        }
        let mut items = vec![first];
        while self.peek_tok() == Some(&Tok::Or) {
            self.pos += 1;
            items.push(self.parse_and(depth)?);
        }
        let (start, end) = (items[0].offset, items.last().map_or(0, Self::end_of));
        let refs: Vec<&Node> = items.iter().collect();
        let n = self.node(NodeKind::Null, start, end, &refs)?;
        Ok(Node {
            kind: NodeKind::Or(items),
            ..n
        })
    }

    fn parse_and(&mut self, depth: usize) -> Result<Node, ExprError> {
        let first = self.parse_binary(depth, true)?;
        if self.peek_tok() != Some(&Tok::And) {
            return Ok(first);
        }
        let mut items = vec![first];
        while self.peek_tok() == Some(&Tok::And) {
            self.pos += 1;
            items.push(self.parse_binary(depth, true)?);
        }
        let (start, end) = (items[0].offset, items.last().map_or(0, Self::end_of));
        let refs: Vec<&Node> = items.iter().collect();
        let n = self.node(NodeKind::Null, start, end, &refs)?;
        Ok(Node {
            kind: NodeKind::And(items),
            ..n
        })
    }

    /// `equality` (== !=) when `eq`, else `relational` (< <= > >=).
    fn parse_binary(&mut self, depth: usize, eq: bool) -> Result<Node, ExprError> {
        let mut left = if eq {
            self.parse_binary(depth, false)?
        } else {
            self.parse_unary(depth)?
        };
        loop {
            let op = match self.peek_tok() {
                Some(Tok::Cmp(op)) if eq == matches!(op, CmpOp::Eq | CmpOp::Ne) => *op,
                _ => return Ok(left),
            };
            self.pos += 1;
            let right = if eq {
                self.parse_binary(depth, false)?
            } else {
                self.parse_unary(depth)?
            };
            let n = self.node(
                NodeKind::Null,
                left.offset,
                Self::end_of(&right),
                &[&left, &right],
            )?;
            left = Node {
                kind: NodeKind::Compare(op, Box::new(left), Box::new(right)),
                ..n
            };
        }
    }

    fn parse_unary(&mut self, depth: usize) -> Result<Node, ExprError> {
        if let Some(Token {
            tok: Tok::Not,
            start,
            ..
        }) = self.peek()
        {
            let start = *start;
            self.guard(depth + 1)?;
            self.pos += 1;
            let inner = self.parse_unary(depth + 1)?;
            let n = self.node(NodeKind::Null, start, Self::end_of(&inner), &[&inner])?;
            return Ok(Node {
                kind: NodeKind::Not(Box::new(inner)),
                ..n
            });
        }
        self.parse_postfix(depth)
    }

    fn parse_postfix(&mut self, depth: usize) -> Result<Node, ExprError> {
        let (mut node, derefable) = self.parse_primary(depth)?;
        if !derefable {
            return Ok(node);
        }
        loop {
            match self.peek_tok() {
                Some(Tok::Dot) => {
                    self.pos += 1;
                    let Some(t) = self.peek().cloned() else {
                        return Err(self.unexpected());
                    };
                    let start = node.offset;
                    match t.tok {
                        Tok::Star => {
                            self.pos += 1;
                            let n = self.node(NodeKind::Null, start, t.end, &[&node])?;
                            node = Node {
                                kind: NodeKind::Wildcard(Box::new(node)),
                                ..n
                            };
                        }
                        Tok::Ident(name) => {
                            self.pos += 1;
                            let key = self.node(NodeKind::String(name), t.start, t.end, &[])?;
                            let n = self.node(NodeKind::Null, start, t.end, &[&node, &key])?;
                            node = Node {
                                kind: NodeKind::Index(Box::new(node), Box::new(key)),
                                ..n
                            };
                        }
                        _ => return Err(self.unexpected()),
                    }
                }
                Some(Tok::LBracket) => {
                    self.guard(depth + 1)?;
                    self.pos += 1;
                    let start = node.offset;
                    if self.peek_tok() == Some(&Tok::Star) {
                        self.pos += 1;
                        let close = self.expect(&Tok::RBracket)?;
                        let n = self.node(NodeKind::Null, start, close.end, &[&node])?;
                        node = Node {
                            kind: NodeKind::Wildcard(Box::new(node)),
                            ..n
                        };
                    } else {
                        let index = self.parse_or(depth + 1)?;
                        let close = self.expect(&Tok::RBracket)?;
                        let n = self.node(NodeKind::Null, start, close.end, &[&node, &index])?;
                        node = Node {
                            kind: NodeKind::Index(Box::new(node), Box::new(index)),
                            ..n
                        };
                    }
                }
                _ => return Ok(node),
            }
        }
    }

    /// A primary expression, and whether `.`/`[` may follow it (not after a
    /// literal, like GitHub).
    fn parse_primary(&mut self, depth: usize) -> Result<(Node, bool), ExprError> {
        let Some(t) = self.peek().cloned() else {
            return Err(self.unexpected());
        };
        let literal = match &t.tok {
            Tok::Null => Some(NodeKind::Null),
            Tok::Bool(b) => Some(NodeKind::Bool(*b)),
            Tok::Number(x) => Some(NodeKind::Number(*x)),
            Tok::Str(s) => Some(NodeKind::String(s.clone())),
            _ => None,
        };
        if let Some(kind) = literal {
            self.pos += 1;
            return self.node(kind, t.start, t.end, &[]).map(|n| (n, false));
        }
        match t.tok {
            Tok::LParen => {
                self.guard(depth + 1)?;
                self.pos += 1;
                let inner = self.parse_or(depth + 1)?;
                self.expect(&Tok::RParen)?;
                Ok((inner, true))
            }
            Tok::Ident(ref name) => {
                self.pos += 1;
                if self.peek_tok() == Some(&Tok::LParen) {
                    return self.parse_call(name, &t, depth).map(|n| (n, true));
                }
                let Some(ctx) = NAMED_VALUES.iter().find(|n| n.eq_ignore_ascii_case(name)) else {
                    return Err(err(
                        t.start,
                        t.end - t.start,
                        format!("unrecognized named-value: `{name}`"),
                    ));
                };
                self.node(NodeKind::Named(ctx), t.start, t.end, &[])
                    .map(|n| (n, true))
            }
            _ => Err(self.unexpected()),
        }
    }

    fn parse_call(&mut self, name: &str, t: &Token, depth: usize) -> Result<Node, ExprError> {
        let Some(func) = Func::lookup(name) else {
            return Err(err(
                t.start,
                t.end - t.start,
                format!("unrecognized function: `{name}`"),
            ));
        };
        self.guard(depth + 1)?;
        self.pos += 1; // "("
        let mut args = Vec::new();
        let end;
        if let Some(Token {
            tok: Tok::RParen,
            end: e,
            ..
        }) = self.peek()
        {
            end = *e;
            self.pos += 1;
        } else {
            loop {
                args.push(self.parse_or(depth + 1)?);
                match self.peek() {
                    Some(Token {
                        tok: Tok::Comma, ..
                    }) => self.pos += 1,
                    Some(Token {
                        tok: Tok::RParen,
                        end: e,
                        ..
                    }) => {
                        end = *e;
                        self.pos += 1;
                        break;
                    }
                    _ => return Err(self.unexpected()),
                }
            }
        }
        let (min, max) = func.arity();
        if args.len() < min || args.len() > max {
            let expected = match (min, max) {
                (a, b) if a == b => format!("{a} argument{}", if a == 1 { "" } else { "s" }),
                (a, 255) => format!("at least {a} argument{}", if a == 1 { "" } else { "s" }),
                (a, b) => format!("{a} to {b} arguments"),
            };
            return Err(err(
                t.start,
                end - t.start,
                format!(
                    "wrong number of arguments to `{}`: expected {expected}, got {}",
                    func.name(),
                    args.len()
                ),
            ));
        }
        let refs: Vec<&Node> = args.iter().collect();
        let n = self.node(NodeKind::Null, t.start, end, &refs)?;
        Ok(Node {
            kind: NodeKind::Call(func, args),
            ..n
        })
    }
}

pub(crate) fn parse_node(src: &str) -> Result<Node, ExprError> {
    if src.len() > MAX_LENGTH {
        return Err(err(
            0,
            src.len(),
            format!(
                "expression is too long: {} bytes, the maximum is {MAX_LENGTH}",
                src.len()
            ),
        ));
    }
    let tokens = lex(src);
    if tokens.is_empty() {
        return Err(err(0, src.len(), "expected an expression"));
    }
    let mut p = Parser {
        src,
        tokens,
        pos: 0,
    };
    let node = p.parse_or(0)?;
    if p.pos < p.tokens.len() {
        return Err(p.unexpected());
    }
    Ok(node)
}
