//! `{"NAME": "value", …}`: for programs. Written by hand rather than through a serde map so no
//! un-wiped copy of a value is made. JSON strings are Unicode, so a non-UTF-8 value is an error
//! naming the secret rather than a silently altered value.
//!
//! `$`, `` ` ``, `!`, `"` and `\` are written as `\u` escapes: every JSON reader decodes them
//! back, and a shell handed this output by mistake finds nothing inside the double quotes to
//! expand or run, and no `\"` to misread (csh's double quotes take `\` literally, so `"\"` would
//! end a string there early and let the rest run).

use super::{Out, RenderError};

pub(super) fn push_string(out: &mut Out, text: &str) {
    out.push(b'"');
    for c in text.chars() {
        match c {
            '"' => out.extend(b"\\u0022"),
            '\\' => out.extend(b"\\u005c"),
            '\n' => out.extend(b"\\n"),
            '\r' => out.extend(b"\\r"),
            '\t' => out.extend(b"\\t"),
            '$' => out.extend(b"\\u0024"),
            '`' => out.extend(b"\\u0060"),
            '!' => out.extend(b"\\u0021"),
            c if (c as u32) < 0x20 || c == '\u{7f}' => {
                const HEX: &[u8; 16] = b"0123456789abcdef";
                let n = c as usize;
                out.extend(b"\\u00");
                out.push(HEX[n >> 4]);
                out.push(HEX[n & 15]);
            }
            c => {
                let mut buf = [0u8; 4];
                out.extend(c.encode_utf8(&mut buf).as_bytes());
            }
        }
    }
    out.push(b'"');
}

pub fn render_into(out: &mut Out, pairs: &[(&str, &[u8])]) -> Result<(), RenderError> {
    render_object_into(out, pairs, |out, _, text| push_string(out, text))
}

/// `{"NAME": …, …}\n`, each value (checked UTF-8) written by `write_value(out, name, text)`:
/// the object both JSON and nushell print.
pub(super) fn render_object_into(
    out: &mut Out,
    pairs: &[(&str, &[u8])],
    write_value: impl Fn(&mut Out, &str, &str),
) -> Result<(), RenderError> {
    out.push(b'{');
    for (i, (name, value)) in pairs.iter().enumerate() {
        let text = std::str::from_utf8(value).map_err(|_| RenderError::NotUtf8 {
            name: name.to_string(),
        })?;
        if i > 0 {
            out.push(b',');
        }
        push_string(out, name);
        out.push(b':');
        write_value(out, name, text);
    }
    out.extend(b"}\n");
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn render(pairs: &[(&str, &[u8])]) -> Result<Vec<u8>, RenderError> {
        let mut o = Out::with_capacity(0);
        render_into(&mut o, pairs)?;
        Ok(o.into_vec())
    }

    #[test]
    fn renders_an_object_and_rejects_non_utf8() {
        assert_eq!(
            render(&[("A", b"x\"y\\")]).unwrap(),
            b"{\"A\":\"x\\u0022y\\u005c\"}\n"
        );
        assert_eq!(
            render(&[("A", b"$(x)`y`!")]).unwrap(),
            b"{\"A\":\"\\u0024(x)\\u0060y\\u0060\\u0021\"}\n"
        );
        assert!(matches!(
            render(&[("B", b"\xff")]),
            Err(RenderError::NotUtf8 { .. })
        ));
    }

    #[test]
    fn any_text_round_trips_through_a_json_parser() {
        let hostile = "q\"uo'te \\ back\n\r\t\u{1}\u{1f}\u{7f} ünï €😀 $(x) `y` !!";
        let out = render(&[("A", hostile.as_bytes()), ("B", b"")]).unwrap();
        let parsed: serde_json::Value = serde_json::from_slice(&out).unwrap();
        assert_eq!(parsed["A"], hostile);
        assert_eq!(parsed["B"], "");
    }
}
