//! Property test: arbitrary values (any bytes but NUL, biased towards what shells treat
//! specially, and carrying payloads that would create a marker file if they ever ran), and
//! arbitrary neighbours (an injection can need two values, e.g. one ending in `\` then one
//! starting with `'`), exported by `activate` and read back byte for byte by the real shell each
//! renderer is for — and evaluated by every *other* shell too, where it must stay inert: an error
//! at worst, never a command (the marker file never appears). A second property lints the code.
//! PROPTEST_CASES raises or lowers the number of cases (each case holds up to 12 values; default 1000).

mod support;
use proptest::prelude::*;
use proptest::test_runner::{Config, TestRunner};
use support::*;

const SPECIAL: &[u8] = b"'\"\\$`!%\n\r\t (){};&|<>#*?[]~^-=@,.:/";

/// The marker every payload would create (relative: each shell runs in the case's directory).
const MARKER: &str = "PWNED";
const PAYLOADS: &[&[u8]] = &[
    b";touch PWNED;",
    b"\ntouch PWNED\n",
    b"$(touch PWNED)",
    b"`touch PWNED`",
    b"(touch PWNED)",
    b"'; touch PWNED; '",
    b"\\';touch PWNED;#",
    b"\"; touch PWNED; \"",
    b"; ^touch PWNED;",
    b"'\ntouch PWNED\n'",
    b"!touch PWNED",
    b"}; touch PWNED; {",
];

fn piece() -> impl Strategy<Value = Vec<u8>> {
    prop_oneof![
        5 => prop::sample::select(SPECIAL.to_vec()).prop_map(|b| vec![b]),
        2 => (1u8..=255).prop_map(|b| vec![b]),
        1 => "[a-zA-Z0-9_]{1,8}".prop_map(String::into_bytes),
        1 => "\\PC{1,3}".prop_map(String::into_bytes),
        // Payloads in every syntax that runs a command in some shell we render for.
        2 => prop::sample::select(PAYLOADS.to_vec()).prop_map(|p| p.to_vec()),
        // Long runs of the classic breakers.
        1 => (prop::sample::select(vec![&b"\\'"[..], b"'\\''", b"$(", b"\\\n", b"'", b"\\", b"\xff\xfe"]), 1..40usize)
            .prop_map(|(p, n)| p.repeat(n)),
    ]
}

fn value() -> impl Strategy<Value = Vec<u8>> {
    prop::collection::vec(piece(), 0..24).prop_map(|parts| parts.concat())
}

fn values() -> impl Strategy<Value = Vec<Vec<u8>>> {
    prop_oneof![
        3 => prop::collection::vec(value(), 1..12),
        // The injection-shaped pair, explicitly.
        1 => (value(), value()).prop_map(|(a, b)| vec![[a, b"\\".to_vec()].concat(), [b"'".to_vec(), b].concat()]),
    ]
}

fn write_case(sb: &Sandbox, vals: &[Vec<u8>]) -> Vec<String> {
    let mut m = String::from("[secrets]\n");
    let mut names = Vec::new();
    for (i, v) in vals.iter().enumerate() {
        sb.write(&format!("v/{i}"), v);
        m.push_str(&format!(
            "V{i} = {{ from = \"file:v/{i}\", trim = false }}\n"
        ));
        names.push(format!("V{i}"));
    }
    sb.manifest(&m);
    names
}

/// The renderers, by the `--shell` value that selects each (bash and zsh share posix's, csh
/// tcsh's, nu json's).
const RENDERERS: &[&str] = &["posix", "fish", "json", "tcsh", "elvish"];

/// Each real shell: the renderer it reads, how it evaluates a file of our output (as its users
/// do), how it evaluates another renderer's file (errors expected, commands never), and how it
/// prints the variables back, NUL-terminated.
struct RealShell {
    program: &'static str,
    renderer: &'static str,
    /// `{}`: the output file.
    eval_own: &'static str,
    /// `{}`: a file of another renderer's output. `None`: each runs as a process of its own
    /// (nushell parses a whole program before running any of it, and cannot eval a string).
    eval_foreign: Option<&'static str>,
}

const POSIX_FOREIGN: &str = r#"( eval "$(cat {})" ) >/dev/null 2>&1"#;

