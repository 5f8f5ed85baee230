//! A strict JSON cursor over a webhook body, for the single pass: it knows where every value
//! starts and ends, so a message can be read typed and kept as sent without a second pass.
//!
//! It accepts exactly the JSON that serde_json accepts (RFC 8259: no trailing commas, no
//! leading zeros, only the four whitespace bytes, no raw control bytes in strings) and rejects
//! the rest without saying why: a body it rejects goes to serde_json, which reports the error.

use serde_json::value::RawValue;

/// Deeper than anything Meta sends; a deeper body is left to the general path.
const MAX_DEPTH: u32 = 100;

/// Not JSON this cursor reads (invalid, too deep, or not the shape a caller wanted).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct Reject;

pub(crate) struct Scanner<'a> {
    src: &'a str,
    pos: usize,
    /// Objects and arrays entered and not yet left.
    depth: u32,
}

/// Where a scanner stood, to go back to after a direct read gave up halfway through a value.
#[derive(Clone, Copy)]
pub(crate) struct Mark {
    pos: usize,
    depth: u32,
}

/// A string as it appears in the body.
#[derive(Clone, Copy)]
pub(crate) enum Text<'a> {
    /// Without escapes: the content, borrowed.
    Plain(&'a str),
    /// With escapes: the whole token, quotes included, for serde_json to decode.
    Escaped(&'a str),
}

impl<'a> Text<'a> {
    /// The content of a string without escapes: object keys Meta sends are plain, and an
    /// escaped one is left to serde_json, which decodes keys before matching them.
    pub fn plain(self) -> Result<&'a str, Reject> {
        match self {
            Text::Plain(s) => Ok(s),
            Text::Escaped(_) => Err(Reject),
        }
    }
}

/// The exact text of one complete, well-formed JSON value, without surrounding whitespace:
/// what a [`RawValue`] must hold. Only the scanner (which checked it) and serde_json (through
/// a `&RawValue`) make one.
#[derive(Debug, Clone, Copy)]
pub(crate) struct Json<'a>(&'a str);

impl<'a> Json<'a> {
    pub fn get(self) -> &'a str {
        self.0
    }

    pub fn is_null(self) -> bool {
        self.0 == "null"
    }

    /// An owned copy, without parsing the text again.
    pub fn to_raw_value(self) -> Box<RawValue> {
        // SAFETY: a `Json` holds one well-formed JSON value with no surrounding whitespace
        // (see the type), which is all `from_string_unchecked` asks for. Debug builds re-parse
        // it there and assert that it is.
        unsafe { RawValue::from_string_unchecked(self.0.to_owned()) }
    }
}

impl<'a> From<&'a RawValue> for Json<'a> {
    fn from(raw: &'a RawValue) -> Self {
        Json(raw.get())
    }
}

/// Reads through serde_json's checks, so a `Json` never holds text serde_json did not accept.
impl<'de: 'a, 'a> serde::Deserialize<'de> for Json<'a> {
    fn deserialize<D: serde::Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        <&RawValue>::deserialize(d).map(Json::from)
    }
}

impl<'a> Scanner<'a> {
    pub fn new(src: &'a str) -> Self {
        Scanner {
            src,
            pos: 0,
            depth: 0,
        }
    }

    pub fn mark(&self) -> Mark {
        Mark {
            pos: self.pos,
            depth: self.depth,
        }
    }

    pub fn reset(&mut self, mark: Mark) {
        self.pos = mark.pos;
        self.depth = mark.depth;
    }

    /// Where the first `"`, `\\` or control byte at or after `from` is.
    #[inline(always)]
    fn string_stop(&self, from: usize) -> Option<usize> {
        special_byte(self.src.as_bytes(), from)
    }

    /// The next byte after whitespace, not consumed. Meta sends compact JSON: one comparison
    /// tells the common case, as every whitespace byte is at most a space.
    #[inline(always)]
    pub fn peek(&mut self) -> Option<u8> {
        match self.src.as_bytes().get(self.pos) {
            Some(&b) if b > b' ' => Some(b),
            _ => self.peek_past_whitespace(),
        }
    }

