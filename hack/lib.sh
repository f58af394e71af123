# Shared by the scripts in hack/ (source it, do not run it).

# build_berth [cargo build flags...]: builds the berth binary and prints its
# path. Cargo says where it put the executable (the target triple in
# .cargo/config.toml puts it under target/<triple>/), so no script guesses.
build_berth() {
	cargo build -p berth --message-format=json-render-diagnostics "$@" |
		sed -n 's/.*"executable":"\([^"]*\)".*/\1/p' | tail -n 1
}
