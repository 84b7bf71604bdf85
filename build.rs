// New migration folders must rebuild the crate, or `embed_migrations!` silently misses them.
fn main() {
    println!("cargo:rerun-if-changed=migrations/postgres");
    println!("cargo:rerun-if-changed=migrations/sqlite");
}