    #[inline(never)]
    fn peek_past_whitespace(&mut self) -> Option<u8> {
        let bytes = self.src.as_bytes();
        while let Some(&b) = bytes.get(self.pos) {
            if !matches!(b, b' ' | b'\n' | b'\r' | b'\t') {
                return Some(b);
            }
            self.pos += 1;
        }
        None
    }

    /// Only whitespace is left.
    pub fn end(&mut self) -> Result<(), Reject> {
        match self.peek() {
            None => Ok(()),
            Some(_) => Err(Reject),
        }
    }

    #[inline(always)]
    fn slice(&self, start: usize, end: usize) -> Result<&'a str, Reject> {
        // Every boundary the scanner takes sits next to an ASCII byte, so on a char boundary.
        self.src.get(start..end).ok_or(Reject)
    }

    #[inline(always)]
    fn eat(&mut self, expected: u8) -> Result<(), Reject> {
        if self.peek() == Some(expected) {
            self.pos += 1;
            Ok(())
        } else {
            Err(Reject)
        }
    }

    /// `null`, `true` or `false`, spelled out.
    pub fn literal(&mut self, word: &'static str) -> Result<(), Reject> {
        self.peek();
        let rest = self.src.as_bytes().get(self.pos..).unwrap_or_default();
        if rest.starts_with(word.as_bytes()) {
            self.pos += word.len();
            Ok(())
        } else {
            Err(Reject)
        }
    }

    /// A `null`, consumed, if that is what comes next.
    #[inline(always)]
    pub fn null(&mut self) -> Result<bool, Reject> {
        if self.peek() == Some(b'n') {
            self.literal("null")?;
            Ok(true)
        } else {
            Ok(false)
        }
    }

    /// A string value.
    #[inline(always)]
    pub fn string(&mut self) -> Result<Text<'a>, Reject> {
        self.eat(b'"')?;
        let start = self.pos;
        let end = self.string_stop(start).ok_or(Reject)?;
        if self.src.as_bytes().get(end) == Some(&b'"') {
            self.pos = end + 1;
            return self.slice(start, end).map(Text::Plain);
        }
        self.pos = end;
        self.escaped_string(start)
    }

    /// The rest of a string that has escapes (or is invalid), from the first such byte.
    #[inline(never)]
    fn escaped_string(&mut self, start: usize) -> Result<Text<'a>, Reject> {
        self.string_tail()?;
        self.slice(start - 1, self.pos).map(Text::Escaped)
    }

    /// Steps over a string value.
    #[inline(always)]
    fn skip_string(&mut self) -> Result<(), Reject> {
        self.eat(b'"')?;
        self.pos = self.string_stop(self.pos).ok_or(Reject)?;
        if self.src.as_bytes().get(self.pos) == Some(&b'"') {
            self.pos += 1;
            return Ok(());
        }
        self.string_tail()
    }

    /// Reads on from a `\`, `"` or control byte inside a string through its closing quote.
    #[inline(never)]
    fn string_tail(&mut self) -> Result<(), Reject> {
        let bytes = self.src.as_bytes();
        loop {
            match bytes.get(self.pos) {
                Some(b'"') => {
                    self.pos += 1;
                    return Ok(());
                }
                Some(b'\\') => {
                    self.pos += 1;
                    self.escape()?;
                }
                // A raw control byte, which JSON forbids inside strings.
                _ => return Err(Reject),
            }
            self.pos = self.string_stop(self.pos).ok_or(Reject)?;
        }
    }

    /// The rest of an escape sequence after its backslash. `\u` takes any four hex digits, as
    /// serde_json does when it skips a string: whether they pair up is for the decoder.
    fn escape(&mut self) -> Result<(), Reject> {
        let bytes = self.src.as_bytes();
        match bytes.get(self.pos) {
            Some(b'"' | b'\\' | b'/' | b'b' | b'f' | b'n' | b'r' | b't') => self.pos += 1,
            Some(b'u') => {
                let digits = bytes.get(self.pos + 1..self.pos + 5).ok_or(Reject)?;
                if !digits.iter().all(u8::is_ascii_hexdigit) {
                    return Err(Reject);
                }
                self.pos += 5;
            }
            _ => return Err(Reject),
        }
        Ok(())
    }

    /// A number, checked against JSON's grammar: `-?(0|[1-9][0-9]*)(.[0-9]+)?([eE][+-]?[0-9]+)?`.
    pub fn number(&mut self) -> Result<&'a str, Reject> {
        self.peek();
        let bytes = self.src.as_bytes();
        let start = self.pos;
        let mut i = start;
        let digits = |i: &mut usize| {
            let from = *i;
            while bytes.get(*i).is_some_and(u8::is_ascii_digit) {
                *i += 1;
            }
            *i > from
        };
        if bytes.get(i) == Some(&b'-') {
            i += 1;
        }
        match bytes.get(i) {
            Some(b'0') => i += 1,
            Some(b'1'..=b'9') => {
                digits(&mut i);
            }
            _ => return Err(Reject),
        }
        if bytes.get(i) == Some(&b'.') {
            i += 1;
            if !digits(&mut i) {
                return Err(Reject);
            }
        }
        if matches!(bytes.get(i), Some(b'e' | b'E')) {
            i += 1;
            if matches!(bytes.get(i), Some(b'+' | b'-')) {
                i += 1;
            }
            if !digits(&mut i) {
                return Err(Reject);
            }
        }
        self.pos = i;
        self.slice(start, i)
    }

    /// Steps into an object (`{`) or array (`[`).
    #[inline(always)]
    fn enter(&mut self, open: u8) -> Result<(), Reject> {
        self.eat(open)?;
        self.depth += 1;
        if self.depth > MAX_DEPTH {
            return Err(Reject);
        }
        Ok(())
    }

    #[inline(always)]
    fn leave(&mut self) {
        self.depth -= 1;
    }

    /// Steps into an object; then [`Scanner::next_key`] reads it member by member.
    #[inline(always)]
    pub fn enter_object(&mut self) -> Result<(), Reject> {
        self.enter(b'{')
    }

    /// Whether another member follows (its key comes next, unread), or the closing brace,
    /// which is consumed. `first` is true until the first member is read.
    #[inline(always)]
    pub fn next_member(&mut self, first: &mut bool) -> Result<bool, Reject> {
        match self.peek() {
            Some(b'}') => {
                self.pos += 1;
                self.leave();
                return Ok(false);
            }
            Some(b',') if !*first => self.pos += 1,
            Some(b'"') if *first => {}
            _ => return Err(Reject),
        }
        *first = false;
        // `string` and `skip_string` look for the key's opening quote themselves.
        Ok(true)
    }

    /// The colon between a key and its value.
    #[inline(always)]
    pub fn colon(&mut self) -> Result<(), Reject> {
        self.eat(b':')
    }

    /// The next member's key, with its colon consumed: the caller reads the value. `None` at
    /// the closing brace, which is consumed.
    #[inline(always)]
    pub fn next_key(&mut self, first: &mut bool) -> Result<Option<Text<'a>>, Reject> {
        if !self.next_member(first)? {
            return Ok(None);
        }
        let key = self.string()?;
        self.colon()?;
        Ok(Some(key))
    }

    /// Steps into an array; then [`Scanner::next_element`] reads it element by element.
    #[inline(always)]
    pub fn enter_array(&mut self) -> Result<(), Reject> {
        self.enter(b'[')
    }

    /// Whether another element follows (the caller reads it), or the closing bracket, which is
    /// consumed. `first` is true until the first element is read.
    #[inline(always)]
    pub fn next_element(&mut self, first: &mut bool) -> Result<bool, Reject> {
        match self.peek() {
            Some(b']') => {
                self.pos += 1;
                self.leave();
                return Ok(false);
            }
            Some(b',') if !*first => self.pos += 1,
            Some(_) if *first => {}
            _ => return Err(Reject),
        }
        *first = false;
        // A value, not a second comma or the closing bracket after a comma.
        match self.peek() {
            Some(b']' | b',') | None => Err(Reject),
            Some(_) => Ok(true),
        }
    }

    /// Reads an object, handing each key to `member`, which must read that member's value
    /// whole; returns the object's text.
    #[inline(always)]
    pub fn object(
        &mut self,
        mut member: impl FnMut(&mut Self, Text<'a>) -> Result<(), Reject>,
    ) -> Result<Json<'a>, Reject> {
        self.peek();
        let (start, depth) = (self.pos, self.depth);
        self.enter_object()?;
        let mut first = true;
        while let Some(key) = self.next_key(&mut first)? {
            member(self, key)?;
        }
        // Back out of exactly this object, so the text is one whole value.
        if self.depth != depth {
            return Err(Reject);
        }
        self.slice(start, self.pos).map(Json)
    }

    /// Reads an array, calling `element` for each element, which must read it whole.
    #[inline(always)]
    pub fn array(
        &mut self,
        mut element: impl FnMut(&mut Self) -> Result<(), Reject>,
    ) -> Result<(), Reject> {
        let depth = self.depth;
        self.enter_array()?;
        let mut first = true;
        while self.next_element(&mut first)? {
            element(self)?;
        }
        if self.depth != depth {
            return Err(Reject);
        }
        Ok(())
    }

    /// Steps over one value of any kind, checking it; returns its text.
    pub fn skip_value(&mut self) -> Result<Json<'a>, Reject> {
        self.peek();
        let start = self.pos;
        self.skip_any()?;
        self.slice(start, self.pos).map(Json)
    }

    /// One value, iteratively: a call per nested value would cost more than most values do.
    /// `open` has a bit per enclosing container entered here, set for objects.
    fn skip_any(&mut self) -> Result<(), Reject> {
        let base = self.depth;
        let mut open: u128 = 0;
        loop {
            // A value.
            match self.peek() {
                Some(b'"') => self.skip_string()?,
                Some(b'{') => {
                    self.enter_object()?;
                    open = (open << 1) | 1;
                    if self.peek() == Some(b'}') {
                        self.pos += 1;
                        self.leave();
                        open >>= 1;
                    } else {
                        self.skip_string()?;
                        self.colon()?;
                        continue;
                    }
                }
                Some(b'[') => {
                    self.enter_array()?;
                    open <<= 1;
                    if self.peek() == Some(b']') {
                        self.pos += 1;
                        self.leave();
                        open >>= 1;
                    } else {
                        continue;
                    }
                }
                Some(b'n') => self.literal("null")?,
                Some(b't') => self.literal("true")?,
                Some(b'f') => self.literal("false")?,
                Some(b'-' | b'0'..=b'9') => self.number().map(drop)?,
                _ => return Err(Reject),
            }
            // After a value: the next member or element, or the end of containers.
            loop {
                if self.depth == base {
                    return Ok(());
                }
                let in_object = open & 1 == 1;
                match self.peek() {
                    Some(b',') => {
                        self.pos += 1;
                        if in_object {
                            self.skip_string()?;
                            self.colon()?;
                        }
                        break;
                    }
                    Some(b'}') if in_object => {}
                    Some(b']') if !in_object => {}
                    _ => return Err(Reject),
                }
                self.pos += 1;
                self.leave();
                open >>= 1;
            }
        }
    }
}

