//! The repository's size budgets (`budgets.toml`), which `cargo xtask dist` and `verify`
//! hold every zip of dist/ to; the verifier itself is the library's
//! (`cargo_lambda_libc::verify`), with no budget of its own.

/// The size budgets file, `budgets.toml` at the workspace root, as it was when xtask was
/// built (so that xtask needs no workspace to verify a zip, as in the Nix store).
/// `tests/tests/dist_budget.rs` reads the same file.
pub const BUDGETS_TOML: &str = include_str!("../../budgets.toml");

/// The size budgets (see `budgets.toml` for what each means).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Budgets {
    /// The most bytes an echo bootstrap's zip may have.
    pub max_echo_zip_bytes: usize,
    /// The most bytes a streaming echo's zip (`-stream-` in its name) may have.
    pub max_stream_zip_bytes: usize,
    /// The most bytes the JSON API example's zip (`-api-` in its name) may have.
    pub max_api_zip_bytes: usize,
    /// How many percent larger than the Rust echo's zip the C echo's zip of the same
    /// architecture may be.
    pub max_c_over_rust_percent: usize,
}

impl Budgets {
    /// Parses a budgets file: exactly the four keys, each a positive integer.
    pub fn parse(text: &str) -> Result<Self, String> {
        let table: toml::Table = text.parse().map_err(|e| format!("{e}"))?;
        const KEYS: [&str; 4] =
            ["max_echo_zip_bytes", "max_stream_zip_bytes", "max_api_zip_bytes", "max_c_over_rust_percent"];
        if let Some(key) = table.keys().find(|k| !KEYS.contains(&k.as_str())) {
            return Err(format!("unknown key `{key}` (the keys are {})", KEYS.join(", ")));
        }
        let get = |key: &str| -> Result<usize, String> {
            let value = table.get(key).ok_or_else(|| format!("`{key}` is missing"))?;
            value.as_integer().and_then(|n| usize::try_from(n).ok()).filter(|&n| n > 0).ok_or_else(|| {
                let shown = value.as_integer().map_or_else(|| format!("a {}", value.type_str()), |n| n.to_string());
                format!("`{key}` is {shown}, not a positive integer")
            })
        };
        Ok(Self {
            max_echo_zip_bytes: get(KEYS[0])?,
            max_stream_zip_bytes: get(KEYS[1])?,
            max_api_zip_bytes: get(KEYS[2])?,
            max_c_over_rust_percent: get(KEYS[3])?,
        })
    }

    /// The size limit of the zip named `name`: [`Budgets::max_stream_zip_bytes`] for a
    /// streaming bootstrap, [`Budgets::max_api_zip_bytes`] for the JSON API example, else
    /// [`Budgets::max_echo_zip_bytes`].
    pub fn max_zip_bytes(&self, name: &str) -> usize {
        if name.contains("-stream-") {
            self.max_stream_zip_bytes
        } else if name.contains("-api-") {
            self.max_api_zip_bytes
        } else {
            self.max_echo_zip_bytes
        }
    }
}

/// The budgets of [`BUDGETS_TOML`]. A malformed file panics here with the reason (a unit test
/// parses it first).
pub fn budgets() -> Budgets {
    static BUDGETS: std::sync::LazyLock<Budgets> = std::sync::LazyLock::new(|| {
        Budgets::parse(BUDGETS_TOML).unwrap_or_else(|e| panic!("budgets.toml (built into xtask): {e}"))
    });
    *BUDGETS
}

/// The size limit of the zip named `name`, from [`budgets`].
pub fn max_zip_bytes(name: &str) -> usize {
    budgets().max_zip_bytes(name)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn streaming_and_api_bootstraps_have_their_own_limits() {
        let Budgets { max_echo_zip_bytes: echo, max_stream_zip_bytes: stream, .. } = budgets();
        assert_eq!(max_zip_bytes("bootstrap-rust-stream-x86_64.zip"), stream);
        assert_eq!(max_zip_bytes("bootstrap-c-stream-arm64.zip"), stream);
        assert_eq!(max_zip_bytes("bootstrap-rust-x86_64.zip"), echo);
        assert_eq!(max_zip_bytes("bootstrap-c-arm64.zip"), echo);
        assert_eq!(max_zip_bytes("bootstrap-rust-api-arm64.zip"), budgets().max_api_zip_bytes);
    }

    #[test]
    fn the_budget_file_parses() {
        let b = Budgets::parse(BUDGETS_TOML).unwrap();
        assert!(b.max_echo_zip_bytes < b.max_stream_zip_bytes, "{b:?}");
        assert_eq!(budgets(), b);
    }

    #[test]
    fn a_budget_file_holds_exactly_the_four_positive_integers() {
        let good =
            "max_echo_zip_bytes = 1\nmax_stream_zip_bytes = 2\nmax_c_over_rust_percent = 3\nmax_api_zip_bytes = 4\n";
        let b = Budgets::parse(good).unwrap();
        assert_eq!((b.max_echo_zip_bytes, b.max_stream_zip_bytes, b.max_c_over_rust_percent), (1, 2, 3));
        assert_eq!(b.max_api_zip_bytes, 4);
        let err = |text: String| Budgets::parse(&text).unwrap_err();
        assert!(err(good.replace("= 2", "= 0")).contains("`max_stream_zip_bytes` is 0, not a positive integer"));
        assert!(err(good.replace("= 3", "= \"10 %\"")).contains("not a positive integer"));
        assert!(err(good.replace("max_echo_zip_bytes = 1\n", "")).contains("`max_echo_zip_bytes` is missing"));
        assert!(err(format!("{good}max_zip_bytes = 4\n")).contains("unknown key `max_zip_bytes`"));
        assert!(!err("max_echo_zip_bytes = ".to_owned()).is_empty(), "not TOML");
    }
}
