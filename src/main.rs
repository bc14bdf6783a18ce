//! The `volcrypt` binary: parse, run, map the outcome to an exit code. Everything else lives
//! in the library's `cli` module.

fn main() -> std::process::ExitCode {
    volcrypt::cli::main()
}