/// Where the first `"`, `\` or control byte (below 0x20) at or after `from` is: eight bytes
/// at a time, as serde_json looks for the end of a string that may hold control bytes.
#[inline(always)]
fn special_byte(bytes: &[u8], from: usize) -> Option<usize> {
    const ONES: u64 = u64::MAX / 255;
    const HIGH: u64 = ONES << 7;
    let mut i = from;
    while let Some(chunk) = bytes.get(i..i + 8) {
        let word = u64::from_le_bytes(<[u8; 8]>::try_from(chunk).ok()?);
        let quote = word ^ (ONES * u64::from(b'"'));
        let backslash = word ^ (ONES * u64::from(b'\\'));
        let found = (word.wrapping_sub(ONES * 0x20) & !word
            | quote.wrapping_sub(ONES) & !quote
            | backslash.wrapping_sub(ONES) & !backslash)
            & HIGH;
        if found != 0 {
            // Borrows can only flag bytes above the first real hit: the lowest one is real.
            return Some(i + (found.trailing_zeros() / 8) as usize);
        }
        i += 8;
    }
    while let Some(&b) = bytes.get(i) {
        if b == b'"' || b == b'\\' || b < 0x20 {
            return Some(i);
        }
        i += 1;
    }
    None
}

#[cfg(test)]
mod tests {
    use super::*;