const SHELLS: &[RealShell] = &[
    RealShell {
        program: "bash",
        renderer: "posix",
        eval_own: r#"eval "$(cat {})""#,
        eval_foreign: Some(POSIX_FOREIGN),
    },
    RealShell {
        program: "zsh",
        renderer: "posix",
        eval_own: r#"eval "$(cat {})""#,
        eval_foreign: Some(POSIX_FOREIGN),
    },
    RealShell {
        program: "dash",
        renderer: "posix",
        eval_own: r#"eval "$(cat {})""#,
        eval_foreign: Some(POSIX_FOREIGN),
    },
    RealShell {
        program: "fish",
        renderer: "fish",
        eval_own: "source {}",
        // In-process (a fish per file would double the suite's time): what another renderer's
        // code sets is overwritten by the shell's own evaluation after it.
        eval_foreign: Some("source {} >/dev/null 2>&1"),
    },
    RealShell {
        program: "tcsh",
        renderer: "tcsh",
        eval_own: r#"eval "`cat {}`""#,
        eval_foreign: Some(r#"( eval "`cat {}`" ) >& /dev/null"#),
    },
    RealShell {
        program: "elvish",
        renderer: "elvish",
        eval_own: "eval (slurp < {})",
        eval_foreign: Some("try { eval (slurp < {}) > /dev/null 2> /dev/null } catch { }"),
    },
    RealShell {
        program: "nu",
        renderer: "json",
        eval_own: "open --raw {} | from json | load-env",
        eval_foreign: None,
    },
];

impl RealShell {
    fn read_back(&self, names: &[String]) -> String {
        let list =
            |each: &dyn Fn(&String) -> String| names.iter().map(each).collect::<Vec<_>>().join(" ");
        match self.program {
            "fish" => format!("printf '%s\\0' {}", list(&|n| format!("${n}"))),
            "elvish" => format!(
                "for v [{}] {{ print $v\"\\x00\" }}",
                list(&|n| format!("$E:{n}"))
            ),
            "nu" => format!(
                "[{}] | each {{|v| $v + (char nul)}} | str join | print -n $in",
                list(&|n| format!("$env.{n}"))
            ),
            _ => format!("printf '%s\\0' {}", list(&|n| format!("\"${n}\""))),
        }
    }

    fn args(&self) -> &'static [&'static str] {
        match self.program {
            "fish" => &["--no-config", "-c"],
            "tcsh" => &["-f", "-c"],
            "elvish" => &["-norc", "-c"],
            "nu" => &["--no-config-file", "-c"],
            _ => &["-c"],
        }
    }
}

/// Renders the case once per renderer into `out.<renderer>`; `None` where the renderer refuses
/// the values (JSON: non-UTF-8; tcsh: a newline), after checking it said why, naming the secret,
/// and printed nothing but the failure statement.
fn render_all(sb: &Sandbox) -> Result<Vec<(&'static str, Option<String>)>, TestCaseError> {
    let mut files = Vec::new();
    for renderer in RENDERERS {
        let out = sb.jit_m(&["activate", "--shell", renderer]);
        if matches!(*renderer, "json" | "tcsh") && !out.status.success() {
            let why = if *renderer == "json" {
                "UTF-8"
            } else {
                "newline"
            };
            prop_assert!(stderr(&out).contains(why), "{}: {}", renderer, stderr(&out));
            prop_assert!(stderr(&out).contains(": the value"), "names the secret");
            let statement = if *renderer == "json" { "" } else { "false;\n" };
            prop_assert_eq!(stdout(&out), statement, "{} printed on failure", renderer);
            files.push((*renderer, None));
            continue;
        }
        prop_assert!(out.status.success(), "{}: {}", renderer, stderr(&out));
        let name = format!("out.{renderer}");
        sb.write(&name, &out.stdout);
        files.push((*renderer, Some(name)));
    }
    Ok(files)
}

fn run_shell(
    sb: &Sandbox,
    shell: &RealShell,
    script: &str,
) -> Result<std::process::Output, TestCaseError> {
    // `timeout`: a misread line must not be able to hang the suite either.
    sb.command("timeout")
        .arg("30")
        .arg(require(shell.program))
        .args(shell.args())
        .arg(script)
        .output()
        .map_err(|e| TestCaseError::fail(e.to_string()))
}

fn cases(default: u32) -> u32 {
    std::env::var("PROPTEST_CASES")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(default)
}

