"""A small, neutral MCP load driver: raw newline-JSON over a child's pipes (stdio) and raw
HTTP/1.1 over asyncio streams (Streamable HTTP). It imports no MCP SDK, so that the same
bytes reach every server under test and the driver's own cost stays small and equal.

Modules: `wire` (request bytes and answer checks, both eras), `procs` (starting, stopping and
accounting for server process groups via /proc), `stats` (the load loop's tally, percentiles),
`stdio` and `http` (the two transports), `units` (one measurement each: fresh server, warm-up,
load, stop), `report` (medians, paired ratios, markdown tables).
"""
