//! A small element tree over quick-xml, for the query and REST-XML
//! protocols: responses are read as trees (they are small), requests are
//! written with [`Writer`].

use quick_xml::events::Event;

/// One XML element: its local name (namespace prefix dropped), its text
/// (concatenated, unescaped) and its child elements in document order.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Element {
    pub name: String,
    pub text: String,
    pub children: Vec<Element>,
}

impl Element {
    /// The first child named `name`.
    pub fn child(&self, name: &str) -> Option<&Element> {
        self.children.iter().find(|c| c.name == name)
    }

    /// Every child named `name`.
    pub fn children_named<'a>(&'a self, name: &'a str) -> impl Iterator<Item = &'a Element> + 'a {
        self.children.iter().filter(move |c| c.name == name)
    }

    /// The element at a `/`-separated path of child names.
    pub fn path(&self, path: &str) -> Option<&Element> {
        path.split('/')
            .filter(|s| !s.is_empty())
            .try_fold(self, |e, name| e.child(name))
    }

    /// The text at a path, if the element exists.
    pub fn text_at(&self, path: &str) -> Option<&str> {
        self.path(path).map(|e| e.text.as_str())
    }

    /// The first element named `name` anywhere below (depth first), or
    /// this element itself.
    pub fn find(&self, name: &str) -> Option<&Element> {
        if self.name == name {
            return Some(self);
        }
        self.children.iter().find_map(|c| c.find(name))
    }

    /// The `member` (or `item`) children of the element at `path`: how the
    /// query protocols serialise lists.
    pub fn list<'a>(&'a self, path: &str) -> Vec<&'a Element> {
        match self.path(path) {
            Some(e) => e
                .children
                .iter()
                .filter(|c| c.name == "member" || c.name == "item")
                .collect(),
            None => Vec::new(),
        }
    }
}

/// Parses a document into its root element.
pub fn parse(bytes: &[u8]) -> Result<Element, String> {
    let mut reader = quick_xml::Reader::from_reader(bytes);
    let mut stack: Vec<Element> = Vec::new();
    let mut buf = Vec::new();
    loop {
        let ev = reader
            .read_event_into(&mut buf)
            .map_err(|e| format!("invalid XML at byte {}: {e}", reader.buffer_position()))?;
        match ev {
            Event::Start(s) => stack.push(Element {
                name: local(s.name().as_ref()),
                ..Element::default()
            }),
            Event::Empty(s) => {
                let e = Element {
                    name: local(s.name().as_ref()),
                    ..Element::default()
                };
                match stack.last_mut() {
                    Some(parent) => parent.children.push(e),
                    None => return Ok(e),
                }
            }
            Event::End(_) => {
                let Some(done) = stack.pop() else {
                    return Err("unbalanced closing tag".into());
                };
                match stack.last_mut() {
                    Some(parent) => parent.children.push(done),
                    None => return Ok(done),
                }
            }
            Event::Text(t) => {
                if let Some(top) = stack.last_mut() {
                    let s = t
                        .decode()
                        .map_err(|e| format!("invalid text in XML: {e}"))?;
                    let s = quick_xml::escape::unescape(&s)
                        .map_err(|e| format!("invalid escape in XML: {e}"))?;
                    top.text.push_str(&s);
                }
            }
            Event::CData(t) => {
                if let Some(top) = stack.last_mut() {
                    top.text.push_str(&String::from_utf8_lossy(&t));
                }
            }
            Event::GeneralRef(r) => {
                if let Some(top) = stack.last_mut() {
                    let name = String::from_utf8_lossy(&r).into_owned();
                    let entity = format!("&{name};");
                    let s = quick_xml::escape::unescape(&entity)
                        .map_err(|e| format!("invalid entity in XML: {e}"))?;
                    top.text.push_str(&s);
                }
            }
            Event::Eof => return Err("the document has no root element".into()),
            _ => {}
        }
        buf.clear();
    }
}

fn local(name: &[u8]) -> String {
    let s = String::from_utf8_lossy(name);
    match s.rsplit_once(':') {
        Some((_, l)) => l.to_owned(),
        None => s.into_owned(),
    }
}

/// Writes an XML document element by element, escaping text.
#[derive(Debug, Default)]
pub struct Writer {
    out: String,
    open: Vec<String>,
}

impl Writer {
    /// A document whose root element carries the S3 namespace.
    pub fn s3(root: &str) -> Writer {
        let mut w = Writer::default();
        w.out.push_str(&format!(
            "<{root} xmlns=\"http://s3.amazonaws.com/doc/2006-03-01/\">"
        ));
        w.open.push(root.to_owned());
        w
    }

    pub fn start(&mut self, name: &str) -> &mut Self {
        self.out.push_str(&format!("<{name}>"));
        self.open.push(name.to_owned());
        self
    }

    pub fn end(&mut self) -> &mut Self {
        if let Some(name) = self.open.pop() {
            self.out.push_str(&format!("</{name}>"));
        }
        self
    }

    /// `<name>text</name>`.
    pub fn elem(&mut self, name: &str, text: &str) -> &mut Self {
        self.out.push_str(&format!(
            "<{name}>{}</{name}>",
            quick_xml::escape::escape(text)
        ));
        self
    }

    /// Closes every open element and returns the document.
    pub fn finish(mut self) -> String {
        while !self.open.is_empty() {
            self.end();
        }
        self.out
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_nested_lists_and_entities() {
        let doc = br#"<?xml version="1.0"?>
<GetRoleResponse xmlns="https://iam.amazonaws.com/doc/2010-05-08/">
  <GetRoleResult><Role><RoleName>r</RoleName>
  <AssumeRolePolicyDocument>%7B%22a%22%7D</AssumeRolePolicyDocument>
  <Tags><member><Key>k</Key><Value>a &amp; b</Value></member><member><Key>x</Key><Value/></member></Tags>
  </Role></GetRoleResult></GetRoleResponse>"#;
        let e = parse(doc).unwrap();
        assert_eq!(e.name, "GetRoleResponse");
        assert_eq!(e.text_at("GetRoleResult/Role/RoleName"), Some("r"));
        let tags = e.list("GetRoleResult/Role/Tags");
        assert_eq!(tags.len(), 2);
        assert_eq!(tags[0].text_at("Value"), Some("a & b"));
        assert_eq!(tags[1].text_at("Value"), Some(""));
        assert_eq!(e.find("Key").map(|k| k.text.as_str()), Some("k"));
    }

    #[test]
    fn rejects_garbage() {
        assert!(parse(b"").is_err());
        assert!(parse(b"<a><b></a>").is_err());
    }

    #[test]
    fn writer_escapes() {
        let mut w = Writer::s3("Tagging");
        w.start("TagSet")
            .start("Tag")
            .elem("Key", "a<b")
            .elem("Value", "&");
        let s = w.finish();
        assert!(s.contains("<Key>a&lt;b</Key><Value>&amp;</Value></Tag></TagSet></Tagging>"));
    }
}
