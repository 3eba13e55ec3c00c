//! nushell: a JSON object, for `jit-secrets activate --shell nu | from json | load-env`.
//!
//! nushell cannot `source` a pipe or `eval` a string, so code is not the way in: a record is.
//! `from json | load-env` (inside the `def --env secrets` of `jit-secrets hook nu`) sets every
//! variable at once. nushell strings are UTF-8: a non-UTF-8 value is an error naming the secret,
//! as for `--shell json`. On failure nothing is printed, and `load-env` of nothing fails.
//!
//! `PATH` (set when scoped commands are in use) is a list, as nushell keeps it: a string would
//! still find programs, but break the user's own `$env.PATH | prepend …`.

use super::{json, Out, RenderError};

pub fn render_into(out: &mut Out, pairs: &[(&str, &[u8])]) -> Result<(), RenderError> {
    json::render_object_into(out, pairs, |out, name, text| {
        if name == "PATH" {
            out.push(b'[');
            for (i, dir) in text.split(':').enumerate() {
                if i > 0 {
                    out.push(b',');
                }
                json::push_string(out, dir);
            }
            out.push(b']');
        } else {
            json::push_string(out, text);
        }
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn render(pairs: &[(&str, &[u8])]) -> String {
        let mut o = Out::with_capacity(0);
        render_into(&mut o, pairs).unwrap();
        String::from_utf8(o.into_vec()).unwrap()
    }

    #[test]
    fn path_is_a_list_and_every_other_variable_a_string() {
        assert_eq!(
            render(&[("A", b"x:y"), ("PATH", b"/s:/usr/bin")]),
            "{\"A\":\"x:y\",\"PATH\":[\"/s\",\"/usr/bin\"]}\n"
        );
    }
}
