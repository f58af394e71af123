#!/bin/bash
# House style: no Rust source file over 800 lines (tests included); aim
# for 400 code lines or fewer. Prints offenders and fails if any.
set -euo pipefail
cd "$(dirname "$0")/.."
status=0
while IFS= read -r f; do
	n=$(wc -l <"$f")
	if [ "$n" -gt 800 ]; then
		echo "check-file-size: $f has $n lines (limit 800)" >&2
		status=1
	fi
done < <(git ls-files '*.rs')
exit "$status"
