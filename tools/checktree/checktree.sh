#!/bin/sh
# Fails if git tracks a build output: any executable file that is not a script
# (a tracked executable must start with #!) or any ELF binary.
set -eu
status=0
git ls-files -s | while read -r mode _ _ path; do
	case $(head -c 4 "$path" | od -An -c | tr -d ' ') in
	177ELF*) echo "tracked binary: $path"; exit 1 ;;
	esac
	if [ "$mode" = 100755 ] && [ "$(head -c 2 "$path")" != '#!' ]; then
		echo "tracked executable that is not a script: $path"; exit 1
	fi
done || status=1
exit $status
