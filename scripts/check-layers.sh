#!/usr/bin/env bash
# Checks the module dependency direction of DESIGN.md §3: each module may `use crate::X` only
# for the X listed for it below (no cycles, no sideways imports). Run by scripts/test.sh.
set -euo pipefail
cd "$(dirname "$0")/../src"

declare -A allowed=(
  [crypto]=""
  [io]=""
  [format]="crypto"
  [keys]="crypto format kms io"
  [kms]="crypto"
  [bench]="crypto kms engine io keys format"
  [engine]="crypto format io keys"
  [metrics]="crypto engine keys"
  # daemon uses bench only for its size parser (bench::spec::parse_size_text, "200M").
  [daemon]="crypto format io keys engine metrics bench"
  [cli]="crypto format io keys engine kms bench daemon"
)

fail=0
for module in "${!allowed[@]}"; do
  [ -d "$module" ] || continue
  used=$(grep -rhoE 'crate::[a-z_]+' "$module" | sed 's/crate:://' | sort -u || true)
  for dep in $used; do
    [ "$dep" = "$module" ] && continue
    case " ${allowed[$module]} " in
      *" $dep "*) ;;
      *) echo "layer violation: src/$module uses crate::$dep (allowed: ${allowed[$module]:-nothing})"; fail=1 ;;
    esac
  done
done
[ "$fail" = 0 ] && echo "module layers OK"
exit "$fail"
