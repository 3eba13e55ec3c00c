//! `{"NAME": "value", …}`: for programs. Written by hand rather than through a serde map so no
//! un-wiped copy of a value is made. JSON strings are Unicode, so a non-UTF-8 value is an error
//! naming the secret rather than a silently altered value.

use super::RenderError;

fn push_string(out: &mut Vec<u8>, text: &str) {
    out.push(b'"');
    for c in text.chars() {
        match c {
            '"' => out.extend_from_slice(b"\\\""),
            '\\' => out.extend_from_slice(b"\\\\"),
            '\n' => out.extend_from_slice(b"\\n"),
            '\r' => out.extend_from_slice(b"\\r"),
            '\t' => out.extend_from_slice(b"\\t"),
            c if (c as u32) < 0x20 => {
                out.extend_from_slice(format!("\\u{:04x}", c as u32).as_bytes())
            }
            c => {
                let mut buf = [0u8; 4];
                out.extend_from_slice(c.encode_utf8(&mut buf).as_bytes());
            }
        }
    }
    out.push(b'"');
}

pub fn render(pairs: &[(&str, &[u8])]) -> Result<Vec<u8>, RenderError> {
    let mut out = vec![b'{'];
    for (i, (name, value)) in pairs.iter().enumerate() {
        let text = std::str::from_utf8(value).map_err(|_| RenderError::NotUtf8 {
            name: name.to_string(),
        })?;
        if i > 0 {
            out.push(b',');
        }
        push_string(&mut out, name);
        out.push(b':');
        push_string(&mut out, text);
    }
    out.extend_from_slice(b"}\n");
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn renders_an_object_and_rejects_non_utf8() {
        assert_eq!(render(&[("A", b"x\"y")]).unwrap(), b"{\"A\":\"x\\\"y\"}\n");
        assert!(matches!(
            render(&[("B", b"\xff")]),
            Err(RenderError::NotUtf8 { .. })
        ));
    }

    #[test]
    fn any_text_round_trips_through_a_json_parser() {
        let hostile = "q\"uo'te \\ back\n\r\t\u{1}\u{1f} ünï €😀 $(x)";
        let out = render(&[("A", hostile.as_bytes()), ("B", b"")]).unwrap();
        let parsed: serde_json::Value = serde_json::from_slice(&out).unwrap();
        assert_eq!(parsed["A"], hostile);
        assert_eq!(parsed["B"], "");
    }
}
