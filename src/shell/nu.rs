//! nushell: a JSON object, for `jit-secrets activate --shell nu | from json | load-env`.
//!
//! nushell cannot `source` a pipe or `eval` a string, so code is not the way in: a record is.
//! `from json | load-env` (inside the `def --env secrets` of `jit-secrets hook nu`) sets every
//! variable at once. nushell strings are UTF-8: a non-UTF-8 value is an error naming the secret,
//! as for `--shell json`. On failure nothing is printed, and `load-env` of nothing fails.

use super::{json, Out, RenderError};

pub fn render_into(out: &mut Out, pairs: &[(&str, &[u8])]) -> Result<(), RenderError> {
    json::render_into(out, pairs)
}
