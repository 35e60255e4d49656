//! The `rtsim` command. Everything lives in the library; see `rtsim::cli`.

fn main() -> std::process::ExitCode {
    rtsim::cli::main()
}
