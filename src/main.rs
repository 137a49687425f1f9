fn main() {
    std::process::exit(amesh::cli::main());
}
