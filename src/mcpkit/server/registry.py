"""What a server offers: tools, resources, templates, prompts and completions, and the
decorators that register them.

Layer: server. Registration works at any time — before serving or while clients are
connected; every change to a list publishes a `Change`, so connected clients hear
`list_changed` without the author doing anything.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Sequence
from typing import Any, TypeVar

import msgspec

from mcpkit.protocol.errors import InvalidParams
from mcpkit.protocol.types import Annotations, Icon, Resource, ResourceTemplate, ToolAnnotations
from mcpkit.server.prompts import RegisteredPrompt, make_prompt
from mcpkit.server.resources import CachePolicy, RegisteredResource, RegisteredTemplate, describe
from mcpkit.server.session import Change
from mcpkit.server.tools import RegisteredTool, call_function, make_tool
from mcpkit.server.uri_template import TemplateRouter, UriTemplate, is_template

__all__ = ["Registry"]

F = TypeVar("F", bound=Callable[..., Any])
Completer = Callable[..., Awaitable[Sequence[str]] | Sequence[str]]


class Registry:
    """The registered primitives of a server, by name or URI, in registration order."""

    def __init__(self, *, context_type: type) -> None:
        self._context_type = context_type
        self.tools: dict[str, RegisteredTool] = {}
        self.resources: dict[str, RegisteredResource] = {}
        self.templates: dict[str, RegisteredTemplate] = {}
        self.prompts: dict[str, RegisteredPrompt] = {}
        self.completers: dict[tuple[str, str], Completer] = {}
        self._router: TemplateRouter[RegisteredTemplate] = TemplateRouter()
        self.on_change: Callable[[Change], None] = lambda change: None

    # ---- tools -----------------------------------------------------------------------

    def tool(
        self,
        name: str | None = None,
        *,
        title: str | None = None,
        description: str | None = None,
        annotations: ToolAnnotations | dict[str, Any] | None = None,
        icons: Sequence[Icon | dict[str, Any]] | None = None,
        meta: dict[str, Any] | None = None,
        structured_output: bool | None = None,
        input_schema: dict[str, Any] | None = None,
        scopes: Sequence[str] = (),
    ) -> Callable[[F], F]:
        """Register a function as a tool: its parameters' type hints give the input schema,
        its return annotation the output schema, its docstring the description.

        `input_schema` replaces the derived schema verbatim (the arguments then reach the
        function unvalidated); `Annotated[str, Header("X")]` mirrors a parameter into the
        `Mcp-Param-X` HTTP header; `scopes` are the OAuth scopes a caller's token needs
        when the HTTP app is protected (`403 insufficient_scope` otherwise: step-up).
        """

        def register(function: F) -> F:
            self.add_tool(
                function, name=name, title=title, description=description,
                annotations=annotations, icons=icons, meta=meta,
                structured_output=structured_output, input_schema=input_schema,
                scopes=scopes,
            )  # fmt: skip
            return function

        return register

    def add_tool(self, function: Callable[..., Any], **options: Any) -> RegisteredTool:
        """Register a tool (the same options as `tool()`); replaces one of the same name."""
        registered = make_tool(function, context_type=self._context_type, **options)
        self.tools[registered.tool.name] = registered
        self.on_change(Change("tools"))
        return registered

    def remove_tool(self, name: str) -> None:
        """Remove a tool; connected clients hear `tools/list_changed`."""
        if self.tools.pop(name, None) is not None:
            self.on_change(Change("tools"))

    # ---- resources -------------------------------------------------------------------

    def resource(
        self,
        uri: str,
        *,
        name: str | None = None,
        title: str | None = None,
        description: str | None = None,
        mime_type: str | None = None,
        size: int | None = None,
        annotations: Annotations | dict[str, Any] | None = None,
        icons: Sequence[Icon | dict[str, Any]] | None = None,
        meta: dict[str, Any] | None = None,
        cache: CachePolicy | None = None,
    ) -> Callable[[F], F]:
        """Register a function as a resource (a fixed URI) or, when the URI has `{...}`
        expressions, a resource template whose variables become the function's arguments."""

        def register(function: F) -> F:
            self.add_resource(
                function, uri, name=name, title=title, description=description,
                mime_type=mime_type, size=size, annotations=annotations, icons=icons,
                meta=meta, cache=cache,
            )  # fmt: skip
            return function

        return register

    def add_resource(
        self,
        function: Callable[..., Any],
        uri: str,
        *,
        cache: CachePolicy | None = None,
        **fields: Any,
    ) -> None:
        """Register a resource or template (the same options as `resource()`)."""
        if fields.get("annotations") is not None:
            fields["annotations"] = msgspec.convert(fields["annotations"], Annotations)
        if is_template(uri):
            size = fields.pop("size", None)
            if size is not None:
                raise ValueError("a resource template has no size")
            signature, wire = describe(function, self._context_type, **fields)
            template = ResourceTemplate(uri_template=uri, **wire)
            entry = RegisteredTemplate(template, UriTemplate(uri), function, signature, cache)
            self.templates[uri] = entry
            self._router = TemplateRouter([(t.uri_template, t) for t in self.templates.values()])
        else:
            signature, wire = describe(function, self._context_type, **fields)
            resource = Resource(uri=uri, **wire)
            self.resources[uri] = RegisteredResource(resource, function, signature, cache)
        self.on_change(Change("resources"))

    def remove_resource(self, uri: str) -> None:
        """Remove a resource or template by its URI (template text for templates)."""
        found = self.resources.pop(uri, None) or self.templates.pop(uri, None)
        if found is not None:
            self._router = TemplateRouter([(t.uri_template, t) for t in self.templates.values()])
            self.on_change(Change("resources"))

    def match_template(self, uri: str) -> tuple[RegisteredTemplate, dict[str, Any]] | None:
        """The template serving `uri` and its variables, or None."""
        return self._router.match(uri)

    # ---- prompts ---------------------------------------------------------------------

    def prompt(
        self,
        name: str | None = None,
        *,
        title: str | None = None,
        description: str | None = None,
        icons: Sequence[Icon | dict[str, Any]] | None = None,
        meta: dict[str, Any] | None = None,
    ) -> Callable[[F], F]:
        """Register a function as a prompt; its string parameters are the prompt's arguments."""

        def register(function: F) -> F:
            self.add_prompt(
                function, name=name, title=title, description=description, icons=icons, meta=meta
            )
            return function

        return register

    def add_prompt(self, function: Callable[..., Any], **options: Any) -> RegisteredPrompt:
        """Register a prompt (the same options as `prompt()`)."""
        if options.get("icons") is not None:
            options["icons"] = list(options["icons"])
        registered = make_prompt(function, context_type=self._context_type, **options)
        self.prompts[registered.prompt.name] = registered
        self.on_change(Change("prompts"))
        return registered

    def remove_prompt(self, name: str) -> None:
        if self.prompts.pop(name, None) is not None:
            self.on_change(Change("prompts"))

    # ---- completions -----------------------------------------------------------------

    def completion(
        self, *, prompt: str | None = None, resource: str | None = None
    ) -> Callable[[F], F]:
        """Register argument completion for a prompt (by name) or a resource template (by
        its URI template): `fn(argument: str, value: str, context: dict[str, str]) -> list[str]`.

        Without one, arguments typed `Literal[...]` or `Enum` complete from their values.
        """
        if (prompt is None) == (resource is None):
            raise ValueError("give exactly one of prompt= or resource=")
        key = ("prompt", prompt) if prompt is not None else ("resource", str(resource))

        def register(function: F) -> F:
            self.completers[key] = function
            return function

        return register

    async def completions_for(
        self, key: tuple[str, str], argument: str, value: str, context: dict[str, str]
    ) -> list[str]:
        """Completion values for an argument of a prompt or template.

        Raises:
            InvalidParams: no such prompt or template (-32602).
        """
        kind, ident = key
        target = self.prompts.get(ident) if kind == "prompt" else self.templates.get(ident)
        completer = self.completers.get(key)
        if target is None and completer is None:
            raise InvalidParams(f"unknown {kind} reference: {ident}", {"ref": ident})
        if completer is not None:
            found = await call_function(
                completer, {"argument": argument, "value": value, "context": context}
            )
            return [str(v) for v in found]
        schema = target.signature.input_schema if target is not None else {}
        choices = schema.get("properties", {}).get(argument, {}).get("enum", [])
        return [str(c) for c in choices if str(c).startswith(value)]