    fn skipped(json: &str) -> Result<&str, Reject> {
        let mut s = Scanner::new(json);
        let value = s.skip_value()?;
        s.end()?;
        Ok(value.get())
    }

    #[test]
    fn accepts_what_serde_json_accepts_and_nothing_else() {
        let cases = [
            r#"{"a":[1,-2.5e+3,0,true,false,null,"x\"\\\/\b\f\n\r\t\u00e9"],"b":{}}"#,
            " [ ] ",
            "\"\\ud800\"",
            "-0",
            "0.5E-7",
            r#""a long string with no escapes at all, longer than eight bytes""#,
            "[1,]",
            "{\"a\":1,}",
            "{,}",
            "[,1]",
            "01",
            "1.",
            "-",
            ".5",
            "1e",
            "+1",
            "nul",
            "truex",
            "\"\\x\"",
            "\"\\u12g4\"",
            "\"tab\there\"",
            "{\"a\" 1}",
            "{1:2}",
            "[1 2]",
            "\"unterminated",
            "",
            "[] []",
            "\u{feff}[]",
        ];
        for json in cases {
            let ours = skipped(json).is_ok();
            let theirs = serde_json::from_str::<serde::de::IgnoredAny>(json).is_ok();
            assert_eq!(ours, theirs, "{json:?}");
        }
        assert_eq!(skipped(" {\"a\":1} "), Ok("{\"a\":1}"));
    }