#[test]
fn any_values_round_trip_in_their_shell_and_stay_inert_in_every_other() {
    for shell in SHELLS {
        require(shell.program);
    }
    let mut runner = TestRunner::new(Config {
        cases: cases(1000),
        failure_persistence: None,
        ..Config::default()
    });
    let case_number = std::sync::atomic::AtomicUsize::new(0);
    runner
        .run(&values(), |vals| {
            let sb = Sandbox::new();
            let names = write_case(&sb, &vals);
            let files = render_all(&sb)?;
            let want: Vec<u8> = vals
                .iter()
                .flat_map(|v| v.iter().copied().chain([0]))
                .collect();
            let case = case_number.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
            for shell in SHELLS {
                let foreign = files
                    .iter()
                    .filter(|(renderer, _)| *renderer != shell.renderer)
                    .filter_map(|(_, file)| file.as_ref());
                let mut script = String::new();
                match shell.eval_foreign {
                    Some(template) => {
                        for file in foreign {
                            script.push_str(&template.replace("{}", file));
                            script.push('\n');
                        }
                    }
                    // One nushell process per file (~25 ms each): every fourth case, so the
                    // suite stays within its time; the other shells check every case.
                    None if case.is_multiple_of(4) => {
                        for file in foreign {
                            let _ = sb
                                .command("timeout")
                                .args(["30", require(shell.program).to_str().unwrap()])
                                .arg("--no-config-file")
                                .arg(file)
                                .output();
                        }
                    }
                    None => {}
                }
                let own = files
                    .iter()
                    .find(|(renderer, _)| *renderer == shell.renderer)
                    .and_then(|(_, file)| file.clone());
                let Some(own) = own else {
                    // The renderer refused these values (checked in render_all): only the
                    // foreign evaluations run.
                    let out = run_shell(&sb, shell, &script)?;
                    let _ = out;
                    prop_assert!(
                        !sb.path().join(MARKER).exists(),
                        "{}: a value ran as a command (output of another renderer)",
                        shell.program
                    );
                    continue;
                };
                script.push_str(&shell.eval_own.replace("{}", &own));
                script.push('\n');
                script.push_str(&shell.read_back(&names));
                let out = run_shell(&sb, shell, &script)?;
                prop_assert!(
                    !sb.path().join(MARKER).exists(),
                    "{}: a value ran as a command (output of another renderer)",
                    shell.program
                );
                prop_assert!(
                    out.status.success(),
                    "{} failed: {}",
                    shell.program,
                    stderr(&out)
                );
                let got = out.stdout;
                if got != want {
                    let parts: Vec<&[u8]> = got.split(|&b| b == 0).collect();
                    for (i, v) in vals.iter().enumerate() {
                        prop_assert_eq!(
                            parts.get(i).copied(),
                            Some(v.as_slice()),
                            "{}: V{} differs",
                            shell.program,
                            i
                        );
                    }
                    prop_assert!(false, "{}: output differs in length", shell.program);
                }
            }
            Ok(())
        })
        .unwrap();
}

#[test]
fn generated_code_lints_clean() {
    let shellcheck = require("shellcheck");
    let fish = require("fish");
    let mut runner = TestRunner::new(Config {
        cases: cases(1000) / 10 + 1,
        failure_persistence: None,
        ..Config::default()
    });
    runner
        .run(&values(), |vals| {
            let sb = Sandbox::new();
            write_case(&sb, &vals);
            for (flag, dialect) in [("bash", "bash"), ("posix", "sh")] {
                let out = sb.jit_m(&["activate", "--shell", flag]);
                prop_assert!(out.status.success());
                let file = sb.write(&format!("out.{flag}"), &out.stdout);
                // Warnings and errors only: the info-level notes (SC1003, SC2016, SC1111/2) guess
                // at intent inside single quotes, where literal `\`, `$` and quotes are the point.
                // SC2140 ("A"B"C": did you mean "ABC"?) guesses the same about the quoted runs
                // around a `\!`, whose concatenation is the point, and SC2088 ("tilde does not
                // expand in quotes") about a value that starts with `~/`, which must not expand.
                let lint = std::process::Command::new(&shellcheck)
                    .args(["-S", "warning", "-e", "SC2140,SC2088", "-s", dialect])
                    .arg(&file)
                    .output()
                    .unwrap();
                prop_assert!(lint.status.success(), "{}: {}", dialect, stdout(&lint));
            }
            let out = sb.jit_m(&["activate", "--shell", "fish"]);
            let file = sb.write("out.fish", &out.stdout);
            let lint = std::process::Command::new(&fish)
                .arg("--no-execute")
                .arg(&file)
                .output()
                .unwrap();
            prop_assert!(lint.status.success(), "fish: {}", stderr(&lint));
            let out = sb.jit_m(&["activate", "--shell", "elvish"]);
            let file = sb.write("out.elv", &out.stdout);
            let lint = std::process::Command::new(require("elvish"))
                .args(["-norc", "-compileonly"])
                .arg(&file)
                .output()
                .unwrap();
            prop_assert!(lint.status.success(), "elvish: {}", stderr(&lint));
            Ok(())
        })
        .unwrap();
}
