#!/usr/bin/env bash
# The dependency direction daemon/ -> probes/ -> rules/: rules/ includes neither probes/ nor
# daemon/, probes/ does not include daemon/.
source "$HALO_SOURCE_DIR/tests/support/assert.sh"
cd "$HALO_SOURCE_DIR"
bad=$(grep -rnE '#include "(probes|daemon)/' rules/ || true)
[ -z "$bad" ] || { out=$bad; fail "rules/ includes probes/ or daemon/"; }
checks=$((checks + 1))
bad=$(grep -rnE '#include "daemon/' probes/ || true)
[ -z "$bad" ] || { out=$bad; fail "probes/ includes daemon/"; }
checks=$((checks + 1))
# And the check itself can see includes: daemon/ does include probes/ and rules/.
grep -rqE '#include "probes/' daemon/ || fail "found no probes/ include in daemon/: the pattern is wrong"
checks=$((checks + 1))
done_ok
