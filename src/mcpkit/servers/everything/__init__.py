"""The "everything" server: one pre-built server that exercises every framework feature.

Layer: applications (servers/). It uses only the public API (`mcpkit`, `mcpkit.server`,
`mcpkit.protocol.*`), never `mcpkit.client`, and no other pre-built server. Why it exists:
it is the fixture the MCP conformance suite probes (its REQUIREMENTS §3: the exact tool,
resource, template and prompt names, texts and behaviours), and a live demonstration of the
framework in both eras — content of every kind, errors, logging, progress, list changes at
runtime, sampling/elicitation/roots as real requests (legacy) or MRTR rounds (modern),
sealed request state, resources and templates, prompts, completion.

Run it with `mcpkit server everything` (stdio). Modules: `tools.py` (plain tools),
`asks.py` (tools that ask the client), `resources.py`, `prompts.py`, `forms.py`
(elicitation forms), `media.py` (the PNG and WAV, made in code).

Not yet (later issues):
- the Tasks extension fixtures (`greet`, `slow_compute`, `failing_job`, `protocol_error_job`,
  `confirm_delete`, `multi_input`, `test_tool_with_task`);
- the Skills extension (`skills/list`, `skills/get`, `resources/directory/read`,
  `skill://…/SKILL.md`);
"""

from __future__ import annotations

from mcpkit.server import Server
from mcpkit.servers.everything import asks, prompts, resources, tools

__all__ = ["build", "server"]

INSTRUCTIONS = (
    "A test server exercising every MCP feature: content types, errors, logging, progress, "
    "sampling, elicitation, roots, resources, templates, prompts and completion."
)


def build() -> Server:
    """A fresh everything server (its own tool and prompt lists, mutated at runtime by the
    trigger tools)."""
    server = Server(
        "mcpkit-everything", title="mcpkit everything server", instructions=INSTRUCTIONS
    )
    tools.register(server)
    asks.register(server)
    resources.register(server)
    prompts.register(server)
    return server


server = build()
