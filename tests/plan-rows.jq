# The roles that served, as the summary's plan reports them after attaching
# (a role whose attach failed says mech "none"): one
# "role -> symbol -> mechanism" line each, the format of tests/vm/plans and
# tests/host/plans. Used by tests/vm/lib.sh and tests/host/plan.sh.
select(.type == "summary") | .plan | to_entries[] |
	"\(.key) -> \(if .value.symbol == "" then "-" else .value.symbol end) -> \(.value.mech)"