    #[test]
    fn strings_borrow_unless_escaped() {
        let mut s = Scanner::new(r#"["plain","esc\"aped"]"#);
        s.enter_array().unwrap();
        let mut first = true;
        assert!(s.next_element(&mut first).unwrap());
        assert!(matches!(s.string(), Ok(Text::Plain("plain"))));
        assert!(s.next_element(&mut first).unwrap());
        assert!(matches!(s.string(), Ok(Text::Escaped(r#""esc\"aped""#))));
        assert!(!s.next_element(&mut first).unwrap());
    }

    #[test]
    fn nesting_deeper_than_the_limit_is_rejected() {
        let deep = format!("{}{}", "[".repeat(101), "]".repeat(101));
        assert_eq!(skipped(&deep), Err(Reject));
        let fine = format!("{}{}", "[".repeat(100), "]".repeat(100));
        assert!(skipped(&fine).is_ok());
    }

    #[test]
    fn finds_special_bytes_in_every_position() {
        for len in 0..20 {
            for at in 0..len {
                for special in [b'"', b'\\', 0x1f] {
                    let mut bytes = vec![b'a'; len];
                    bytes[at] = special;
                    assert_eq!(special_byte(&bytes, 0), Some(at), "{len} {at} {special}");
                    assert_eq!(special_byte(&bytes, at), Some(at), "{len} {at} {special}");
                }
            }
            assert_eq!(special_byte(&vec![0xc3; len], 0), None);
        }
    }
}
