#!/bin/sh
# Mutation testing with gremlins over the packages that hold the shop's rules:
# each package's own tests must kill its mutants. Prints every mutant that
# lived, then each package's efficacy (killed / (killed + lived)).
# Usage: tools/mutation/run.sh GREMLINS [PACKAGE...]
set -eu
gremlins=$1
shift
packages=${*:-"internal/validation internal/money internal/events internal/eventbus internal/catalog internal/catalog/app internal/basket internal/basket/app internal/ordering internal/ordering/app internal/inventory internal/inventory/app internal/payment internal/payment/app internal/localbus internal/outbox internal/outbox/streams internal/auth internal/auth/localjwt internal/apigw internal/idempotency internal/backoff internal/dynamoput"}
export CI=true # a test that needs a missing tool fails instead of skipping
summary=""
for pkg in $packages; do
	# -E / leaves out the files of sub-packages: each package is judged by its own tests.
	out=$("$gremlins" unleash --workers 2 --timeout-coefficient 10 -E / "./$pkg" 2>&1) || true
	echo "$out" | grep -E '^ +(LIVED|TIMED OUT)' | sed "s|^ *|$pkg: |" || true
	eff=$(echo "$out" | sed -n 's/^Test efficacy: //p')
	counts=$(echo "$out" | sed -n 's/^Killed: \([0-9]*\), Lived: \([0-9]*\).*/killed \1, lived \2/p')
	summary="$summary$(printf '%-28s efficacy %-8s (%s)' "$pkg" "${eff:-n/a}" "${counts:-no mutants}")\n"
done
printf '\n%b' "$summary"
