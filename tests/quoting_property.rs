//! Property test: arbitrary values (any bytes but NUL, biased towards what shells treat
//! specially), and arbitrary neighbours (an injection can need two values, e.g. one ending in `\`
//! then one starting with `'`), exported by `activate` and read back byte for byte by the real
//! bash, zsh, dash and fish. A second property lints the generated code.
//! PROPTEST_CASES raises or lowers the number of cases (each case holds up to 12 values; default 1000).

mod support;
use proptest::prelude::*;
use proptest::test_runner::{Config, TestRunner};
use support::*;

const SPECIAL: &[u8] = b"'\"\\$`!%\n\r\t (){};&|<>#*?[]~^-=@,.:/";

fn piece() -> impl Strategy<Value = Vec<u8>> {
    prop_oneof![
        5 => prop::sample::select(SPECIAL.to_vec()).prop_map(|b| vec![b]),
        2 => (1u8..=255).prop_map(|b| vec![b]),
        1 => "[a-zA-Z0-9_]{1,8}".prop_map(String::into_bytes),
        1 => "\\PC{1,3}".prop_map(String::into_bytes),
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

const SHELLS: &[(&str, &str, &str)] = &[
    (
        "bash",
        "bash",
        r#"eval "$("$JIT" --manifest "$M" activate --shell bash)""#,
    ),
    (
        "zsh",
        "zsh",
        r#"eval "$("$JIT" --manifest "$M" activate --shell zsh)""#,
    ),
    (
        "dash",
        "posix",
        r#"eval "$("$JIT" --manifest "$M" activate --shell posix)""#,
    ),
    (
        "fish",
        "fish",
        r#""$JIT" --manifest "$M" activate --shell fish | source"#,
    ),
];

fn read_back(
    sb: &Sandbox,
    shell: &str,
    load: &str,
    names: &[String],
) -> Result<Vec<u8>, TestCaseError> {
    let vars: Vec<String> = names
        .iter()
        .map(|n| {
            if shell == "fish" {
                format!("${n}")
            } else {
                format!("\"${n}\"")
            }
        })
        .collect();
    let script = format!("{load}\nprintf '%s\\0' {}", vars.join(" "));
    let out = sb
        .command(require(shell))
        .arg("-c")
        .arg(&script)
        .env("JIT", BIN)
        .env("M", sb.path().join("manifest.toml"))
        .output()
        .map_err(|e| TestCaseError::fail(e.to_string()))?;
    prop_assert!(out.status.success(), "{shell} failed: {}", stderr(&out));
    Ok(out.stdout)
}

fn cases(default: u32) -> u32 {
    std::env::var("PROPTEST_CASES")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(default)
}

#[test]
fn any_values_round_trip_in_every_shell() {
    for (shell, _, _) in SHELLS {
        require(shell);
    }
    let mut runner = TestRunner::new(Config {
        cases: cases(1000),
        failure_persistence: None,
        ..Config::default()
    });
    runner
        .run(&values(), |vals| {
            let sb = Sandbox::new();
            let names = write_case(&sb, &vals);
            let want: Vec<u8> = vals
                .iter()
                .flat_map(|v| v.iter().copied().chain([0]))
                .collect();
            for (shell, _, load) in SHELLS {
                let got = read_back(&sb, shell, load, &names)?;
                if got != want {
                    let parts: Vec<&[u8]> = got.split(|&b| b == 0).collect();
                    for (i, v) in vals.iter().enumerate() {
                        prop_assert_eq!(
                            parts.get(i).copied(),
                            Some(v.as_slice()),
                            "{}: V{} differs",
                            shell,
                            i
                        );
                    }
                    prop_assert!(false, "{}: output differs in length", shell);
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
                let lint = std::process::Command::new(&shellcheck)
                    .args(["-S", "warning", "-s", dialect])
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
            Ok(())
        })
        .unwrap();
}
